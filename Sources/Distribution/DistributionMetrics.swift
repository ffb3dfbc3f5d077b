import MetricCatalog
import Metrics
import PluginRuntime

/// The distributor's metrics.
public enum DistributionMetrics {
    public static let deliveries = MetricDescriptor(
        name: "alphaplus_deliveries_total", kind: .counter, labels: ["tenant", "plugin", "instance", "outcome"],
        help: "Delivery attempts' ends by tenant, channel plugin and instance: delivered, retried (tried again later), dead (a dead letter), dry_run (shown, not sent).")

    public static let quotaDeferred = MetricDescriptor(
        name: "alphaplus_quota_deferred_total", kind: .counter, labels: ["tenant"],
        help: "Deliveries that were due but waited because their tenant had started its deliveries_per_minute in the last 60 s (each counted once; none is dropped; the ones queued behind them in their destination are not counted).")

    public static let all = [deliveries, quotaDeferred]
}

/// How a delivery attempt ended, as `alphaplus_deliveries_total` counts it.
enum AttemptOutcome: Int, CaseIterable, CustomStringConvertible {
    case delivered, retried, dead, dryRun

    var description: String {
        switch self {
        case .delivered: "delivered"
        case .retried: "retried"
        case .dead: "dead"
        case .dryRun: "dry_run"
        }
    }
}

/// Per channel instance, per `AttemptOutcome`: made with the distributor
/// for every channel that can send (live or dry run).
func deliveryCounters(_ endpoints: [ChannelAddress: ChannelEndpoint], factory: any MetricsFactory) -> [ChannelAddress: [Counter]] {
    var counters: [ChannelAddress: [Counter]] = [:]
    for (address, endpoint) in endpoints {
        let plugin: String
        switch endpoint {
        case .live(let channel): plugin = channel.pluginID
        case .dryRun(let dryRunPlugin): plugin = dryRunPlugin
        case .unavailable: continue
        }
        counters[address] = AttemptOutcome.allCases.map {
            DistributionMetrics.deliveries.counter(address.tenant, plugin, address.instance, $0.description, factory: factory)
        }
    }
    return counters
}
