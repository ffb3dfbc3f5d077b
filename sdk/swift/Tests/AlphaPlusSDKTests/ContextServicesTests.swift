import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// PluginContext's host services (state, secrets, metrics, logs), called by
/// a plugin from inside a webhook request.
final class ContextServicesTests: XCTestCase {
    private let host = TestHost(secrets: ["bot_token": "123456:AA-secret", "empty": ""])

    private func request(_ instance: TestInstance, _ method: String, _ path: String, body: [UInt8] = []) throws -> WebhookResponse {
        try instance.handle(WebhookRequest(method: method, path: path, body: body))
    }

    func testStateSetGetRemove() throws {
        let instance = try host.load(EchoWebhook.self).create(instance: "kv")
        XCTAssertEqual(try request(instance, "GET", "/state/cursor").status, 404)

        let value: [UInt8] = [0, 1, 2, 0xFF, 0x80, 10]
        XCTAssertEqual(try request(instance, "PUT", "/state/cursor", body: value).status, 204)
        XCTAssertEqual(host.state(of: instance), ["cursor": value])
        let read = try request(instance, "GET", "/state/cursor")
        XCTAssertEqual(read.status, 200)
        XCTAssertEqual(read.body, value)

        // Overwrite, and an empty value is a value, not an absence.
        XCTAssertEqual(try request(instance, "PUT", "/state/cursor", body: [42]).status, 204)
        XCTAssertEqual(try request(instance, "GET", "/state/cursor").body, [42])
        XCTAssertEqual(try request(instance, "PUT", "/state/empty").status, 204)
        let empty = try request(instance, "GET", "/state/empty")
        XCTAssertEqual(empty.status, 200)
        XCTAssertEqual(empty.body, [])
        XCTAssertEqual(host.state(of: instance), ["cursor": [42], "empty": []])

        XCTAssertEqual(try request(instance, "DELETE", "/state/cursor").status, 204)
        XCTAssertEqual(try request(instance, "GET", "/state/cursor").status, 404)
        XCTAssertEqual(host.state(of: instance), ["empty": []])
        // Removing what is not there is not an error.
        XCTAssertEqual(try request(instance, "DELETE", "/state/never-set").status, 204)
    }

    func testStateIsPerInstance() throws {
        let plugin = try host.load(EchoWebhook.self)
        let a = try plugin.create(instance: "a")
        let b = try plugin.create(instance: "b")
        XCTAssertEqual(try request(a, "PUT", "/state/k", body: [1]).status, 204)
        XCTAssertEqual(try request(b, "GET", "/state/k").status, 404)
        XCTAssertEqual(try request(b, "PUT", "/state/k", body: [2]).status, 204)
        XCTAssertEqual(try request(a, "GET", "/state/k").body, [1])
        XCTAssertEqual(host.state(of: a), ["k": [1]])
        XCTAssertEqual(host.state(of: b), ["k": [2]])
    }

    func testStateKeysAndValuesBeyondTheContractsLimitsAreRefusedAsTheHostRefusesThem() throws {
        let instance = try host.load(EchoWebhook.self).create(instance: "limits")
        let longest = String(repeating: "k", count: StateLimits.maxKeyBytes)
        XCTAssertEqual(try request(instance, "PUT", "/state/\(longest)", body: [1]).status, 204)
        XCTAssertEqual(try request(instance, "PUT", "/state/big", body: [UInt8](repeating: 7, count: StateLimits.maxValueBytes)).status, 204)
        let refused: [(path: String, body: [UInt8], logged: String)] = [
            ("/state/\(longest)k", [1], "state key refused: the key is 257 bytes; a key is 1 to 256 bytes of UTF-8 without NUL"),
            ("/state/a\u{0}b", [1], "state key refused: the key holds NUL at byte 1"),  // a store would keep it as "a"
            ("/state/huge", [UInt8](repeating: 7, count: StateLimits.maxValueBytes + 1), "state 'huge' refused: the value is 1048577 bytes, more than 1048576"),
        ]
        for (path, body, logged) in refused {
            XCTAssertThrowsError(try request(instance, "PUT", path, body: body), path) { error in
                XCTAssertEqual((error as? PluginError)?.status, ap_status(AP_ERR_INVALID_ARGUMENT), "\(path): \(error)")
            }
            XCTAssertTrue(host.logs.contains { $0.level == .warning && $0.message.hasPrefix(logged) }, "\(path): \(host.logs)")
        }
        XCTAssertEqual(try request(instance, "GET", "/state/a\u{0}b").status, 404, "a refused key reads nothing")
        XCTAssertEqual(Set(host.state(of: instance).keys), ["big", longest])
    }

    func testSecrets() throws {
        let instance = try host.load(EchoWebhook.self).create(instance: "secrets")
        let present = try request(instance, "GET", "/secret/bot_token")
        XCTAssertEqual(present.status, 200)
        XCTAssertEqual(String(decoding: present.body, as: UTF8.self), "123456:AA-secret")
        XCTAssertEqual(try request(instance, "GET", "/secret/chat_id").status, 404)
        let empty = try request(instance, "GET", "/secret/empty")
        XCTAssertEqual(empty.status, 200, "an empty secret is present")
        XCTAssertEqual(empty.body, [])

        // Secrets added later reach only instances created later.
        host.secrets["chat_id"] = "-100123"
        XCTAssertEqual(try request(instance, "GET", "/secret/chat_id").status, 404)
        let later = try host.load(EchoWebhook.self).create(instance: "secrets-later")
        XCTAssertEqual(try request(later, "GET", "/secret/chat_id").body, Array("-100123".utf8))
    }

    func testMetricsAreRecordedWithKindNameAndValue() throws {
        let instance = try host.load(EchoWebhook.self).create(instance: "metrics")
        XCTAssertEqual(try request(instance, "POST", "/telemetry").status, 204)
        XCTAssertEqual(host.metrics.map(\.kind), [AP_METRIC_COUNTER.rawValue, AP_METRIC_COUNTER.rawValue,
                                                  AP_METRIC_GAUGE.rawValue, AP_METRIC_HISTOGRAM.rawValue])
        XCTAssertEqual(host.metrics.map(\.name), ["hooks_total", "bytes_total", "queue_depth", "latency_seconds"])
        XCTAssertEqual(host.metrics.map(\.value), [1, 2.5, 7, 0.25])
    }

    func testLogsAreCapturedWithTheirLevel() throws {
        let instance = try host.load(EchoWebhook.self).create(instance: "logs")
        XCTAssertEqual(try request(instance, "POST", "/telemetry").status, 204)
        XCTAssertEqual(host.logs.map(\.level), [.trace, .debug, .info, .warning, .error])
        XCTAssertEqual(host.logs.map(\.message), ["trace line", "debug line", "info line", "warning line", "error line"])
    }

    func testClockIsTheHostClock() throws {
        let host = TestHost(nowNs: 42_000)
        let (instance, exchange) = try {
            let instance = try host.load(SimExchange.self).create(config: #"{"venue": "v", "tick_ms": 2}"#, instance: "clock")
            return (instance, try XCTUnwrap(Live.get(SimExchange.self, instance: "clock")))
        }()
        XCTAssertEqual(exchange.context.nowNs, 42_000)
        host.advance(byNs: 8)
        XCTAssertEqual(exchange.context.nowNs, 42_008)
        withExtendedLifetime(instance) {}
    }
}
