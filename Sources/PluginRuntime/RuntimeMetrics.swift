import MetricCatalog
import CAlphaPlus
import Dispatch
import Foundation
import Metrics

/// The plugin runtime's metrics: what instances emit, their outbound HTTP,
/// their channel deliveries, and what plugins record themselves.
public enum RuntimeMetrics {
    public static let eventsEmitted = MetricDescriptor(
        name: "alphaplus_events_emitted_total", kind: .counter, labels: ["tenant", "plugin", "instance", "kind"],
        help: "Market events an instance emitted through emit_event and the host took, by kind (trade, quote, book, candle, news).")
    public static let eventsRefused = MetricDescriptor(
        name: "alphaplus_events_refused_total", kind: .counter, labels: ["tenant", "plugin", "instance"],
        help: "Market events emit_event refused as malformed structs (unknown kind, struct_size too small, no symbol).")
    public static let httpRequests = MetricDescriptor(
        name: "alphaplus_http_requests_total", kind: .counter, labels: ["tenant", "plugin", "instance", "outcome"],
        help: "Plugins' outbound HTTP requests by outcome: ok (any status), refused, invalid, invalid_request, timeout, unavailable, cancelled, response_too_large.")
    public static let channelDeliveryDuration = MetricDescriptor(
        name: "alphaplus_channel_delivery_duration_seconds", kind: .histogram, labels: ["tenant", "plugin", "instance"],
        help: "Time from handing a delivery to a channel instance to its end: the plugin's done, an error from deliver, or the deadline.",
        buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60])
    public static let deliveryDoneIgnored = MetricDescriptor(
        name: "alphaplus_delivery_done_ignored_total", kind: .counter, labels: ["tenant", "plugin", "instance"],
        help: "Calls of a delivery's done after the delivery had ended (a second done, or one after the deadline): ignored.")

    /// A plugin's own metric `name` (metric_record) is exposed as this
    /// prefix + name, with `_total` added to a counter's name, labelled
    /// tenant, plugin and instance.
    public static let pluginMetricPrefix = "alphaplus_plugin_"
    /// Buckets of plugins' histograms, whose unit the host does not know:
    /// powers of ten from 0.001 to 100,000.
    public static let pluginHistogramBuckets: [Double] = [0.001, 0.01, 0.1, 1, 10, 100, 1_000, 10_000, 100_000]

    public static let all = [eventsEmitted, eventsRefused, httpRequests, channelDeliveryDuration, deliveryDoneIgnored]

    /// The name a plugin's metric has in /metrics.
    public static func pluginMetricName(_ name: String, kind: ap_metric_kind) -> String {
        pluginMetricPrefix + name + (kind == AP_METRIC_COUNTER && !name.hasSuffix("_total") ? "_total" : "")
    }
}

/// One context's metric handles, each made the first time it is needed
/// and kept for the context's life, so counting allocates nothing after
/// that. Any thread.
// @unchecked: handles are made under `lock` and only read after that.
final class ContextMetrics: @unchecked Sendable {
    /// A plugin's metric as recorded through metric_record, found again by
    /// the bytes of its name (no String is made per call).
    struct PluginMetric {
        enum Handle {
            case counter(FloatingPointCounter)
            case gauge(Gauge)
            case histogram(Recorder)
            /// Another kind already has the name in /metrics: the reason.
            case refused(String)
        }

        let name: [UInt8]
        let kind: ap_metric_kind
        /// Its in-memory total (`HostServices.metrics`); none when refused.
        let total: MetricTotals.Total?
        let handle: Handle
    }

    private let factory: any MetricsFactory
    private let totals: MetricTotals
    private let tenant: String
    private let plugin: String
    private let instance: String
    private let lock = NSLock()
    private var emitted = [Counter?](repeating: nil, count: MarketEventKind.allCases.count)
    /// `events_emitted` in memory.
    private var emittedTotal: MetricTotals.Total?
    private var refused: Counter?
    private var httpOutcomes: [String: Counter] = [:]
    private var deliveryDuration: CoreMetrics.Timer?
    private var doneIgnored: Counter?
    private var pluginMetrics: [PluginMetric] = []

    init(factory: any MetricsFactory, totals: MetricTotals, tenant: String, plugin: String, instance: String) {
        self.factory = factory
        self.totals = totals
        self.tenant = tenant
        self.plugin = plugin
        self.instance = instance
    }

    /// In swift-metrics per kind, and as `events_emitted` in memory.
    func countEmitted(_ kind: MarketEventKind) {
        let (counter, total) = lock.withLock { () -> (Counter, MetricTotals.Total) in
            let total = emittedTotal ?? totals.total(HostServices.MetricKey(name: "events_emitted", plugin: plugin, tenant: tenant,
                                                                            instance: instance))
            emittedTotal = total
            if let counter = emitted[kind.rawValue] { return (counter, total) }
            let counter = RuntimeMetrics.eventsEmitted.counter(tenant, plugin, instance, kind.description, factory: factory)
            emitted[kind.rawValue] = counter
            return (counter, total)
        }
        counter.increment()
        totals.add(1, to: total)
    }

    func countRefusedEvent() {
        lock.withLock { () -> Counter in
            if let refused { return refused }
            let counter = RuntimeMetrics.eventsRefused.counter(tenant, plugin, instance, factory: factory)
            refused = counter
            return counter
        }.increment()
    }

    func countHTTPRequest(outcome: String) {
        lock.withLock { () -> Counter in
            if let counter = httpOutcomes[outcome] { return counter }
            let counter = RuntimeMetrics.httpRequests.counter(tenant, plugin, instance, outcome, factory: factory)
            httpOutcomes[outcome] = counter
            return counter
        }.increment()
    }

    func recordDeliveryDuration(nanoseconds: Int64) {
        lock.withLock { () -> CoreMetrics.Timer in
            if let deliveryDuration { return deliveryDuration }
            let timer = RuntimeMetrics.channelDeliveryDuration.timer(tenant, plugin, instance, factory: factory)
            deliveryDuration = timer
            return timer
        }.recordNanoseconds(nanoseconds)
    }

    func countDoneIgnored() {
        lock.withLock { () -> Counter in
            if let doneIgnored { return doneIgnored }
            let counter = RuntimeMetrics.deliveryDoneIgnored.counter(tenant, plugin, instance, factory: factory)
            doneIgnored = counter
            return counter
        }.increment()
    }

    /// The plugin metric named by `name`'s bytes, if recorded before.
    func pluginMetric(named name: UnsafeRawBufferPointer) -> PluginMetric? {
        lock.withLock {
            pluginMetrics.first { metric in
                metric.name.count == name.count && metric.name.withUnsafeBytes { $0.elementsEqual(name) }
            }
        }
    }

    /// Makes the handle of a plugin metric (`kind` already checked against
    /// the name's other uses: `refusal` when another kind has it).
    func addPluginMetric(named name: String, kind: ap_metric_kind, refusal: String?) -> PluginMetric {
        let exposed = RuntimeMetrics.pluginMetricName(name, kind: kind)
        let dimensions = [("tenant", tenant), ("plugin", plugin), ("instance", instance)]
        let handle: PluginMetric.Handle
        var total: MetricTotals.Total?
        if let refusal {
            handle = .refused(refusal)
        } else {
            total = totals.total(HostServices.MetricKey(name: name, plugin: plugin, tenant: tenant, instance: instance))
            switch kind {
            case AP_METRIC_COUNTER: handle = .counter(FloatingPointCounter(label: exposed, dimensions: dimensions, factory: factory))
            case AP_METRIC_GAUGE: handle = .gauge(Gauge(label: exposed, dimensions: dimensions, factory: factory))
            default: handle = .histogram(Recorder(label: exposed, dimensions: dimensions, aggregate: true, factory: factory))
            }
        }
        let metric = PluginMetric(name: Array(name.utf8), kind: kind, total: total, handle: handle)
        lock.withLock { pluginMetrics.append(metric) }
        return metric
    }
}

/// The host's in-memory metric totals (`HostServices.metrics`, which tests
/// read), each a box found once by its key and then updated in place: no
/// hashing of the key per record. Any thread.
// @unchecked: the totals and each total's value are guarded by `lock`.
final class MetricTotals: @unchecked Sendable {
    /// Read and written under the owner's lock.
    final class Total {
        var value = 0.0
    }

    private let lock = NSLock()
    private var totals: [HostServices.MetricKey: Total] = [:]

    /// The total of `key`, made at 0 the first time.
    func total(_ key: HostServices.MetricKey) -> Total {
        lock.withLock {
            if let total = totals[key] { return total }
            let total = Total()
            totals[key] = total
            return total
        }
    }

    func add(_ value: Double, to total: Total) { lock.withLock { total.value += value } }

    func set(_ value: Double, of total: Total) { lock.withLock { total.value = value } }

    var values: [HostServices.MetricKey: Double] { lock.withLock { totals.mapValues(\.value) } }
}

extension DispatchTime {
    /// Nanoseconds from `start` to this time.
    func nanoseconds(since start: DispatchTime) -> Int64 {
        Int64(uptimeNanoseconds) - Int64(start.uptimeNanoseconds)
    }
}
