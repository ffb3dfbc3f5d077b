import Distribution
import Foundation
import Strategy
import Trading

/// One line per tenant for the operator's log: frames, signals, book,
/// why no consensus, risk refusals, failing and quarantined heads.
func summary(_ strategy: TenantStrategy) -> String {
    let c = strategy.counters
    let shortfalls = ConsensusResult.Shortfall.allCases.filter { c.shortfalls($0) > 0 }.map { "\($0.rawValue)=\(c.shortfalls($0))" }
    let rejections = RiskRejection.allCases.filter { c.rejections($0) > 0 }.map { "\($0.rawValue)=\(c.rejections($0))" }
    let failing = strategy.heads.indices.compactMap { index -> String? in
        let failed = [VoteStatus.error, .timeout, .missing].map { c.votes(head: index, $0) }.reduce(0, +)
        return failed > 0 ? "\(strategy.heads[index].spec.instance)=\(failed)" : nil
    }
    let quarantined = strategy.heads.indices.filter { c.quarantines[$0] > 0 }
        .map { "\(strategy.heads[$0].spec.instance)=\(c.quarantines[$0])" }
    return "strategy \(strategy.tenant): \(c.framesEvaluated) frames, \(c.signals) signals, "
        + "\(strategy.trader.openPositionCount) open, \(c.positionsClosed) closed, equity \(format(strategy.trader.equity)); "
        + "no consensus: \(shortfalls.isEmpty ? "none" : shortfalls.joined(separator: " ")); "
        + "risk refused: \(rejections.isEmpty ? "none" : rejections.joined(separator: " ")); "
        + "heads failing: \(failing.isEmpty ? "none" : failing.joined(separator: " ")); "
        + "quarantines: \(quarantined.isEmpty ? "none" : quarantined.joined(separator: " "))"
        + (strategy.haltReason.map { "; HALTED: \($0)" } ?? "")
}

/// A signal in one line, as the console shows it.
public func describe(_ signal: Signal) -> String {
    let targets = signal.targets.map(format).joined(separator: " / ")
    let votes = signal.votes.map { "\($0.head)=\($0.status == .ok ? "\($0.direction.rawValue) \(format($0.confidence))" : $0.status.rawValue)" }
    return "\(signal.id): \(signal.side.rawValue.uppercased()) \(signal.symbol) \(signal.timeframeSeconds / 60)m "
        + "entry \(format(signal.entry)) stop \(format(signal.stop)) targets \(targets) qty \(format(signal.quantity)) "
        + "confidence \(format(signal.confidence))\(signal.highConfidence ? " (high)" : "") [\(votes.joined(separator: ", "))]"
}

public func describe(_ outcome: PositionOutcome) -> String {
    "\(outcome.signalID): \(outcome.finalReason.rawValue) after \(outcome.legs.count) fill\(outcome.legs.count == 1 ? "" : "s"), "
        + "P&L \(format(outcome.pnl)) (fees \(format(outcome.fees))), MAE \(format(outcome.maxAdverseExcursion)) MFE \(format(outcome.maxFavourableExcursion))"
}

/// Up to 6 significant digits, for log lines.
public func format(_ value: Double) -> String {
    String(format: "%.6g", value)
}

/// The distributor's counters in one line, for the operator's log.
public func describe(_ counters: DistributionCounters) -> String {
    "\(counters.enqueued) enqueued, \(counters.delivered) delivered, \(counters.retried) retried, \(counters.dead) dead, "
        + "\(counters.dryRun) dry run, \(counters.destinationsDisabled) destinations disabled, \(counters.alertsRaised) alerts"
}
