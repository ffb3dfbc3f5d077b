import AlphaPlusJSON
import AlphaPlusSDK
import Foundation
import IngressTestPlugins
import MetricsTestKit
import XCTest

/// `/hooks/<tenant>/<instance>/…` to the echo webhook through the server.
final class WebhookTests: XCTestCase {
    private var host: IngressHost!

    override func tearDown() {
        host?.close()
        host = nil
    }

    func testTheRawBodyAndHeadersReachThePluginByteForByte() throws {
        host = try IngressHost()
        let body = (0...255).map(UInt8.init) + Array("\r\n{\"ü\": \"✓\"}\r\n".utf8) + [0, 0, 13, 10]
        let headers = [("X-Signature", "t=1492774577,v1=5257a869e7"), ("content-type", "application/json; charset=utf-8"),
                       ("X-Dup", "1"), ("x-dup", "2"), ("X-Empty", ""), ("X_Under", "a\tb"), ("X-Utf8", "café ✓")]
        let response = try host.send("POST", "/hooks/alpha/hook/telegram/updates?token=a%20b&x&=y", headers: headers, body: body)

        XCTAssertEqual(response.status, 200, response.text)
        let received = try XCTUnwrap(WebhookLog.requests(host.alphaHookLog).last)
        XCTAssertEqual(received.method, "POST")
        XCTAssertEqual(received.path, "/telegram/updates")
        XCTAssertEqual(received.query, "token=a%20b&x&=y")
        XCTAssertEqual(received.body, body)
        let sent = [("Host", "127.0.0.1:\(host.server.port)")] + headers + [("Content-Length", "\(body.count)"), ("Connection", "close")]
        XCTAssertEqual(received.headers.map(\.name), sent.map(\.0))
        XCTAssertEqual(received.headers.map(\.value), sent.map(\.1))
        // The echo answers with the body as it got it.
        XCTAssertEqual(response.body, body)
        XCTAssertEqual(response.header("X-Echo-Path"), "/telegram/updates")
        XCTAssertEqual(WebhookLog.requests(host.betaHookLog), [], "beta's instance got alpha's request")
    }

    func testThePathAfterTheInstanceIsSlashWhenThereIsNoneAndTheQueryIsEmptyWithoutOne() throws {
        host = try IngressHost()
        for (target, path, query) in [("/hooks/alpha/hook", "/", ""), ("/hooks/alpha/hook/", "/", ""), ("/hooks/alpha/hook?", "/", ""),
                                      ("/hooks/alpha/hook/a%2Fb/c", "/a%2Fb/c", ""), ("/hooks/alpha/h%6Fok/x?q=1", "/x", "q=1")] {
            let response = try host.send("GET", target)
            XCTAssertEqual(response.status, 200, "\(target): \(response.text)")
            XCTAssertEqual(WebhookLog.requests(host.alphaHookLog).last?.path, path, target)
            XCTAssertEqual(WebhookLog.requests(host.alphaHookLog).last?.query, query, target)
            XCTAssertEqual(WebhookLog.requests(host.alphaHookLog).last?.method, "GET", target)
        }
        // Any method, custom ones too.
        for method in ["PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"] {
            XCTAssertEqual(try host.send(method, "/hooks/alpha/hook/m").header("X-Echo-Method"), method)
        }
    }

    func testABodyOverTheLimitIs413AndNeverReachesThePlugin() throws {
        host = try IngressHost(maxBodyBytes: 1000)
        // Content-Length announces more: refused before the body is read (none is sent).
        let announced = try RawHTTP.exchange(port: host.server.port, Array(
            "POST /hooks/alpha/hook HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\nConnection: close\r\n\r\n".utf8))
        XCTAssertEqual(announced.status, 413)
        XCTAssertEqual(announced.error, "the body is larger than 1000 bytes (Content-Length: 1001)")
        // Chunked: counted as it streams.
        let chunked = try host.send("POST", "/hooks/alpha/hook", headers: [("Transfer-Encoding", "chunked")],
                                    body: RawHTTP.chunked([[UInt8](repeating: 7, count: 600), [UInt8](repeating: 8, count: 600)]))
        XCTAssertEqual(chunked.status, 413)
        XCTAssertEqual(chunked.error, "the body is larger than 1000 bytes")
        XCTAssertEqual(WebhookLog.requests(host.alphaHookLog), [], "the plugin was called")
        XCTAssertNotNil(chunked.header("X-Request-Id"))

        // At the limit it goes through, chunked or not.
        XCTAssertEqual(try host.send("POST", "/hooks/alpha/hook", body: [UInt8](repeating: 1, count: 1000)).status, 200)
        XCTAssertEqual(try host.send("POST", "/hooks/alpha/hook", headers: [("Transfer-Encoding", "chunked")],
                                     body: RawHTTP.chunked([[UInt8](repeating: 2, count: 500), [UInt8](repeating: 3, count: 500)])).body,
                       [UInt8](repeating: 2, count: 500) + [UInt8](repeating: 3, count: 500))
        XCTAssertEqual(WebhookLog.requests(host.alphaHookLog).count, 2)
    }

    func testAPluginSlowerThanTheDeadlineIs504AndItsLateAnswerIsDroppedAndLogged() throws {
        host = try IngressHost(deadline: .milliseconds(300))
        let started = Date()
        let response = try host.send("POST", "/hooks/alpha/hook/slow/1500", headers: [("X-Request-Id", "slow-1")], body: [1])
        let waited = Date().timeIntervalSince(started)
        XCTAssertEqual(response.status, 504)
        XCTAssertEqual(response.error, "the webhook handler did not answer within 300 ms")
        XCTAssertEqual(response.header("X-Request-Id"), "slow-1")
        XCTAssertGreaterThanOrEqual(waited, 0.3)
        XCTAssertLessThan(waited, 1.2, "the answer waited for the plugin")
        // The plugin got it and answers later: the answer is dropped, and said so.
        XCTAssertEqual(WebhookLog.requests(host.alphaHookLog).map(\.path), ["/slow/1500"])
        let late = host.logs.entries.first { $0.message.description.contains("answered after its deadline") }
        XCTAssertNil(late, "the late answer came before the plugin could have answered")
        Thread.sleep(forTimeInterval: 1.5)
        let dropped = try XCTUnwrap(host.logs.entries.first { $0.message.description.contains("answered after its deadline") },
                                    "\(host.logLines)")
        XCTAssertEqual(dropped.level, .warning)
        XCTAssertEqual(dropped.metadata["request_id"], "slow-1")
        XCTAssertEqual(dropped.metadata["instance"], "hook")
    }

    func testABodyStillArrivingAtTheDeadlineIs408AndNeverReachesThePlugin() throws {
        host = try IngressHost(deadline: .milliseconds(300))
        let started = Date()
        // 5 of the 10 bytes announced, then nothing.
        let response = try RawHTTP.exchange(port: host.server.port, Array(
            "POST /hooks/alpha/hook HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n12345".utf8))
        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(response.error, "the body did not arrive within 300 ms")
        XCTAssertLessThan(Date().timeIntervalSince(started), 5)
        XCTAssertEqual(WebhookLog.requests(host.alphaHookLog), [], "the plugin was called")
    }

    func testStoppingLetsTheRequestInProgressFinishAndRefusesNewOnes() throws {
        host = try IngressHost()
        let port = host.server.port
        let answered = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var status: Int?
        Thread.detachNewThread {
            status = try? RawHTTP.send(port: port, method: "POST", target: "/hooks/alpha/hook/slow/600", body: []).status
            answered.signal()
        }
        XCTAssertTrue(eventually { WebhookLog.requests(self.host.alphaHookLog).count == 1 }, "the request did not arrive")
        host.server.stop()
        XCTAssertEqual(answered.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(status, 200, "the request in progress was cut off")
        XCTAssertThrowsError(try host.send("GET", "/healthz"), "the stopped server still accepts connections")
    }

    func testUnknownTenantUnknownInstanceAndAnInstanceWithoutWebhookAre404() throws {
        host = try IngressHost()
        let cases = [
            ("/hooks/nobody/hook", "no tenant 'nobody'"),
            ("/hooks/alpha/nothing/x", "tenant 'alpha' has no instance 'nothing'"),
            ("/hooks/alpha/head", "tenant 'alpha', instance 'head' does not take webhooks (plugin com.alphaplus.test.flat-head does not offer ap.webhook.v1)"),
            ("/hooks/alpha", "a webhook path is /hooks/<tenant>/<instance>/…"),
            ("/hooks", "a webhook path is /hooks/<tenant>/<instance>/…"),
            ("/hooks//hook", "a webhook path is /hooks/<tenant>/<instance>/…"),
            ("/hooks/gamma/hook", "tenant 'gamma' has no instance 'hook'"),
        ]
        for (target, message) in cases {
            let response = try host.send("POST", target, body: Array("{}".utf8))
            XCTAssertEqual(response.status, 404, target)
            XCTAssertEqual(response.header("Content-Type"), "application/json", target)
            XCTAssertEqual(try response.json(), .object(["error": .string(message)]), target)
        }
        // Another tenant's instance names never show: beta's 404 is the same whatever alpha has.
        XCTAssertEqual(try host.send("POST", "/hooks/beta/head").error, "tenant 'beta' has no instance 'head'")
        XCTAssertEqual(WebhookLog.requests(host.alphaHookLog) + WebhookLog.requests(host.betaHookLog), [])
    }

    func testAnInstanceThatFailedToStartOrRunsDryIs503() throws {
        host = try IngressHost()
        let broken = try host.send("POST", "/hooks/alpha/broken")
        XCTAssertEqual(broken.status, 503)
        XCTAssertEqual(broken.error, "tenant 'alpha', instance 'broken' is not running (it failed to start)")
        let dry = try host.send("POST", "/hooks/alpha/dry")
        XCTAssertEqual(dry.status, 503)
        XCTAssertEqual(dry.error, "tenant 'alpha', instance 'dry' is not running (it runs dry: its secrets are not set)")
        XCTAssertFalse(broken.text.contains("no such chat"), "the reason is the operator's")
    }

    func testThePluginsErrorIsA500WithAGenericBodyAndItsMessageIsLogged() throws {
        host = try IngressHost()
        let response = try host.send("POST", "/hooks/alpha/hook/fail", headers: [("X-Request-Id", "fail-7")])
        XCTAssertEqual(response.status, 500)
        XCTAssertEqual(response.error, "the webhook handler failed (request fail-7)")
        XCTAssertFalse(response.text.contains("signature"), "the plugin's message reached the client")
        XCTAssertTrue(host.logs.entries.contains {
            $0.level == .error && $0.metadata["request_id"] == "fail-7"
                && $0.message.description.contains("handle failed (status 1): signature mismatch for request fail-7")
        }, "\(host.logLines)")
    }

    func testTheAnswersStatusIsCheckedAndHopByHopHeadersAreDropped() throws {
        host = try IngressHost()
        for status in [0, 99, 100, 101, 199, 600, -1] {
            let response = try host.send("GET", "/hooks/alpha/hook/status/\(status)")
            XCTAssertEqual(response.status, 500, "plugin status \(status)")
            XCTAssertEqual(response.error, "the webhook handler gave an invalid answer")
        }
        for status in [200, 299, 418, 599] {
            XCTAssertEqual(try host.send("GET", "/hooks/alpha/hook/status/\(status)").status, status)
        }
        let noContent = try host.send("GET", "/hooks/alpha/hook/status/204")
        XCTAssertEqual(noContent.status, 204)
        XCTAssertEqual(noContent.body, [])

        let response = try host.send("GET", "/hooks/alpha/hook/headers", headers: [("X-Request-Id", "hdr-1")])
        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(response.text, "kept")
        let names = response.headers.map { $0.name.lowercased() }
        for dropped in ["keep-alive", "transfer-encoding", "upgrade", "x-hop", "bad name"] {
            XCTAssertFalse(names.contains(dropped), "\(dropped) was passed on: \(response.headers)")
        }
        XCTAssertEqual(response.headers.filter { $0.name.lowercased() == "x-kept" }.map(\.value), ["one", "two"])
        XCTAssertEqual(response.header("Content-Length"), "4")
        XCTAssertEqual(response.headers.filter { $0.name.lowercased() == "x-request-id" }.map(\.value), ["hdr-1"])
        XCTAssertEqual(response.header("Content-Type"), "text/plain")
    }

    func testTheRequestIDIsTakenOrMadeEchoedPassedOnAndInEveryLogLine() throws {
        host = try IngressHost()
        let given = try host.send("POST", "/hooks/alpha/hook/x", headers: [("X-Request-Id", "req.A-1_b")], body: [1, 2])
        XCTAssertEqual(given.header("X-Request-Id"), "req.A-1_b")
        XCTAssertEqual(given.header("X-Echo-Request-Id"), "req.A-1_b")
        XCTAssertEqual(WebhookLog.requests(host.alphaHookLog).last?.requestID, "req.A-1_b")
        // The host's line and the plugin's own line for the request carry it.
        let lines = host.logs.entries.filter { $0.metadata["request_id"] == "req.A-1_b" }.map(\.message.description)
        XCTAssertTrue(lines.contains { $0.hasPrefix("webhook POST alpha/hook from 127.0.0.1 → 200 in ") }, "\(lines)")
        XCTAssertTrue(lines.contains("echo webhook handling POST /x"), "\(lines)")
        XCTAssertEqual(host.logs.entries.filter { $0.message.description.contains("echo webhook handling") }.count, 1)

        // Unusable ids are replaced by one made here.
        for unusable in [String(repeating: "a", count: 65), "has space", "semi;colon", "ü"] {
            let response = try host.send("GET", "/hooks/alpha/hook", headers: [("X-Request-Id", unusable)])
            let made = try XCTUnwrap(response.header("X-Request-Id"))
            XCTAssertNotEqual(made, unusable)
            XCTAssertNotNil(made.wholeMatch(of: #/[0-9a-f]{32}/#), made)
            XCTAssertEqual(WebhookLog.requests(host.alphaHookLog).last?.requestID, made)
        }
        XCTAssertEqual(try host.send("GET", "/hooks/alpha/hook", headers: [("X-Request-Id", String(repeating: "z", count: 64))])
            .header("X-Request-Id"), String(repeating: "z", count: 64))
        // Refusals and the admin API have one too.
        XCTAssertEqual(try host.send("GET", "/hooks/nobody/x", headers: [("X-Request-Id", "r404")]).header("X-Request-Id"), "r404")
        XCTAssertEqual(try host.send("GET", "/admin/v1/tenants", headers: [("X-Request-Id", "adm-1")]).header("X-Request-Id"), "adm-1")
        XCTAssertTrue(host.logs.entries.contains { $0.metadata["request_id"] == "adm-1" && $0.message.description.contains("refused") })
    }

    func testEachRequestIsCountedAndTimedWithConfiguredLabelsOnly() throws {
        host = try IngressHost()
        for _ in 0..<3 { _ = try host.send("POST", "/hooks/alpha/hook/ok") }
        _ = try host.send("POST", "/hooks/alpha/hook/fail")
        _ = try host.send("POST", "/hooks/alpha/head")
        _ = try host.send("POST", "/hooks/made-up-\(UUID().uuidString)/x")
        _ = try host.send("POST", "/hooks/alpha/made-up")
        func count(_ dimensions: [(String, String)]) throws -> Int64 {
            try host.metrics.expectCounter("alphaplus_webhook_requests_total", dimensions).totalValue
        }
        XCTAssertEqual(try count([("tenant", "alpha"), ("instance", "hook"), ("plugin", "com.alphaplus.test.echo-webhook"), ("status", "200")]), 3)
        XCTAssertEqual(try count([("tenant", "alpha"), ("instance", "hook"), ("plugin", "com.alphaplus.test.echo-webhook"), ("status", "500")]), 1)
        XCTAssertEqual(try count([("tenant", "alpha"), ("instance", "head"), ("plugin", "com.alphaplus.test.flat-head"), ("status", "404")]), 1)
        XCTAssertEqual(try count([("tenant", ""), ("instance", ""), ("plugin", ""), ("status", "404")]), 1)
        XCTAssertEqual(try count([("tenant", "alpha"), ("instance", ""), ("plugin", ""), ("status", "404")]), 1)
        let timer = try host.metrics.expectTimer("alphaplus_webhook_duration_seconds",
                                                 [("tenant", "alpha"), ("plugin", "com.alphaplus.test.echo-webhook"), ("instance", "hook")])
        XCTAssertEqual(timer.values.count, 4)
        XCTAssertTrue(timer.values.allSatisfy { $0 > 0 && $0 < 10_000_000_000 }, "\(timer.values)")
        // One counter per label set, made once: 5 label sets however many requests.
        XCTAssertEqual(host.metrics.counters.filter { $0.label == "alphaplus_webhook_requests_total" }.count, 5)
    }
}
