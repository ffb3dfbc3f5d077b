/// A JSON document held in memory.
///
/// Numbers are stored as `Double`. String and key equality follow Swift `String`
/// semantics (canonical Unicode equivalence).
public enum JSONValue: Equatable, Hashable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])
}

extension JSONValue {
    /// The member named `key` if this is an object that has it, otherwise `nil`.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members[key]
    }

    /// Canonical compact JSON: no whitespace, object keys sorted, integers without a
    /// fractional part, other numbers in Swift's shortest round-trip form, control
    /// characters escaped as `\u00xx`.
    ///
    /// JSON cannot represent infinities or NaN; such numbers are written as `null`.
    public var jsonText: String {
        var output: [UInt8] = []
        appendJSONText(to: &output)
        return String(decoding: output, as: UTF8.self)
    }

    private func appendJSONText(to output: inout [UInt8]) {
        switch self {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let value):
            output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let value):
            output.append(contentsOf: JSONValue.numberText(value).utf8)
        case .string(let value):
            JSONValue.appendQuoted(value, to: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                element.appendJSONText(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                JSONValue.appendQuoted(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                member.value.appendJSONText(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// The text `jsonText` uses for a number; also used for numbers in error messages.
    static func numberText(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value.rounded(.towardZero) == value, abs(value) < 0x1p53 {
            return String(Int64(value))
        }
        return value.description
    }

    private static func appendQuoted(_ string: String, to output: inout [UInt8]) {
        let hexDigits = Array("0123456789abcdef".utf8)
        output.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                output.append(UInt8(ascii: "\\"))
                output.append(byte)
            case 0x00..<0x20:
                output.append(contentsOf: "\\u00".utf8)
                output.append(hexDigits[Int(byte >> 4)])
                output.append(hexDigits[Int(byte & 0x0F)])
            default:
                output.append(byte)
            }
        }
        output.append(UInt8(ascii: "\""))
    }
}
