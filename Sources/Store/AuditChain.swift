import Crypto

/// The audit log's hash chain. Each row's hash is the lowercase hex SHA-256
/// of the UTF-8 bytes of
///
///     prev_hash "\n" seq "\n" at_ns "\n" kind "\n" subject "\n" payload
///
/// where prev_hash is the previous row's hash (64 zeros for the first row),
/// seq and at_ns are decimal integers without padding ('-' for a negative
/// at_ns), kind is `risk_decision`, `signal` or `outcome`, subject is the
/// record's id (never containing a control character) and payload is the
/// record's canonical JSON (`CanonicalJSON`, which escapes every control
/// character), with no newline after it. Only the payload may contain
/// arbitrary text and it comes last, so the bytes split back into the six
/// fields one way only.
enum AuditChain {
    static let genesisHash = String(repeating: "0", count: 64)

    static func hash(prevHash: String, seq: Int64, atNs: Int64, kind: String, subject: String, payload: String) -> String {
        let input = "\(prevHash)\n\(seq)\n\(atNs)\n\(kind)\n\(subject)\n\(payload)"
        return hex(SHA256.hash(data: Array(input.utf8)))
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(SHA256.byteCount * 2)
        for byte in digest {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
