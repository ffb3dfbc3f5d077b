import Foundation

/// Looks for secret values in a program's outputs: each value as it is and
/// in the encodings a careless log line, error or payload would give it
/// (percent-encoded, JSON-escaped, base64 at any alignment, hex). Records
/// every output it scanned with its size, so a report shows what was covered.
struct SecretScanner {
    struct Finding: Equatable, CustomStringConvertible {
        let output: String
        let secret: String
        let form: String
        var description: String { "the value of \(secret) (\(form)) is in \(output)" }
    }

    /// The length of the pieces `scan(_:named:pieces:)` looks for.
    static let pieceLength = 12

    private let forms: [(secret: String, form: String, bytes: Data)]
    private let pieces: [(secret: String, form: String, bytes: Data)]
    private(set) var scanned: [(output: String, bytes: Int)] = []
    private(set) var findings: [Finding] = []

    /// `secrets`: a name for each value (the variable it comes from).
    init(secrets: [String: String]) {
        let sorted = secrets.sorted { $0.key < $1.key }
        forms = sorted.flatMap { name, value in Self.forms(of: value).map { (name, $0.form, Data($0.text.utf8)) } }
        // A URL's scheme and host are public: its secret part is given as a secret of its own.
        pieces = sorted.filter { !$0.value.contains("://") }.flatMap { name, value in
            let bytes = Array(value.utf8)
            return (0..<max(0, bytes.count - Self.pieceLength + 1)).map {
                (name, "\(Self.pieceLength) bytes from byte \($0)", Data(bytes[$0..<$0 + Self.pieceLength]))
            }
        }
    }

    mutating func scan(_ output: String, named name: String, pieces: Bool = false) { scan(Data(output.utf8), named: name, pieces: pieces) }

    /// With `pieces`, also any `pieceLength` bytes of a value: what a dump
    /// of memory (a crash report's registers) would show of it.
    mutating func scan(_ output: Data, named name: String, pieces: Bool = false) {
        scanned.append((name, output.count))
        var found: Set<String> = []
        for form in forms + (pieces ? self.pieces : []) where !found.contains(form.secret) && output.range(of: form.bytes) != nil {
            found.insert(form.secret)
            findings.append(Finding(output: name, secret: form.secret, form: form.form))
        }
    }

    /// `value` in each form worth looking for; forms shorter than 12
    /// characters are left out (they would match by chance).
    static func forms(of value: String) -> [(form: String, text: String)] {
        let bytes = Array(value.utf8)
        var forms: [(form: String, text: String)] = [("as is", value)]
        var unreserved = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)..<Unicode.Scalar(128)))
        unreserved.insert(charactersIn: "-._~")
        if let encoded = value.addingPercentEncoding(withAllowedCharacters: unreserved) {
            forms.append(("percent-encoded", encoded))
            forms.append(("percent-encoded, lowercase hex", encoded.replacing(#/%[0-9A-F]{2}/#) { $0.output.lowercased() }))
        }
        forms.append(("JSON-escaped", value.replacingOccurrences(of: "/", with: "\\/")))
        // Base64 inside a longer encoded text starts at any of three byte
        // alignments: the full 3-byte groups from offset 0, 1 and 2 cover them.
        for offset in 0..<3 where bytes.count - offset >= 3 {
            let groups = bytes.dropFirst(offset).prefix((bytes.count - offset) / 3 * 3)
            let base64 = Data(groups).base64EncodedString()
            forms.append(("base64 from byte \(offset)", base64))
            forms.append(("base64url from byte \(offset)",
                          base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")))
        }
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        forms.append(("hex", hex))
        forms.append(("hex, uppercase", hex.uppercased()))
        var seen: Set<String> = []
        return forms.filter { $0.text.count >= 12 && seen.insert($0.text).inserted }
    }

    /// One line per output scanned: its name and size.
    var coverage: String {
        scanned.map { "  \($0.output): \($0.bytes) bytes" }.joined(separator: "\n")
    }
}
