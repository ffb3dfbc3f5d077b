import AlphaPlusSDK
import AlphaPlusSDKTesting
import Foundation

// Small plugins the tests load through their exported C tables. Each one
// registers itself in `Live` under "<tenant>/<instance>" so a test can look
// at (or script) the Swift object behind an instance it only holds as C.

/// Weak registry of live plugin objects, keyed by "<tenant>/<instance>".
enum Live {
    private final class WeakBox {
        weak var object: AnyObject?
        init(_ object: AnyObject) { self.object = object }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var objects: [String: WeakBox] = [:]

    static func register(_ object: AnyObject, _ context: PluginContext) {
        lock.lock()
        defer { lock.unlock() }
        objects["\(context.tenantID)/\(context.instanceID)"] = WeakBox(object)
    }

    static func get<T: AnyObject>(_: T.Type, tenant: String = "test", instance: String) -> T? {
        lock.lock()
        defer { lock.unlock() }
        return objects["\(tenant)/\(instance)"]?.object as? T
    }
}

// MARK: - Head

struct HeadFailure: Error, CustomStringConvertible {
    var detail: String
    var description: String { "head failure: \(detail)" }
}

/// Votes long when the close is above ema_50, short below, flat while ema_50
/// is missing; the confidence is the configured threshold.
final class TestHead: HeadPlugin {
    private let rationaleBuffer = RationaleBuffer()
    struct Configuration: Decodable {
        var threshold: Double
        var maxConfidence: Double?
        var rationale: String?

        enum CodingKeys: String, CodingKey {
            case threshold
            case maxConfidence = "max_confidence"
            case rationale
        }
    }

    /// What the head saw in its last frame.
    struct Seen: Equatable {
        var venue: String
        var symbol: String
        var timeframeSeconds: Int64
        var timestampNs: Int64
        var candle: Candle
        var layoutID: UInt64
        var book: BookFeatures?
        var trigger: FrameTrigger?
        var indicatorCount: Int
    }

    static let schema = #"""
        {"type": "object",
         "properties": {
           "threshold": {"type": "number", "minimum": 0, "maximum": 1},
           "max_confidence": {"type": "number", "minimum": 0, "maximum": 1},
           "rationale": {"type": "string"}},
         "required": ["threshold"],
         "additionalProperties": false}
        """#

    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-head", name: "Test Head", version: "1.4.0-beta.1",
                         vendor: "AlphaPlus Tests", description: "Reads ema_50 and rsi_14", configSchema: schema)
    }

    let configuration: Configuration
    let context: PluginContext
    let ema = IndicatorKey("ema_50")
    let rsi = IndicatorKey("rsi_14")
    let vwap = IndicatorKey("vwap_20")
    private(set) var seen: Seen?
    private(set) var events: [MarketEvent] = []

    init(configuration: Configuration, context: PluginContext) throws {
        if let max = configuration.maxConfidence, configuration.threshold > max {
            throw PluginError.invalidConfig("threshold \(configuration.threshold) exceeds max_confidence \(max)")
        }
        self.configuration = configuration
        self.context = context
        Live.register(self, context)
    }

    func evaluate(_ frame: FeatureFrame) throws -> Vote {
        switch frame.symbol {
        case "STALE-USDT": throw PluginError.unavailable("no fresh data for STALE-USDT")
        case "BUG-USDT": throw HeadFailure(detail: "bad index 7")
        // A literal rationale longer than the 256-byte capacity, with "€"
        // straddling the limit (bytes 254-256).
        case "LITERAL-USDT": return Vote(.long, confidence: 1, rationale: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa€tail")
        default: break
        }
        seen = Seen(venue: frame.venue, symbol: frame.symbol, timeframeSeconds: frame.timeframeSeconds,
                    timestampNs: frame.timestampNs, candle: frame.candle, layoutID: frame.layoutID, book: frame.book,
                    trigger: frame.trigger, indicatorCount: frame.indicators.count)
        let ema = frame[ema], rsi = frame[rsi], vwap = frame[vwap]
        let direction: Direction = ema.isNaN ? .flat : (frame.close > ema ? .long : .short)
        return Vote(direction, confidence: configuration.threshold,
                    rationale: rationaleBuffer.write(configuration.rationale ?? "ema_50=\(ema) rsi_14=\(rsi) vwap_20=\(vwap)"))
    }

    func onEvent(_ event: MarketEvent) { events.append(event) }
}

// MARK: - Exchange

/// A simulated venue: on start it schedules a repeating tick every `tick_ms`
/// (each tick emits the next scripted event), a one-shot at 1.5 ticks and a
/// one-shot at half a tick that it cancels at once.
final class SimExchange: ExchangePlugin {
    struct Configuration: Decodable {
        var venue: String
        var tickMs: Int

        enum CodingKeys: String, CodingKey {
            case venue
            case tickMs = "tick_ms"
        }
    }

    static let schema = #"""
        {"type": "object",
         "properties": {"venue": {"type": "string", "minLength": 1}, "tick_ms": {"type": "integer", "minimum": 2}},
         "required": ["venue", "tick_ms"],
         "additionalProperties": false}
        """#

    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-sim-exchange", name: "Sim Exchange", version: "0.3.0",
                         vendor: "AlphaPlus Tests", description: "Scripted market data", configSchema: schema,
                         networkHosts: ["api.sim.example", "*.stream.sim.example"])
    }

    let configuration: Configuration
    let context: PluginContext
    private(set) var started = false
    private(set) var subscriptions: [Subscription] = []
    /// "<timer>@<ms since start>", in firing order.
    private(set) var fired: [String] = []
    /// Events to emit, one per tick.
    var script: [MarketEvent] = []
    private var tick: TimerID?
    private var startedAtNs: Int64 = 0

    init(configuration: Configuration, context: PluginContext) throws {
        self.configuration = configuration
        self.context = context
        Live.register(self, context)
    }

    func start() throws {
        guard !started else { throw PluginError.wrongState("already started") }
        started = true
        startedAtNs = context.nowNs
        let tickMs = configuration.tickMs
        // Handlers capture self strongly, as plugin code naturally does.
        tick = try context.startTimer(after: .milliseconds(tickMs), every: .milliseconds(tickMs)) { [self] in onTick() }
        try context.startTimer(after: .milliseconds(tickMs * 3 / 2)) { [self] in record("once") }
        let doomed = try context.startTimer(after: .milliseconds(tickMs / 2)) { [self] in record("cancelled") }
        context.cancelTimer(doomed)
    }

    func stop() {
        if let tick { context.cancelTimer(tick) }
        tick = nil
        started = false
    }

    func subscribe(_ subscription: Subscription) throws {
        guard started else { throw PluginError.wrongState("subscribe before start (\(subscription.symbol))") }
        subscriptions.append(subscription)
    }

    func unsubscribe(symbol: String) throws {
        guard let index = subscriptions.firstIndex(where: { $0.symbol == symbol }) else {
            throw PluginError.notFound("not subscribed to \(symbol)")
        }
        subscriptions.remove(at: index)
    }

    private func record(_ name: String) {
        fired.append("\(name)@\((context.nowNs - startedAtNs) / 1_000_000)ms")
    }

    private func onTick() {
        record("tick")
        guard !script.isEmpty else { return }
        do {
            try context.emit(script.removeFirst())
        } catch {
            context.error("emit failed: \(error)")
        }
    }
}

// MARK: - Channel

/// The result a delivery asks the channel to report, carried in its payload.
struct ScriptedResult: Codable {
    var outcome: UInt32
    var retryAfterMs: Int64 = 0
    var externalID: String = ""
    var reason: String = ""
    var updatedTargetJSON: String = ""

    init(_ result: DeliveryResult) {
        outcome = result.outcome.rawValue
        retryAfterMs = result.retryAfterMs
        externalID = result.externalID
        reason = result.reason
        updatedTargetJSON = result.updatedTargetJSON
    }

    var result: DeliveryResult {
        DeliveryResult(DeliveryOutcome(rawValue: outcome)!, retryAfterMs: retryAfterMs, externalID: externalID,
                       reason: reason, updatedTargetJSON: updatedTargetJSON)
    }

    static func payload(_ result: DeliveryResult) -> String {
        String(decoding: try! JSONEncoder().encode(ScriptedResult(result)), as: UTF8.self)
    }
}

/// Completes each delivery with the result its payload describes. By kind:
/// "later" completes one second later (from a timer), "twice" completes
/// twice, "fail" keeps the completion and throws.
final class EchoChannel: ChannelPlugin {
    struct Configuration: Decodable {}

    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-echo-channel", name: "Echo Channel", version: "2.0.0",
                         networkHosts: ["discord.com"])
    }

    let context: PluginContext
    private(set) var received: [Delivery] = []
    /// Completions kept by "fail" deliveries, which must stay inert.
    var kept: [DeliveryCompletion] = []

    init(configuration: Configuration, context: PluginContext) throws {
        self.context = context
        Live.register(self, context)
    }

    func deliver(_ delivery: Delivery, completion: DeliveryCompletion) throws {
        received.append(delivery)
        let result = try JSONDecoder().decode(ScriptedResult.self, from: Data(delivery.payloadJSON.utf8)).result
        switch delivery.kind {
        case "later":
            try context.startTimer(after: .seconds(1)) { completion(result) }
        case "twice":
            completion(result)
            completion(DeliveryResult(.permanentFailure, reason: "second completion"))
        case "fail":
            kept.append(completion)
            throw PluginError.unavailable("platform refused \(delivery.idempotencyKey)")
        default:
            completion(result)
        }
    }
}

// MARK: - Webhook

/// Records every request. Routes:
///   /echo...        202, echoes method, query, request id and headers; body reversed
///   /fail           throws invalidArgument
///   /state/<key>    PUT saves the body, GET reads (404 if none), DELETE removes
///   /secret/<name>  the secret's value, 404 if none
///   /telemetry      records metrics and logs at every level
final class EchoWebhook: WebhookPlugin {
    struct Configuration: Decodable {}

    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-echo-webhook", name: "Echo Webhook", version: "1.0.0")
    }

    let context: PluginContext
    private(set) var requests: [WebhookRequest] = []

    init(configuration: Configuration, context: PluginContext) throws {
        self.context = context
        Live.register(self, context)
    }

    func handle(_ request: WebhookRequest) throws -> WebhookResponse {
        requests.append(request)
        let parts = request.path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        switch (request.method, parts.first ?? "") {
        case (_, "echo"):
            let echoed = request.headers.map { (name: "X-Echo-\($0.name)", value: $0.value) }
            return WebhookResponse(
                status: 202,
                headers: [("X-Method", request.method), ("X-Query", request.query), ("X-Request-Id", request.requestID)]
                    + echoed,
                body: request.body.reversed())
        case (_, "fail"):
            throw PluginError.invalidArgument("missing X-Signature header (request \(request.requestID))")
        case ("PUT", "state"):
            try context.setState(parts[1], request.body)
            return WebhookResponse(status: 204)
        case ("GET", "state"):
            guard let value = context.state(parts[1]) else { return WebhookResponse(status: 404) }
            return WebhookResponse(status: 200, body: value)
        case ("DELETE", "state"):
            try context.removeState(parts[1])
            return WebhookResponse(status: 204)
        case ("GET", "secret"):
            guard let value = context.secret(parts[1]) else { return WebhookResponse(status: 404) }
            return WebhookResponse(status: 200, contentType: "text/plain", text: value)
        case ("POST", "telemetry"):
            context.count("hooks_total")
            context.count("bytes_total", by: 2.5)
            context.gauge("queue_depth", 7)
            context.observe("latency_seconds", 0.25)
            context.log(.trace, "trace line")
            context.debug("debug line")
            context.info("info line")
            context.warning("warning line")
            context.error("error line")
            return WebhookResponse(status: 204)
        default:
            return WebhookResponse(status: 404, text: #"{"error": "no route"}"#)
        }
    }
}

// MARK: - Channel + webhook

/// A bot: delivers messages (numbering them) and answers its platform's
/// callbacks, which report how many messages it has sent.
final class BotPlugin: ChannelPlugin, WebhookPlugin {
    struct Configuration: Decodable {
        var prefix: String
    }

    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-bot", name: "Test Bot", version: "0.9.1",
                         configSchema: #"{"type": "object", "properties": {"prefix": {"type": "string"}}, "required": ["prefix"]}"#,
                         networkHosts: ["api.telegram.org"])
    }

    let prefix: String
    private var sent = 0

    init(configuration: Configuration, context: PluginContext) throws {
        prefix = configuration.prefix
    }

    func deliver(_ delivery: Delivery, completion: DeliveryCompletion) throws {
        sent += 1
        completion(DeliveryResult(.delivered, externalID: "\(prefix)-\(sent)"))
    }

    func handle(_ request: WebhookRequest) throws -> WebhookResponse {
        WebhookResponse(status: 200, contentType: "text/plain", text: "\(prefix) sent \(sent)")
    }
}

// MARK: - Plugins for lifecycle and config tests

/// Offers no capability; its configuration is checked only by decoding
/// (the schema accepts any object).
final class LooseConfigPlugin: PluginInstance {
    struct Configuration: Decodable {
        struct Limits: Decodable { var max: Int }
        var limits: Limits
        var symbols: [String]
    }

    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-loose-config", name: "Loose", version: "1.0.0",
                         configSchema: #"{"type": "object"}"#)
    }

    let configuration: Configuration

    init(configuration: Configuration, context: PluginContext) throws {
        self.configuration = configuration
        Live.register(self, context)
    }
}

/// Only used by the init-counting test (init/deinit through the raw table).
final class CountedPlugin: HeadPlugin {
    struct Configuration: Decodable {}
    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-counted", name: "Counted", version: "1.0.0")
    }
    init(configuration: Configuration, context: PluginContext) throws {}
    func evaluate(_ frame: FeatureFrame) throws -> Vote { .flat }
}

/// Only used by the create-before-init test: nothing ever initialises it
/// successfully.
final class NeverInitPlugin: HeadPlugin {
    struct Configuration: Decodable {}
    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-never-init", name: "Never Init", version: "1.0.0")
    }
    init(configuration: Configuration, context: PluginContext) throws {}
    func evaluate(_ frame: FeatureFrame) throws -> Vote { .flat }
}

/// Posts each delivery's text to the URL in its target through the host's
/// HTTP service, and declares a per-target and a shared rate limit.
final class HTTPPostChannel: RateLimitedChannel {
    struct Configuration: Decodable {}

    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-http-channel", name: "HTTP Channel", version: "1.0.0",
                         networkHosts: ["hooks.example.com", "*.cdn.example.com"])
    }

    let context: PluginContext

    init(configuration: Configuration, context: PluginContext) throws {
        self.context = context
    }

    func deliver(_ delivery: Delivery, completion: DeliveryCompletion) throws {
        let url = String(delivery.targetJSON.dropFirst(9).dropLast(2))  // {"url": "…"}
        let signature = try context.hmac(.sha256, key: Array("key".utf8), message: Array(delivery.text.utf8))
        let request = HTTPRequest(method: "POST", url: url,
                                  headers: [HTTPHeader("Content-Type", "text/plain"),
                                            HTTPHeader("X-Signature", signature.map { String(format: "%02x", $0) }.joined())],
                                  body: Array(delivery.text.utf8))
        try context.send(request) { result in
            switch result {
            case .success(let response) where response.status == 200:
                completion(DeliveryResult(.delivered, externalID: response.header("x-id") ?? ""))
            case .success(let response):
                completion(DeliveryResult(.retry, retryAfterMs: Int64(response.header("retry-after") ?? "0")! * 1000,
                                          reason: "HTTP \(response.status): \(response.bodyText)"))
            case .failure(let failure):
                completion(DeliveryResult(.retry, reason: failure.message))
            }
        }
    }

    func rateLimits(forTarget targetJSON: String) throws -> [RateLimit] {
        guard targetJSON.contains("https://") else { throw PluginError.invalidConfig("target.url must be an https URL") }
        return [RateLimit(bucket: "all", capacity: 30, windowMs: 1000), RateLimit(bucket: targetJSON, capacity: 1, windowMs: 1000)]
    }
}
