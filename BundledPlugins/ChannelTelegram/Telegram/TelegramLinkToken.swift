import AlphaPlusSDK
import Foundation

/// The parameter of a deep link `https://t.me/<bot>?start=<token>` that
/// links a chat to a subscriber the operator's website knows:
///
///     token     = <subscriber id> "-" <signature>
///     signature = base64url, without padding, of the first 16 bytes of
///                 HMAC-SHA256(key: secret link_secret, message: subscriber id)
///
/// The signature is always 22 characters and base64url has "-" in its
/// alphabet, so a token is split 22 characters from its end (the character
/// before must be "-"), not at its last "-". Telegram carries at most 64
/// characters of `A-Za-z0-9_-`, which leaves 41 for the subscriber id.
public enum TelegramLinkToken {
    public static let maximumLength = 64
    public static let signatureLength = 22
    /// A shorter `link_secret` is refused: whoever guesses it can link any
    /// chat to any subscriber (and receive a paid tier).
    public static let minimumSecretLength = 16

    /// HMAC-SHA256 of a message under a key (the host's `context.hmac`).
    public typealias HMACSHA256 = (_ key: [UInt8], _ message: [UInt8]) throws -> [UInt8]

    /// The subscriber id a token names when its signature is right; nil for
    /// a token that is malformed, over-long, unsigned or tampered with.
    /// Throws only what `hmac` throws.
    public static func subscriberID(in token: String, secret: String, hmac: HMACSHA256) throws -> String? {
        let bytes = Array(token.utf8)
        guard bytes.count <= maximumLength, bytes.count >= signatureLength + 2,
              bytes.allSatisfy(isTokenByte), bytes[bytes.count - signatureLength - 1] == UInt8(ascii: "-") else { return nil }
        let id = Array(bytes[..<(bytes.count - signatureLength - 1)])
        let expected = try signature(of: id, secret: secret, hmac: hmac)
        return constantTimeEquals(Array(bytes.suffix(signatureLength)), expected) ? String(decoding: id, as: UTF8.self) : nil
    }

    static func signature(of id: [UInt8], secret: String, hmac: HMACSHA256) throws -> [UInt8] {
        let digest = try hmac(Array(secret.utf8), id)
        let base64 = Data(digest.prefix(16)).base64EncodedString()
        return Array(base64.utf8).compactMap { byte in
            switch byte {
            case UInt8(ascii: "+"): UInt8(ascii: "-")
            case UInt8(ascii: "/"): UInt8(ascii: "_")
            case UInt8(ascii: "="): nil
            default: byte
            }
        }
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }
}
