/// The strategy layer's records: what heads said, what the consensus and
/// the risk gate decided, the signals they produced and how each ended.
/// Plain values, so the store, the reports and the tests share them.

/// The side of a signal or position.
public enum Side: String, Sendable, Codable, CaseIterable {
    case long, short

    /// +1 for long, -1 for short: P&L is sign × (exit − entry) × quantity.
    @inlinable public var sign: Double { self == .long ? 1 : -1 }
}

/// A head's direction as the strategy layer records it.
public enum VoteDirection: String, Sendable, Codable, CaseIterable {
    case long, short, flat

    public var side: Side? {
        switch self {
        case .long: .long
        case .short: .short
        case .flat: nil
        }
    }
}

/// How a head's call ended.
public enum VoteStatus: String, Sendable, Codable, CaseIterable {
    /// The head answered with a valid vote.
    case ok
    /// The head returned an error or an invalid vote (bad direction,
    /// confidence outside [0, 1] or NaN); `HeadVote.error` says which.
    case error
    /// The head did not answer within its per-call deadline.
    case timeout
    /// The head is configured but its instance is missing (not loaded,
    /// failed to start, quarantined).
    case missing
}

/// One head's vote on one frame, as recorded with the signal.
public struct HeadVote: Sendable, Equatable, Codable {
    /// The tenant's instance id of the head ("technical").
    public var head: String
    public var plugin: String
    public var status: VoteStatus
    public var direction: VoteDirection
    /// The confidence the head returned, in [0, 1] (0 unless `ok`).
    public var confidence: Double
    /// After the tenant's calibration of this head (equal to `confidence`
    /// without calibration).
    public var calibratedConfidence: Double
    public var weight: Double
    public var rationale: String
    /// Why the vote is not `ok`, naming the field (empty when ok).
    public var error: String

    public init(head: String, plugin: String, status: VoteStatus, direction: VoteDirection, confidence: Double,
                calibratedConfidence: Double, weight: Double, rationale: String = "", error: String = "") {
        self.head = head
        self.plugin = plugin
        self.status = status
        self.direction = direction
        self.confidence = confidence
        self.calibratedConfidence = calibratedConfidence
        self.weight = weight
        self.rationale = rationale
        self.error = error
    }
}

/// A trade idea that passed consensus and the risk gate.
public struct Signal: Sendable, Equatable, Codable {
    /// Unique and deterministic: "<tenant>:<venue>:<symbol>:<timeframe_s>:<frame close, ms>".
    public var id: String
    public var tenant: String
    public var venue: String
    public var symbol: String
    public var timeframeSeconds: Int64
    public var side: Side
    /// The reference price (the frame's close); the paper fill adds slippage.
    public var entry: Double
    public var stop: Double
    /// Take-profit prices, nearest first.
    public var targets: [Double]
    /// At target i, this fraction of the quantity still open is closed
    /// (the last is 1: the rest). Same count as `targets`.
    public var scaleOut: [Double]
    /// Base-asset quantity.
    public var quantity: Double
    /// The fused (calibrated) confidence, in [0, 1].
    public var confidence: Double
    /// At or above the policy's "high" confidence.
    public var highConfidence: Bool
    /// Every configured head's vote, in the tenant's head order.
    public var votes: [HeadVote]
    /// The frame's close time (host clock, ns since the epoch, UTC).
    public var createdAtNs: Int64
    /// The position is closed at the first bar closing at or after this
    /// time (time exit); 0: no time exit.
    public var expiresAtNs: Int64

    public init(id: String, tenant: String, venue: String, symbol: String, timeframeSeconds: Int64, side: Side,
                entry: Double, stop: Double, targets: [Double], scaleOut: [Double], quantity: Double,
                confidence: Double, highConfidence: Bool, votes: [HeadVote], createdAtNs: Int64, expiresAtNs: Int64) {
        self.id = id
        self.tenant = tenant
        self.venue = venue
        self.symbol = symbol
        self.timeframeSeconds = timeframeSeconds
        self.side = side
        self.entry = entry
        self.stop = stop
        self.targets = targets
        self.scaleOut = scaleOut
        self.quantity = quantity
        self.confidence = confidence
        self.highConfidence = highConfidence
        self.votes = votes
        self.createdAtNs = createdAtNs
        self.expiresAtNs = expiresAtNs
    }
}

/// Why the risk gate refused a consensus.
public enum RiskRejection: String, Sendable, Codable, CaseIterable {
    case globalHalt = "global_halt"
    case tenantHalted = "tenant_halted"            // maximum drawdown reached
    case dailyLossLimit = "daily_loss_limit"
    case consecutiveLosses = "max_consecutive_losses"
    case maxOpenPositions = "max_open_positions"
    case maxOpenPerSymbol = "max_open_per_symbol"
    case cooldown = "cooldown"
    case noVolatility = "no_atr"                   // ATR missing or zero: no stop can be placed
    case nonPositiveEdge = "kelly_non_positive"    // Kelly fraction ≤ 0: no edge at this confidence
    case belowMinimumSize = "below_minimum_size"
}

/// Every decision of the risk gate, accepted or not.
public struct RiskDecision: Sendable, Equatable, Codable {
    public var tenant: String
    public var venue: String
    public var symbol: String
    public var timeframeSeconds: Int64
    public var side: Side
    public var confidence: Double
    public var accepted: Bool
    /// nil when accepted.
    public var rejection: RiskRejection?
    /// Human-readable: the numbers behind the decision.
    public var detail: String
    /// The signal id when accepted (also set on rejections: the id the
    /// signal would have had).
    public var signalID: String
    public var atNs: Int64

    public init(tenant: String, venue: String, symbol: String, timeframeSeconds: Int64, side: Side, confidence: Double,
                accepted: Bool, rejection: RiskRejection?, detail: String, signalID: String, atNs: Int64) {
        self.tenant = tenant
        self.venue = venue
        self.symbol = symbol
        self.timeframeSeconds = timeframeSeconds
        self.side = side
        self.confidence = confidence
        self.accepted = accepted
        self.rejection = rejection
        self.detail = detail
        self.signalID = signalID
        self.atNs = atNs
    }
}

/// Fees and slippage of the paper fills.
public struct CostModel: Sendable, Equatable, Codable {
    /// Fraction of notional, e.g. 0.0002 = 2 bp. Take-profit exits are
    /// resting limit orders: maker.
    public var makerFee: Double
    /// Entries, stop-loss and time exits are market orders: taker.
    public var takerFee: Double
    /// Taker fills are this many basis points worse than the reference
    /// price (entry: above for a long; stop: below for a long).
    public var slippageBps: Double

    public init(makerFee: Double = 0.0002, takerFee: Double = 0.0005, slippageBps: Double = 2) {
        self.makerFee = makerFee
        self.takerFee = takerFee
        self.slippageBps = slippageBps
    }
}

/// One closed bar of a symbol, as the outcome tracker reads it.
public struct MarketBar: Sendable, Equatable {
    public var venue: String
    public var symbol: String
    public var openTimeNs: Int64
    public var closeTimeNs: Int64
    public var open, high, low, close: Double

    public init(venue: String, symbol: String, openTimeNs: Int64, closeTimeNs: Int64,
                open: Double, high: Double, low: Double, close: Double) {
        self.venue = venue
        self.symbol = symbol
        self.openTimeNs = openTimeNs
        self.closeTimeNs = closeTimeNs
        self.open = open
        self.high = high
        self.low = low
        self.close = close
    }
}

/// Why (part of) a position was closed.
public enum ExitReason: String, Sendable, Codable, CaseIterable {
    case takeProfit = "take_profit"
    case stopLoss = "stop_loss"
    case timeExit = "time_exit"
    /// The backtest's data ended with the position open: closed at the last close.
    case endOfData = "end_of_data"
}

/// One exit fill of a position (a row of trades.csv). A position that
/// scales out has several.
public struct TradeLeg: Sendable, Equatable, Codable {
    public var signalID: String
    public var symbol: String
    public var side: Side
    public var entryNs: Int64
    /// The entry fill price (with slippage).
    public var entryPrice: Double
    public var exitNs: Int64
    public var exitPrice: Double
    public var quantity: Double
    /// This leg's exit fee plus its share (by quantity) of the entry fee.
    public var fees: Double
    /// side.sign × (exitPrice − entryPrice) × quantity − fees.
    public var pnl: Double
    public var reason: ExitReason
    /// 1 for the first target, 2, 3…; 0 for stop, time and end-of-data exits.
    public var target: Int

    public init(signalID: String, symbol: String, side: Side, entryNs: Int64, entryPrice: Double, exitNs: Int64,
                exitPrice: Double, quantity: Double, fees: Double, pnl: Double, reason: ExitReason, target: Int) {
        self.signalID = signalID
        self.symbol = symbol
        self.side = side
        self.entryNs = entryNs
        self.entryPrice = entryPrice
        self.exitNs = exitNs
        self.exitPrice = exitPrice
        self.quantity = quantity
        self.fees = fees
        self.pnl = pnl
        self.reason = reason
        self.target = target
    }
}

/// How a signal's position ended: all its legs and its excursions.
public struct PositionOutcome: Sendable, Equatable, Codable {
    public var signalID: String
    public var tenant: String
    public var symbol: String
    public var side: Side
    public var entryNs: Int64
    public var entryPrice: Double
    public var quantity: Double
    public var legs: [TradeLeg]
    /// The reason of the last leg.
    public var finalReason: ExitReason
    public var closedAtNs: Int64
    /// Sum of the legs' P&L (fees included).
    public var pnl: Double
    public var fees: Double
    /// Maximum adverse / favourable excursion: the worst and best price
    /// move against / for the position while it was open, in price units
    /// (≥ 0), from the bars' lows and highs.
    public var maxAdverseExcursion: Double
    public var maxFavourableExcursion: Double

    public init(signalID: String, tenant: String, symbol: String, side: Side, entryNs: Int64, entryPrice: Double,
                quantity: Double, legs: [TradeLeg], finalReason: ExitReason, closedAtNs: Int64, pnl: Double, fees: Double,
                maxAdverseExcursion: Double, maxFavourableExcursion: Double) {
        self.signalID = signalID
        self.tenant = tenant
        self.symbol = symbol
        self.side = side
        self.entryNs = entryNs
        self.entryPrice = entryPrice
        self.quantity = quantity
        self.legs = legs
        self.finalReason = finalReason
        self.closedAtNs = closedAtNs
        self.pnl = pnl
        self.fees = fees
        self.maxAdverseExcursion = maxAdverseExcursion
        self.maxFavourableExcursion = maxFavourableExcursion
    }
}

/// The paper portfolio's equity at one time.
public struct EquityPoint: Sendable, Equatable, Codable {
    public var ns: Int64
    /// Cash plus open positions marked to the last close.
    public var equity: Double

    public init(ns: Int64, equity: Double) {
        self.ns = ns
        self.equity = equity
    }
}

/// Receives what the strategy layer decides, in order. The store
/// implements it durably; a backtest may add its own.
public protocol StrategyJournal: AnyObject {
    func record(_ decision: RiskDecision) throws
    func record(_ signal: Signal) throws
    func record(_ outcome: PositionOutcome) throws
}
