import AlphaPlusSDK
import CAlphaPlus
import FakeChannelServers
import Foundation
import HTTPClient
import Logging
@testable import PluginRuntime
import XCTest

/// The host's HTTP service driven through the C table, as a plugin calls
/// it, against a real server on loopback.
final class HTTPServiceTests: XCTestCase {
    private static let executorKey = DispatchSpecificKey<String>()
    nonisolated(unsafe) private static var fixtures = 0
    private let log = CapturedLog()
    private var servers: [LoopbackServer] = []
    private var instances: [HostedInstance] = []

    override func tearDown() {
        instances.forEach { $0.destroy() }
        servers.forEach { $0.stop() }
    }

    private func serve(responseDelay: Double = 0, _ answer: @escaping @Sendable (HTTPRequest) -> HTTPResponse = { request in
        HTTPResponse(status: 200, headers: [HTTPHeader("X-Path", URLComponents(string: request.url)?.path ?? "")], body: request.body)
    }) throws -> (LoopbackServer, ScriptedPlatform) {
        let platform = ScriptedPlatform(answer)
        let server = try LoopbackServer(platform, responseDelay: responseDelay)
        servers.append(server)
        return (server, platform)
    }

    private func services(overrides: [String: String] = [:]) throws -> HostServices {
        var map: [HTTPOrigin: HTTPOrigin] = [:]
        for (platform, local) in overrides { map[try HTTPOrigin(parsing: platform)] = try HTTPOrigin(parsing: local) }
        return HostServices(logger: Logger(label: "test") { [log] _ in log }, endpointOverrides: map)
    }

    /// An instance of the fixture plugin declaring `hosts`, its executor tagged.
    private func instance(_ services: HostServices, hosts: [String], tenant: String = "acme", id: String = "alerts") throws -> HostedInstance {
        // A new file each time: rewriting a library that is loaded could crash the test.
        Self.fixtures += 1
        let name = "http-fixture-\(Self.fixtures)"
        let path = try PluginFixtures.build(name, defines: ["FIX_ID=\"com.test.\(name)\"",
                                                           "FIX_HOSTS=" + hosts.map { "STR(\"\($0)\")" }.joined(separator: ",")])
        let plugin = try PluginRegistry(services: services).load(path)
        XCTAssertEqual(plugin.networkHosts, hosts)
        let created = try HostedInstance(plugin: plugin, tenantID: tenant, instanceID: id, config: .object([:]), services: services)
        created.context.executor.setSpecific(key: Self.executorKey, value: "\(tenant)/\(id)")
        instances.append(created)
        return created
    }

    /// Calls http_request as a plugin does; the answer lands in `answers`.
    private func send(_ request: HTTPRequest, _ services: HostServices, _ context: HostContext, _ answers: Answers) -> (ap_status, UInt64) {
        var id: UInt64 = 0
        let status = request.withCRequest { raw in
            services.api.pointee.http_request!(context.opaque, raw, { user, id, response in
                Unmanaged<Answers>.fromOpaque(user!).takeUnretainedValue()
                    .record(id, HTTPResponse.from(response!), executor: DispatchQueue.getSpecific(key: HTTPServiceTests.executorKey))
            }, Unmanaged.passUnretained(answers).toOpaque(), &id)
        }
        return (status, id)
    }

    private func count(_ services: HostServices, outcome: String) -> Double {
        services.metrics.filter { $0.key.name == "http_requests" && $0.key.labels == ["outcome": outcome] }.values.reduce(0, +)
    }

    func testAnAnswerArrivesOnceOnTheInstanceExecutor() throws {
        let (server, platform) = try serve()
        let services = try services()
        let live = try instance(services, hosts: ["127.0.0.1"])
        let answers = Answers()
        let (status, id) = send(HTTPRequest(method: "POST", url: server.baseURL + "/hook", headers: [HTTPHeader("X-Sig", "s1")],
                                            body: Array("payload".utf8)), services, live.context, answers)
        XCTAssertEqual(status, ap_status(AP_OK))
        XCTAssertTrue(answers.wait(for: 1))
        usleep(100_000)
        XCTAssertEqual(answers.all.count, 1, "exactly one callback")
        let answer = try XCTUnwrap(answers.all.first)
        XCTAssertEqual(answer.id, id)
        XCTAssertEqual(answer.executor, "acme/alerts", "the callback ran on the instance's executor")
        let response = try answer.result.get()
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.header("X-Path"), "/hook")
        XCTAssertEqual(response.bodyText, "payload")
        XCTAssertEqual(platform.requests.first?.header("X-Sig"), "s1")
        XCTAssertEqual(count(services, outcome: "ok"), 1)
    }

    func testWhatThePluginLendsIsCopiedBeforeTheCallReturns() throws {
        let (server, platform) = try serve()
        let services = try services()
        let live = try instance(services, hosts: ["127.0.0.1"])
        let answers = Answers()
        let texts = ["POST", server.baseURL + "/copied?x=1", "X-Token", "abc", "hello"]
        let buffers = texts.map { strdup($0)! }
        let strings = zip(buffers, texts).map { ap_str(ptr: UnsafePointer($0.0), len: $0.1.utf8.count) }
        var header = ap_http_header(name: strings[2], value: strings[3])
        var id: UInt64 = 0
        let status = withUnsafePointer(to: &header) { header in
            var raw = ap_http_request(struct_size: UInt32(MemoryLayout<ap_http_request>.size), method: strings[0], url: strings[1],
                                      headers: header, header_count: 1, body: UnsafeRawPointer(buffers[4]).assumingMemoryBound(to: UInt8.self),
                                      body_len: 5, timeout_ms: 0)
            return services.api.pointee.http_request!(live.context.opaque, &raw, { user, id, response in
                Unmanaged<Answers>.fromOpaque(user!).takeUnretainedValue().record(id, HTTPResponse.from(response!), executor: nil)
            }, Unmanaged.passUnretained(answers).toOpaque(), &id)
        }
        // [call] lifetime: the plugin may reuse its buffers at once.
        for (buffer, text) in zip(buffers, texts) { memset(buffer, 0x5A, text.utf8.count); free(buffer) }
        XCTAssertEqual(status, ap_status(AP_OK))
        XCTAssertTrue(answers.wait(for: 1))
        let seen = try XCTUnwrap(platform.requests.first)
        XCTAssertEqual(seen.method, "POST")
        XCTAssertEqual(URLComponents(string: seen.url)?.path, "/copied")
        XCTAssertEqual(URLComponents(string: seen.url)?.query, "x=1")
        XCTAssertEqual(seen.header("X-Token"), "abc")
        XCTAssertEqual(seen.body, Array("hello".utf8))
    }

    func testAnUndeclaredHostIsRefusedWithOneWarningLine() throws {
        let services = try services()
        let live = try instance(services, hosts: ["discord.com", "*.telegram.org"], tenant: "acme", id: "signals")
        let answers = Answers()
        for url in ["https://evil.example/bot123:secret-token/sendMessage", "https://telegram.org/bot1/x", "https://discord.com.evil.example/"] {
            let (status, _) = send(HTTPRequest(method: "POST", url: url), services, live.context, answers)
            XCTAssertEqual(status, ap_status(AP_ERR_PERMISSION_DENIED), url)
        }
        let warnings = log.lines.filter { $0.level == .warning }
        XCTAssertEqual(warnings.count, 3, "one line per refusal")
        let first = try XCTUnwrap(warnings.first?.message)
        XCTAssertEqual(first, "HTTP POST refused for plugin \(live.plugin.id), tenant acme, instance signals: "
                       + "host 'evil.example' is not in the plugin's network permissions (declared: discord.com, *.telegram.org)")
        XCTAssertFalse(log.lines.contains { $0.message.contains("secret-token") }, "a URL's path may hold a secret: never logged")
        XCTAssertTrue(warnings[1].message.contains("host 'telegram.org'"), "*.telegram.org does not cover the bare domain")
        XCTAssertTrue(warnings[2].message.contains("host 'discord.com.evil.example'"))
        usleep(100_000)
        XCTAssertTrue(answers.all.isEmpty, "a refused request never calls back")
        XCTAssertEqual(count(services, outcome: "refused"), 3)
    }

    func testPlainHTTPIsOnlyForLoopback() throws {
        let services = try services()
        let live = try instance(services, hosts: ["example.com"])
        let (status, _) = send(HTTPRequest(method: "GET", url: "http://example.com/"), services, live.context, Answers())
        XCTAssertEqual(status, ap_status(AP_ERR_PERMISSION_DENIED))
        XCTAssertEqual(log.lines.last?.message, "HTTP GET refused for plugin \(live.plugin.id), tenant acme, instance alerts: "
                       + "plain http to 'example.com' is not allowed: use https (http only to 127.0.0.1, ::1 or localhost)")
    }

    func testMalformedRequestsAreInvalidArguments() throws {
        let services = try services()
        let live = try instance(services, hosts: ["example.com"])
        for request in [HTTPRequest(method: "GET", url: "example.com/no-scheme"),
                        HTTPRequest(method: "GET", url: "https://example.com/", headers: [HTTPHeader("X", "a\r\nB: c")])] {
            XCTAssertEqual(send(request, services, live.context, Answers()).0, ap_status(AP_ERR_INVALID_ARGUMENT))
        }
        let pluginLevel = services.pluginContext(pluginID: "com.test.plugin-level", version: "1.0.0")
        XCTAssertEqual(send(HTTPRequest(method: "GET", url: "https://example.com/"), services, pluginLevel, Answers()).0,
                       ap_status(AP_ERR_INVALID_ARGUMENT), "only an instance has an executor to answer on")
        XCTAssertEqual(count(services, outcome: "invalid"), 1)
        XCTAssertEqual(count(services, outcome: "invalid_request"), 1)
    }

    func testEndpointOverridesSendDeclaredHostsToTheLoopbackServer() throws {
        let (server, platform) = try serve()
        let services = try services(overrides: ["https://discord.com": server.baseURL, "https://api.telegram.org": server.baseURL])
        let live = try instance(services, hosts: ["discord.com", "*.telegram.org"])
        let answers = Answers()
        XCTAssertEqual(send(HTTPRequest(method: "POST", url: "https://discord.com/api/v10/webhooks/1/tok?wait=true", body: Array("d".utf8)),
                            services, live.context, answers).0, ap_status(AP_OK))
        XCTAssertTrue(answers.wait(for: 1))
        XCTAssertEqual(send(HTTPRequest(method: "POST", url: "https://API.Telegram.org/bot1:tok/sendMessage", body: Array("t".utf8)),
                            services, live.context, answers).0, ap_status(AP_OK))
        XCTAssertTrue(answers.wait(for: 2))
        XCTAssertEqual(answers.all.compactMap { try? $0.result.get().status }, [200, 200])
        let targets = platform.requests.map { request -> String in
            let url = URLComponents(string: request.url)!
            return url.path + (url.query.map { "?\($0)" } ?? "")
        }
        XCTAssertEqual(targets, ["/api/v10/webhooks/1/tok?wait=true", "/bot1:tok/sendMessage"], "path and query kept")
        let debug = log.lines.filter { $0.level == .debug }.map(\.message)
        XCTAssertTrue(debug.contains("HTTP POST https://discord.com sent to \(server.baseURL) (network.endpoint_overrides)"), "\(debug)")
        XCTAssertFalse(debug.contains { $0.contains("tok") }, "no path in the log")
        XCTAssertEqual(server.connectionCount, 1, "one after the other, both reuse the one local connection")

        // The allowlist is checked first: an override never opens an undeclared host.
        let other = try instance(services, hosts: ["example.com"], id: "other")
        XCTAssertEqual(send(HTTPRequest(method: "POST", url: "https://discord.com/api/v10/webhooks/1/tok"), services, other.context, answers).0,
                       ap_status(AP_ERR_PERMISSION_DENIED))
    }

    func testTimeoutsAndRefusedConnectionsReachThePluginAsTransportErrors() throws {
        let (slow, _) = try serve(responseDelay: 5)
        let (gone, _) = try serve()
        let closedPort = gone.port
        gone.stop()
        let services = try services()
        let live = try instance(services, hosts: ["127.0.0.1"])
        let answers = Answers()
        _ = send(HTTPRequest(method: "GET", url: slow.baseURL + "/", timeoutMs: 200), services, live.context, answers)
        XCTAssertTrue(answers.wait(for: 1))
        _ = send(HTTPRequest(method: "GET", url: "http://127.0.0.1:\(closedPort)/"), services, live.context, answers)
        XCTAssertTrue(answers.wait(for: 2))
        guard case .failure(let timeout) = answers.all[0].result, case .failure(let refused) = answers.all[1].result else {
            return XCTFail("expected two transport errors: \(answers.all)")
        }
        XCTAssertEqual(timeout.status, ap_status(AP_ERR_TIMEOUT))
        XCTAssertTrue(timeout.message.hasPrefix("no complete answer within 200 ms"), timeout.message)
        XCTAssertEqual(refused.status, ap_status(AP_ERR_UNAVAILABLE))
        XCTAssertTrue(refused.message.contains("127.0.0.1 port \(closedPort)"), refused.message)
        XCTAssertEqual(count(services, outcome: "timeout"), 1)
        XCTAssertEqual(count(services, outcome: "unavailable"), 1)
    }

    func testCancelAnswersOnceWithUnavailable() throws {
        let (server, _) = try serve(responseDelay: 5)
        let services = try services()
        let live = try instance(services, hosts: ["127.0.0.1"])
        let answers = Answers()
        let (_, id) = send(HTTPRequest(method: "GET", url: server.baseURL + "/"), services, live.context, answers)
        let deadline = Date(timeIntervalSinceNow: 5)
        while server.requestCount == 0, Date() < deadline { usleep(5_000) }
        XCTAssertEqual(services.api.pointee.http_cancel!(live.context.opaque, id), ap_status(AP_OK))
        XCTAssertTrue(answers.wait(for: 1, timeout: 2))
        XCTAssertEqual(services.api.pointee.http_cancel!(live.context.opaque, id), ap_status(AP_ERR_NOT_FOUND), "answered already")
        XCTAssertEqual(services.api.pointee.http_cancel!(live.context.opaque, 987_654), ap_status(AP_ERR_NOT_FOUND))
        usleep(100_000)
        XCTAssertEqual(answers.all.count, 1)
        guard case .failure(let error) = answers.all[0].result else { return XCTFail("a cancelled request was answered") }
        XCTAssertEqual(error.status, ap_status(AP_ERR_UNAVAILABLE))
        XCTAssertEqual(error.message, "cancelled")
        XCTAssertEqual(answers.all[0].executor, "acme/alerts")
    }

    func testAReleasedInstanceHearsNothingMore() throws {
        let (server, _) = try serve(responseDelay: 0.5)
        let services = try services()
        let live = try instance(services, hosts: ["127.0.0.1"])
        let answers = Answers()
        for _ in 0..<3 {
            XCTAssertEqual(send(HTTPRequest(method: "GET", url: server.baseURL + "/"), services, live.context, answers).0, ap_status(AP_OK))
        }
        let deadline = Date(timeIntervalSinceNow: 5)
        while server.requestCount < 3, Date() < deadline { usleep(5_000) }
        live.destroy()
        XCTAssertEqual(send(HTTPRequest(method: "GET", url: server.baseURL + "/"), services, live.context, answers).0,
                       ap_status(AP_ERR_INVALID_ARGUMENT), "a released context gets nothing")
        // Past the server's delay: any answer would have arrived by now.
        Thread.sleep(forTimeInterval: 1)
        XCTAssertTrue(answers.all.isEmpty, "no callback after release: \(answers.all)")
        XCTAssertEqual(count(services, outcome: "cancelled"), 3)
    }

    // HMAC through the table, against RFC 2202 (SHA-1) and RFC 4231 (SHA-256).
    func testHMACMatchesTheRFCVectors() throws {
        let services = try services()
        let context = services.pluginContext(pluginID: "com.test.hmac", version: "1.0.0")
        func hmac(_ algorithm: UInt32, _ key: [UInt8], _ data: [UInt8], capacity: Int = 32) -> (ap_status, [UInt8]) {
            var out = [UInt8](repeating: 0, count: capacity)
            var written = 0
            let status = services.api.pointee.crypto_hmac!(context.opaque, algorithm, key, key.count, data, data.count, &out, capacity, &written)
            return (status, Array(out.prefix(written)))
        }
        let bytes = { (byte: UInt8, count: Int) in [UInt8](repeating: byte, count: count) }
        let text = { (s: String) in Array(s.utf8) }
        let counting = Array(UInt8(1)...UInt8(25))
        let sha1: [([UInt8], [UInt8], String)] = [
            (bytes(0x0b, 20), text("Hi There"), "b617318655057264e28bc0b6fb378c8ef146be00"),
            (text("Jefe"), text("what do ya want for nothing?"), "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
            (bytes(0xaa, 20), bytes(0xdd, 50), "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
            (counting, bytes(0xcd, 50), "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
            (bytes(0x0c, 20), text("Test With Truncation"), "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
            (bytes(0xaa, 80), text("Test Using Larger Than Block-Size Key - Hash Key First"), "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
            (bytes(0xaa, 80), text("Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data"),
             "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
        ]
        let sha256: [([UInt8], [UInt8], String)] = [
            (bytes(0x0b, 20), text("Hi There"), "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
            (text("Jefe"), text("what do ya want for nothing?"), "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
            (bytes(0xaa, 20), bytes(0xdd, 50), "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"),
            (counting, bytes(0xcd, 50), "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
            // Case 5 is truncated to 128 bits in the RFC.
            (bytes(0x0c, 20), text("Test With Truncation"), "a3b6167473100ee06e0c796c2955552b"),
            (bytes(0xaa, 131), text("Test Using Larger Than Block-Size Key - Hash Key First"),
             "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"),
            (bytes(0xaa, 131), text("This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm."),
             "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"),
        ]
        let suites = [("RFC 2202", UInt32(AP_HASH_SHA1.rawValue), 20, sha1), ("RFC 4231", UInt32(AP_HASH_SHA256.rawValue), 32, sha256)]
        for (rfc, algorithm, length, cases) in suites {
            for (index, (key, data, expected)) in cases.enumerated() {
                let (status, digest) = hmac(algorithm, key, data)
                XCTAssertEqual(status, ap_status(AP_OK))
                XCTAssertEqual(digest.count, length)
                XCTAssertEqual(String(hex(digest).prefix(expected.count)), expected, "\(rfc) case \(index + 1)")
            }
        }
        XCTAssertEqual(hmac(UInt32(AP_HASH_SHA256.rawValue), text("k"), text("m"), capacity: 31).0, ap_status(AP_ERR_BUFFER_TOO_SMALL))
        XCTAssertEqual(hmac(UInt32(AP_HASH_SHA1.rawValue), text("k"), text("m"), capacity: 20).1.count, 20)
        XCTAssertEqual(hmac(99, text("k"), text("m")).0, ap_status(AP_ERR_UNSUPPORTED))
    }

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
}

/// What the plugin's callback received, in order.
final class Answers: @unchecked Sendable {
    struct Answer {
        let id: UInt64
        let result: Result<HTTPResponse, PluginError>
        /// The executor tag the callback ran under (nil: not an instance executor).
        let executor: String?
    }

    private let lock = NSLock()
    private var answers: [Answer] = []
    private let arrived = DispatchSemaphore(value: 0)

    func record(_ id: UInt64, _ result: Result<HTTPResponse, PluginError>, executor: String?) {
        lock.withLock { answers.append(Answer(id: id, result: result, executor: executor)) }
        arrived.signal()
    }

    var all: [Answer] { lock.withLock { answers } }

    func wait(for count: Int, timeout: Double = 10) -> Bool {
        let deadline = DispatchTime.now() + timeout
        while all.count < count {
            guard arrived.wait(timeout: deadline) == .success else { return false }
        }
        return true
    }
}

/// Log lines with their level, from any thread.
final class CapturedLog: LogHandler, @unchecked Sendable {
    struct Line { let level: Logger.Level; let message: String }
    private let lock = NSLock()
    private var captured: [Line] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.withLock { captured.append(Line(level: event.level, message: event.message.description)) }
    }

    var lines: [Line] { lock.withLock { captured } }
}
