import AlphaPlusJSON
@_exported import AlphaPlusSDK
import CAlphaPlus
import Foundation

/// A fake host for unit-testing a plugin without the runtime. It drives the
/// plugin through the same C table the real host uses (entry, init, create,
/// capability tables), validates configs against the plugin's schema, and
/// records what the plugin does: logs, metrics, emitted events, state.
/// Time is manual: `advance(byNs:)` fires due timers in order.
public final class TestHost {
    public struct LogLine: Equatable, Sendable {
        public var level: LogLevel
        public var message: String
    }
    public struct Metric: Equatable, Sendable {
        public var kind: ap_metric_kind.RawValue
        public var name: String
        public var value: Double
    }
    /// One call of a delivery's `done`.
    public struct Completion: Equatable, Sendable {
        public var idempotencyKey: String
        public var result: DeliveryResult

        public init(idempotencyKey: String, result: DeliveryResult) {
            self.idempotencyKey = idempotencyKey
            self.result = result
        }
    }

    public private(set) var logs: [LogLine] = []
    public private(set) var metrics: [Metric] = []
    public private(set) var emitted: [MarketEvent] = []
    /// Every completion of a delivery, in order, including those that
    /// arrive after `deliver` returned (e.g. from a timer).
    public fileprivate(set) var completions: [Completion] = []
    public private(set) var nowNs: Int64
    /// Secrets every instance created from now on can read.
    public var secrets: [String: String]
    /// Answers the plugins' HTTP requests (a fake platform, or a closure).
    /// nil: the host offers no HTTP service, as a host before it did.
    public var httpHandler: ((HTTPRequest) -> Result<HTTPResponse, PluginError>)?
    /// The tiers a subscription may name, and the one a subscriber without a
    /// paid subscription receives (the tenant's distribution tiers).
    public var subscriptionTiers: Set<String> = ["premium", "basic", "free"]
    public var unpaidTier = "free"
    /// The tenant's subscribers (one tenant per TestHost).
    public internal(set) var subscriptions = TestSubscriptions()
    /// When set, every subscription service answers this status and changes
    /// nothing, e.g. AP_ERR_UNAVAILABLE as a host whose store is down.
    public var subscriptionServicesRefusal: ap_status?
    /// Every HTTP request the host accepted, in order.
    public private(set) var httpRequests: [HTTPRequest] = []
    /// Requests refused because the plugin does not declare their host.
    public private(set) var refusedHTTPRequests: [HTTPRequest] = []
    /// Accepted requests whose answer has not been handed to the plugin.
    private var pendingHTTP: [(id: UInt64, request: HTTPRequest, fn: ap_http_response_fn, user: UnsafeMutableRawPointer?)] = []
    private var nextRequestID: UInt64 = 1

    private var timers: [UInt64: (due: Int64, interval: Int64, fn: ap_timer_fn, user: UnsafeMutableRawPointer?,
                                  owner: TestContext)] = [:]
    private var nextTimerID: UInt64 = 1
    private var contexts: [TestContext] = []
    /// Done contexts handed to plugins, kept for the host's life.
    fileprivate var pendingDeliveries: [PendingDelivery] = []
    /// The host table is [load]: a plugin may keep it for the life of the
    /// process, so it is shared by every TestHost and never freed. Its
    /// services find their TestHost through the context.
    nonisolated(unsafe) private static let api: UnsafePointer<ap_host_api> = {
        let api = UnsafeMutablePointer<ap_host_api>.allocate(capacity: 1)
        var table = TestHost.makeAPI()
        TestHost.subscriptionServices(&table)
        api.initialize(to: table)
        return UnsafePointer(api)
    }()

    public init(nowNs: Int64 = 1_700_000_000_000_000_000, secrets: [String: String] = [:]) {
        self.nowNs = nowNs
        self.secrets = secrets
    }

    /// Loads a Swift plugin type through its exported table.
    public func load<P: PluginInstance>(_ type: P.Type) throws -> TestPlugin {
        try load(PluginExport.entry(type))
    }

    /// Loads any plugin table (e.g. a C plugin's `ap_plugin_entry()`).
    public func load(_ table: UnsafePointer<ap_plugin_api>) throws -> TestPlugin {
        let plugin = try TestPlugin(table: table, host: self)
        var err = TestHost.emptyError()
        let pluginContext = context(tenant: "", instance: "")
        let status = table.pointee.`init`(table, TestHost.api, pluginContext.opaque, &err)
        guard status == AP_OK else { throw PluginError(status: status, TestHost.message(err)) }
        return plugin
    }

    /// Hands every pending HTTP request to `httpHandler` and its answer to
    /// the plugin, in order, including requests those answers start. As the
    /// real host, answers arrive after the call that made the request.
    public func completeHTTPRequests() {
        while !pendingHTTP.isEmpty {
            let next = pendingHTTP.removeFirst()
            let result = httpHandler?(next.request) ?? .failure(.unavailable("no HTTP handler"))
            switch result {
            case .success(let response): response.withCResponse { next.fn(next.user, next.id, $0) }
            case .failure(let failure): HTTPResponse.withCFailure(failure) { next.fn(next.user, next.id, $0) }
            }
        }
    }

    /// Moves the clock forward, firing every timer that falls due, in order,
    /// and answering the HTTP requests the timers start.
    public func advance(byNs delta: Int64) {
        completeHTTPRequests()
        defer { completeHTTPRequests() }
        let end = nowNs + delta
        // A destroyed instance's timers were cancelled before destroy.
        timers = timers.filter { !$0.value.owner.isDestroyed }
        while let (id, timer) = timers.filter({ $0.value.due <= end }).min(by: { ($0.value.due, $0.key) < ($1.value.due, $1.key) }) {
            nowNs = timer.due
            if timer.interval > 0 { timers[id]!.due += timer.interval } else { timers[id] = nil }
            timer.fn(timer.user, id)
            completeHTTPRequests()
        }
        nowNs = end
    }

    /// Everything an instance saved, by key.
    public func state(of instance: TestInstance) -> [String: [UInt8]] { instance.context.state }

    func context(tenant: String, instance: String, networkHosts: [String] = [], services: ServicePermissions = []) -> TestContext {
        let context = TestContext(host: self, tenant: tenant, instance: instance, networkHosts: networkHosts, services: services)
        contexts.append(context)
        return context
    }

    static func emptyError() -> ap_error {
        var err = ap_error()
        err.struct_size = UInt32(MemoryLayout<ap_error>.size)
        return err
    }

    static func message(_ err: ap_error) -> String {
        withUnsafeBytes(of: err.message) {
            String(decoding: UnsafeRawBufferPointer(rebasing: $0[..<min(Int(err.message_len), $0.count)]), as: UTF8.self)
        }
    }

    /// Whether `key` is a state key by the contract; logs why not, as the host does.
    private static func acceptsStateKey(_ key: ap_str, _ context: TestContext) -> Bool {
        guard let problem = StateLimits.keyProblem(UnsafeRawBufferPointer(start: key.ptr, count: key.ptr == nil ? 0 : key.len)) else {
            return true
        }
        context.host.logs.append(LogLine(level: .warning, message: "state key refused: \(problem)"))
        return false
    }

    private static func makeAPI() -> ap_host_api {
        ap_host_api(
            struct_size: UInt32(MemoryLayout<ap_host_api>.size),
            abi_major: UInt16(AP_ABI_MAJOR), abi_minor: UInt16(AP_ABI_MINOR),
            log: { ctx, level, message in
                TestContext.from(ctx).host.logs.append(LogLine(level: LogLevel(rawValue: level.rawValue) ?? .info, message: message.string))
            },
            now_ns: { ctx in TestContext.from(ctx).host.nowNs },
            timer_start: { ctx, delay, interval, fn, user, outID in
                let host = TestContext.from(ctx).host
                guard let fn, delay >= 0, interval >= 0 else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
                let id = host.nextTimerID
                host.nextTimerID += 1
                host.timers[id] = (host.nowNs + delay, interval, fn, user, TestContext.from(ctx))
                outID?.pointee = id
                return ap_status(AP_OK)
            },
            timer_cancel: { ctx, id in
                TestContext.from(ctx).host.timers.removeValue(forKey: id) == nil ? ap_status(AP_ERR_NOT_FOUND) : ap_status(AP_OK)
            },
            // The host's rules: a key or value beyond `StateLimits` is refused, with a warning.
            state_get: { ctx, key, fn, user in
                let context = TestContext.from(ctx)
                guard TestHost.acceptsStateKey(key, context) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
                guard let value = context.state[key.string] else { return ap_status(AP_ERR_NOT_FOUND) }
                value.withUnsafeBufferPointer { fn?(user, $0.baseAddress, $0.count) }
                return ap_status(AP_OK)
            },
            state_set: { ctx, key, bytes, len in
                let context = TestContext.from(ctx)
                guard TestHost.acceptsStateKey(key, context), bytes != nil || len == 0 else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
                if let problem = StateLimits.valueProblem(length: len) {
                    context.host.logs.append(LogLine(level: .warning, message: "state '\(key.string)' refused: \(problem)"))
                    return ap_status(AP_ERR_INVALID_ARGUMENT)
                }
                context.state[key.string] = bytes.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? []
                return ap_status(AP_OK)
            },
            state_delete: { ctx, key in
                let context = TestContext.from(ctx)
                guard TestHost.acceptsStateKey(key, context) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
                return context.state.removeValue(forKey: key.string) == nil ? ap_status(AP_ERR_NOT_FOUND) : ap_status(AP_OK)
            },
            secret_get: { ctx, name, fn, user in
                let context = TestContext.from(ctx)
                guard !context.instance.isEmpty, let value = context.secrets[name.string] else { return ap_status(AP_ERR_NOT_FOUND) }
                var text = value
                text.withUTF8 { fn?(user, $0.baseAddress, $0.count) }
                return ap_status(AP_OK)
            },
            metric_record: { ctx, kind, name, value in
                TestContext.from(ctx).host.metrics.append(Metric(kind: kind.rawValue, name: name.string, value: value))
            },
            emit_event: { ctx, event in
                guard let event, let decoded = MarketEvent(event) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
                TestContext.from(ctx).host.emitted.append(decoded)
                return ap_status(AP_OK)
            },
            http_request: { ctx, request, fn, user, outID in
                let context = TestContext.from(ctx)
                let host = context.host
                guard let request, let fn, host.httpHandler != nil else {
                    return ap_status(host.httpHandler == nil ? AP_ERR_UNSUPPORTED : AP_ERR_INVALID_ARGUMENT)
                }
                let copied = HTTPRequest(request)
                guard context.mayReach(copied.url) else {
                    host.refusedHTTPRequests.append(copied)
                    host.logs.append(LogLine(level: .warning, message: "HTTP request to \(copied.url) refused: its host is not in the plugin's network permissions"))
                    return ap_status(AP_ERR_PERMISSION_DENIED)
                }
                let id = host.nextRequestID
                host.nextRequestID += 1
                host.httpRequests.append(copied)
                host.pendingHTTP.append((id, copied, fn, user))
                outID?.pointee = id
                return ap_status(AP_OK)
            },
            http_cancel: { ctx, id in
                let host = TestContext.from(ctx).host
                guard let index = host.pendingHTTP.firstIndex(where: { $0.id == id }) else { return ap_status(AP_ERR_NOT_FOUND) }
                let cancelled = host.pendingHTTP.remove(at: index)
                HTTPResponse.withCFailure(.unavailable("cancelled")) { cancelled.fn(cancelled.user, cancelled.id, $0) }
                return ap_status(AP_OK)
            },
            ws_connect: nil, ws_send: nil, ws_close: nil,
            crypto_hmac: { _, algorithm, key, keyLength, data, dataLength, out, capacity, outLength in
                guard let algorithm = HMACAlgorithm(rawValue: algorithm) else { return ap_status(AP_ERR_UNSUPPORTED) }
                guard capacity >= algorithm.digestLength, let out else { return ap_status(AP_ERR_BUFFER_TOO_SMALL) }
                let digest = TestCrypto.hmac(algorithm, key: key.map { Array(UnsafeBufferPointer(start: $0, count: keyLength)) } ?? [],
                                             message: data.map { Array(UnsafeBufferPointer(start: $0, count: dataLength)) } ?? [])
                for (i, byte) in digest.enumerated() { out[i] = byte }
                outLength?.pointee = digest.count
                return ap_status(AP_OK)
            },
            // Filled in by subscriptionServices (TestSubscriptions.swift).
            subscriber_link: nil, subscriber_unlink: nil, subscription_update: nil, subscriber_get: nil)
    }
}

/// The host-side identity of one caller.
final class TestContext {
    unowned let host: TestHost
    let tenant: String
    let instance: String
    var state: [String: [UInt8]] = [:]
    let secrets: [String: String]
    /// The network hosts the plugin declares ("*.example.com" matches subdomains).
    let networkHosts: [String]
    /// The host services the plugin asked for in its descriptor.
    let services: ServicePermissions
    /// Set when the instance is destroyed; its timers never fire again.
    var isDestroyed = false

    init(host: TestHost, tenant: String, instance: String, networkHosts: [String], services: ServicePermissions) {
        self.host = host
        self.tenant = tenant
        self.instance = instance
        self.secrets = host.secrets
        self.networkHosts = networkHosts
        self.services = services
    }

    /// Whether the plugin declares the URL's host, as the real host checks.
    func mayReach(_ url: String) -> Bool {
        guard !instance.isEmpty, let components = URLComponents(string: url), let name = components.host?.lowercased(),
              components.scheme == "https" || components.scheme == "http" else { return false }
        return networkHosts.contains { pattern in
            let pattern = pattern.lowercased()
            if pattern.hasPrefix("*.") { return name.hasSuffix(pattern.dropFirst(1)) }
            return name == pattern
        }
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    static func from(_ raw: OpaquePointer?) -> TestContext {
        Unmanaged<TestContext>.fromOpaque(UnsafeRawPointer(raw!)).takeUnretainedValue()
    }
}

/// A plugin loaded into a `TestHost`.
public final class TestPlugin {
    let table: UnsafePointer<ap_plugin_api>
    /// Strong: a plugin (and its instances) keep their host alive.
    let host: TestHost
    public let id: String
    public let version: String
    public let capabilities: [String]
    public let schema: JSONSchema
    /// The network hosts the descriptor declares.
    public let networkHosts: [String]
    /// The host services the descriptor asks for.
    public let services: ServicePermissions

    init(table: UnsafePointer<ap_plugin_api>, host: TestHost) throws {
        self.table = table
        self.host = host
        let descriptor = table.pointee.descriptor.pointee
        id = descriptor.id.string
        version = descriptor.version.string
        capabilities = UnsafeBufferPointer(start: descriptor.capabilities, count: descriptor.capability_count).map(\.string)
        networkHosts = descriptor.permissions.map { permissions in
            UnsafeBufferPointer(start: permissions.pointee.network_hosts, count: permissions.pointee.network_host_count).map(\.string)
        } ?? []
        services = descriptor.permissions.map { permissions in
            let end = MemoryLayout<ap_permissions>.offset(of: \.services)! + MemoryLayout<UInt64>.size
            return Int(permissions.pointee.struct_size) >= end ? ServicePermissions(rawValue: permissions.pointee.services) : []
        } ?? []
        do {
            schema = try JSONSchema(parsing: descriptor.config_schema_json.string)
        } catch {
            throw PluginError.invalidConfig("the plugin's config schema does not compile: \(error)")
        }
    }

    /// Validates `config` against the schema (as the host does), then
    /// creates an instance. Schema violations and create errors throw.
    public func create(config: String = "{}", tenant: String = "test", instance: String = "test") throws -> TestInstance {
        let value: JSONValue
        do { value = try JSONValue(parsing: config) } catch { throw PluginError.invalidConfig("config is not JSON: \(error)") }
        let violations = schema.validate(value)
        guard violations.isEmpty else {
            throw PluginError.invalidConfig(violations.map(\.description).joined(separator: "; "))
        }
        let context = host.context(tenant: tenant, instance: instance, networkHosts: networkHosts, services: services)
        var err = TestHost.emptyError()
        var raw: OpaquePointer?
        let status = withAPStr(tenant) { tenant in
            withAPStr(instance) { instanceID in
                withAPStr(value.jsonText) { json in
                    var args = ap_create_args(struct_size: UInt32(MemoryLayout<ap_create_args>.size),
                                              host_context: context.opaque, tenant_id: tenant,
                                              instance_id: instanceID, config_json: json)
                    return table.pointee.create(table, &args, &raw, &err)
                }
            }
        }
        guard status == AP_OK, let raw else { throw PluginError(status: status, TestHost.message(err)) }
        return TestInstance(plugin: self, raw: raw, context: context)
    }

    func capability<T>(_ id: String, as _: T.Type) throws -> UnsafePointer<T> {
        guard let table = withAPStr(id, { table.pointee.get_capability(table, $0) }) else {
            throw PluginError.unsupported("plugin \(self.id) does not offer \(id)")
        }
        return table.assumingMemoryBound(to: T.self)
    }
}

/// One instance created in a `TestHost`; call its capabilities as the host would.
public final class TestInstance {
    let plugin: TestPlugin
    let raw: OpaquePointer
    let context: TestContext

    init(plugin: TestPlugin, raw: OpaquePointer, context: TestContext) {
        self.plugin = plugin
        self.raw = raw
        self.context = context
    }

    deinit {
        // As the host does: cancel the instance's timers, then destroy it.
        context.isDestroyed = true
        plugin.table.pointee.destroy(plugin.table, raw)
    }

    public func evaluate(_ frame: TestFrame) throws -> Vote {
        let head = try plugin.capability(AP_CAPABILITY_HEAD_V1, as: ap_head_v1.self)
        var vote = ap_vote()
        vote.struct_size = UInt32(MemoryLayout<ap_vote>.size)
        var err = TestHost.emptyError()
        let status = frame.withCFrame { head.pointee.evaluate(raw, $0, &vote, &err) }
        guard status == AP_OK else { throw PluginError(status: status, TestHost.message(err)) }
        return Vote(&vote)
    }

    public func send(_ event: MarketEvent) throws {
        let head = try plugin.capability(AP_CAPABILITY_HEAD_V1, as: ap_head_v1.self)
        event.withCEvent { head.pointee.on_event?(raw, $0) }
    }

    public func start() throws { try call(exchange().pointee.start) }
    public func stop() throws { try exchange().pointee.stop(raw) }

    public func subscribe(_ subscription: Subscription) throws {
        let exchange = try exchange()
        try withAPStr(subscription.symbol) { symbol in
            var raw = ap_subscription(struct_size: UInt32(MemoryLayout<ap_subscription>.size), symbol: symbol,
                                      streams: subscription.streams.rawValue, book_depth: UInt32(subscription.bookDepth),
                                      candle_interval_s: subscription.candleIntervalSeconds)
            var err = TestHost.emptyError()
            let status = exchange.pointee.subscribe(self.raw, &raw, &err)
            guard status == AP_OK else { throw PluginError(status: status, TestHost.message(err)) }
        }
    }

    public func unsubscribe(symbol: String) throws {
        let exchange = try exchange()
        try withAPStr(symbol) { symbol in try call { exchange.pointee.unsubscribe($0, symbol, $1) } }
    }

    /// Delivers and returns the result the plugin completed with, or nil if
    /// it has not completed yet (it may complete after a timer; the result
    /// then appears in `TestHost.completions`).
    public func deliver(_ delivery: Delivery) throws -> DeliveryResult? {
        let channel = try plugin.capability(AP_CAPABILITY_CHANNEL_V1, as: ap_channel_v1.self)
        // The done context must outlive this call: the host keeps it.
        let pending = PendingDelivery(host: context.host, idempotencyKey: delivery.idempotencyKey)
        context.host.pendingDeliveries.append(pending)
        var err = TestHost.emptyError()
        let status = delivery.withCDelivery {
            channel.pointee.deliver(raw, $0, { context, result in
                let pending = Unmanaged<PendingDelivery>.fromOpaque(context!).takeUnretainedValue()
                let completed = DeliveryResult(result!)
                pending.result = completed
                pending.host.completions.append(TestHost.Completion(idempotencyKey: pending.idempotencyKey, result: completed))
            }, Unmanaged.passUnretained(pending).toOpaque(), &err)
        }
        guard status == AP_OK else { throw PluginError(status: status, TestHost.message(err)) }
        context.host.completeHTTPRequests()
        return pending.result
    }

    /// The platform limits the channel declares for a destination.
    public func rateLimits(forTarget targetJSON: String) throws -> [RateLimit] {
        let table = try plugin.capability(AP_CAPABILITY_RATE_LIMITS_V1, as: ap_rate_limits_v1.self)
        var limits: [RateLimit] = []
        var err = TestHost.emptyError()
        let status = withUnsafeMutablePointer(to: &limits) { box in
            withAPStr(targetJSON) { target in
                table.pointee.limits_for_target(raw, target, { user, raw, count in
                    user!.assumingMemoryBound(to: [RateLimit].self).pointee = RateLimit.from(raw, count: count)
                }, box, &err)
            }
        }
        guard status == AP_OK else { throw PluginError(status: status, TestHost.message(err)) }
        return limits
    }

    public func handle(_ request: WebhookRequest) throws -> WebhookResponse {
        let webhook = try plugin.capability(AP_CAPABILITY_WEBHOOK_V1, as: ap_webhook_v1.self)
        var response = WebhookResponse()
        var err = TestHost.emptyError()
        let status = withUnsafeMutablePointer(to: &response) { box in
            var responder = ap_webhook_response(
                struct_size: UInt32(MemoryLayout<ap_webhook_response>.size), host_data: UnsafeMutableRawPointer(box),
                set_status: { data, status in data!.assumingMemoryBound(to: WebhookResponse.self).pointee.status = status },
                add_header: { data, name, value in
                    data!.assumingMemoryBound(to: WebhookResponse.self).pointee.headers.append((name.string, value.string))
                },
                append_body: { data, bytes, len in
                    guard let bytes else { return }
                    data!.assumingMemoryBound(to: WebhookResponse.self).pointee.body += UnsafeBufferPointer(start: bytes, count: len)
                })
            return request.withCRequest { webhook.pointee.handle(raw, $0, &responder, &err) }
        }
        guard status == AP_OK else { throw PluginError(status: status, TestHost.message(err)) }
        return response
    }

    private func exchange() throws -> UnsafePointer<ap_exchange_v1> {
        try plugin.capability(AP_CAPABILITY_EXCHANGE_V1, as: ap_exchange_v1.self)
    }

    private func call(_ fn: (OpaquePointer?, UnsafeMutablePointer<ap_error>?) -> ap_status) throws {
        var err = TestHost.emptyError()
        let status = fn(raw, &err)
        guard status == AP_OK else { throw PluginError(status: status, TestHost.message(err)) }
    }
}

/// The host's record of one delivery, the `done_context` it passes.
final class PendingDelivery {
    unowned let host: TestHost
    let idempotencyKey: String
    var result: DeliveryResult?

    init(host: TestHost, idempotencyKey: String) {
        self.host = host
        self.idempotencyKey = idempotencyKey
    }
}

/// A feature frame for tests.
public struct TestFrame {
    public var venue: String
    public var symbol: String
    public var timeframeSeconds: Int64
    public var timestampNs: Int64
    public var candle: Candle
    public var indicators: KeyValuePairs<String, Double>
    public var book: BookFeatures?
    public var layoutID: UInt64

    public init(venue: String = "sim", symbol: String = "BTC-USDT", timeframeSeconds: Int64 = 60,
                timestampNs: Int64 = 1_700_000_060_000_000_000,
                candle: Candle = Candle(openTimeNs: 1_700_000_000_000_000_000, intervalSeconds: 60, open: 100, high: 101,
                                        low: 99, close: 100.5, volume: 10),
                indicators: KeyValuePairs<String, Double> = [:], book: BookFeatures? = nil, layoutID: UInt64 = 1) {
        self.venue = venue
        self.symbol = symbol
        self.timeframeSeconds = timeframeSeconds
        self.timestampNs = timestampNs
        self.candle = candle
        self.indicators = indicators
        self.book = book
        self.layoutID = layoutID
    }

    public func withCFrame<R>(_ body: (UnsafePointer<ap_feature_frame>) throws -> R) rethrows -> R {
        let values = indicators.map(\.value)
        return try withAPStrs([venue, symbol] + indicators.map(\.key)) { s in
            try Array(s[2...]).withUnsafeBufferPointer { names in
                try values.withUnsafeBufferPointer { values in
                    var rawBook = book.map { book -> ap_book_features in
                        var raw = ap_book_features()
                        raw.struct_size = UInt32(MemoryLayout<ap_book_features>.size)
                        (raw.best_bid, raw.best_ask, raw.best_bid_size, raw.best_ask_size) = (book.bestBid, book.bestAsk, book.bestBidSize, book.bestAskSize)
                        (raw.mid, raw.spread, raw.microprice, raw.imbalance) = (book.mid, book.spread, book.microprice, book.imbalance)
                        (raw.depth, raw.trade_flow_imbalance) = (book.depth, book.tradeFlowImbalance)
                        return raw
                    }
                    func lend(_ bookPointer: UnsafePointer<ap_book_features>?) throws -> R {
                        var frame = ap_feature_frame(
                            struct_size: UInt32(MemoryLayout<ap_feature_frame>.size), trigger: FrameTrigger.candleClose.rawValue,
                            venue: s[0], symbol: s[1], timeframe_s: timeframeSeconds, ts_ns: timestampNs,
                            candle: ap_candle(open_time_ns: candle.openTimeNs, interval_s: candle.intervalSeconds, open: candle.open,
                                              high: candle.high, low: candle.low, close: candle.close, volume: candle.volume,
                                              trade_count: candle.tradeCount),
                            layout_id: layoutID, indicator_names: names.baseAddress, indicator_values: values.baseAddress,
                            indicator_count: values.count, book: bookPointer)
                        return try body(&frame)
                    }
                    if rawBook != nil { return try withUnsafePointer(to: &rawBook!) { try lend($0) } }
                    return try lend(nil)
                }
            }
        }
    }
}
