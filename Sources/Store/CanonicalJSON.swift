import AlphaPlusJSON

/// The audit log's payload format: one text per value, so that the same
/// record always hashes the same and the verifier can re-derive a record's
/// text from its table rows and compare it byte for byte.
///
/// - objects: keys sorted (they are ASCII field names), no whitespace;
/// - integers (Int64, e.g. ns timestamps) as their decimal digits, exactly;
/// - doubles as `JSONValue.jsonText` writes them: integral values below 2^53
///   as integers, others in Swift's shortest round-trip form (`0.1`, `1e-05`),
///   so the text reads back to the same bits; -0.0 is written `0` (SQLite
///   stores it as 0.0 anyway). Non-finite doubles are refused before writing
///   (`firstNonFiniteNumber`), JSON cannot hold them;
/// - strings quoted as `JSONValue.jsonText` does: `"` and `\` escaped,
///   control characters as `\u00xx`, everything else as raw UTF-8.
enum CanonicalJSON: Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([CanonicalJSON])
    case object([String: CanonicalJSON])

    var text: String {
        var output = ""
        append(to: &output)
        return output
    }

    private func append(to output: inout String) {
        switch self {
        case .null: output += "null"
        case .bool(let value): output += value ? "true" : "false"
        case .integer(let value): output += String(value)
        case .number(let value): output += JSONValue.number(value).jsonText
        case .string(let value): output += JSONValue.string(value).jsonText
        case .array(let elements):
            output += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { output += "," }
                element.append(to: &output)
            }
            output += "]"
        case .object(let members):
            output += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output += "," }
                output += JSONValue.string(key).jsonText + ":"
                members[key]!.append(to: &output)
            }
            output += "}"
        }
    }

    /// The path of the first NaN or infinite number ("votes[1].confidence"),
    /// or nil when every number is finite.
    func firstNonFiniteNumber(path: String = "") -> String? {
        switch self {
        case .number(let value): return value.isFinite ? nil : path
        case .array(let elements):
            for (index, element) in elements.enumerated() {
                if let found = element.firstNonFiniteNumber(path: "\(path)[\(index)]") { return found }
            }
            return nil
        case .object(let members):
            for key in members.keys.sorted() {
                if let found = members[key]!.firstNonFiniteNumber(path: path.isEmpty ? key : "\(path).\(key)") { return found }
            }
            return nil
        case .null, .bool, .integer, .string: return nil
        }
    }
}
