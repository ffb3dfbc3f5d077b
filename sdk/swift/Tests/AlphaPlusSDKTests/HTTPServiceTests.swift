import AlphaPlusSDK
@testable import AlphaPlusSDKTesting
import XCTest

/// The HTTP and HMAC host services and the rate-limits capability, through
/// the test host as a plugin author uses them.
final class HTTPServiceTests: XCTestCase {
    private func delivery(_ url: String, _ text: String = "hello") -> Delivery {
        Delivery(idempotencyKey: "k-\(text)", targetJSON: #"{"url": "\#(url)"}"#, text: text)
    }

    func testRequestsGoThroughTheHandlerAndAnswersArriveAfterTheCall() throws {
        let host = TestHost()
        host.httpHandler = { request in
            XCTAssertEqual(request.method, "POST")
            XCTAssertEqual(request.header("content-type"), "text/plain")
            return request.body == Array("slow down".utf8)
                ? .success(HTTPResponse(status: 429, headers: [HTTPHeader("Retry-After", "3")], body: Array("busy".utf8)))
                : .success(HTTPResponse(status: 200, headers: [HTTPHeader("X-Id", "m-1")]))
        }
        let instance = try host.load(HTTPPostChannel.self).create()
        XCTAssertEqual(try instance.deliver(delivery("https://hooks.example.com/a")), DeliveryResult(.delivered, externalID: "m-1"))
        XCTAssertEqual(try instance.deliver(delivery("https://x.cdn.example.com/b", "slow down")),
                       DeliveryResult(.retry, retryAfterMs: 3000, reason: "HTTP 429: busy"))
        XCTAssertEqual(host.httpRequests.map(\.url), ["https://hooks.example.com/a", "https://x.cdn.example.com/b"])
        // The signature header came from the host's HMAC service.
        XCTAssertEqual(host.httpRequests[0].header("x-signature"),
                       TestCrypto.hmac(.sha256, key: Array("key".utf8), message: Array("hello".utf8)).map { String(format: "%02x", $0) }.joined())
    }

    func testUndeclaredHostsAreRefusedAndLogged() throws {
        let host = TestHost()
        host.httpHandler = { _ in .success(HTTPResponse(status: 200)) }
        let instance = try host.load(HTTPPostChannel.self).create()
        for url in ["https://evil.example.com/x", "https://cdn.example.com/bare-domain", "ftp://hooks.example.com/x"] {
            XCTAssertThrowsError(try instance.deliver(delivery(url))) { error in
                XCTAssertEqual((error as? PluginError)?.status, ap_status(AP_ERR_PERMISSION_DENIED), url)
            }
        }
        XCTAssertEqual(host.refusedHTTPRequests.count, 3)
        XCTAssertTrue(host.httpRequests.isEmpty)
        XCTAssertTrue(host.logs.contains { $0.level == .warning && $0.message.contains("evil.example.com") })
    }

    func testWithoutAnHTTPServiceTheCallThrowsUnsupported() throws {
        let instance = try TestHost().load(HTTPPostChannel.self).create()
        XCTAssertThrowsError(try instance.deliver(delivery("https://hooks.example.com/a"))) { error in
            XCTAssertEqual((error as? PluginError)?.status, ap_status(AP_ERR_UNSUPPORTED))
        }
    }

    func testTransportFailuresReachThePlugin() throws {
        let host = TestHost()
        host.httpHandler = { _ in .failure(PluginError(status: ap_status(AP_ERR_TIMEOUT), "timed out after 10000 ms")) }
        let instance = try host.load(HTTPPostChannel.self).create()
        XCTAssertEqual(try instance.deliver(delivery("https://hooks.example.com/a")),
                       DeliveryResult(.retry, reason: "timed out after 10000 ms"))
    }

    func testRateLimitsCrossTheContract() throws {
        let instance = try TestHost().load(HTTPPostChannel.self).create()
        let target = #"{"url": "https://hooks.example.com/a"}"#
        XCTAssertEqual(try instance.rateLimits(forTarget: target),
                       [RateLimit(bucket: "all", capacity: 30, windowMs: 1000), RateLimit(bucket: target, capacity: 1, windowMs: 1000)])
        XCTAssertThrowsError(try instance.rateLimits(forTarget: "{}")) { error in
            XCTAssertEqual((error as? PluginError)?.message, "target.url must be an https URL")
        }
    }

    /// RFC 2202 (HMAC-SHA1) and RFC 4231 (HMAC-SHA256) test cases 1, 2 and 6.
    func testTheTestHostHMACMatchesTheRFCVectors() {
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        let cases: [([UInt8], String, String, String)] = [
            ([UInt8](repeating: 0x0b, count: 20), "Hi There",
             "b617318655057264e28bc0b6fb378c8ef146be00", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (Array("Jefe".utf8), "what do ya want for nothing?",
             "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            ([UInt8](repeating: 0xaa, count: 131), "Test Using Larger Than Block-Size Key - Hash Key First",
             "", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
        ]
        for (key, message, sha1, sha256) in cases {
            if !sha1.isEmpty { XCTAssertEqual(hex(TestCrypto.hmac(.sha1, key: key, message: Array(message.utf8))), sha1) }
            XCTAssertEqual(hex(TestCrypto.hmac(.sha256, key: key, message: Array(message.utf8))), sha256)
        }
        // RFC 2202 case 6: an 80-byte key.
        XCTAssertEqual(hex(TestCrypto.hmac(.sha1, key: [UInt8](repeating: 0xaa, count: 80),
                                           message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
                       "aa4ae5e15272d00e95705637ce8a3b55ed402112")
    }
}

final class ConstantTimeTests: XCTestCase {
    func testEqualOnlyForTheSameBytes() {
        let expected = Array("v1-signature".utf8)
        XCTAssertTrue(constantTimeEquals(expected, expected))
        XCTAssertFalse(constantTimeEquals(Array("v1-signaturf".utf8), expected), "one byte differs")
        XCTAssertFalse(constantTimeEquals(Array("v1-signatur".utf8), expected), "a prefix")
        XCTAssertFalse(constantTimeEquals(expected + [0], expected), "longer")
        XCTAssertFalse(constantTimeEquals([], expected))
        XCTAssertTrue(constantTimeEquals([], []))
    }
}
