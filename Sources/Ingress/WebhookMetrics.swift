import Foundation
import Metrics
import Synchronization
import MetricCatalog

/// `alphaplus_webhook_requests_total{tenant, instance, plugin, status}` and
/// `alphaplus_webhook_duration_seconds{tenant, plugin, instance}`, each
/// metric object made once per label set and kept. Labels come from the
/// configuration, never from the request: a request that names no
/// configured tenant or instance is counted with those labels empty, so
/// made-up paths cannot grow the label sets.
final class WebhookMetrics: Sendable {
    static let requestsLabel = "alphaplus_webhook_requests_total"
    static let durationLabel = "alphaplus_webhook_duration_seconds"

    private struct InstanceKey: Hashable {
        var tenant: String
        var instance: String
        var plugin: String
    }

    private struct CounterKey: Hashable {
        var instance: InstanceKey
        var status: Int
    }

    private struct Made {
        var counters: [CounterKey: Counter] = [:]
        var timers: [InstanceKey: Metrics.Timer] = [:]
    }

    private let factory: any MetricsFactory
    private let made = Mutex(Made())

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(tenant: String, instance: String, plugin: String, status: Int, duration: Duration) {
        let key = InstanceKey(tenant: tenant, instance: instance, plugin: plugin)
        let (counter, timer) = made.withLock { made -> (Counter, Metrics.Timer) in
            let counter = made.counters[CounterKey(instance: key, status: status)] ?? {
                let counter = Counter(label: Self.requestsLabel, dimensions: [("tenant", tenant), ("instance", instance), ("plugin", plugin),
                                                                             ("status", String(status))], factory: factory)
                made.counters[CounterKey(instance: key, status: status)] = counter
                return counter
            }()
            let timer = made.timers[key] ?? {
                let timer = Metrics.Timer(label: Self.durationLabel, dimensions: [("tenant", tenant), ("plugin", plugin), ("instance", instance)],
                                          factory: factory)
                made.timers[key] = timer
                return timer
            }()
            return (counter, timer)
        }
        counter.increment()
        timer.record(duration: duration)
    }
}

/// The ingress's metrics, for the Prometheus catalogue (HELP lines, buckets).
public enum IngressMetrics {
    public static let requests = MetricDescriptor(
        name: WebhookMetrics.requestsLabel, kind: .counter, labels: ["tenant", "instance", "plugin", "status"],
        help: "Webhook requests by tenant, instance, plugin and the HTTP status answered (refusals by the host included; unknown tenants and instances with those labels empty).")
    public static let duration = MetricDescriptor(
        name: WebhookMetrics.durationLabel, kind: .histogram, labels: ["tenant", "plugin", "instance"],
        help: "Time from a webhook request's arrival to its answer, in seconds, per tenant, plugin and instance.",
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10])

    public static let refusals = MetricDescriptor(
        name: RefusalLog.metricLabel, kind: .counter, labels: ["reason"],
        help: "Connections and requests the HTTP server refused, by reason: connection_limit, source_connection_limit, header_timeout, body_timeout, unauthorized, auth_throttled, webhook_refused (by the host), webhook_rejected (a 4xx from the plugin). Counted whether or not a log line was written.")

    public static let all = [requests, duration, refusals]
}

