import Foundation
import SharedTestData
import WebhookStripe
import XCTest

/// Our verifier against stripe-python 16.1.0's
/// `WebhookSignature.verify_header` on seeded random cases: valid headers
/// (several v1, v0 and other schemes, bodies with non-ASCII text and
/// non-UTF-8 bytes), tampered bodies, wrong secrets, old, boundary and
/// future timestamps, Python's integer spellings and malformed headers.
/// Both must accept or refuse every case alike.
final class StripeSignatureCrossCheckTests: XCTestCase {
    fileprivate struct Case: Encodable {
        var kind: String
        var body_hex: String
        var header: String
        var secret: String
        var tolerance: Int64
    }

    private struct Request: Encodable {
        var now: Double
        var cases: [Case]
    }

    private struct Verdict: Decodable {
        var accepted: Bool
        var error: String
    }

    /// Half a second past a whole second, exact in a Double: the tolerance
    /// boundary falls between two timestamps.
    static let nowSeconds: Int64 = 1_700_000_000
    static let nowNs = nowSeconds * 1_000_000_000 + 500_000_000

    func testVerdictsEqualStripePythons() throws {
        var random = SplitMix64(seed: 0x57121BE)
        let cases = (0..<480).map { Self.randomCase(index: $0, &random) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("crosscheck_stripe_signature.py")
        let input = try JSONEncoder().encode(Request(now: Double(Self.nowNs) / 1e9, cases: cases))
        let answer = try PythonCrossCheck.run(script, input: input, packages: "stripe 16.1.0")
        let verdicts = try JSONDecoder().decode([Verdict].self, from: answer)
        XCTAssertEqual(verdicts.count, cases.count)

        var acceptedKinds: [String: Int] = [:], refusedKinds: [String: Int] = [:]
        for (item, python) in zip(cases, verdicts) {
            let body = Self.bytes(hex: item.body_hex)
            var ours = ""
            do {
                try StripeSignature.verify(header: item.header, body: body, secret: item.secret, nowNs: Self.nowNs,
                                           toleranceSeconds: item.tolerance, hmac: StripeSigner.hmac)
            } catch {
                ours = "\(error)"
            }
            XCTAssertEqual(ours.isEmpty, python.accepted,
                           "\(item.kind): header \(item.header.debugDescription), tolerance \(item.tolerance): ours '\(ours)', stripe-python '\(python.error)'")
            if python.accepted { acceptedKinds[item.kind, default: 0] += 1 } else { refusedKinds[item.kind, default: 0] += 1 }
        }
        // The cases exercise both verdicts, over many kinds.
        XCTAssertGreaterThan(acceptedKinds.values.reduce(0, +), 150, "\(acceptedKinds)")
        XCTAssertGreaterThan(refusedKinds.values.reduce(0, +), 150, "\(refusedKinds)")
        XCTAssertGreaterThanOrEqual(acceptedKinds.count, 8, "\(acceptedKinds)")
        XCTAssertGreaterThanOrEqual(refusedKinds.count, 10, "\(refusedKinds)")
    }

    // MARK: - Cases

    private static let textPieces = ["a", "Z", "0", " ", "\"", "\\n", "{", "}", ":", ",", "é", "日本", "😷", "\u{301}", "ß", "€", "\u{0}", "\n", "\t"]
    private static let secretCharacters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")

    static func bytes(hex: String) -> [UInt8] {
        let digits = Array(hex.utf8)
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(decoding: digits[$0..<$0 + 2], as: UTF8.self), radix: 16)! }
    }

    private static func randomSecret(_ random: inout SplitMix64) -> String {
        var secret = "whsec_" + String((0..<Int.random(in: 24...40, using: &random)).map { _ in secretCharacters.randomElement(using: &random)! })
        if Int.random(in: 0..<8, using: &random) == 0 { secret += ["é", "日", "\u{301}"].randomElement(using: &random)! }
        return secret
    }

    /// An event-like JSON text with non-ASCII pieces, now and then raw bytes
    /// that may not be UTF-8, or nothing.
    private static func randomBody(_ random: inout SplitMix64) -> [UInt8] {
        switch Int.random(in: 0..<12, using: &random) {
        case 0: return []
        case 1: return (0..<Int.random(in: 1...64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
        default:
            let text = (0..<Int.random(in: 0...40, using: &random)).map { _ in textPieces.randomElement(using: &random)! }.joined()
            return Array(#"{"id": "evt_\#(Int.random(in: 1...999_999, using: &random))", "object": "event", "note": "\#(text)"}"#.utf8)
        }
    }

    private static func randomHex(_ random: inout SplitMix64, count: Int = 64) -> String {
        String((0..<count).map { _ in Array("0123456789abcdef").randomElement(using: &random)! })
    }


    /// Python's int() spellings of `seconds`, and the header text for it.
    private static func pythonSpelling(of seconds: Int64, _ random: inout SplitMix64) -> String {
        let digits = String(seconds)
        switch Int.random(in: 0..<7, using: &random) {
        case 0: return "000" + digits
        case 1: return "+" + digits
        case 2: return [" ", "\t", "\u{A0}", "\u{3000}"].randomElement(using: &random)! + digits + [" ", "\n", "\u{2003}"].randomElement(using: &random)!
        case 3: return String(digits.prefix(4)) + "_" + String(digits.dropFirst(4))
        case 4: return String(digits.map { Character(Unicode.Scalar(0x0660 + $0.wholeNumberValue!)!) })  // Arabic-Indic digits
        case 5: return String(digits.map { Character(Unicode.Scalar(0xFF10 + $0.wholeNumberValue!)!) })  // full-width digits
        default: return "+00_" + digits
        }
    }

    private static func randomCase(index: Int, _ random: inout SplitMix64) -> Case {
        let secret = randomSecret(&random)
        var body = randomBody(&random)
        let tolerance = [1, 60, 300, 300, 3600].randomElement(using: &random)!
        // A timestamp within the tolerance (to the second below the boundary).
        var t = nowSeconds - Int64.random(in: 0...Int64(tolerance - 1), using: &random)
        func sign(_ timestampText: String, _ key: String = secret) -> String { StripeSigner.signature(body, timestamp: timestampText, secret: key) }
        var items: [String] = []
        let kind: String
        switch index % 16 {
        case 0, 1:
            kind = "valid"
            items = ["t=\(t)", "v1=\(sign(String(t)))"]
        case 2:
            kind = "several v1, v0 and other schemes"
            items = ["t=\(t)", "v1=\(sign(String(t)))", "v0=\(sign(String(t)))", "v1=\(randomHex(&random))",
                     "v1=\(sign(String(t), "whsec_old"))", "v2=\(randomHex(&random))", "x=y"]
        case 3:
            kind = "tampered body"
            items = ["t=\(t)", "v1=\(sign(String(t)))"]
            if body.isEmpty { body = [UInt8(ascii: "x")] } else { body[Int.random(in: 0..<body.count, using: &random)] ^= 1 << UInt8.random(in: 0...7, using: &random) }
        case 4:
            kind = "wrong secret"
            items = ["t=\(t)", "v1=\(sign(String(t), randomSecret(&random)))"]
        case 5:
            kind = "old timestamp"
            t = nowSeconds - Int64(tolerance) - Int64.random(in: 0...100_000, using: &random)
            items = ["t=\(t)", "v1=\(sign(String(t)))"]
        case 6:
            kind = "tolerance boundary"
            t = nowSeconds - Int64(tolerance) + Int64.random(in: 0...1, using: &random)
            items = ["t=\(t)", "v1=\(sign(String(t)))"]
        case 7:
            kind = "future timestamp"
            t = nowSeconds + Int64.random(in: 1...10_000_000, using: &random)
            items = ["t=\(t)", "v1=\(sign(String(t)))"]
        case 8:
            kind = "only v0 or another scheme"
            items = ["t=\(t)", ["v0", "V1", "v1 ", " v1", "v"].randomElement(using: &random)! + "=\(sign(String(t)))"]
        case 9:
            kind = "python integer spelling"
            let spelled = pythonSpelling(of: t, &random)
            // Signed as Python prints the integer, or (refused unless equal) as written.
            items = ["t=\(spelled)", "v1=\(sign(Bool.random(using: &random) ? String(t) : spelled))"]
        case 10:
            kind = "extra '=' in an item"
            items = Bool.random(using: &random) ? ["t=\(t)=\(Int.random(in: 0...9, using: &random))", "v1=\(sign(String(t)))"]
                : ["t=\(t)", "v1=\(sign(String(t)))=\(randomHex(&random, count: 4))"]
        case 11:
            kind = "two timestamps"
            let other = ["x", "", String(t + 1), "1.5"].randomElement(using: &random)!
            items = Bool.random(using: &random) ? ["t=\(t)", "t=\(other)", "v1=\(sign(String(t)))"] : ["t=\(other)", "t=\(t)", "v1=\(sign(String(t)))"]
            return Case(kind: kind, body_hex: StripeSigner.hex(body), header: items.joined(separator: ","), secret: secret, tolerance: Int64(tolerance))
        case 12:
            kind = "item without '='"
            items = ["t=\(t)", "v1=\(sign(String(t)))", ["t", "v1", "v0", "x", ""].randomElement(using: &random)!]
        case 13:
            kind = "non-ASCII or uppercase v1"
            let good = sign(String(t))
            items = ["t=\(t)", "v1=" + ["é", "\(good.dropLast())é", good.uppercased(), "日本"].randomElement(using: &random)!, "v1=\(good)"]
            // The order decides in stripe-python when the value is not ASCII.
            return Case(kind: kind, body_hex: StripeSigner.hex(body), header: Bool.random(using: &random) ? items.joined(separator: ",")
                        : [items[0], items[2], items[1]].joined(separator: ","), secret: secret, tolerance: Int64(tolerance))
        case 14:
            kind = "malformed"
            let good = sign(String(t))
            let header = [
                "", ",", "=", "t=", "v1=\(good)", "t=\(t)", "t=\(t);v1=\(good)", "t=\(t), v1=\(good)", "t =\(t),v1=\(good)",
                "t=\(t)abc,v1=\(good)", "t=\(Double(t) + 0.5),v1=\(good)", "t=0x\(String(t, radix: 16)),v1=\(good)",
                "t=\(t)\u{1C},v1=\(good)", "t=1__0,v1=\(good)", "t=_\(t),v1=\(good)", "t=\(t)_,v1=\(good)",
                "t=\u{200B}\(t),v1=\(good)", "\(t),\(good)", "t=\(t),v1=\(good)\u{301}",
            ].randomElement(using: &random)!
            return Case(kind: kind, body_hex: StripeSigner.hex(body), header: header, secret: secret, tolerance: Int64(tolerance))
        default:
            kind = "body not UTF-8"
            body = Array(#"{"id": "evt_1", "x": ""#.utf8) + [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xE2, 0x82]].randomElement(using: &random)! + Array(#""}"#.utf8)
            items = ["t=\(t)", "v1=\(sign(String(t)))"]
        }
        // In Stripe's order (t first) half the time, in any order otherwise.
        let header = (Bool.random(using: &random) ? items : items.shuffled(using: &random)).joined(separator: ",")
        return Case(kind: kind, body_hex: StripeSigner.hex(body), header: header, secret: secret, tolerance: Int64(tolerance))
    }
}
