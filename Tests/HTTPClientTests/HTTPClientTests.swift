import AlphaPlusSDK
import FakeChannelServers
import Foundation
import HTTPClient
import XCTest

/// The client against a real HTTP server on loopback.
final class HTTPClientTests: XCTestCase {
    private var client: HTTPClient!
    private var servers: [LoopbackServer] = []

    override func setUp() {
        client = HTTPClient()
    }

    override func tearDown() {
        client.shutdown()
        servers.forEach { $0.stop() }
    }

    private func serve(responseDelay: Double = 0, _ answer: @escaping @Sendable (HTTPRequest) -> HTTPResponse) throws
        -> (LoopbackServer, ScriptedPlatform) {
        let platform = ScriptedPlatform(answer)
        let server = try LoopbackServer(platform, responseDelay: responseDelay)
        servers.append(server)
        return (server, platform)
    }

    /// Sends and waits for the one completion.
    private func perform(_ request: HTTPRequest, on client: HTTPClient? = nil) throws -> Result<HTTPResponse, HTTPClientError> {
        let completions = Completions()
        try (client ?? self.client).send(request, completion: completions.completion)
        XCTAssertTrue(completions.wait(for: 1), "no completion within the wait")
        return try XCTUnwrap(completions.all.first)
    }

    func testRoundTripCarriesHeadersAndBodyBothWays() throws {
        let (server, platform) = try serve { request in
            HTTPResponse(status: 201, headers: [HTTPHeader("X-Reply", "a"), HTTPHeader("Set-Cookie", "one"), HTTPHeader("Set-Cookie", "two")],
                         body: request.body.reversed())
        }
        let body = (0...255).map(UInt8.init) + Array("{\"ok\":true}".utf8)
        let request = HTTPRequest(method: "POST", url: server.baseURL + "/api/v10/webhooks/1/token?wait=true",
                                  headers: [HTTPHeader("Content-Type", "application/json"), HTTPHeader("X-Multi", "first"),
                                            HTTPHeader("X-Multi", "second"), HTTPHeader("X-Empty", "")],
                                  body: body)
        let response = try perform(request).get()
        XCTAssertEqual(response.status, 201)
        XCTAssertEqual(response.headers, [HTTPHeader("X-Reply", "a"), HTTPHeader("Set-Cookie", "one"), HTTPHeader("Set-Cookie", "two"),
                                          HTTPHeader("Content-Length", "\(body.count)")])
        XCTAssertEqual(response.body, body.reversed())

        let seen = try XCTUnwrap(platform.requests.first)
        XCTAssertEqual(seen.method, "POST")
        XCTAssertEqual(URLComponents(string: seen.url)?.path, "/api/v10/webhooks/1/token")
        XCTAssertEqual(URLComponents(string: seen.url)?.query, "wait=true")
        XCTAssertEqual(seen.body, body)
        XCTAssertEqual(seen.headers.filter { $0.name == "X-Multi" }.map(\.value), ["first", "second"])
        XCTAssertEqual(seen.header("X-Empty"), "")
        XCTAssertEqual(seen.header("Content-Type"), "application/json")
        XCTAssertEqual(seen.header("User-Agent"), "alphaplus")
        XCTAssertNil(seen.header("Expect"), "libcurl's Expect: 100-continue is suppressed")
    }

    func testAPostWithoutContentTypeGetsNoneInvented() throws {
        let (server, platform) = try serve { _ in HTTPResponse(status: 204) }
        let response = try perform(HTTPRequest(method: "POST", url: server.baseURL + "/x", body: Array("a=1".utf8))).get()
        XCTAssertEqual(response.status, 204)
        XCTAssertNil(platform.requests.first?.header("Content-Type"))
        XCTAssertEqual(platform.requests.first?.body, Array("a=1".utf8))
    }

    func testMethodsOtherThanGetAndPostAreSentAsGiven() throws {
        let (server, platform) = try serve { request in HTTPResponse(status: 200, body: Array(request.method.utf8)) }
        for method in ["GET", "DELETE", "PUT", "PATCH", "HEAD"] {
            let body: [UInt8] = method == "PUT" || method == "PATCH" ? Array("{}".utf8) : []
            let response = try perform(HTTPRequest(method: method, url: server.baseURL + "/m", body: body)).get()
            XCTAssertEqual(response.status, 200, method)
            XCTAssertEqual(response.bodyText, method == "HEAD" ? "" : method)
        }
        XCTAssertEqual(platform.requests.map(\.method), ["GET", "DELETE", "PUT", "PATCH", "HEAD"])
        XCTAssertEqual(platform.requests.map(\.body.count), [0, 0, 2, 2, 0])
    }

    func testErrorStatusesAndRedirectsAreResponsesNotErrors() throws {
        let (server, platform) = try serve { request in
            switch URLComponents(string: request.url)?.path {
            case "/limited": HTTPResponse(status: 429, headers: [HTTPHeader("Retry-After", "2")], body: Array(#"{"retry_after": 1.5}"#.utf8))
            case "/broken": HTTPResponse(status: 500, body: Array("oops".utf8))
            default: HTTPResponse(status: 302, headers: [HTTPHeader("Location", "/elsewhere")])
            }
        }
        let limited = try perform(HTTPRequest(method: "POST", url: server.baseURL + "/limited")).get()
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.header("retry-after"), "2")
        XCTAssertEqual(limited.bodyText, #"{"retry_after": 1.5}"#)
        let broken = try perform(HTTPRequest(method: "GET", url: server.baseURL + "/broken")).get()
        XCTAssertEqual(broken.status, 500)
        XCTAssertEqual(broken.bodyText, "oops")
        let redirect = try perform(HTTPRequest(method: "GET", url: server.baseURL + "/moved")).get()
        XCTAssertEqual(redirect.status, 302, "a redirect is an answer, not followed")
        XCTAssertEqual(redirect.header("Location"), "/elsewhere")
        XCTAssertEqual(platform.requests.count, 3)
    }

    func testASlowServerTimesOut() throws {
        let (server, _) = try serve(responseDelay: 5) { _ in HTTPResponse(status: 200) }
        let started = Date()
        let result = try perform(HTTPRequest(method: "GET", url: server.baseURL + "/slow", timeoutMs: 300))
        let elapsed = Date().timeIntervalSince(started)
        guard case .failure(let error) = result else { return XCTFail("expected a timeout, got \(result)") }
        XCTAssertEqual(error.kind, .timeout)
        XCTAssertTrue(error.message.hasPrefix("no complete answer within 300 ms"), error.message)
        XCTAssertGreaterThanOrEqual(elapsed, 0.29)
        XCTAssertLessThan(elapsed, 2, "the timeout fired late")
    }

    func testTheDefaultTimeoutAppliesWhenTheRequestGivesNone() throws {
        var configuration = HTTPClient.Configuration()
        configuration.defaultTimeoutMs = 250
        let quick = HTTPClient(configuration: configuration)
        defer { quick.shutdown() }
        let (server, _) = try serve(responseDelay: 5) { _ in HTTPResponse(status: 200) }
        let result = try perform(HTTPRequest(method: "GET", url: server.baseURL + "/slow"), on: quick)
        guard case .failure(let error) = result else { return XCTFail("expected a timeout, got \(result)") }
        XCTAssertEqual(error.kind, .timeout)
        XCTAssertTrue(error.message.contains("250 ms"), error.message)
    }

    func testARefusedConnectionIsUnavailableWithCurlsReason() throws {
        let (server, _) = try serve { _ in HTTPResponse(status: 200) }
        let closedPort = server.port
        server.stop()
        let result = try perform(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(closedPort)/"))
        guard case .failure(let error) = result else { return XCTFail("expected a refusal, got \(result)") }
        XCTAssertEqual(error.kind, .unavailable)
        XCTAssertTrue(error.message.contains("127.0.0.1 port \(closedPort)"), error.message)
    }

    func testAnUnresolvableHostIsUnavailable() throws {
        // .invalid never resolves (RFC 6761).
        let result = try perform(HTTPRequest(method: "GET", url: "https://no-such-host.invalid/", timeoutMs: 5_000))
        guard case .failure(let error) = result else { return XCTFail("expected a failure, got \(result)") }
        XCTAssertEqual(error.kind, .unavailable)
        XCTAssertTrue(error.message.contains("no-such-host.invalid"), error.message)
    }

    func testSequentialRequestsReuseOneConnection() throws {
        let (server, _) = try serve { request in HTTPResponse(status: 200, body: request.body) }
        for i in 0..<25 {
            let response = try perform(HTTPRequest(method: "POST", url: server.baseURL + "/seq", body: Array("\(i)".utf8))).get()
            XCTAssertEqual(response.bodyText, "\(i)")
        }
        XCTAssertEqual(server.requestCount, 25)
        XCTAssertEqual(server.connectionCount, 1)
    }

    func testCancelCompletesOnceWithTheCancellation() throws {
        let (server, _) = try serve(responseDelay: 5) { _ in HTTPResponse(status: 200) }
        let completions = Completions()
        let id = try client.send(HTTPRequest(method: "GET", url: server.baseURL + "/slow"), completion: completions.completion)
        let deadline = Date(timeIntervalSinceNow: 5)
        while server.requestCount == 0, Date() < deadline { usleep(5_000) }
        XCTAssertEqual(server.requestCount, 1, "the request never reached the server")
        let cancelledAt = Date()
        client.cancel(id)
        client.cancel(id)
        XCTAssertTrue(completions.wait(for: 1))
        XCTAssertLessThan(Date().timeIntervalSince(cancelledAt), 1)
        usleep(200_000)
        XCTAssertEqual(completions.all.count, 1)
        guard case .failure(let error) = completions.all.first else { return XCTFail("cancelled request answered") }
        XCTAssertEqual(error.kind, .cancelled)
    }

    func testCancellingAFinishedRequestChangesNothing() throws {
        let (server, _) = try serve { _ in HTTPResponse(status: 200) }
        let completions = Completions()
        let id = try client.send(HTTPRequest(method: "GET", url: server.baseURL + "/"), completion: completions.completion)
        XCTAssertTrue(completions.wait(for: 1))
        client.cancel(id)
        usleep(100_000)
        XCTAssertEqual(completions.all.count, 1)
        XCTAssertEqual(try completions.all.first?.get().status, 200)
    }

    func testTwoHundredConcurrentRequestsAreAllAnswered() throws {
        let (server, _) = try serve { request in HTTPResponse(status: 200, body: request.body) }
        let completions = Completions()
        final class Sent: @unchecked Sendable {
            let lock = NSLock()
            var bodies: [UInt64: String] = [:]
        }
        let sent = Sent()
        let client = self.client!
        // Sent from several threads at once: send is thread-safe.
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            let id = try? client.send(HTTPRequest(method: "POST", url: server.baseURL + "/n", body: Array("request \(i)".utf8))) {
                completions.completion($0)
            }
            sent.lock.withLock { sent.bodies[id?.rawValue ?? 0] = "request \(i)" }
        }
        let expected = sent.lock.withLock { sent.bodies }
        XCTAssertEqual(expected.count, 200, "every send returned a distinct id")
        XCTAssertTrue(completions.wait(for: 200, timeout: 30))
        let bodies = completions.all.compactMap { try? $0.get() }.filter { $0.status == 200 }.map(\.bodyText)
        XCTAssertEqual(bodies.sorted(), expected.values.sorted())
        XCTAssertEqual(server.requestCount, 200)
        XCTAssertLessThanOrEqual(server.connectionCount, client.configuration.maxConnectionsPerHost)
    }

    func testAResponseBodyOverTheCapIsATransportError() throws {
        var configuration = HTTPClient.Configuration()
        configuration.maxResponseBytes = 1 << 20
        let capped = HTTPClient(configuration: configuration)
        defer { capped.shutdown() }
        let (server, _) = try serve { request in
            HTTPResponse(status: 200, body: [UInt8](repeating: 7, count: Int(URLComponents(string: request.url)!.queryItems![0].value!)!))
        }
        let atCap = try perform(HTTPRequest(method: "GET", url: server.baseURL + "/?size=\(1 << 20)"), on: capped).get()
        XCTAssertEqual(atCap.body.count, 1 << 20)
        let result = try perform(HTTPRequest(method: "GET", url: server.baseURL + "/?size=\((1 << 20) + 1)"), on: capped)
        guard case .failure(let error) = result else { return XCTFail("expected the cap to fail the request") }
        XCTAssertEqual(error.kind, .responseTooLarge)
        XCTAssertEqual(error.message, "the response body exceeds the client's limit of 1048576 bytes")
    }

    func testMalformedRequestsAreRefusedAtOnce() {
        let cases: [(HTTPRequest, String)] = [
            (HTTPRequest(method: "GE T", url: "https://example.com/"), "the method 'GE T' is not an HTTP token"),
            (HTTPRequest(method: "GET", url: "https://example.com/", headers: [HTTPHeader("X-Bad", "a\r\nInjected: yes")]),
             "the value of header 'X-Bad' contains CR, LF or NUL"),
            (HTTPRequest(method: "GET", url: "https://example.com/", headers: [HTTPHeader("Bad Name", "a")]),
             "the header name 'Bad Name' is not an HTTP token"),
            (HTTPRequest(method: "GET", url: "ftp://example.com/file"), "the URL's scheme 'ftp' is not http or https"),
            (HTTPRequest(method: "GET", url: "https://user:secret@example.com/"), "the URL carries credentials (user:password@); send them in a header"),
        ]
        for (request, message) in cases {
            XCTAssertThrowsError(try client.send(request) { _ in XCTFail("a refused request completed") }) { error in
                XCTAssertEqual((error as? HTTPClientError)?.kind, .invalidRequest)
                XCTAssertEqual((error as? HTTPClientError)?.message, message)
            }
        }
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: "/relative/path")) { _ in }) { error in
            XCTAssertTrue("\(error)".hasPrefix("the URL is not an absolute http(s) URL"), "\(error)")
        }
    }

    func testShutdownCancelsWhatIsInFlightAndRefusesMore() throws {
        let (server, _) = try serve(responseDelay: 5) { _ in HTTPResponse(status: 200) }
        let completions = Completions()
        for _ in 0..<3 { try client.send(HTTPRequest(method: "GET", url: server.baseURL + "/"), completion: completions.completion) }
        client.shutdown()
        XCTAssertTrue(completions.wait(for: 3, timeout: 1), "shutdown returns after every completion ran")
        XCTAssertEqual(completions.all.map { (try? $0.get()) == nil }, [true, true, true])
        for case .failure(let error) in completions.all { XCTAssertEqual(error.kind, .cancelled) }
        XCTAssertThrowsError(try client.send(HTTPRequest(method: "GET", url: server.baseURL + "/")) { _ in }) { error in
            XCTAssertEqual("\(error)", "the HTTP client is shut down")
        }
    }

    func testTLSCertificatesAreVerified() throws {
        let tls = try SelfSignedTLSServer()
        defer { tls.stop() }
        let result = try perform(HTTPRequest(method: "GET", url: "https://127.0.0.1:\(tls.port)/", timeoutMs: 5_000))
        guard case .failure(let error) = result else { return XCTFail("a self-signed certificate was accepted: \(result)") }
        XCTAssertEqual(error.kind, .unavailable)
        XCTAssertTrue(error.message.contains("certificate"), error.message)
    }

    func testLibcurlVersionIsReported() {
        XCTAssertTrue(HTTPClient.libcurlVersion.hasPrefix("libcurl/"), HTTPClient.libcurlVersion)
    }
}

/// Collects completions from the client's thread.
final class Completions: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<HTTPResponse, HTTPClientError>] = []
    private let arrived = DispatchSemaphore(value: 0)

    var completion: HTTPClient.Completion {
        { [self] result in
            lock.withLock { results.append(result) }
            arrived.signal()
        }
    }

    var all: [Result<HTTPResponse, HTTPClientError>] { lock.withLock { results } }

    /// Waits until `count` completions arrived in all; false on timeout.
    func wait(for count: Int, timeout: Double = 10) -> Bool {
        let deadline = DispatchTime.now() + timeout
        while all.count < count {
            guard arrived.wait(timeout: deadline) == .success else { return false }
        }
        return true
    }
}
