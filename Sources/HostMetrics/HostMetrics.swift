import MetricCatalog
import Distribution
import Foundation
import Ingress
import Logging
import MarketData
import Metrics
import PluginRuntime
import Prometheus
import Strategy
import Trading

/// The host's metrics backend: a Prometheus registry that swift-metrics
/// records into, and its text for the /metrics route. Components take
/// `MetricsSystem.factory` when they are made and keep their handles, so
/// `bootstrap()` comes first in `alphaplus run`.
public final class HostMetrics: Sendable {
    /// The process's registry: what `bootstrap()` installs and the static
    /// `exposition()` reads.
    public static let shared = HostMetrics()

    /// Every metric the host records itself, with its help and buckets
    /// (plugins' own metrics are named at run time: `RuntimeMetrics.pluginMetricPrefix`).
    public static let catalogue = RuntimeMetrics.all + MarketDataMetrics.all + StrategyMetrics.all + DistributionMetrics.all
        + IngressMetrics.all

    public let registry: PrometheusCollectorRegistry
    /// swift-metrics' factory onto `registry`.
    public let factory: any MetricsFactory

    /// A registry of its own (tests); the host uses `shared`.
    public init(catalogue: [MetricDescriptor] = HostMetrics.catalogue, logger: Logger = Logger(label: "alphaplus.metrics")) {
        registry = PrometheusCollectorRegistry()
        factory = CataloguedPrometheusFactory(registry: registry, catalogue: catalogue, logger: logger)
    }

    /// Every metric recorded so far in the Prometheus text format (0.0.4):
    /// `# HELP` and `# TYPE` lines, then one line per series.
    public func exposition() -> String { registry.emitToString() }

    /// `shared`'s exposition: what the /metrics route serves
    /// (`Content-Type: text/plain; version=0.0.4`).
    public static func exposition() -> String { shared.exposition() }

    /// Makes swift-metrics record into `shared` from now on. Only the first
    /// call does anything: swift-metrics takes one bootstrap per process.
    public static func bootstrap() {
        _ = bootstrapped
    }

    private static let bootstrapped: Void = MetricsSystem.bootstrap(shared.factory)
}

/// swift-metrics onto a Prometheus registry, with each catalogued metric's
/// help text and buckets. The registry stops the process when one name is
/// made as two kinds (or labelled and unlabelled); here the second gets a
/// handler that records nothing, and an error is logged.
// @unchecked: the families made so far are guarded by `lock`; the registry is thread-safe.
final class CataloguedPrometheusFactory: MetricsFactory, @unchecked Sendable {
    private enum Family: Equatable, CustomStringConvertible {
        case counter, gauge, valueHistogram, durationHistogram

        var description: String {
            switch self {
            case .counter: "counter"
            case .gauge: "gauge"
            case .valueHistogram: "histogram of values"
            case .durationHistogram: "histogram of durations"
            }
        }
    }

    /// Durations' buckets of a histogram no descriptor describes: the
    /// Prometheus clients' usual ones, in seconds.
    private static let defaultDurationBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let registry: PrometheusCollectorRegistry
    private let descriptors: [String: MetricDescriptor]
    private let logger: Logger
    private let lock = NSLock()
    private var families: [String: (family: Family, labelled: Bool)] = [:]

    init(registry: PrometheusCollectorRegistry, catalogue: [MetricDescriptor], logger: Logger) {
        self.registry = registry
        descriptors = Dictionary(catalogue.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        self.logger = logger
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        guard claim(label, .counter, dimensions) else { return NOOPMetricsHandler.instance }
        return registry.makeCounter(descriptor: named(label), labels: dimensions)
    }

    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        guard claim(label, .counter, dimensions) else { return NOOPMetricsHandler.instance }
        return registry.makeCounter(descriptor: named(label), labels: dimensions)
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        if aggregate {
            guard claim(label, .valueHistogram, dimensions) else { return NOOPMetricsHandler.instance }
            let buckets = descriptors[label]?.buckets ?? RuntimeMetrics.pluginHistogramBuckets
            return registry.makeValueHistogram(descriptor: named(label), labels: dimensions, buckets: buckets)
        }
        guard claim(label, .gauge, dimensions) else { return NOOPMetricsHandler.instance }
        return registry.makeGauge(descriptor: named(label), labels: dimensions)
    }

    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        guard claim(label, .gauge, dimensions) else { return NOOPMetricsHandler.instance }
        return registry.makeGauge(descriptor: named(label), labels: dimensions)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        guard claim(label, .durationHistogram, dimensions) else { return NOOPMetricsHandler.instance }
        let seconds = descriptors[label]?.buckets ?? Self.defaultDurationBuckets
        let buckets = seconds.map { Duration.nanoseconds(Int64(($0 * 1e9).rounded())) }
        return registry.makeDurationHistogram(descriptor: named(label), labels: dimensions, buckets: buckets)
    }

    func destroyCounter(_ handler: any CounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
        if let counter = handler as? Prometheus.Counter { registry.unregisterCounter(counter) }
    }

    func destroyRecorder(_ handler: any RecorderHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
        if let histogram = handler as? ValueHistogram { registry.unregisterValueHistogram(histogram) }
    }

    func destroyMeter(_ handler: any MeterHandler) {
        if let gauge = handler as? Prometheus.Gauge { registry.unregisterGauge(gauge) }
    }

    func destroyTimer(_ handler: any TimerHandler) {
        if let histogram = handler as? DurationHistogram { registry.unregisterDurationHistogram(histogram) }
    }

    /// `name` (whole: no namespace or unit added) with its help text.
    private func named(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help(name))
    }

    /// The catalogue's text, one for every plugin's own metric, or none.
    private func help(_ name: String) -> String {
        if let descriptor = descriptors[name] { return descriptor.help }
        if name.hasPrefix(RuntimeMetrics.pluginMetricPrefix) { return "A plugin's own metric (metric_record), by tenant, plugin and instance." }
        return ""
    }

    /// True when `name` is new or already this family, labelled alike.
    private func claim(_ name: String, _ family: Family, _ dimensions: [(String, String)]) -> Bool {
        let labelled = !dimensions.isEmpty
        let existing = lock.withLock { () -> (family: Family, labelled: Bool)? in
            if let existing = families[name] { return existing }
            families[name] = (family, labelled)
            return nil
        }
        guard let existing else { return true }
        if existing.family == family && existing.labelled == labelled { return true }
        logger.error("metric \(name) refused as a \(labelled ? "labelled" : "unlabelled") \(family): /metrics already has it as a \(existing.labelled ? "labelled" : "unlabelled") \(existing.family); this one records nothing")
        return false
    }
}
