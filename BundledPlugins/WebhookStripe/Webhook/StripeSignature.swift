import AlphaPlusSDK

/// The `Stripe-Signature` header of a webhook request (channels.md §4),
/// checked exactly as stripe-python's `WebhookSignature.verify_header`
/// (16.1.0, the implementation the tests cross-check against; on malformed
/// headers Stripe's libraries differ slightly, this follows stripe-python).
/// Pure: the HMAC is passed in, so the plugin uses the host's and the tests
/// and the fuzzer call it directly.
public enum StripeSignature {
    public typealias HMACSHA256 = (_ key: [UInt8], _ message: [UInt8]) throws -> [UInt8]

    /// What the header says: `t=<timestamp>,v1=<hex>,v1=<hex>,v0=<hex>,...`.
    public struct Header: Equatable, Sendable {
        /// `t` as the integer stripe-python reads (Python's `int()`), in
        /// decimal: the text that is signed.
        public var timestamp: String
        /// Every `v1` value, in order (several while a secret is rolled).
        public var signatures: [String]

        public init(timestamp: String, signatures: [String]) {
            self.timestamp = timestamp
            self.signatures = signatures
        }
    }

    /// Why a request is refused. The description says what was wrong; it
    /// never holds the secret or the expected signature.
    public struct Refusal: Error, Equatable, Sendable, CustomStringConvertible {
        public enum Reason: String, Sendable {
            case missingHeader, malformedHeader, bodyNotUTF8, noMatchingSignature, timestampTooOld
        }
        public var reason: Reason
        public var description: String

        init(_ reason: Reason, _ description: String) {
            self.reason = reason
            self.description = description
        }

        static func malformed(_ problem: String) -> Refusal { Refusal(.malformedHeader, "the Stripe-Signature header \(problem)") }
    }

    /// Python refuses integer strings longer than this (`sys.int_info.default_max_str_digits`).
    static let maxTimestampDigits = 4300

    /// Reads the header as stripe-python does: items split at ',', each
    /// split at its first two '=' (key, then the value up to any further
    /// '='). Keys are compared as they are (" v1" is not "v1"). The first `t`
    /// is the timestamp; a `t` or `v1` without '=' makes the header
    /// malformed; every other scheme (`v0`, ...) is ignored.
    public static func parse(_ header: String) throws(Refusal) -> Header {
        guard !header.isEmpty else { throw Refusal(.missingHeader, "the request has no Stripe-Signature header") }
        var timestamps: [String] = []
        var signatures: [String] = []
        // On UTF-8 bytes: ',' and '=' never occur inside a multi-byte sequence,
        // and a Character split would not split ',' followed by a combining mark.
        for item in header.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
            let parts = item.split(separator: UInt8(ascii: "="), maxSplits: 2, omittingEmptySubsequences: false)
            let isTimestamp = parts[0].elementsEqual("t".utf8)
            guard isTimestamp || parts[0].elementsEqual("v1".utf8) else { continue }
            guard parts.count > 1 else {
                throw .malformed("has an item '\(isTimestamp ? "t" : "v1")' without '=' and a value")
            }
            let value = String(decoding: parts[1], as: UTF8.self)
            if isTimestamp { timestamps.append(value) } else { signatures.append(value) }
        }
        guard let first = timestamps.first else { throw .malformed("has no timestamp (t=...)") }
        guard let timestamp = pythonInteger(first) else { throw .malformed("has a timestamp (t) that is not an integer") }
        guard !signatures.isEmpty else { throw .malformed("has no v1 signature (only the v1 scheme is accepted)") }
        return Header(timestamp: timestamp, signatures: signatures)
    }

    /// Accepts the request when the header is well formed, one of its `v1`
    /// signatures is the lowercase hex HMAC-SHA256 of `"<t>." + body` keyed
    /// by `secret` as is (its UTF-8 bytes; a `whsec_` secret is not decoded),
    /// and `t` is not more than `toleranceSeconds` (at least 1) before
    /// `nowNs`. Like stripe-python, a timestamp in the future is not refused.
    /// Throws a `Refusal`, or what `hmac` throws.
    public static func verify(header: String?, body: [UInt8], secret: String, nowNs: Int64, toleranceSeconds: Int64,
                              hmac: HMACSHA256) throws {
        let parsed = try parse(header ?? "")
        // stripe-python signs the body as text, so a body that is not UTF-8 never verifies there.
        guard Array(String(decoding: body, as: UTF8.self).utf8) == body else {
            throw Refusal(.bodyNotUTF8, "the body is not UTF-8 text, so it cannot be a signed Stripe event")
        }
        let expected = hexDigits(try hmac(Array(secret.utf8), Array((parsed.timestamp + ".").utf8) + body))
        var matched = false
        for (index, signature) in parsed.signatures.enumerated() {
            // stripe-python's hmac.compare_digest raises on text that is not
            // ASCII when it reaches it, so such a value refuses the header
            // unless an earlier one matched.
            guard signature.utf8.allSatisfy({ $0 < 0x80 }) else {
                throw Refusal.malformed("has a v1 signature (number \(index + 1)) that is not ASCII")
            }
            if constantTimeEquals(Array(signature.utf8), expected) {
                matched = true
                break
            }
        }
        guard matched else {
            throw Refusal(.noMatchingSignature, "no v1 signature in the Stripe-Signature header matches the body signed with this "
                + "endpoint's signing secret")
        }
        guard !isTooOld(timestamp: parsed.timestamp, nowNs: nowNs, toleranceSeconds: toleranceSeconds) else {
            throw Refusal(.timestampTooOld, "the Stripe-Signature timestamp is more than \(toleranceSeconds) s before the host's clock "
                + "(a replayed or long-delayed request)")
        }
    }

    /// Whether `timestamp` (seconds, decimal) < now - tolerance.
    static func isTooOld(timestamp: String, nowNs: Int64, toleranceSeconds: Int64) -> Bool {
        // Beyond Int64 it is far in the past or far in the future.
        guard let seconds = Int64(timestamp) else { return timestamp.hasPrefix("-") }
        let (timestampNs, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 }
        let (toleranceNs, toleranceOverflow) = toleranceSeconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (limitNs, limitOverflow) = nowNs.subtractingReportingOverflow(toleranceNs)
        if toleranceOverflow || limitOverflow { return false }
        return timestampNs < limitNs
    }

    /// Python's `int(text)` in base 10, as `"%d"` prints it; nil where
    /// Python raises. Python first maps non-ASCII white space to ' ' and
    /// Unicode decimal digits to ASCII ones (any other non-ASCII character
    /// fails), then reads optional ASCII white space, a sign, digits with
    /// single '_' between them, optional white space.
    static func pythonInteger(_ text: String) -> String? {
        var ascii: [UInt8] = []
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                ascii.append(UInt8(scalar.value))
            } else if scalar.properties.isWhitespace {
                ascii.append(UInt8(ascii: " "))
            } else if scalar.properties.numericType == .decimal, let digit = scalar.properties.numericValue {
                ascii.append(UInt8(ascii: "0") + UInt8(digit))
            } else {
                return nil
            }
        }
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || (0x09...0x0D).contains(byte) }
        var rest = ascii[...]
        while let first = rest.first, isSpace(first) { rest.removeFirst() }
        while let last = rest.last, isSpace(last) { rest.removeLast() }
        var negative = false
        if let sign = rest.first, sign == UInt8(ascii: "-") || sign == UInt8(ascii: "+") {
            negative = sign == UInt8(ascii: "-")
            rest.removeFirst()
        }
        var digits: [UInt8] = []
        var afterDigit = false
        for byte in rest {
            if (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                digits.append(byte)
                afterDigit = true
            } else if byte == UInt8(ascii: "_"), afterDigit {
                afterDigit = false
            } else {
                return nil
            }
        }
        guard afterDigit, digits.count <= maxTimestampDigits else { return nil }
        let significant = digits.drop { $0 == UInt8(ascii: "0") }
        return significant.isEmpty ? "0" : (negative ? "-" : "") + String(decoding: significant, as: UTF8.self)
    }

    /// Lowercase hex, as ASCII bytes.
    static func hexDigits(_ bytes: [UInt8]) -> [UInt8] {
        let alphabet = Array("0123456789abcdef".utf8)
        var digits: [UInt8] = []
        digits.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            digits.append(alphabet[Int(byte >> 4)])
            digits.append(alphabet[Int(byte & 0x0F)])
        }
        return digits
    }
}
