/// Every request's id: the client's `X-Request-Id` when it is 1–64
/// characters of [A-Za-z0-9._-], else one made here (32 hex digits). It is
/// echoed in the response, handed to a webhook plugin and put in the
/// metadata of every log line for the request (`request_id`).
public enum RequestIDs {
    public static let maxLength = 64

    /// `header` when it is usable as an id, else nil.
    public static func accept(_ header: String?) -> String? {
        guard let header, (1...maxLength).contains(header.utf8.count),
              header.utf8.allSatisfy({ isAllowed($0) }) else { return nil }
        return header
    }

    /// A new id: 128 random bits in hex.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        return [generator.next(), generator.next()].map { (word: UInt64) in
            let hex = String(word, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }
}
