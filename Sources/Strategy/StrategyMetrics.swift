import Metrics
import MetricCatalog
import Trading

/// The strategy's metrics.
public enum StrategyMetrics {
    public static let votes = MetricDescriptor(
        name: "alphaplus_head_votes_total", kind: .counter, labels: ["tenant", "plugin", "instance", "outcome"],
        help: "Head calls by outcome: voted (long or short), abstained (flat), error (an error or an invalid vote), timeout (no answer by the deadline), missing (no instance), quarantined (not called: the head keeps failing).")
    public static let headCallDuration = MetricDescriptor(
        name: "alphaplus_head_call_duration_seconds", kind: .histogram, labels: ["tenant", "plugin", "instance"],
        help: "Duration of a head's evaluate call, late ones included.",
        buckets: [0.000_001, 0.000_005, 0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.1])
    public static let signals = MetricDescriptor(
        name: "alphaplus_signals_total", kind: .counter, labels: ["tenant", "direction"],
        help: "Signals made (past the risk gate), by direction (long, short).")
    public static let riskRefusals = MetricDescriptor(
        name: "alphaplus_risk_refusals_total", kind: .counter, labels: ["tenant", "reason"],
        help: "Consensus decisions the risk gate refused, by reason (global_halt, tenant_halted, daily_loss_limit, max_open_positions, cooldown, ...).")

    public static let instanceQuarantined = MetricDescriptor(
        name: "alphaplus_instance_quarantined", kind: .gauge, labels: ["tenant", "instance", "plugin"],
        help: "1 while a head instance is quarantined (not called after repeated errors or timeouts, until its backoff ends and a trial call answers), else 0.")
    public static let instanceQuarantines = MetricDescriptor(
        name: "alphaplus_instance_quarantines_total", kind: .counter, labels: ["tenant", "instance", "plugin"],
        help: "Quarantines a head instance entered (a failed trial call starts the next one, with double the backoff).")

    public static let all = [votes, headCallDuration, signals, riskRefusals, instanceQuarantined, instanceQuarantines]
}

/// How a head's call ended, as `alphaplus_head_votes_total` counts it.
enum VoteOutcome: Int, CaseIterable, CustomStringConvertible {
    case voted, abstained, error, timeout, missing, quarantined

    var description: String {
        switch self {
        case .voted: "voted"
        case .abstained: "abstained"
        case .error: "error"
        case .timeout: "timeout"
        case .missing: "missing"
        case .quarantined: "quarantined"
        }
    }
}

/// One tenant's strategy handles, made with the strategy.
struct TenantMetrics {
    /// Per head (tenant order), per `VoteOutcome`.
    let votes: [[Counter]]
    /// Per head.
    let callDurations: [CoreMetrics.Timer]
    /// Per `Side.allCases`.
    let signals: [Counter]
    /// Per `RiskRejection.allCases`.
    let riskRefusals: [Counter]
    /// Per head.
    let quarantined: [Gauge]
    let quarantines: [Counter]

    init(tenant: String, heads: [TenantStrategy.Head], factory: any MetricsFactory) {
        votes = heads.map { head in
            VoteOutcome.allCases.map { StrategyMetrics.votes.counter(tenant, head.pluginID, head.spec.instance, $0.description, factory: factory) }
        }
        callDurations = heads.map { StrategyMetrics.headCallDuration.timer(tenant, $0.pluginID, $0.spec.instance, factory: factory) }
        signals = Side.allCases.map { StrategyMetrics.signals.counter(tenant, $0.rawValue, factory: factory) }
        riskRefusals = RiskRejection.allCases.map { StrategyMetrics.riskRefusals.counter(tenant, $0.rawValue, factory: factory) }
        quarantined = heads.map { StrategyMetrics.instanceQuarantined.gauge(tenant, $0.spec.instance, $0.pluginID, factory: factory) }
        quarantines = heads.map { StrategyMetrics.instanceQuarantines.counter(tenant, $0.spec.instance, $0.pluginID, factory: factory) }
    }
}
