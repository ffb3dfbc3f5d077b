import Metrics
import PluginRuntime

/// The distributor's metrics.
public enum DistributionMetrics {
    public static let deliveries = MetricDescriptor(
        name: "alphaplus_deliveries_total", kind: .counter, labels: ["tenant", "plugin", "instance", "outcome"],
        help: "Delivery attempts' ends by tenant, channel plugin and instance: delivered, retried (tried again later), dead (a dead letter), dry_run (shown, not sent).")

    public static let all = [deliveries]
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
