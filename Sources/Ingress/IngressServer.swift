import AlphaPlusJSON
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOCore
import ServiceLifecycle
import Store

/// Where the ingress listens and its limits (the host config's `http:`
/// section, its token resolved).
public struct IngressSettings: Sendable {
    public var host: String
    /// 0 picks a free port; `IngressServer.port` tells which.
    public var port: Int
    public var maxBodyBytes: Int
    /// From a webhook request's arrival to its answer.
    public var requestDeadline: Duration
    /// The operator's admin token; nil when none is configured.
    public var operatorToken: AdminToken?
    /// Timeouts, connection caps, the throttle on failed authentication, refusal logging.
    public var limits: ServerLimits

    public init(host: String, port: Int, maxBodyBytes: Int = 1 << 20, requestDeadline: Duration = .seconds(10),
                operatorToken: AdminToken? = nil, limits: ServerLimits = ServerLimits()) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.requestDeadline = requestDeadline
        self.operatorToken = operatorToken
        self.limits = limits
    }
}

/// Why the server did not start.
public struct IngressError: Error, CustomStringConvertible {
    public let description: String
}

/// The host's HTTP server (Hummingbird 2, HTTP/1.1): webhooks under
/// /hooks/, the admin API under /admin/v1, /healthz, /readyz and /metrics.
/// Every response carries the request's `X-Request-Id`, and every log line
/// for a request has it as `request_id`.
// @unchecked: the service group, its task and the bound port are guarded by `lock`.
public final class IngressServer: @unchecked Sendable {
    private let settings: IngressSettings
    private let router: Router<IngressRequestContext>
    private let responder: IngressResponder
    private let live: LiveCatalog
    private let refusals: RefusalLog
    private let logger: Logger
    private let lock = NSLock()
    private var group: ServiceGroup?
    private var serving: Task<Void, Never>?
    private let ended = DispatchSemaphore(value: 0)
    private var boundPort = 0

    /// `metricsText` gives /metrics its Prometheus exposition; without it
    /// /metrics answers 503. Webhook metrics go to `metricsFactory` (the
    /// process's bootstrapped one unless a test passes its own). `nowNs`
    /// is the host's clock (the admin API's "now").
    public init(settings: IngressSettings, catalog: IngressCatalog, store: HostStore, readiness: Readiness,
                metricsText: (@Sendable () -> String)? = nil, metricsFactory: any MetricsFactory = MetricsSystem.factory,
                nowNs: @escaping @Sendable () -> Int64 = { Int64(Date().timeIntervalSince1970 * 1e9) },
                logger: Logger = Logger(label: "alphaplus.http")) {
        self.settings = settings
        self.logger = logger
        let router = Router(context: IngressRequestContext.self)
        router.add(middleware: NoRouteAsJSON())
        Self.registerProbes(on: router, readiness: readiness, metricsText: metricsText)
        let live = LiveCatalog(catalog)
        self.live = live
        let refusals = RefusalLog(logger: logger, interval: settings.limits.refusalLogInterval, factory: metricsFactory)
        self.refusals = refusals
        let limits = settings.limits
        let authenticator = AdminAuthenticator(
            operatorToken: settings.operatorToken, catalog: live,
            throttle: AuthThrottle(allowed: limits.authFailuresAllowed, backoff: limits.authBackoff, maxBackoff: limits.authBackoffMax))
        AdminAPI(live: live, store: store, authenticator: authenticator, refusals: refusals, nowNs: nowNs).register(on: router)
        self.router = router
        responder = IngressResponder(
            webhooks: WebhookRoute(live: live, maxBodyBytes: settings.maxBodyBytes, deadline: settings.requestDeadline,
                                   metrics: WebhookMetrics(factory: metricsFactory), refusals: refusals),
            router: router.buildResponder(), logger: logger)
    }

    /// Every route of the router as (method, path template), e.g. ("GET",
    /// "/admin/v1/tenants/{tenant}"). Webhooks are not among them: any
    /// method under /hooks/ is theirs.
    public var routes: [(method: String, path: String)] {
        router.routes.map { ($0.method.rawValue, $0.path.description) }
    }

    /// What requests see from now on (after a reload): requests in
    /// progress finish with the catalog they read.
    public func replaceCatalog(_ catalog: IngressCatalog) { live.current = catalog }

    /// The port it listens on (after `start`).
    public var port: Int { lock.withLock { boundPort } }

    /// Binds and serves; returns once it listens, having logged
    /// `http: listening on HOST:PORT` and its connection cap. Throws when
    /// it cannot bind, or the open-file limit leaves no room for connections.
    public func start() throws {
        let limits = settings.limits
        let fileLimit = ServerLimits.openFileLimit()
        let counts = ConnectionCounts(cap: try limits.connectionCap(fileLimit: fileLimit), perSource: limits.maxConnectionsPerSource)
        let listening = FirstResult<Int>()
        let serverLogger = logger.withLevel(atLeast: .warning)  // Hummingbird's own lines: only its problems
        let refusals = refusals
        let server = HTTPServerBuilder { responder in
            LimitedHTTP1Channel(responder: responder, limits: limits, counts: counts, refusals: refusals)
        }
        let app = Application(responder: responder, server: server,
                              configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port)),
                              services: [RefusalSummaries(refusals: refusals, interval: limits.refusalLogInterval)],
                              onServerRunning: { channel in listening.set(.success(channel.localAddress?.port ?? 0)) },
                              logger: serverLogger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [app], logger: serverLogger))
        let ended = ended
        let address = settings.host.contains(":") ? "[\(settings.host)]" : settings.host
        let task = Task.detached {
            do {
                try await group.run()
                listening.set(.failure(IngressError(description: "http: the server stopped before it listened on \(address):\(self.settings.port)")))
            } catch {
                listening.set(.failure(IngressError(description: "http: cannot listen on \(address):\(self.settings.port): \(error)")))
            }
            ended.signal()
        }
        lock.withLock {
            self.group = group
            serving = task
        }
        let port = try listening.wait().get()
        lock.withLock { boundPort = port }
        logger.info("http: listening on \(address):\(port)")
        let fileLimitNote = fileLimit.map { "; open-file limit \($0) less \(limits.reservedFiles) reserved" } ?? ""
        logger.info("http: at most \(counts.cap) connections (max_connections \(limits.maxConnections)\(fileLimitNote)), \(limits.maxConnectionsPerSource) per source")
    }

    /// Stops accepting connections, lets the requests in progress finish
    /// (a webhook takes at most its deadline), then returns.
    public func stop() {
        guard let (group, task) = lock.withLock({ () -> (ServiceGroup, Task<Void, Never>)? in
            defer { self.group = nil; serving = nil }
            return group.flatMap { group in serving.map { (group, $0) } }
        }) else { return }
        Task { await group.triggerGracefulShutdown() }
        let grace = Double(settings.requestDeadline.components.seconds) + 5
        if ended.wait(timeout: .now() + grace) == .timedOut {
            logger.warning("http: requests still in progress after \(Int(grace)) s: cancelled")
            task.cancel()
            ended.wait()
        }
        refusals.flush()
        logger.info("http: stopped")
    }

    /// /healthz, /readyz and /metrics: no token, no query parameters.
    private static func registerProbes(on router: Router<IngressRequestContext>, readiness: Readiness,
                                       metricsText: (@Sendable () -> String)?) {
        router.get("/healthz") { request, _ in
            _ = try request.query(accepting: [])
            return Response.json(.object(["status": .string("ok")]))
        }
        router.get("/readyz") { request, _ in
            _ = try request.query(accepting: [])
            let report = readiness.report
            let checks = Dictionary(report.map { ($0.name, JSONValue.string($0.waiting ?? "ok")) }, uniquingKeysWith: { $1 })
            let ready = report.allSatisfy { $0.waiting == nil }
            return Response.json(.object(["ready": .bool(ready), "checks": .object(checks)]), status: ready ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { request, _ in
            _ = try request.query(accepting: [])
            guard let metricsText else {
                throw APIError(.serviceUnavailable, "metrics are not exported: no metrics backend is set up in this host")
            }
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: metricsText())))
        }
    }
}

/// A request's context: Hummingbird's, and the address it came from.
struct IngressRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    /// The client's IP address ("unknown" for a Unix socket).
    let source: String

    init(source: ApplicationRequestContextSource) {
        coreContext = CoreRequestContextStorage(source: source)
        self.source = source.channel.remoteAddress?.ipAddress ?? "unknown"
    }
}

/// Logs the refusals' summary every interval while the server runs.
struct RefusalSummaries: Service {
    let refusals: RefusalLog
    let interval: Duration

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try await Task.sleep(for: interval)
                refusals.flushIfDue()
            }
        }
    }
}

/// The one responder: gives the request its id, sends /hooks/ to the
/// webhooks and everything else to the router, and echoes the id.
struct IngressResponder: HTTPResponder {
    typealias Context = IngressRequestContext

    let webhooks: WebhookRoute
    let router: RouterResponder<IngressRequestContext>
    let logger: Logger

    func respond(to request: Request, context: Context) async throws -> Response {
        let requestID = RequestIDs.accept(request.headers[.requestID]) ?? RequestIDs.generate()
        var logger = logger
        logger[metadataKey: "request_id"] = .string(requestID)
        var response: Response
        if WebhookRoute.serves(Substring(request.uri.path)) {
            response = await webhooks.respond(to: request, requestID: requestID, source: context.source, logger: logger)
        } else {
            var context = context
            context.logger = logger
            response = try await router.respond(to: request, context: context)
        }
        response.headers[.requestID] = requestID
        return response
    }
}

extension Logger {
    /// A copy that logs only at `level` or above (never below this logger's own level).
    func withLevel(atLeast level: Logger.Level) -> Logger {
        var copy = self
        copy.logLevel = max(level, logLevel)
        return copy
    }
}

/// The first result set wins; `wait` blocks until there is one.
// @unchecked: `result` is guarded by `lock`.
private final class FirstResult<Value: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)
    private var result: Result<Value, any Error>?

    func set(_ value: Result<Value, any Error>) {
        let first = lock.withLock {
            guard result == nil else { return false }
            result = value
            return true
        }
        if first { ready.signal() }
    }

    func wait() -> Result<Value, any Error> {
        ready.wait()
        return lock.withLock { result! }
    }
}
