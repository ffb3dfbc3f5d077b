import Trading

/// Everything a backtest run produced, as the report writer reads it.
public struct BacktestResult: Sendable, Equatable {
    /// The run: what was replayed and what the strategy layer decided.
    public var run: BacktestRunInfo
    /// Every accepted signal, in creation order.
    public var signals: [Signal]
    /// Every closed position, in closing order (`PaperTrader.closedPositions`).
    public var outcomes: [PositionOutcome]
    /// Every exit leg, in fill order (`PaperTrader.legs`): the rows of trades.csv.
    public var legs: [TradeLeg]
    /// `PaperTrader.equityCurve`.
    public var equityCurve: [EquityPoint]
    public var metrics: PerformanceMetrics

    public init(run: BacktestRunInfo, signals: [Signal], outcomes: [PositionOutcome], legs: [TradeLeg],
                equityCurve: [EquityPoint], metrics: PerformanceMetrics) {
        self.run = run
        self.signals = signals
        self.outcomes = outcomes
        self.legs = legs
        self.equityCurve = equityCurve
        self.metrics = metrics
    }
}

/// What a backtest replayed and counted. Nothing in it depends on when or
/// where the run happened, so that the same inputs give the same report.
public struct BacktestRunInfo: Sendable, Equatable {
    public var tenant: String
    /// The input files as the operator named them, relative to the folder
    /// the run started in (the writer refuses an absolute path).
    public var inputFiles: [String]
    /// The first bar's open and the last bar's close, ns since the epoch (UTC).
    public var fromNs: Int64
    public var toNs: Int64
    /// Closed bars applied to the paper portfolio.
    public var bars: Int
    /// Feature frames the heads voted on.
    public var frames: Int
    /// Consensus results the risk gate refused, by reason.
    public var riskRejections: [RiskRejection: Int]
    /// Per head, in the tenant's head order: how its calls ended over all frames.
    public var headVotes: [HeadVoteCounts]
    /// The paper fills' fees and slippage. (The initial and final equity
    /// are the metrics'.)
    public var costs: CostModel

    public init(tenant: String, inputFiles: [String], fromNs: Int64, toNs: Int64, bars: Int, frames: Int,
                riskRejections: [RiskRejection: Int], headVotes: [HeadVoteCounts], costs: CostModel) {
        self.tenant = tenant
        self.inputFiles = inputFiles
        self.fromNs = fromNs
        self.toNs = toNs
        self.bars = bars
        self.frames = frames
        self.riskRejections = riskRejections
        self.headVotes = headVotes
        self.costs = costs
    }
}

/// How one head's calls ended over a run.
public struct HeadVoteCounts: Sendable, Equatable, Encodable {
    public var head: String
    public var ok = 0
    public var error = 0
    public var timeout = 0
    public var missing = 0

    public init(head: String) {
        self.head = head
    }

    public mutating func count(_ status: VoteStatus, times: Int = 1) {
        switch status {
        case .ok: ok += times
        case .error: error += times
        case .timeout: timeout += times
        case .missing: missing += times
        }
    }
}
