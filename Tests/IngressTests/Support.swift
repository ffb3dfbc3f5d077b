import AlphaPlusJSON
import AlphaPlusSDK
import Distribution
import Foundation
import InMemoryLogging
import Ingress
import IngressTestPlugins
import Logging
import MetricsTestKit
import PluginRuntime
import Store
import Subscriptions
import Trading
import XCTest

/// 2026-11-21T08:00:00Z.
let t0: Int64 = 1_795_248_000_000_000_000
let second: Int64 = 1_000_000_000

let operatorToken = "operator-token-0123456789"
let alphaToken = "alpha-token-0123456789"
let betaToken = "beta-token-0123456789"

/// The ingress in this process on 127.0.0.1 (a free port), put together
/// as `alphaplus run` does, over a store of its own:
/// - tenant alpha (token alphaToken): `hook` (echo webhook), `head` (a
///   head, no webhook), `broken` (failed to start), `dry` (runs dry), and
///   three signals, a destination with a delivered and two dead rows;
/// - tenant beta (token betaToken): `hook` (echo webhook) and one signal;
/// - tenant gamma (no token, no instances).
/// Each echo webhook records its requests under its own log name.
final class IngressHost {
    let folder: URL
    let store: HostStore
    let logs = InMemoryLogHandler()
    let metrics = TestMetrics()
    let readiness = Readiness(waitingFor: [("store", "not open yet"), ("distributor", "not started yet")])
    let server: IngressServer
    /// The log names of alpha's and beta's echo webhooks.
    let alphaHookLog = "alpha-\(UUID().uuidString)"
    let betaHookLog = "beta-\(UUID().uuidString)"
    private let instances: [HostedInstance]

    /// `tokens: false` configures none (the admin API is disabled). The
    /// default limits allow 1,000 failed authentications: tests send
    /// many wrong tokens, all from 127.0.0.1.
    init(maxBodyBytes: Int = 1 << 20, deadline: Duration = .seconds(10), tokens: Bool = true,
         limits: ServerLimits = ServerLimits(authFailuresAllowed: 1000),
         metricsText: (@Sendable () -> String)? = { "# TYPE alphaplus_up gauge\nalphaplus_up 1\n" }) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ingress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        store = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: { t0 })
        var handler = logs
        handler.logLevel = .debug
        let logger = Logger(label: "test") { _ in handler }
        let services = HostServices(logger: logger)
        let loader = PluginLoader(services: services)
        let echo = try loader.load(linked: PluginExport.entry(EchoWebhook.self), name: "echo-webhook")
        let head = try loader.load(linked: PluginExport.entry(FlatHead.self), name: "flat-head")
        var created: [HostedInstance] = []
        func create(_ plugin: LoadedPlugin, _ tenant: String, _ id: String, log: String? = nil) throws -> HostedInstance {
            let instance = try HostedInstance(plugin: plugin, tenantID: tenant, instanceID: id,
                                                            config: log.map { .object(["log": .string($0)]) } ?? .object([:]),
                                                            services: services)
            created.append(instance)
            return instance
        }
        let catalog = IngressCatalog(
            tenants: [
                IngressTenant(id: "alpha", instances: [
                    IngressInstance(id: "hook", pluginID: echo.id, state: .running(try create(echo, "alpha", "hook", log: alphaHookLog))),
                    IngressInstance(id: "head", pluginID: head.id, state: .running(try create(head, "alpha", "head"))),
                    IngressInstance(id: "broken", pluginID: echo.id, state: .failed(reason: "create failed (status 2): no such chat")),
                    IngressInstance(id: "dry", pluginID: "com.alphaplus.channel-telegram", state: .dryRun),
                ], adminToken: tokens ? AdminToken(alphaToken) : nil, hasStrategy: true, destinations: ["chat"], unpaidTier: "free"),
                IngressTenant(id: "beta", instances: [
                    IngressInstance(id: "hook", pluginID: echo.id, state: .running(try create(echo, "beta", "hook", log: betaHookLog))),
                ], adminToken: tokens ? AdminToken(betaToken) : nil),
                IngressTenant(id: "gamma", instances: []),
            ],
            plugins: [echo, head],
            refusedPlugins: [PluginLoadError("/plugins/libap-broken.so", "is not an ELF shared object")])
        instances = created
        try Self.fill(store)
        server = IngressServer(
            settings: IngressSettings(host: "127.0.0.1", port: 0, maxBodyBytes: maxBodyBytes, requestDeadline: deadline,
                                      operatorToken: tokens ? AdminToken(operatorToken) : nil, limits: limits),
            catalog: catalog, store: store, readiness: readiness, metricsText: metricsText, metricsFactory: metrics, logger: logger)
        try server.start()
    }

    func close() {
        server.stop()
        for instance in instances { instance.destroy() }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Sends one request on a new connection (`Connection: close`) and
    /// reads the whole answer.
    func send(_ method: String, _ target: String, headers: [(String, String)] = [], body: [UInt8]? = nil,
              token: String? = nil) throws -> RawHTTP.Response {
        var all = headers
        if let token { all.append(("Authorization", "Bearer \(token)")) }
        return try RawHTTP.send(port: server.port, method: method, target: target, headers: all, body: body)
    }

    /// Log lines as "level: message".
    var logLines: [String] { logs.entries.map { "\($0.level): \($0.message)" } }

    /// Three signals of alpha a minute apart, one of beta; alpha's
    /// destination `chat` with one delivered and two dead rows.
    static func fill(_ store: HostStore) throws {
        // alpha: u_1 pays for premium through Stripe and has a chat; a chat alone; beta: one chat.
        let policy = SubscriptionPolicy(tiers: ["premium", "free"], unpaidTier: "free")
        let chat = try Subscriptions.SubscriberIdentity(kind: "telegram_chat", value: "42")
        let customer = try Subscriptions.SubscriberIdentity(kind: "stripe_customer", value: "cus_1")
        _ = try store.withSubscriptionTransaction(tenant: "alpha") { t in
            _ = try t.link(chat, to: "u_1", atNs: t0, source: "com.alphaplus.channel-telegram/telegram", reference: "")
            _ = try t.link(customer, to: "u_1", atNs: t0, source: "com.alphaplus.webhook-stripe/stripe", reference: "evt_checkout")
            _ = try t.link(Subscriptions.SubscriberIdentity(kind: "telegram_chat", value: "7"), to: nil, atNs: t0, source: "s", reference: "")
            return try t.update(SubscriptionUpdate(identity: customer, tier: "premium", status: .active, periodEndNs: t0 + 86_400 * second,
                                                   asOfNs: t0, reference: "evt_sub"), policy: policy, atNs: t0, source: "com.alphaplus.webhook-stripe/stripe")
        }
        _ = try store.withSubscriptionTransaction(tenant: "beta") { t in
            try t.link(Subscriptions.SubscriberIdentity(kind: "telegram_chat", value: "99"), to: "b_1", atNs: t0, source: "s", reference: "")
        }
        for (index, tenant) in ["alpha", "alpha", "alpha", "beta"].enumerated() {
            try store.record(signal(tenant: tenant, atNs: t0 + Int64(index) * 60 * second))
        }
        _ = try store.registerDestinations([DestinationRegistration(tenant: "alpha", id: "chat", channel: "hook", tier: "premium",
                                                                    targetJSON: #"{"chat_id": 7}"#)], atNs: t0)
        let rows = try store.enqueue((0..<3).map { index in
            NewDelivery(tenant: "alpha", destination: "chat", tier: "premium", kind: .signal, subject: "alpha:sim:BTC-USDT:60:\(index)",
                        text: "signal \(index)", payloadJSON: "{}", notBeforeNs: t0)
        }, atNs: t0)
        _ = try store.complete(id: rows[0].id, .delivered(externalID: "m1"), updatedTargetJSON: nil, atNs: t0 + second)
        _ = try store.complete(id: rows[1].id, .dead(reason: "chat not found"), updatedTargetJSON: nil, atNs: t0 + 2 * second)
        _ = try store.complete(id: rows[2].id, .dead(reason: "message too long"), updatedTargetJSON: nil, atNs: t0 + 3 * second)
    }

    static func signal(tenant: String, atNs: Int64) -> Signal {
        Signal(id: "\(tenant):sim:BTC-USDT:60:\(atNs / 1_000_000)", tenant: tenant, venue: "sim", symbol: "BTC-USDT", timeframeSeconds: 60,
               side: .long, entry: 65_000, stop: 64_000, targets: [66_000, 67_000], scaleOut: [0.5, 1], quantity: 0.01, confidence: 0.8,
               highConfidence: false,
               votes: [HeadVote(head: "head", plugin: "com.alphaplus.test.flat-head", status: .ok, direction: .long, confidence: 0.8,
                                calibratedConfidence: 0.8, weight: 1, rationale: "up")],
               createdAtNs: atNs, expiresAtNs: atNs + 3600 * second)
    }
}

/// HTTP/1.1 over a plain socket, so a test controls every byte it sends
/// (header order and case, Content-Length that lies, chunked bodies).
enum RawHTTP {
    struct Response {
        var status: Int
        /// In the order received.
        var headers: [(name: String, value: String)]
        var body: [UInt8]

        func header(_ name: String) -> String? { headers.first { $0.name.lowercased() == name.lowercased() }?.value }
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as JSON; fails the test when it is not.
        func json(file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
            do { return try JSONValue(parsing: body) } catch {
                XCTFail("the body is not JSON (\(error)): \(text)", file: file, line: line)
                throw error
            }
        }
        /// `{"error": …}`'s message.
        var error: String? {
            guard let value = try? JSONValue(parsing: body), case .string(let message)? = value["error"] else { return nil }
            return message
        }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `Host` first, then `headers` in order, then Content-Length (when
    /// there is a body and `headers` has no Content-Length or
    /// Transfer-Encoding) and `Connection: close`; then the body as given.
    static func send(port: Int, method: String, target: String, headers: [(String, String)] = [], body: [UInt8]?,
                     from source: String = "127.0.0.1") throws -> Response {
        var head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let framed = headers.contains { ["content-length", "transfer-encoding"].contains($0.0.lowercased()) }
        if let body, !framed { head += "Content-Length: \(body.count)\r\n" }
        head += "Connection: close\r\n\r\n"
        return try exchange(port: port, Array(head.utf8) + (body ?? []), from: source)
    }

    /// Writes `bytes`, then reads until the server closes.
    static func exchange(port: Int, _ bytes: [UInt8], from source: String = "127.0.0.1") throws -> Response {
        let socket = try connect(port: port, from: source)
        defer { close(socket) }
        write(socket, bytes)
        return try parse(readUntilClosed(socket))
    }

    /// A connection to 127.0.0.1:`port` from `source` (any 127.x.y.z is
    /// this machine), reads timing out after `timeout` seconds.
    static func connect(port: Int, from source: String = "127.0.0.1", timeout: Int = 20) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socket >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var receiveTimeout = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &receiveTimeout, socklen_t(MemoryLayout<timeval>.size))
        func socketAddress(_ ip: String, _ port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr(ip)
            return address
        }
        var local = socketAddress(source, 0), remote = socketAddress("127.0.0.1", port)
        let bound = withUnsafePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        let connected = bound == 0 ? withUnsafePointer(to: &remote) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } : bound
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(socket)
            throw Failure(description: "connect to port \(port) from \(source): \(reason)")
        }
        return socket
    }

    /// Sends what it can of `bytes` (the server may answer, 413, and stop reading before the body is sent).
    static func write(_ socket: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { break }
            sent += n
        }
    }

    /// Everything the server sends until it closes (or a read times out).
    static func readUntilClosed(_ socket: Int32) -> [UInt8] {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if n > 0 { received += buffer[..<n] } else if n == 0 || errno != EINTR { break }
        }
        return received
    }

    static func parse(_ bytes: [UInt8]) throws -> Response {
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = (0..<max(0, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == separator }) else {
            throw Failure(description: "no complete response head in \(bytes.count) bytes: \(String(decoding: bytes, as: UTF8.self))")
        }
        let lines = String(decoding: bytes[..<end], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ")
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        let headers = lines.dropFirst().map { line -> (name: String, value: String) in
            let colon = line.firstIndex(of: ":") ?? line.endIndex
            return (String(line[..<colon]), line[colon...].dropFirst().trimmingCharacters(in: .whitespaces))
        }
        var body = Array(bytes[(end + 4)...])
        let response = Response(status: status, headers: headers, body: [])
        if let length = response.header("Content-Length").flatMap({ Int($0) }) {
            body = Array(body.prefix(length))
        } else if response.header("Transfer-Encoding")?.lowercased() == "chunked" {
            body = try dechunk(body)
        }
        return Response(status: status, headers: headers, body: body)
    }

    static func dechunk(_ bytes: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = [], index = 0
        while true {
            guard let lineEnd = (index..<bytes.count - 1).first(where: { bytes[$0] == 13 && bytes[$0 + 1] == 10 }),
                  let size = Int(String(decoding: bytes[index..<lineEnd], as: UTF8.self), radix: 16) else {
                throw Failure(description: "bad chunk at \(index)")
            }
            if size == 0 { return output }
            output += bytes[(lineEnd + 2)..<(lineEnd + 2 + size)]
            index = lineEnd + 2 + size + 2
        }
    }

    /// A chunked body: `chunks` then the last chunk.
    static func chunked(_ chunks: [[UInt8]]) -> [UInt8] {
        chunks.flatMap { Array(String($0.count, radix: 16).utf8) + [13, 10] + $0 + [13, 10] } + Array("0\r\n\r\n".utf8)
    }
}

/// Waits until `condition` holds, checking every 10 ms; false after `timeout` seconds.
func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date() + timeout
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.01)
    }
    return condition()
}
