@testable import WebhookStripe
import XCTest

/// `StripeSignature` on its own: stripe-python's vectors and reading rules.
final class StripeSignatureTests: XCTestCase {
    /// stripe-python's test payload; the header is what its
    /// `WebhookSignature.generate_signature_header(payload, "whsec_test_secret", 1492774577)` returns.
    static let vectorBody = Array("{\n  \"id\": \"evt_test_webhook\",\n  \"object\": \"event\"\n}".utf8)
    static let vectorHeader = "t=1492774577,v1=c2f890decbc5ede7c5060bb9a6d31e0626a4342bacb9aeae2adb1bcea72f9812"
    static let vectorSeconds: Int64 = 1_492_774_577

    private func verify(_ header: String?, _ body: [UInt8] = vectorBody, secret: String = StripeSigner.secret,
                        nowSeconds: Double = Double(vectorSeconds) + 10, tolerance: Int64 = 300) throws {
        try StripeSignature.verify(header: header, body: body, secret: secret, nowNs: Int64(nowSeconds * 1e9),
                                   toleranceSeconds: tolerance, hmac: StripeSigner.hmac)
    }

    private func refusal(_ header: String?, _ body: [UInt8] = vectorBody, secret: String = StripeSigner.secret,
                         nowSeconds: Double = Double(vectorSeconds) + 10, tolerance: Int64 = 300,
                         file: StaticString = #filePath, line: UInt = #line) -> StripeSignature.Refusal? {
        do {
            try verify(header, body, secret: secret, nowSeconds: nowSeconds, tolerance: tolerance)
            XCTFail("accepted \(header ?? "no header")", file: file, line: line)
            return nil
        } catch let refusal as StripeSignature.Refusal {
            return refusal
        } catch {
            XCTFail("unexpected \(error)", file: file, line: line)
            return nil
        }
    }

    func testStripePythonVectors() throws {
        try verify(Self.vectorHeader)
        // Non-ASCII text is signed as its UTF-8 bytes; generated with the same call.
        try verify("t=1492774577,v1=b7850a7ab4f65ab6060e65a8e32205ba561152713c5afab1ade9af7818b34a57",
                   Array(#"{"café": "日本"}"#.utf8))
        XCTAssertEqual(StripeSigner.header(Self.vectorBody, at: Self.vectorSeconds), Self.vectorHeader)
    }

    func testAnyV1MatchesAndEveryOtherSchemeIsIgnored() throws {
        let good = StripeSigner.signature(Self.vectorBody, timestamp: "1492774577")
        let other = StripeSigner.signature(Self.vectorBody, timestamp: "1492774577", secret: "whsec_rolled_out")
        // Rolling secrets: the endpoint's secret matches the second v1.
        try verify("t=1492774577,v1=\(other),v0=\(other),v1=\(good),x=1,v2=\(other)")
        try verify("v0=ff,t=1492774577,v1=\(good)")
        // v0, or another scheme, carrying the right signature is not enough.
        XCTAssertEqual(refusal("t=1492774577,v0=\(good)")?.reason, .malformedHeader)
        XCTAssertEqual(refusal("t=1492774577,v2=\(good),v1=\(other)")?.reason, .noMatchingSignature)
        // Uppercase hex is not Stripe's and does not match.
        XCTAssertEqual(refusal("t=1492774577,v1=\(good.uppercased())")?.reason, .noMatchingSignature)
    }

    func testHeadersAreReadAsStripePythonReadsThem() throws {
        let cases: [(String, StripeSignature.Header?)] = [
            ("t=12,v1=ab", .init(timestamp: "12", signatures: ["ab"])),
            ("v1=ab,t=12,v1=cd,v0=ef", .init(timestamp: "12", signatures: ["ab", "cd"])),
            // Each item splits at its first two '=': the value stops at a third.
            ("t=12=99,v1=ab=cd", .init(timestamp: "12", signatures: ["ab"])),
            // The first t counts; later ones are not read.
            ("t=12,t=zz,v1=ab", .init(timestamp: "12", signatures: ["ab"])),
            ("t=12,v1=", .init(timestamp: "12", signatures: [""])),
            ("t=12,,v1=ab,", .init(timestamp: "12", signatures: ["ab"])),
            // Python's int(): white space around, a sign, leading zeros, '_' between digits, Unicode digits.
            ("t= 0012\t,v1=ab", .init(timestamp: "12", signatures: ["ab"])),
            ("t=+1_492_774_577,v1=ab", .init(timestamp: "1492774577", signatures: ["ab"])),
            ("t=-0,v1=ab", .init(timestamp: "0", signatures: ["ab"])),
            ("t=-12,v1=ab", .init(timestamp: "-12", signatures: ["ab"])),
            ("t=١٢,v1=ab", .init(timestamp: "12", signatures: ["ab"])),
            ("t=\u{3000}１２\u{A0},v1=ab", .init(timestamp: "12", signatures: ["ab"])),
            ("t=99999999999999999999999,v1=ab", .init(timestamp: "99999999999999999999999", signatures: ["ab"])),
            // Malformed.
            ("v1=ab", nil), ("t=12", nil), ("t=12,v0=ab", nil), ("t=12, v1=ab", nil), (" t=12,v1=ab", nil), ("T=12,V1=ab", nil),
            ("t,t=12,v1=ab", nil), ("t=12,v1", nil), ("t=zz,t=12,v1=ab", nil), ("t=,v1=ab", nil), ("t=1__2,v1=ab", nil),
            ("t=_12,v1=ab", nil), ("t=12_,v1=ab", nil), ("t=+_12,v1=ab", nil), ("t=+ 12,v1=ab", nil), ("t=1 2,v1=ab", nil),
            ("t=0x12,v1=ab", nil), ("t=12\u{1C},v1=ab", nil), ("t=12\u{200B},v1=ab", nil), ("t=1.5,v1=ab", nil),
            ("t=\(String(repeating: "1", count: 4301)),v1=ab", nil), (",", nil), ("garbage", nil),
        ]
        for (header, expected) in cases {
            do {
                let parsed = try StripeSignature.parse(header)
                XCTAssertEqual(parsed, expected, header)
            } catch {
                XCTAssertNil(expected, "\(header): \(error)")
                XCTAssertEqual(error.reason, .malformedHeader, header)
                XCTAssertTrue(error.description.hasPrefix("the Stripe-Signature header "), error.description)
            }
        }
        XCTAssertEqual(try StripeSignature.parse("t=\(String(repeating: "1", count: 4300)),v1=ab").timestamp.count, 4300)
        XCTAssertThrowsError(try StripeSignature.parse("")) { XCTAssertEqual(($0 as? StripeSignature.Refusal)?.reason, .missingHeader) }
    }

    /// What is signed is the integer as Python prints it, not the header's text.
    func testTheTimestampIsSignedAsPythonPrintsIt() throws {
        let signature = StripeSigner.signature(Self.vectorBody, timestamp: "1492774577")
        try verify("t= +0001_492_774_577 ,v1=\(signature)")
        let overText = StripeSigner.signature(Self.vectorBody, timestamp: "+01492774577")
        XCTAssertEqual(refusal("t=+01492774577,v1=\(overText)")?.reason, .noMatchingSignature)
    }

    func testTimestampsOlderThanTheToleranceAreRefusedFutureOnesAreNot() throws {
        let body = Self.vectorBody
        let now = Double(Self.vectorSeconds) + 0.5
        // Refused when t < now - tolerance: here t < vectorSeconds - 299.5.
        XCTAssertEqual(refusal(StripeSigner.header(body, at: Self.vectorSeconds - 300), nowSeconds: now)?.reason, .timestampTooOld)
        try verify(StripeSigner.header(body, at: Self.vectorSeconds - 299), nowSeconds: now)
        try verify(StripeSigner.header(body, at: Self.vectorSeconds - 59), nowSeconds: now, tolerance: 60)
        let old = refusal(StripeSigner.header(body, at: Self.vectorSeconds - 61), nowSeconds: now, tolerance: 60)
        XCTAssertEqual(old?.description, "the Stripe-Signature timestamp is more than 60 s before the host's clock (a replayed or long-delayed request)")
        // As stripe-python: a timestamp ahead of the clock is accepted, however far.
        try verify(StripeSigner.header(body, at: Self.vectorSeconds + 86_400), nowSeconds: now)
        let far = "99999999999999999999"
        try verify("t=\(far),v1=\(StripeSigner.signature(body, timestamp: far))", nowSeconds: now)
        let farPast = "-99999999999999999999"
        XCTAssertEqual(refusal("t=\(farPast),v1=\(StripeSigner.signature(body, timestamp: farPast))", nowSeconds: now)?.reason,
                       .timestampTooOld)
    }

    func testForgedTamperedAndWronglyKeyedRequestsAreRefused() {
        let header = Self.vectorHeader
        XCTAssertEqual(refusal("t=1492774577,v1=\(String(repeating: "0", count: 64))")?.reason, .noMatchingSignature)
        var tampered = Self.vectorBody
        tampered[10] ^= 0x01
        XCTAssertEqual(refusal(header, tampered)?.reason, .noMatchingSignature)
        XCTAssertEqual(refusal(header, secret: "whsec_another_secret")?.reason, .noMatchingSignature)
        // The timestamp is signed too.
        XCTAssertEqual(refusal(header.replacingOccurrences(of: "t=1492774577", with: "t=1492774578"))?.reason, .noMatchingSignature)
        XCTAssertEqual(refusal(nil)?.reason, .missingHeader)
        XCTAssertEqual(refusal("")?.reason, .missingHeader)
    }

    func testABodyThatIsNotUTF8IsRefused() {
        let body: [UInt8] = Array(#"{"a": ""#.utf8) + [0xC3, 0x28] + Array(#""}"#.utf8)
        let refused = refusal(StripeSigner.header(body, at: Self.vectorSeconds), body)
        XCTAssertEqual(refused?.reason, .bodyNotUTF8)
    }

    /// stripe-python compares with hmac.compare_digest, which raises on a
    /// non-ASCII value when it reaches it.
    func testANonASCIISignatureRefusesUnlessAnEarlierOneMatched() throws {
        let good = StripeSigner.signature(Self.vectorBody, timestamp: "1492774577")
        try verify("t=1492774577,v1=\(good),v1=é")
        XCTAssertEqual(refusal("t=1492774577,v1=é,v1=\(good)")?.description,
                       "the Stripe-Signature header has a v1 signature (number 1) that is not ASCII")
    }

    func testRefusalsNeverShowTheSecretOrTheExpectedSignature() {
        let expected = StripeSigner.signature(Self.vectorBody, timestamp: "1492774577")
        let headers = ["t=1492774577,v1=00", "t=1492774577,v1=é", "t=1,v1=\(expected)", "t=1492774577", "", "t=x,v1=1"]
        for header in headers {
            let text = refusal(header)?.description ?? ""
            XCTAssertFalse(text.isEmpty, header)
            XCTAssertFalse(text.contains(StripeSigner.secret) || text.contains(expected), text)
        }
    }

    func testAFailingHMACIsNotARefusal() {
        struct NoHMAC: Error {}
        XCTAssertThrowsError(try StripeSignature.verify(header: Self.vectorHeader, body: Self.vectorBody, secret: StripeSigner.secret,
                                                        nowNs: 0, toleranceSeconds: 300, hmac: { _, _ in throw NoHMAC() })) {
            XCTAssertTrue($0 is NoHMAC, "\($0)")
        }
    }
}
