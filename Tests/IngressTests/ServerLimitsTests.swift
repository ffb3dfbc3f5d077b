import Foundation
@testable import Ingress
import XCTest

/// The server's limits in process: idle, header and body timeouts, the
/// connection caps in total and per source, the throttle on failed admin
/// authentication, and refusals' log lines bounded and counted.
final class ServerLimitsTests: XCTestCase {
    private var hosts: [IngressHost] = []
    private var sockets: [Int32] = []

    override func tearDown() {
        sockets.forEach { close($0) }
        sockets = []
        hosts.forEach { $0.close() }
        hosts = []
    }

    private func host(_ limits: ServerLimits) throws -> IngressHost {
        let host = try IngressHost(limits: limits)
        hosts.append(host)
        return host
    }

    /// A connection kept open until the test ends.
    private func hold(_ host: IngressHost, from source: String = "127.0.0.1", timeout: Int = 5) throws -> Int32 {
        let socket = try RawHTTP.connect(port: host.server.port, from: source, timeout: timeout)
        sockets.append(socket)
        return socket
    }

    /// Seconds until the server closes `socket`, and what it sent first.
    private func untilClosed(_ socket: Int32) -> (seconds: Double, received: [UInt8]) {
        let started = Date()
        let received = RawHTTP.readUntilClosed(socket)
        return (Date().timeIntervalSince(started), received)
    }

    private func refusals(_ host: IngressHost, _ reason: RefusalReason) -> Int64 {
        host.metrics.counters.filter { $0.label == RefusalLog.metricLabel && $0.dimensions.contains { $0 == ("reason", reason.rawValue) } }
            .reduce(0) { $0 + $1.totalValue }
    }

    func testAnIdleConnectionIsClosedAfterTheIdleTimeoutAlsoAfterARequest() throws {
        let host = try host(ServerLimits(idleTimeout: .milliseconds(300)))
        let silent = try hold(host)
        let (seconds, received) = untilClosed(silent)
        XCTAssertEqual(received, [], "nothing is sent to a connection that never asked")
        XCTAssertGreaterThan(seconds, 0.2)
        XCTAssertLessThan(seconds, 3)

        // Keep-alive: one request answered, then the connection waits and is closed.
        let kept = try hold(host)
        RawHTTP.write(kept, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        let (afterRequest, answer) = untilClosed(kept)
        XCTAssertEqual(try RawHTTP.parse(answer).status, 200)
        XCTAssertLessThan(afterRequest, 3)
        XCTAssertEqual(try host.send("GET", "/healthz").status, 200)
    }

    func testASlowRequestHeadIsCutWith408EvenWhileBytesTrickleIn() throws {
        let host = try host(ServerLimits(idleTimeout: .seconds(30), headerTimeout: .milliseconds(400)))
        let socket = try hold(host)
        let started = Date()
        RawHTTP.write(socket, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n".utf8))
        // A header line every 100 ms: never a complete head, never idle.
        for index in 0..<15 {
            Thread.sleep(forTimeInterval: 0.1)
            let line = Array("X-Slow-\(index): 1\r\n".utf8)
            guard line.withUnsafeBytes({ Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) > 0 else { break }
        }
        let response = try RawHTTP.parse(RawHTTP.readUntilClosed(socket))
        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(response.error, "the request head did not arrive within 400 ms")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertEqual(refusals(host, .headerTimeout), 1)
        XCTAssertTrue(host.logLines.contains { $0.contains("http: connection from 127.0.0.1 closed: a request head did not arrive within 400 ms (http.header_timeout_ms)") },
                      "\(host.logLines)")
    }

    func testASlowBodyIsCutWith408() throws {
        let host = try host(ServerLimits(bodyTimeout: .milliseconds(400)))
        let socket = try hold(host)
        let started = Date()
        RawHTTP.write(socket, Array("POST /hooks/alpha/hook HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123456789".utf8))
        let response = try RawHTTP.parse(RawHTTP.readUntilClosed(socket))
        XCTAssertEqual(response.status, 408)
        XCTAssertEqual(response.error, "the request body did not arrive within 400 ms")
        XCTAssertLessThan(Date().timeIntervalSince(started), 3)
        XCTAssertEqual(refusals(host, .bodyTimeout), 1)
    }

    func testConnectionsOverTheSourcesCapAreRefusedAtOnceWhileOtherSourcesAreServed() throws {
        let host = try host(ServerLimits(maxConnectionsPerSource: 5))
        let held = try (0..<5).map { _ in try hold(host, from: "127.0.0.2") }
        XCTAssertEqual(try host.send("GET", "/healthz").status, 200, "held connections are served")
        let started = Date()
        let refused = try RawHTTP.exchange(port: host.server.port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n".utf8), from: "127.0.0.2")
        XCTAssertLessThan(Date().timeIntervalSince(started), 1, "refused at once")
        XCTAssertEqual(refused.status, 429)
        XCTAssertEqual(refused.error, "too many connections from your address (at most 5); close some first")
        XCTAssertEqual(refused.header("Connection"), "close")
        // Another source is served; the source itself again once it closes one.
        XCTAssertEqual(try RawHTTP.exchange(port: host.server.port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8),
                                            from: "127.0.0.3").status, 200)
        XCTAssertEqual(refusals(host, .sourceConnectionLimit), 1)
        close(held[0])
        sockets.removeAll { $0 == held[0] }
        XCTAssertTrue(eventually {
            (try? RawHTTP.exchange(port: host.server.port, Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8),
                                   from: "127.0.0.2").status) == 200
        })
        XCTAssertTrue(host.logLines.contains { $0.contains("http: connection from 127.0.0.2 refused: it has 5 connections open, the limit per source") },
                      "\(host.logLines)")
    }

    func testConnectionsOverTheServersCapAreRefusedWith503AndServedOnceClosed() throws {
        let host = try host(ServerLimits(maxConnections: 8))
        for index in 0..<8 { _ = try hold(host, from: "127.0.0.\(10 + index)") }
        let refused = try host.send("GET", "/healthz")
        XCTAssertEqual(refused.status, 503)
        XCTAssertEqual(refused.error, "too many connections: the server is at its limit; try again later")
        XCTAssertEqual(refusals(host, .connectionLimit), 1)
        sockets.forEach { close($0) }
        sockets = []
        XCTAssertTrue(eventually { (try? self.hosts[0].send("GET", "/healthz").status) == 200 })
    }

    func testTheOpenFileLimitLessTheReserveCapsConnections() throws {
        let limits = ServerLimits(maxConnections: 1024, reservedFiles: 256)
        XCTAssertEqual(try limits.connectionCap(fileLimit: nil), 1024)
        XCTAssertEqual(try limits.connectionCap(fileLimit: 20_000), 1024)
        XCTAssertEqual(try limits.connectionCap(fileLimit: 400), 144)
        XCTAssertThrowsError(try limits.connectionCap(fileLimit: 256)) { error in
            XCTAssertEqual("\(error)", "http: the open-file limit (256) leaves no room for connections after http.reserved_files (256): raise the limit (ulimit -n, LimitNOFILE=) or lower reserved_files")
        }
    }

    func testFailedAuthenticationIsThrottledWithADoublingBackoffAndASuccessResetsIt() throws {
        let host = try host(ServerLimits(authFailuresAllowed: 3, authBackoff: .seconds(1), authBackoffMax: .seconds(4)))
        func get(_ token: String, from source: String = "127.0.0.1") throws -> RawHTTP.Response {
            try RawHTTP.send(port: host.server.port, method: "GET", target: "/admin/v1/tenants",
                             headers: [("Authorization", "Bearer \(token)")], body: nil, from: source)
        }
        XCTAssertEqual(try (0..<3).map { _ in try get("guess").status }, [401, 401, 401])
        var throttled = try get(operatorToken)
        XCTAssertEqual(throttled.status, 429, "the right token is not even looked at while throttled")
        XCTAssertEqual(throttled.header("Retry-After"), "1")
        XCTAssertEqual(throttled.error, "too many failed authentications from your address: try again in 1 s")
        XCTAssertEqual(try get(operatorToken, from: "127.0.0.2").status, 200, "another source is not throttled")

        Thread.sleep(forTimeInterval: 1.1)
        XCTAssertEqual(try get("guess").status, 401, "after the wait, one more guess…")
        throttled = try get("guess")
        XCTAssertEqual(throttled.status, 429, "…throttles again, twice as long")
        XCTAssertEqual(throttled.header("Retry-After"), "2")

        Thread.sleep(forTimeInterval: 2.1)
        XCTAssertEqual(try get(operatorToken).status, 200, "the right token after the backoff works")
        XCTAssertEqual(try (0..<3).map { _ in try get("guess").status }, [401, 401, 401], "and the success started the count afresh")
        XCTAssertEqual(refusals(host, .unauthorized), 7)
        XCTAssertEqual(refusals(host, .authThrottled), 2)
    }

    func testTheThrottleDoublesUpToItsCapAndForgetsQuietSources() {
        let throttle = AuthThrottle(allowed: 2, backoff: .seconds(1), maxBackoff: .seconds(5))
        var now = ContinuousClock.now
        var waits: [Duration?] = []
        for _ in 0..<6 {
            let wait = throttle.failed("b", now: now)
            waits.append(wait)
            now += wait ?? .zero
        }
        XCTAssertEqual(waits, [nil, .seconds(1), .seconds(2), .seconds(4), .seconds(5), .seconds(5)], "doubling from the 2nd failure, capped")
        XCTAssertEqual(throttle.throttled("b", now: now - .seconds(2)), .seconds(2))
        XCTAssertNil(throttle.throttled("b", now: now))
        XCTAssertEqual(throttle.failed("b", now: now + .seconds(4)), .seconds(5), "remembered for twice the cap after the last failure")
        XCTAssertNil(throttle.failed("b", now: now + .seconds(14)), "forgotten after twice the cap without a failure")

        throttle.failed("c", now: now)
        XCTAssertEqual(throttle.failed("c", now: now), .seconds(1))
        throttle.succeeded("c")
        XCTAssertNil(throttle.throttled("c", now: now))
        XCTAssertNil(throttle.failed("c", now: now), "a success starts the count afresh")

        for index in 0..<(AuthThrottle.maxSources + 100) { throttle.failed("10.0.\(index / 256).\(index % 256)", now: now) }
        XCTAssertLessThanOrEqual(throttle.count, AuthThrottle.maxSources)
    }

    func testRefusalLogLinesAreRateLimitedToAFewPerIntervalWithASummaryAndAllCounted() throws {
        let host = try host(ServerLimits(authFailuresAllowed: 1000, refusalLogInterval: .seconds(3)))
        for _ in 0..<40 { XCTAssertEqual(try host.send("GET", "/admin/v1/tenants", token: "guess").status, 401) }
        for _ in 0..<30 { XCTAssertEqual(try host.send("POST", "/hooks/nobody/x", body: []).status, 404) }
        let adminLines = host.logLines.filter { $0.contains("admin: GET /admin/v1/tenants from 127.0.0.1 refused (401 wrong token)") }
        let webhookLines = host.logLines.filter { $0.contains("webhook POST from 127.0.0.1 → 404") }
        XCTAssertEqual(adminLines.count, RefusalLog.fullLinesPerInterval)
        XCTAssertEqual(webhookLines.count, RefusalLog.fullLinesPerInterval)
        XCTAssertEqual(refusals(host, .unauthorized), 40)
        XCTAssertEqual(refusals(host, .webhookRefused), 30)
        XCTAssertTrue(eventually(timeout: 5) { host.logLines.contains { $0.contains("more refusals not logged") } }, "\(host.logLines)")
        XCTAssertTrue(host.logLines.contains("notice: http: 60 more refusals not logged in the last 3 s (unauthorized: 35, webhook_refused: 25); alphaplus_http_refusals_total counts them all"),
                      "\(host.logLines.filter { $0.contains("refusals") })")
        // A new interval logs in full again.
        XCTAssertEqual(try host.send("GET", "/admin/v1/tenants", token: "guess").status, 401)
        XCTAssertEqual(host.logLines.filter { $0.contains("admin: GET /admin/v1/tenants from 127.0.0.1 refused") }.count,
                       RefusalLog.fullLinesPerInterval + 1)
    }
}
