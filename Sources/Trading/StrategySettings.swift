import Foundation

/// A per-head map from the confidence a head reports to a probability the
/// consensus can compare across heads.
public enum Calibration: Sendable, Equatable {
    /// Platt scaling: p = 1 / (1 + exp(a·c + b)) (a < 0 for a head whose
    /// confidence means what it says).
    case platt(a: Double, b: Double)
    /// Temperature scaling of the confidence's log-odds:
    /// p = σ(logit(c) / t); t > 1 softens an over-confident head.
    case temperature(Double)

    @inlinable
    public func apply(_ confidence: Double) -> Double {
        switch self {
        case .platt(let a, let b):
            return 1 / (1 + exp(a * confidence + b))
        case .temperature(let t):
            // logit is ±∞ at 0 and 1; clamp so a certain head stays finite.
            let c = min(max(confidence, 1e-12), 1 - 1e-12)
            return 1 / (1 + exp(-log(c / (1 - c)) / t))
        }
    }
}

/// One head of a tenant's strategy: a plugin instance and how its vote counts.
public struct HeadSpec: Sendable, Equatable {
    /// The tenant's instance id.
    public var instance: String
    public var weight: Double
    public var calibration: Calibration?

    public init(instance: String, weight: Double = 1, calibration: Calibration? = nil) {
        self.instance = instance
        self.weight = weight
        self.calibration = calibration
    }
}

/// How votes become one direction and one confidence.
public struct ConsensusPolicy: Sendable, Equatable {
    public enum Method: String, Sendable, CaseIterable {
        /// Confidence = Σ w·c of the heads voting the side / Σ w of the
        /// heads voting long or short (flat heads abstain).
        case weightedAverage = "weighted_average"
        /// The side with the larger voting weight wins; confidence = its
        /// share of the weight of every head that answered (flat included).
        case majority
    }

    /// Heads that must vote the same side (default 3, as in 3 of 4).
    public var minAgree: Int
    public var minConfidence: Double
    /// At or above this, the signal is marked "high".
    public var highConfidence: Double
    public var method: Method
    /// Per-call deadline of a head's evaluate (`head_deadline_ms`).
    public var headDeadlineNs: Int64

    /// The default deadline, 50 ms: chosen for a busy 2-core machine, where
    /// the bundled heads' calls take well under 1 ms but reaching a head's
    /// executor can take tens of ms (5 ms quarantined every bundled head at
    /// start). Frames come once per candle, so the wait costs nothing else.
    public static let loadedMachineHeadDeadlineNs: Int64 = 50_000_000

    public init(minAgree: Int = 3, minConfidence: Double = 0.70, highConfidence: Double = 0.85,
                method: Method = .weightedAverage, headDeadlineNs: Int64 = loadedMachineHeadDeadlineNs) {
        self.minAgree = minAgree
        self.minConfidence = minConfidence
        self.highConfidence = highConfidence
        self.method = method
        self.headDeadlineNs = headDeadlineNs
    }
}

/// A tenant's risk limits, sizing and exits.
public struct RiskLimits: Sendable, Equatable {
    /// Fraction of the UTC day's starting equity; realised losses beyond it
    /// stop new signals until the next UTC day.
    public var dailyLossLimit: Double
    /// Losing trades in a row that stop new signals until the next UTC day.
    public var maxConsecutiveLosses: Int
    /// Fraction below the equity peak that halts the tenant (until restart).
    public var maxDrawdown: Double
    public var maxOpenPositions: Int
    public var maxOpenPerSymbol: Int
    /// Multiplier of the Kelly fraction (0.25: quarter Kelly).
    public var kellyFraction: Double
    /// Cap of one position's notional, as a fraction of equity.
    public var maxPositionFraction: Double
    /// Stop distance in ATRs from the entry.
    public var stopATR: Double
    /// Take-profit distances in multiples of the stop distance (R), increasing.
    public var targetsR: [Double]
    /// Fraction of the open quantity closed at each target; the last is 1.
    public var scaleOut: [Double]
    /// No new signal on a symbol for this long after a losing trade on it.
    public var cooldownNs: Int64
    /// Time exit after this many bars of the signal's timeframe; 0: none.
    public var maxHoldBars: Int
    /// Quantities below this are refused (venue minimum); 0: none.
    public var minQuantity: Double

    public init(dailyLossLimit: Double = 0.03, maxConsecutiveLosses: Int = 4, maxDrawdown: Double = 0.15,
                maxOpenPositions: Int = 5, maxOpenPerSymbol: Int = 2, kellyFraction: Double = 0.25,
                maxPositionFraction: Double = 0.10, stopATR: Double = 1.5, targetsR: [Double] = [1, 2, 3],
                scaleOut: [Double] = [1.0 / 3, 0.5, 1], cooldownNs: Int64 = 900_000_000_000, maxHoldBars: Int = 240,
                minQuantity: Double = 0) {
        self.dailyLossLimit = dailyLossLimit
        self.maxConsecutiveLosses = maxConsecutiveLosses
        self.maxDrawdown = maxDrawdown
        self.maxOpenPositions = maxOpenPositions
        self.maxOpenPerSymbol = maxOpenPerSymbol
        self.kellyFraction = kellyFraction
        self.maxPositionFraction = maxPositionFraction
        self.stopATR = stopATR
        self.targetsR = targetsR
        self.scaleOut = scaleOut
        self.cooldownNs = cooldownNs
        self.maxHoldBars = maxHoldBars
        self.minQuantity = minQuantity
    }

    /// Limits that contradict each other or make no sense, each as
    /// (field, problem).
    public var problems: [(field: String, problem: String)] {
        var found: [(String, String)] = []
        func check(_ ok: Bool, _ field: String, _ problem: String) { if !ok { found.append((field, problem)) } }
        check(dailyLossLimit > 0 && dailyLossLimit < 1, "daily_loss_limit", "must be in (0, 1), got \(dailyLossLimit)")
        check(maxDrawdown > 0 && maxDrawdown < 1, "max_drawdown", "must be in (0, 1), got \(maxDrawdown)")
        check(dailyLossLimit <= maxDrawdown, "daily_loss_limit",
              "\(dailyLossLimit) exceeds max_drawdown \(maxDrawdown): the drawdown halt would always come first")
        check(maxConsecutiveLosses >= 1, "max_consecutive_losses", "must be at least 1, got \(maxConsecutiveLosses)")
        check(maxOpenPositions >= 1, "max_open_positions", "must be at least 1, got \(maxOpenPositions)")
        check(maxOpenPerSymbol >= 1, "max_open_per_symbol", "must be at least 1, got \(maxOpenPerSymbol)")
        check(maxOpenPerSymbol <= maxOpenPositions, "max_open_per_symbol",
              "\(maxOpenPerSymbol) exceeds max_open_positions \(maxOpenPositions)")
        check(kellyFraction > 0 && kellyFraction <= 1, "kelly_fraction", "must be in (0, 1], got \(kellyFraction)")
        check(maxPositionFraction > 0 && maxPositionFraction <= 1, "max_position_fraction",
              "must be in (0, 1], got \(maxPositionFraction)")
        check(stopATR > 0, "stop_atr", "must be positive, got \(stopATR)")
        check(!targetsR.isEmpty, "targets_r", "needs at least one target")
        check(zip(targetsR, targetsR.dropFirst()).allSatisfy { $0 < $1 } && (targetsR.first ?? 1) > 0, "targets_r",
              "must be positive and increasing, got \(targetsR)")
        check(scaleOut.count == targetsR.count, "scale_out", "has \(scaleOut.count) entries for \(targetsR.count) targets")
        check(scaleOut.dropLast().allSatisfy { $0 > 0 && $0 < 1 } && scaleOut.last == 1, "scale_out",
              "each entry must be in (0, 1) and the last exactly 1 (the rest), got \(scaleOut)")
        check(cooldownNs >= 0, "cooldown_s", "must not be negative")
        check(maxHoldBars >= 0, "max_hold_bars", "must not be negative")
        check(minQuantity >= 0, "min_quantity", "must not be negative")
        return found
    }

    /// Reward per unit of risk if every target is reached: Σ over targets
    /// of (share of the original quantity closed there) × R.
    public var payoffRatio: Double {
        var open = 1.0, payoff = 0.0
        for (r, fraction) in zip(targetsR, scaleOut) {
            payoff += open * fraction * r
            open -= open * fraction
        }
        return payoff
    }
}

/// Everything a tenant's strategy is configured with.
public struct StrategySettings: Sendable, Equatable {
    /// Canonical symbols the tenant trades; empty: every symbol with frames.
    public var symbols: [String]
    /// Frame timeframes (s) the heads are asked about.
    public var timeframes: [Int64]
    public var heads: [HeadSpec]
    public var consensus: ConsensusPolicy
    public var risk: RiskLimits
    public var costs: CostModel
    /// The paper portfolio's starting cash (quote currency).
    public var initialEquity: Double

    public init(symbols: [String] = [], timeframes: [Int64] = [60], heads: [HeadSpec] = [],
                consensus: ConsensusPolicy = ConsensusPolicy(), risk: RiskLimits = RiskLimits(),
                costs: CostModel = CostModel(), initialEquity: Double = 10_000) {
        self.symbols = symbols
        self.timeframes = timeframes
        self.heads = heads
        self.consensus = consensus
        self.risk = risk
        self.costs = costs
        self.initialEquity = initialEquity
    }

    /// Contradictions between the sections, each as (field, problem).
    public var problems: [(field: String, problem: String)] {
        var found = risk.problems.map { ("risk.\($0.field)", $0.problem) }
        let c = consensus
        if c.minAgree < 1 { found.append(("consensus.min_agree", "must be at least 1, got \(c.minAgree)")) }
        if !heads.isEmpty, c.minAgree > heads.count {
            found.append(("consensus.min_agree", "\(c.minAgree) heads must agree but only \(heads.count) are configured"))
        }
        if !(c.minConfidence >= 0 && c.minConfidence <= 1) {
            found.append(("consensus.min_confidence", "must be in [0, 1], got \(c.minConfidence)"))
        }
        if !(c.highConfidence >= c.minConfidence && c.highConfidence <= 1) {
            found.append(("consensus.high_confidence", "\(c.highConfidence) must be in [min_confidence \(c.minConfidence), 1]"))
        }
        if c.headDeadlineNs <= 0 { found.append(("consensus.head_deadline_ms", "must be positive")) }
        for (index, head) in heads.enumerated() {
            if !(head.weight > 0 && head.weight.isFinite) {
                found.append(("heads[\(index)].weight", "must be positive, got \(head.weight)"))
            }
            if case .temperature(let t) = head.calibration, !(t > 0) {
                found.append(("heads[\(index)].calibration.temperature", "must be positive, got \(t)"))
            }
        }
        let duplicates = Dictionary(grouping: heads, by: \.instance).filter { $1.count > 1 }.keys.sorted()
        for name in duplicates { found.append(("heads", "instance '\(name)' is listed twice")) }
        if timeframes.isEmpty { found.append(("timeframes", "needs at least one timeframe")) }
        if !(initialEquity > 0) { found.append(("initial_equity", "must be positive, got \(initialEquity)")) }
        for (field, value) in [("costs.maker_fee", costs.makerFee), ("costs.taker_fee", costs.takerFee)] where !(value >= 0 && value < 0.1) {
            found.append((field, "must be in [0, 0.1), got \(value)"))
        }
        if !(costs.slippageBps >= 0) { found.append(("costs.slippage_bps", "must not be negative")) }
        return found
    }
}
