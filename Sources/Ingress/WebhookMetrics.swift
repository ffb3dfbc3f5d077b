import Foundation
import Metrics

/// `alphaplus_webhook_requests_total{tenant, instance, plugin, status}` and
/// `alphaplus_webhook_duration_seconds{tenant, plugin, instance}`, each
/// metric object made once per label set and kept. Labels come from the
/// configuration, never from the request: a request that names no
/// configured tenant or instance is counted with those labels empty, so
/// made-up paths cannot grow the label sets.
final class WebhookMetrics: @unchecked Sendable {
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

    private let factory: any MetricsFactory
    private let lock = NSLock()
    private var counters: [CounterKey: Counter] = [:]
    private var timers: [InstanceKey: Metrics.Timer] = [:]

    init(factory: any MetricsFactory) {
        self.factory = factory
    }

    func record(tenant: String, instance: String, plugin: String, status: Int, duration: Duration) {
        let key = InstanceKey(tenant: tenant, instance: instance, plugin: plugin)
        let (counter, timer) = lock.withLock { () -> (Counter, Metrics.Timer) in
            let counter = counters[CounterKey(instance: key, status: status)] ?? {
                let made = Counter(label: Self.requestsLabel, dimensions: [("tenant", tenant), ("instance", instance), ("plugin", plugin),
                                                                          ("status", String(status))], factory: factory)
                counters[CounterKey(instance: key, status: status)] = made
                return made
            }()
            let timer = timers[key] ?? {
                let made = Metrics.Timer(label: Self.durationLabel, dimensions: [("tenant", tenant), ("plugin", plugin), ("instance", instance)],
                                         factory: factory)
                timers[key] = made
                return made
            }()
            return (counter, timer)
        }
        counter.increment()
        timer.record(duration: duration)
    }
}
