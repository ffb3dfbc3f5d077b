import CAlphaPlus
import enum AlphaPlusSDK.StateLimits
import Crypto
import Dispatch
import Foundation
import HTTPClient
import MetricCatalog
import Logging
import Subscriptions
import Metrics
import Synchronization
import Timekeeping

/// The host side of the contract's services table (ap_host_api): one table
/// for the process, every call scoped by the caller's HostContext.
// @unchecked: the event sink, the HTTP client and plugin metric kinds are guarded by `lock`; the rest is immutable.
public final class HostServices: @unchecked Sendable {
    public typealias EventSink = @Sendable (HostContext, UnsafePointer<ap_event_header>) -> Void

    private let lock = NSLock()
    private var eventSink: EventSink?
    /// The totals `metrics` shows.
    let totals = MetricTotals()
    /// The kind each plugin metric's name in /metrics was first recorded
    /// as: one name, one kind, whichever plugin records it.
    private var pluginMetricKinds: [String: (kind: ap_metric_kind, plugin: String)] = [:]
    private(set) var rejectedEvents = 0
    /// Where the contexts' metrics go: the metrics factory current when
    /// the services were made (the Prometheus backend in `alphaplus run`).
    let metricsFactory: any MetricsFactory
    let logger: Logger
    /// Platform origins mapped to local ones (host config
    /// `network.endpoint_overrides`), applied after the allowlist check.
    let endpointOverrides: [HTTPOrigin: HTTPOrigin]
    /// Plugins' `now_ns` and their timers: the host's clock, so a
    /// backtest's plugins see the data's time.
    public let clock: any HostClock
    private let httpConfiguration: HTTPClient.Configuration
    private var client: HTTPClient?
    /// Where instances' key/value state is kept.
    let stateStorage: InstanceStateStorage
    /// Where tenants' subscribers are kept, and each tenant's tiers
    /// (`setSubscriptions`); without them the subscription services answer
    /// AP_ERR_UNAVAILABLE.
    var subscriptionStorage: SubscriptionStorage?
    var subscriptionPolicies: [String: SubscriptionPolicy] = [:]

    public struct MetricKey: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let plugin: String
        public let tenant: String
        public let instance: String
        /// Labels the host adds to its own metrics (e.g. outcome="ok").
        public var labels: [String: String] = [:]
        public var description: String {
            let extra = labels.sorted { $0.key < $1.key }.map { ",\($0.key)=\"\($0.value)\"" }.joined()
            return "\(name){plugin=\"\(plugin)\",tenant=\"\(tenant)\",instance=\"\(instance)\"\(extra)}"
        }
    }

    /// `state` keeps instances' key/value state: the store in `run` and
    /// `outbox drain`, process memory otherwise (tests, backtests). Metrics
    /// go to `MetricsSystem.factory` as it is now.
    public init(logger: Logger = Logger(label: "alphaplus.plugins"), clock: any HostClock = WallClock(),
                endpointOverrides: [HTTPOrigin: HTTPOrigin] = [:], http: HTTPClient.Configuration = HTTPClient.Configuration(),
                state: InstanceStateStorage = InMemoryInstanceStateStorage()) {
        self.logger = logger
        self.clock = clock
        self.endpointOverrides = endpointOverrides
        httpConfiguration = http
        stateStorage = state
        metricsFactory = MetricsSystem.factory
    }

    /// The HTTP client, started on first use: a host that never makes a
    /// request never starts its thread.
    var httpClient: HTTPClient {
        lock.withLock {
            if let client { return client }
            let started = HTTPClient(configuration: httpConfiguration)
            client = started
            return started
        }
    }

    /// The services table plugins receive: one for the process, [load]
    /// lifetime as the contract requires; callers are told apart by context.
    var api: UnsafePointer<ap_host_api> { Self.permanentTable }

    nonisolated(unsafe) private static let permanentTable: UnsafePointer<ap_host_api> = {
        let table = UnsafeMutablePointer<ap_host_api>.allocate(capacity: 1)
        table.initialize(to: HostServices.table)
        return UnsafePointer(table)
    }()

    /// Where emitted market events go (ingest, from the market-data layer).
    public func setEventSink(_ sink: @escaping EventSink) {
        lock.withLock { eventSink = sink }
    }

    /// Every in-memory total: the host's own (`events_emitted`,
    /// `http_requests`, `delivery_done_ignored`) and plugins' metrics.
    public var metrics: [MetricKey: Double] { totals.values }

    public var rejectedEventCount: Int { lock.withLock { rejectedEvents } }

    func pluginContext(pluginID: String, version: String) -> HostContext {
        register(HostContext(services: self, pluginID: pluginID, pluginVersion: version, tenantID: "", instanceID: "", secrets: [:], networkHosts: [],
                             servicePermissions: 0, state: [:]))
    }

    /// An instance's context, with its state namespace loaded once from the
    /// storage; throws when the storage cannot be read, or when a part of
    /// the namespace holds a NUL (the store would cut it there, and instance
    /// "a\0b" would share the state of instance "a").
    func instanceContext(pluginID: String, pluginVersion: String, tenantID: String, instanceID: String, secrets: [String: String],
                         networkHosts: [String], servicePermissions: UInt64) throws -> HostContext {
        for (part, value) in [("plugin id", pluginID), ("tenant id", tenantID), ("instance id", instanceID)] where value.utf8.contains(0) {
            throw InstanceStateNamespaceError(description: "the \(part) '\(value.replacingOccurrences(of: "\0", with: "\\0"))' contains NUL")
        }
        let state = try stateStorage.values(tenant: tenantID, plugin: pluginID, instance: instanceID)
        return register(HostContext(services: self, pluginID: pluginID, pluginVersion: pluginVersion, tenantID: tenantID,
                                    instanceID: instanceID, secrets: secrets,
                                    networkHosts: networkHosts, servicePermissions: servicePermissions, state: state))
    }

    /// A plugin calling with a context the host released gets nothing.
    private func register(_ context: HostContext) -> HostContext {
        LiveContexts.shared.insert(context)
        return context
    }

    /// After this no callback reaches the plugin for `context`: timers are
    /// cancelled, and so are its HTTP requests in flight, silently.
    func release(_ context: HostContext) {
        context.cancelAllTimers()
        let inFlight = context.releaseHTTPRequests()
        if let client = lock.withLock({ client }) { inFlight.forEach { client.cancel(HTTPClient.RequestID(rawValue: $0)) } }
        LiveContexts.shared.remove(context)
    }

    fileprivate static func context(_ raw: OpaquePointer?) -> HostContext? {
        guard let raw else { return nil }
        return LiveContexts.shared.context(at: UnsafeRawPointer(raw))
    }

    /// Adds to one of the host's in-memory totals.
    func count(_ name: String, _ context: HostContext, labels: [String: String] = [:]) {
        totals.add(1, to: totals.total(MetricKey(name: name, plugin: context.pluginID, tenant: context.tenantID,
                                                 instance: context.instanceID, labels: labels)))
    }

    /// A plugin's metric_record: kept in memory and sent to swift-metrics
    /// as `alphaplus_plugin_<name>` labelled tenant, plugin and instance.
    /// Refused with a warning: a name not `[a-z0-9_]+`, a kind the name
    /// does not have (one name, one kind), an unknown kind, a value that is
    /// not finite, a negative counter increment.
    func recordPluginMetric(_ kind: ap_metric_kind, _ name: ap_str, _ value: Double, _ context: HostContext) {
        let bytes = UnsafeRawBufferPointer(start: name.ptr, count: name.ptr == nil ? 0 : name.len)
        guard let metric = context.metrics.pluginMetric(named: bytes) ?? addPluginMetric(kind, bytes, context) else { return }
        let refusal: String?
        if case .refused(let reason) = metric.handle {
            refusal = reason
        } else if metric.kind != kind {
            refusal = "it was recorded as a \(Self.describe(metric.kind)), not a \(Self.describe(kind)) (one name, one kind)"
        } else if !value.isFinite || (kind == AP_METRIC_COUNTER && value < 0) {
            refusal = "the value \(value) is not \(kind == AP_METRIC_COUNTER ? "a finite increment ≥ 0" : "finite")"
        } else {
            refusal = nil
        }
        if let refusal {
            context.logger.warning("metric '\(String(decoding: bytes, as: UTF8.self))' refused: \(refusal)")
            return
        }
        if let total = metric.total {
            if kind == AP_METRIC_GAUGE { totals.set(value, of: total) } else { totals.add(value, to: total) }
        }
        switch metric.handle {
        case .counter(let counter): counter.increment(by: value)
        case .gauge(let gauge): gauge.record(value)
        case .histogram(let histogram): histogram.record(value)
        case .refused: break
        }
    }

    /// The first record of a plugin metric in a context; nil (logged) for a
    /// bad name or kind.
    private func addPluginMetric(_ kind: ap_metric_kind, _ bytes: UnsafeRawBufferPointer, _ context: HostContext) -> ContextMetrics.PluginMetric? {
        let name = String(decoding: bytes, as: UTF8.self)
        guard !bytes.isEmpty, bytes.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }) else {
            context.logger.warning("metric name '\(name)' refused: use [a-z0-9_]+")
            return nil
        }
        guard [AP_METRIC_COUNTER, AP_METRIC_GAUGE, AP_METRIC_HISTOGRAM].contains(kind) else {
            context.logger.warning("metric '\(name)' refused: kind \(kind.rawValue) is not 0 (counter), 1 (gauge) or 2 (histogram)")
            return nil
        }
        let exposed = RuntimeMetrics.pluginMetricName(name, kind: kind)
        let refusal = lock.withLock { () -> String? in
            if let first = pluginMetricKinds[exposed] {
                guard first.kind == kind else {
                    return "\(exposed) is a \(Self.describe(first.kind)) (first recorded by plugin \(first.plugin)), not a \(Self.describe(kind))"
                }
                return nil
            }
            pluginMetricKinds[exposed] = (kind, context.pluginID)
            return nil
        }
        return context.metrics.addPluginMetric(named: name, kind: kind, refusal: refusal)
    }

    private static func describe(_ kind: ap_metric_kind) -> String {
        switch kind {
        case AP_METRIC_COUNTER: "counter"
        case AP_METRIC_GAUGE: "gauge"
        case AP_METRIC_HISTOGRAM: "histogram"
        default: "metric of kind \(kind.rawValue)"
        }
    }

    fileprivate func emit(_ event: UnsafePointer<ap_event_header>, _ context: HostContext) -> ap_status {
        if let problem = Self.malformation(of: event) {
            lock.withLock { rejectedEvents += 1 }
            context.metrics.countRefusedEvent()
            context.logger.warning("market event refused: \(problem)")
            return ap_status(AP_ERR_INVALID_ARGUMENT)
        }
        if let kind = MarketEventKind(contractKind: event.pointee.kind) { context.metrics.countEmitted(kind) }
        // Not `lock.withLock { eventSink }`: a closure returned through the
        // generic is re-wrapped, one allocation per event.
        lock.lock()
        let sink = eventSink
        lock.unlock()
        sink?(context, event)
        return ap_status(AP_OK)
    }

    /// Why an event cannot be read, or nil. Content checks (prices,
    /// sequences) belong to ingest; this only guards the struct itself.
    static func malformation(of event: UnsafePointer<ap_event_header>) -> String? {
        let minimum: Int
        switch event.pointee.kind {
        case AP_EVENT_TRADE.rawValue: minimum = MemoryLayout<ap_trade_event>.size
        case AP_EVENT_QUOTE.rawValue: minimum = MemoryLayout<ap_quote_event>.size
        case AP_EVENT_BOOK_SNAPSHOT.rawValue: minimum = MemoryLayout<ap_book_snapshot_event>.size
        case AP_EVENT_BOOK_DELTA.rawValue: minimum = MemoryLayout<ap_book_delta_event>.size
        case AP_EVENT_CANDLE.rawValue: minimum = MemoryLayout<ap_candle_event>.size
        case AP_EVENT_NEWS.rawValue: minimum = MemoryLayout<ap_news_event>.size
        default: return "unknown event kind \(event.pointee.kind)"
        }
        guard Int(event.pointee.struct_size) >= minimum else {
            return "struct_size \(event.pointee.struct_size) is smaller than \(minimum) for event kind \(event.pointee.kind)"
        }
        guard event.pointee.symbol.len > 0 || event.pointee.kind == AP_EVENT_NEWS.rawValue else { return "no symbol" }
        return nil
    }

    private static let table = ap_host_api(
        struct_size: UInt32(MemoryLayout<ap_host_api>.size),
        abi_major: ABI.major, abi_minor: ABI.minor,
        log: { raw, level, message in
            guard let context = HostServices.context(raw) else { return }
            let levels: [Logger.Level] = [.trace, .debug, .info, .warning, .error]
            let level = levels[min(Int(level.rawValue), levels.count - 1)]
            guard level >= context.logger.logLevel else { return }  // below the host's level: neither written nor counted
            let (write, droppedBefore) = context.logBudget.admit()
            if droppedBefore > 0 {
                context.logger.warning("\(droppedBefore) log lines of this instance dropped in one second (over \(LogBudget.linesPerSecond) a second)")
            }
            guard write else { return }
            context.logger.log(level: level, "\(message.string)", metadata: context.requestMetadata)
        },
        now_ns: { raw in HostServices.context(raw)?.services.clock.nowNs() ?? 0 },
        timer_start: { raw, delay, interval, fn, user, outID in
            guard let context = HostServices.context(raw) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.startTimer(delayNs: delay, intervalNs: interval, fn: fn, user: user, outID: outID)
        },
        timer_cancel: { raw, id in
            HostServices.context(raw)?.cancelTimer(id) ?? ap_status(AP_ERR_INVALID_ARGUMENT)
        },
        state_get: { raw, key, fn, user in
            guard let context = HostServices.context(raw), context.isInstance, let fn,
                  let key = context.stateKey(key) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            guard let value = context.stateValue(key) else { return ap_status(AP_ERR_NOT_FOUND) }
            value.withUnsafeBufferPointer { fn(user, $0.baseAddress, $0.count) }
            return ap_status(AP_OK)
        },
        state_set: { raw, key, bytes, len in
            guard let context = HostServices.context(raw), context.isInstance, bytes != nil || len == 0,
                  let key = context.stateKey(key) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            if let problem = StateLimits.valueProblem(length: len) {
                context.logger.warning("state '\(key)' refused: \(problem)")
                return ap_status(AP_ERR_INVALID_ARGUMENT)
            }
            return context.setStateValue(key, bytes.map { Array(UnsafeBufferPointer(start: $0, count: len)) } ?? [])
        },
        state_delete: { raw, key in
            guard let context = HostServices.context(raw), context.isInstance,
                  let key = context.stateKey(key) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.removeStateValue(key)
        },
        secret_get: { raw, name, fn, user in
            guard let context = HostServices.context(raw), context.isInstance, let fn else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            guard var value = context.secrets[name.string] else { return ap_status(AP_ERR_NOT_FOUND) }
            value.withUTF8 { fn(user, $0.baseAddress, $0.count) }
            return ap_status(AP_OK)
        },
        metric_record: { raw, kind, name, value in
            guard let context = HostServices.context(raw) else { return }
            context.services.recordPluginMetric(kind, name, value, context)
        },
        emit_event: { raw, event in
            guard let context = HostServices.context(raw), context.isInstance, let event else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.services.emit(event, context)
        },
        http_request: { raw, request, fn, user, outID in
            guard let context = HostServices.context(raw) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.services.startHTTPRequest(request, fn, user, outID, context)
        },
        http_cancel: { raw, id in
            guard let context = HostServices.context(raw) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.services.cancelHTTPRequest(id, context)
        },
        // Filled in by the market-data connectors; NULL tells plugins
        // WebSocket is not offered yet.
        ws_connect: nil, ws_send: nil, ws_close: nil,
        crypto_hmac: { raw, algorithm, key, keyLength, data, dataLength, out, capacity, outLength in
            guard HostServices.context(raw) != nil else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            let key = SymmetricKey(data: UnsafeRawBufferPointer(start: key, count: key == nil ? 0 : keyLength))
            let message = UnsafeRawBufferPointer(start: data, count: data == nil ? 0 : dataLength)
            let digest: [UInt8]
            switch algorithm {
            case UInt32(AP_HASH_SHA1.rawValue): digest = Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: key))
            case UInt32(AP_HASH_SHA256.rawValue): digest = Array(HMAC<SHA256>.authenticationCode(for: message, using: key))
            default: return ap_status(AP_ERR_UNSUPPORTED)
            }
            guard let out, capacity >= digest.count else { return ap_status(AP_ERR_BUFFER_TOO_SMALL) }
            digest.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: digest.count) }
            outLength?.pointee = digest.count
            return ap_status(AP_OK)
        },
        subscriber_link: { raw, subscriber, kind, value, reference, fn, user in
            guard let context = HostServices.context(raw) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.services.linkSubscriber(subscriber.string, kind.string, value.string, reference.string, fn, user, context)
        },
        subscriber_unlink: { raw, kind, value, reference in
            guard let context = HostServices.context(raw) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.services.unlinkSubscriber(kind.string, value.string, reference.string, context)
        },
        subscription_update: { raw, update, applied in
            guard let context = HostServices.context(raw), let update else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.services.updateSubscription(update, applied, context)
        },
        subscriber_get: { raw, kind, value, fn, user in
            guard let context = HostServices.context(raw), let fn else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.services.getSubscriber(kind.string, value.string, fn, user, context)
        })
}

/// Every live context of the process, by address. The services table is
/// one C table for all hosts, so this registry is process-wide: a pointer a
/// plugin hands back is looked up here before use, never dereferenced on
/// trust, so a released or forged context gets nothing.
final class LiveContexts: Sendable {
    static let shared = LiveContexts()
    /// By address.
    private let contexts = Mutex<[UInt: HostContext]>([:])

    func insert(_ context: HostContext) { contexts.withLock { $0[UInt(bitPattern: context.opaque)] = context } }
    func remove(_ context: HostContext) { contexts.withLock { $0[UInt(bitPattern: context.opaque)] = nil } }
    func context(at address: UnsafeRawPointer) -> HostContext? { contexts.withLock { $0[UInt(bitPattern: address)] } }
    var all: [HostContext] { contexts.withLock { Array($0.values) } }
}

/// One caller as the host sees it: a plugin (init) or one instance. Owns
/// the instance's serial executor, its state namespace, secrets and timers.
// @unchecked: timers and HTTP ids are guarded by `lock`, state by `stateLock`; the rest is immutable.
public final class HostContext: @unchecked Sendable {
    let services: HostServices
    public let pluginID: String
    public let pluginVersion: String
    public let tenantID: String
    public let instanceID: String
    let secrets: [String: String]
    /// The hosts the plugin's descriptor declares.
    let network: NetworkPermissions
    /// The host services the plugin's descriptor asks for (ap_service_permission).
    let servicePermissions: UInt64
    let logger: Logger
    /// Its metric handles, labelled tenant, plugin and instance.
    let metrics: ContextMetrics
    /// Every call into the instance, and every callback for it, runs here.
    let executor: DispatchQueue
    /// The call the executor is in (`calling`).
    let callInProgress = CallInProgress()
    /// The plugin's log lines a second (`LogBudget`).
    let logBudget = LogBudget()
    private let lock = NSLock()
    /// Held across a state write and its storage write-through, so memory
    /// and storage see the writes in the same order.
    private let stateLock = NSLock()
    /// The instance's state, loaded when the context is made; written through.
    private var state: [String: [UInt8]]
    /// Timers started and not cancelled (a one-shot timer leaves when it fires).
    private var timers: Set<UInt64> = []
    private var nextTimerID: UInt64 = 1
    /// HTTP requests started and not yet answered to the plugin.
    private var httpRequests: Set<UInt64> = []
    private var httpReleased = false
    /// The webhook request the instance is handling, set around its
    /// `handle` call so the plugin's own log lines carry the request's id.
    private var webhookRequestID: String?

    init(services: HostServices, pluginID: String, pluginVersion: String, tenantID: String, instanceID: String,
         secrets: [String: String], networkHosts: [String], servicePermissions: UInt64, state: [String: [UInt8]]) {
        self.services = services
        self.pluginVersion = pluginVersion
        self.servicePermissions = servicePermissions
        self.state = state
        self.pluginID = pluginID
        self.tenantID = tenantID
        self.instanceID = instanceID
        self.secrets = secrets
        network = NetworkPermissions(networkHosts)
        var logger = services.logger
        logger[metadataKey: "plugin"] = "\(pluginID)"
        if !tenantID.isEmpty { logger[metadataKey: "tenant"] = "\(tenantID)" }
        if !instanceID.isEmpty { logger[metadataKey: "instance"] = "\(instanceID)" }
        self.logger = logger
        metrics = ContextMetrics(factory: services.metricsFactory, totals: services.totals, tenant: tenantID, plugin: pluginID,
                                 instance: instanceID)
        executor = DispatchQueue(label: "alphaplus.\(pluginID).\(tenantID).\(instanceID)")
    }

    var isInstance: Bool { !instanceID.isEmpty }

    /// `request_id` while a webhook request is being handled, else nil.
    var requestMetadata: Logger.Metadata? {
        lock.withLock { webhookRequestID.map { ["request_id": .string($0)] } }
    }

    /// Runs `body` (a webhook call, on the executor) with `requestID` in
    /// the metadata of the plugin's log lines.
    func handlingRequest<R>(_ requestID: String, _ body: () -> R) -> R {
        lock.withLock { webhookRequestID = requestID }
        defer { lock.withLock { webhookRequestID = nil } }
        return body()
    }

    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }

    /// A copy of this instance's state (for diagnostics and tests).
    public var stateSnapshot: [String: [UInt8]] { stateLock.withLock { state } }

    /// The key a plugin passed as text, or nil (logged) when the contract
    /// refuses it (`StateLimits.keyProblem`).
    func stateKey(_ key: ap_str) -> String? {
        let bytes = UnsafeRawBufferPointer(start: key.ptr, count: key.ptr == nil ? 0 : key.len)
        if let problem = StateLimits.keyProblem(bytes) {
            logger.warning("state key refused: \(problem)")
            return nil
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    func stateValue(_ key: String) -> [UInt8]? { stateLock.withLock { state[key] } }

    /// Stores `value` under `key`, first in the storage, then in memory: a
    /// value the storage refused is not kept (AP_ERR_UNAVAILABLE).
    func setStateValue(_ key: String, _ value: [UInt8]) -> ap_status {
        stateLock.withLock {
            do {
                try services.stateStorage.set(tenant: tenantID, plugin: pluginID, instance: instanceID, key: key, value: value)
            } catch {
                logStateFailure("set", key, error)
                return ap_status(AP_ERR_UNAVAILABLE)
            }
            state[key] = value
            return ap_status(AP_OK)
        }
    }

    /// Removes `key` from the storage, then from memory.
    func removeStateValue(_ key: String) -> ap_status {
        stateLock.withLock {
            guard state[key] != nil else { return ap_status(AP_ERR_NOT_FOUND) }
            do {
                _ = try services.stateStorage.remove(tenant: tenantID, plugin: pluginID, instance: instanceID, key: key)
            } catch {
                logStateFailure("deleted", key, error)
                return ap_status(AP_ERR_UNAVAILABLE)
            }
            state[key] = nil
            return ap_status(AP_OK)
        }
    }

    /// One warning naming the entry, never its value.
    private func logStateFailure(_ action: String, _ key: String, _ error: any Error) {
        logger.warning("state '\(key)' of plugin \(pluginID), tenant \(tenantID), instance \(instanceID) could not be \(action): \(error)")
    }

    func startTimer(delayNs: Int64, intervalNs: Int64, fn: ap_timer_fn?, user: UnsafeMutableRawPointer?,
                    outID: UnsafeMutablePointer<UInt64>?) -> ap_status {
        guard isInstance, let fn, delayNs >= 0, intervalNs >= 0 else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
        let id: UInt64 = lock.withLock {
            defer { nextTimerID += 1 }
            timers.insert(nextTimerID)
            return nextTimerID
        }
        outID?.pointee = id
        let (now, overflow) = services.clock.nowNs().addingReportingOverflow(delayNs)
        scheduleTimer(id, atNs: overflow ? .max : now, intervalNs: intervalNs, fn: fn, userAddress: UInt(bitPattern: user))
        return ap_status(AP_OK)
    }

    /// Fires timer `id` on the executor at `atNs` on the host's clock. A
    /// repeating timer is armed again before its callback runs; one that
    /// fell behind (a backtest's clock jumping a whole bar) fires once and
    /// keeps its period from now, as a dispatch timer does after a pause.
    private func scheduleTimer(_ id: UInt64, atNs due: Int64, intervalNs: Int64, fn: @escaping ap_timer_fn, userAddress: UInt) {
        let clock = services.clock
        clock.wake(atNs: due, on: executor) { [weak self] in
            guard let self else { return }
            let live = lock.withLock { () -> Bool in
                guard timers.contains(id) else { return false }
                if intervalNs == 0 { timers.remove(id) }
                return true
            }
            guard live else { return }
            if intervalNs > 0 {
                let now = clock.nowNs()
                var next = due.addingReportingOverflow(intervalNs).overflow ? Int64.max : due + intervalNs
                if next <= now { next = now.addingReportingOverflow(intervalNs).overflow ? .max : now + intervalNs }
                scheduleTimer(id, atNs: next, intervalNs: intervalNs, fn: fn, userAddress: userAddress)
            }
            calling(.timer) { fn(UnsafeMutableRawPointer(bitPattern: userAddress), id) }
        }
    }

    func cancelTimer(_ id: UInt64) -> ap_status {
        lock.withLock { timers.remove(id) } != nil ? ap_status(AP_OK) : ap_status(AP_ERR_NOT_FOUND)
    }

    func cancelAllTimers() {
        lock.withLock { timers.removeAll() }
    }

    /// Runs `start` (which sends a request and returns its id) under the
    /// context's lock and records the id before releasing it, so the
    /// completion, which takes the lock too, always finds it. Nil when the
    /// context is released.
    func beginHTTPRequest(_ start: () throws(HTTPClientError) -> UInt64) -> Result<UInt64, HTTPClientError>? {
        lock.lock()
        defer { lock.unlock() }
        guard !httpReleased else { return nil }
        do throws(HTTPClientError) {
            let id = try start()
            httpRequests.insert(id)
            return .success(id)
        } catch {
            return .failure(error)
        }
    }

    /// Claims a finished request for its one callback; false when the
    /// request was already claimed or the context released.
    func endHTTPRequest(_ id: () -> UInt64) -> Bool {
        lock.withLock { httpRequests.remove(id()) != nil }
    }

    func hasHTTPRequest(_ id: UInt64) -> Bool { lock.withLock { httpRequests.contains(id) } }

    /// Refuses new requests and hands back those in flight for cancelling.
    func releaseHTTPRequests() -> [UInt64] {
        lock.withLock {
            httpReleased = true
            defer { httpRequests.removeAll() }
            return Array(httpRequests)
        }
    }
}
