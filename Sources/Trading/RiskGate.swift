import Synchronization

/// The host-wide switch that stops every tenant from opening positions
/// (open positions still run to their exits).
public final class GlobalHalt: Sendable {
    private let halted = Atomic<Bool>(false)

    public init() {}

    public var isHalted: Bool { halted.load(ordering: .relaxed) }

    public func set(_ value: Bool) { halted.store(value, ordering: .relaxed) }
}

/// What the risk gate needs to know of the tenant's paper portfolio.
public protocol PortfolioState: AnyObject {
    var equity: Double { get }
    var peakEquity: Double { get }
    var openPositionCount: Int { get }
    func openPositionCount(symbol: String) -> Int
}

/// A consensus the risk gate is asked to turn into a sized signal.
public struct TradeProposal: Sendable, Equatable {
    public var symbol: String
    public var side: Side
    public var confidence: Double
    /// The reference entry price (the frame's close).
    public var entry: Double
    /// The frame's ATR (NaN while it warms up).
    public var atr: Double
    public var atNs: Int64

    public init(symbol: String, side: Side, confidence: Double, entry: Double, atr: Double, atNs: Int64) {
        self.symbol = symbol
        self.side = side
        self.confidence = confidence
        self.entry = entry
        self.atr = atr
        self.atNs = atNs
    }
}

/// The gate's answer: a sized trade with its exits, or why not.
public enum RiskVerdict: Sendable, Equatable {
    case accepted(quantity: Double, stop: Double, targets: [Double], detail: String)
    case rejected(RiskRejection, detail: String)
}

/// A tenant's risk limits applied to each proposal, in a fixed order:
/// global halt, tenant halt (drawdown), daily loss, losing streak, open
/// positions, per-symbol positions, cooldown, then sizing. Days are UTC
/// days of the frames' clock, so backtests and live agree.
public final class RiskGate {
    public let limits: RiskLimits
    private let halt: GlobalHalt
    /// Set when the drawdown limit was reached: nothing opens again until
    /// the tenant is restarted.
    public private(set) var haltReason: String?
    private var day: Int64 = .min
    private var dayStartEquity = 0.0
    private var realisedToday = 0.0
    private var losingStreak = 0
    /// Blocked until the next UTC day by the daily loss or the losing streak.
    private var blockedDay: Int64 = .min
    private var blockedRejection: RiskRejection?
    private var blockedDetail = ""
    private var lastLossNs: [String: Int64] = [:]

    public init(limits: RiskLimits, halt: GlobalHalt) {
        self.limits = limits
        self.halt = halt
    }

    public var consecutiveLosses: Int { losingStreak }

    /// Takes over `previous`'s record for the same paper book (a strategy
    /// rebuilt by a reload): the day, its starting equity and realised P&L,
    /// the losing streak and each symbol's last loss. The stops are decided
    /// again under this gate's limits: the daily loss and the streak here,
    /// the drawdown at the next proposal. So a reload never lifts a stop the
    /// record still calls for, and a changed limit applies to today.
    public func takeOverRecord(of previous: RiskGate) {
        day = previous.day
        dayStartEquity = previous.dayStartEquity
        realisedToday = previous.realisedToday
        losingStreak = previous.losingStreak
        lastLossNs = previous.lastLossNs
        checkDayStops()
    }

    /// Stops new signals until the next UTC day when today's realised loss
    /// or the losing streak reached its limit.
    private func checkDayStops() {
        if realisedToday < 0, realisedToday <= -limits.dailyLossLimit * dayStartEquity {
            block(.dailyLossLimit, "realised \(rounded(realisedToday)) today, limit \(rounded(-limits.dailyLossLimit * dayStartEquity))")
        } else if losingStreak >= limits.maxConsecutiveLosses {
            block(.consecutiveLosses, "\(losingStreak) losing trades in a row (limit \(limits.maxConsecutiveLosses))")
        }
    }

    /// Call with every closed position of the tenant, in order.
    public func record(_ outcome: PositionOutcome, portfolio: PortfolioState) {
        roll(to: outcome.closedAtNs, equity: portfolio.equity - outcome.pnl)
        realisedToday += outcome.pnl
        if outcome.pnl < 0 {
            losingStreak += 1
            lastLossNs[outcome.symbol] = outcome.closedAtNs
        } else {
            losingStreak = 0
        }
        checkDrawdown(portfolio)
        checkDayStops()
    }

    public func evaluate(_ proposal: TradeProposal, portfolio: PortfolioState) -> RiskVerdict {
        roll(to: proposal.atNs, equity: portfolio.equity)
        checkDrawdown(portfolio)
        if halt.isHalted { return .rejected(.globalHalt, detail: "the host's halt switch is on") }
        if let haltReason { return .rejected(.tenantHalted, detail: haltReason) }
        if let blockedRejection { return .rejected(blockedRejection, detail: blockedDetail + "; until the next UTC day") }
        let open = portfolio.openPositionCount
        if open >= limits.maxOpenPositions {
            return .rejected(.maxOpenPositions, detail: "\(open) positions open (limit \(limits.maxOpenPositions))")
        }
        let openOnSymbol = portfolio.openPositionCount(symbol: proposal.symbol)
        if openOnSymbol >= limits.maxOpenPerSymbol {
            return .rejected(.maxOpenPerSymbol, detail: "\(openOnSymbol) positions open on \(proposal.symbol) (limit \(limits.maxOpenPerSymbol))")
        }
        if let lossNs = lastLossNs[proposal.symbol], proposal.atNs - lossNs < limits.cooldownNs {
            let left = (limits.cooldownNs - (proposal.atNs - lossNs)) / 1_000_000_000
            return .rejected(.cooldown, detail: "a loss on \(proposal.symbol) \((proposal.atNs - lossNs) / 1_000_000_000) s ago; \(left) s of cooldown left")
        }
        return size(proposal, equity: portfolio.equity)
    }

    /// Fractional Kelly on the stop distance, capped by the position fraction.
    private func size(_ proposal: TradeProposal, equity: Double) -> RiskVerdict {
        let stopDistance = limits.stopATR * proposal.atr
        guard stopDistance.isFinite, stopDistance > 0, proposal.entry > stopDistance else {
            return .rejected(.noVolatility, detail: "ATR is \(proposal.atr): no stop can be placed")
        }
        // Kelly: f* = p − (1 − p) / b with p the confidence and b the payoff
        // ratio of the targets; f* is the fraction of equity put at risk.
        let p = proposal.confidence, b = limits.payoffRatio
        let kelly = p - (1 - p) / b
        guard kelly > 0 else {
            return .rejected(.nonPositiveEdge, detail: "Kelly fraction \(rounded(kelly)) at confidence \(rounded(p)), payoff \(rounded(b))")
        }
        let riskFraction = limits.kellyFraction * kelly
        let byRisk = riskFraction * equity / stopDistance
        let byCap = limits.maxPositionFraction * equity / proposal.entry
        let quantity = min(byRisk, byCap)
        guard quantity > 0, quantity >= limits.minQuantity else {
            return .rejected(.belowMinimumSize, detail: "quantity \(quantity) below the minimum \(limits.minQuantity)")
        }
        let sign = proposal.side.sign
        let stop = proposal.entry - sign * stopDistance
        let targets = limits.targetsR.map { proposal.entry + sign * $0 * stopDistance }
        let basis = byRisk <= byCap ? "risk \(rounded(riskFraction * 100))% of equity" : "capped at \(limits.maxPositionFraction * 100)% of equity"
        return .accepted(quantity: quantity, stop: stop, targets: targets, detail: "Kelly \(rounded(kelly)) × \(limits.kellyFraction), \(basis)")
    }

    private func roll(to ns: Int64, equity: Double) {
        let today = ns >= 0 ? ns / 86_400_000_000_000 : (ns + 1) / 86_400_000_000_000 - 1
        guard today > day else { return }
        day = today
        dayStartEquity = equity
        realisedToday = 0
        if let rejection = blockedRejection, blockedDay < today {
            // A new day lifts the block; a streak that caused it starts over.
            if rejection == .consecutiveLosses { losingStreak = 0 }
            blockedRejection = nil
        }
    }

    private func block(_ rejection: RiskRejection, _ detail: String) {
        blockedDay = day
        blockedRejection = rejection
        blockedDetail = detail
    }

    private func checkDrawdown(_ portfolio: PortfolioState) {
        guard haltReason == nil, portfolio.peakEquity > 0 else { return }
        let drawdown = 1 - portfolio.equity / portfolio.peakEquity
        if drawdown >= limits.maxDrawdown {
            haltReason = "drawdown \(rounded(drawdown * 100))% from the peak \(rounded(portfolio.peakEquity)) reached max_drawdown \(limits.maxDrawdown * 100)%"
        }
    }

    private func rounded(_ value: Double) -> String {
        value.isFinite ? String(Double(Int64((value * 10_000).rounded())) / 10_000) : "\(value)"
    }
}
