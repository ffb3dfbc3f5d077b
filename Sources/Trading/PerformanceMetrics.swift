/// How a run of closed positions and its equity curve performed. A trade
/// is one closed position (all its legs); a win has pnl > 0, a loss < 0.
/// The definitions are in docs/ARCHITECTURE.md, "Performance metrics".
public struct PerformanceMetrics: Codable, Equatable, Sendable {
    public var trades: Int
    public var wins: Int
    public var losses: Int
    /// Trades with pnl exactly 0: neither wins nor losses.
    public var breakeven: Int
    public var longTrades: Int
    public var shortTrades: Int
    /// wins / trades (0 without trades).
    public var winRate: Double
    /// Σ of every leg's pnl, fees included.
    public var netPnl: Double
    /// Σ pnl of the winning trades.
    public var grossProfit: Double
    /// Σ |pnl| of the losing trades (≥ 0).
    public var grossLoss: Double
    /// grossProfit / grossLoss; nil (JSON null) without a losing trade,
    /// where it would be infinite (or 0/0).
    public var profitFactor: Double?
    /// Mean pnl per trade (0 without trades).
    public var expectancy: Double
    /// Mean pnl of the wins (≥ 0) and of the losses (≤ 0); 0 without any.
    public var averageWin: Double
    public var averageLoss: Double
    /// The best and the worst trade's pnl (0 without trades).
    public var largestWin: Double
    public var largestLoss: Double
    public var maxConsecutiveLosses: Int
    /// Σ fees of the trades (entry and exits).
    public var fees: Double
    public var initialEquity: Double
    /// The equity curve's last point (the initial equity without one).
    public var finalEquity: Double
    /// finalEquity / initialEquity − 1.
    public var totalReturn: Double
    /// How many daily returns `sharpe` and `sortino` were computed from.
    public var dailyReturns: Int
    /// Mean / sample standard deviation of the daily UTC returns, × √365;
    /// 0 with fewer than 2 returns or no deviation.
    public var sharpe: Double
    /// Mean / downside deviation (root mean square of the negative daily
    /// returns over all days), × √365; 0 with fewer than 2 returns or no
    /// losing day.
    public var sortino: Double
    /// The largest fall of the equity curve from its running peak (the
    /// initial equity included), as a fraction of that peak, and in money.
    public var maxDrawdown: Double
    public var maxDrawdownAbs: Double
    /// Mean maximum adverse / favourable excursion per trade, price units.
    public var averageMae: Double
    public var averageMfe: Double
    /// Mean time from entry to the last leg, seconds.
    public var averageHoldingSeconds: Double
    /// The fraction of the run's span (first equity point or entry to last
    /// point or exit) with at least one position open.
    public var exposure: Double
    /// Trades by the reason of their last leg.
    public var exits: ExitCounts
    /// Trades whose signal was not among the signals given: not in `heads`.
    public var unattributedTrades: Int
    /// Per head, in the order heads first appear in the signals' votes.
    public var heads: [HeadAttribution]

    enum CodingKeys: String, CodingKey {
        case trades, wins, losses, breakeven, longTrades = "long_trades", shortTrades = "short_trades"
        case winRate = "win_rate", netPnl = "net_pnl", grossProfit = "gross_profit", grossLoss = "gross_loss"
        case profitFactor = "profit_factor", expectancy, averageWin = "average_win", averageLoss = "average_loss"
        case largestWin = "largest_win", largestLoss = "largest_loss", maxConsecutiveLosses = "max_consecutive_losses"
        case fees, initialEquity = "initial_equity", finalEquity = "final_equity", totalReturn = "total_return"
        case dailyReturns = "daily_returns", sharpe, sortino, maxDrawdown = "max_drawdown", maxDrawdownAbs = "max_drawdown_abs"
        case averageMae = "average_mae", averageMfe = "average_mfe", averageHoldingSeconds = "average_holding_seconds"
        case exposure, exits, unattributedTrades = "unattributed_trades", heads
    }

    /// Trades by the reason they ended.
    public struct ExitCounts: Codable, Equatable, Sendable {
        public var takeProfit = 0
        public var stopLoss = 0
        public var timeExit = 0
        public var endOfData = 0

        public init(takeProfit: Int = 0, stopLoss: Int = 0, timeExit: Int = 0, endOfData: Int = 0) {
            self.takeProfit = takeProfit
            self.stopLoss = stopLoss
            self.timeExit = timeExit
            self.endOfData = endOfData
        }

        enum CodingKeys: String, CodingKey {
            case takeProfit = "take_profit", stopLoss = "stop_loss", timeExit = "time_exit", endOfData = "end_of_data"
        }

        mutating func count(_ reason: ExitReason) {
            switch reason {
            case .takeProfit: takeProfit += 1
            case .stopLoss: stopLoss += 1
            case .timeExit: timeExit += 1
            case .endOfData: endOfData += 1
            }
        }
    }

    public static func compute(outcomes: [PositionOutcome], signals: [Signal], equity: [EquityPoint],
                               initialEquity: Double) -> PerformanceMetrics {
        let pnls = outcomes.map(\.pnl)
        let winning = pnls.filter { $0 > 0 }, losing = pnls.filter { $0 < 0 }
        let grossProfit = winning.reduce(0, +), grossLoss = -losing.reduce(0, +)
        var exits = ExitCounts()
        var streak = 0, longestStreak = 0
        for outcome in outcomes {
            exits.count(outcome.finalReason)
            streak = outcome.pnl < 0 ? streak + 1 : 0
            longestStreak = max(longestStreak, streak)
        }
        let finalEquity = equity.last?.equity ?? initialEquity
        let returns = dailyReturns(equity, initialEquity: initialEquity)
        let drawdown = maxDrawdown(equity, initialEquity: initialEquity)
        let (heads, unattributed) = HeadAttribution.compute(outcomes: outcomes, signals: signals)
        return PerformanceMetrics(
            trades: outcomes.count, wins: winning.count, losses: losing.count,
            breakeven: outcomes.count - winning.count - losing.count,
            longTrades: outcomes.count(where: { $0.side == .long }), shortTrades: outcomes.count(where: { $0.side == .short }),
            winRate: outcomes.isEmpty ? 0 : Double(winning.count) / Double(outcomes.count),
            netPnl: outcomes.reduce(0) { total, outcome in outcome.legs.reduce(total) { $0 + $1.pnl } },
            grossProfit: grossProfit, grossLoss: grossLoss,
            profitFactor: losing.isEmpty ? nil : grossProfit / grossLoss,
            expectancy: mean(pnls), averageWin: mean(winning), averageLoss: mean(losing),
            largestWin: max(0, pnls.max() ?? 0), largestLoss: min(0, pnls.min() ?? 0),
            maxConsecutiveLosses: longestStreak,
            fees: outcomes.reduce(0) { $0 + $1.fees },
            initialEquity: initialEquity, finalEquity: finalEquity,
            totalReturn: finalEquity / initialEquity - 1,
            dailyReturns: returns.count, sharpe: sharpe(returns), sortino: sortino(returns),
            maxDrawdown: drawdown.fraction, maxDrawdownAbs: drawdown.amount,
            averageMae: mean(outcomes.map(\.maxAdverseExcursion)), averageMfe: mean(outcomes.map(\.maxFavourableExcursion)),
            averageHoldingSeconds: mean(outcomes.map { Double($0.closedAtNs - $0.entryNs) / 1e9 }),
            exposure: exposure(outcomes, equity),
            exits: exits, unattributedTrades: unattributed, heads: heads)
    }

    // Written out so that a nil profit factor is `null`, not a missing key.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(trades, forKey: .trades)
        try container.encode(wins, forKey: .wins)
        try container.encode(losses, forKey: .losses)
        try container.encode(breakeven, forKey: .breakeven)
        try container.encode(longTrades, forKey: .longTrades)
        try container.encode(shortTrades, forKey: .shortTrades)
        try container.encode(winRate, forKey: .winRate)
        try container.encode(netPnl, forKey: .netPnl)
        try container.encode(grossProfit, forKey: .grossProfit)
        try container.encode(grossLoss, forKey: .grossLoss)
        try container.encode(profitFactor, forKey: .profitFactor)
        try container.encode(expectancy, forKey: .expectancy)
        try container.encode(averageWin, forKey: .averageWin)
        try container.encode(averageLoss, forKey: .averageLoss)
        try container.encode(largestWin, forKey: .largestWin)
        try container.encode(largestLoss, forKey: .largestLoss)
        try container.encode(maxConsecutiveLosses, forKey: .maxConsecutiveLosses)
        try container.encode(fees, forKey: .fees)
        try container.encode(initialEquity, forKey: .initialEquity)
        try container.encode(finalEquity, forKey: .finalEquity)
        try container.encode(totalReturn, forKey: .totalReturn)
        try container.encode(dailyReturns, forKey: .dailyReturns)
        try container.encode(sharpe, forKey: .sharpe)
        try container.encode(sortino, forKey: .sortino)
        try container.encode(maxDrawdown, forKey: .maxDrawdown)
        try container.encode(maxDrawdownAbs, forKey: .maxDrawdownAbs)
        try container.encode(averageMae, forKey: .averageMae)
        try container.encode(averageMfe, forKey: .averageMfe)
        try container.encode(averageHoldingSeconds, forKey: .averageHoldingSeconds)
        try container.encode(exposure, forKey: .exposure)
        try container.encode(exits, forKey: .exits)
        try container.encode(unattributedTrades, forKey: .unattributedTrades)
        try container.encode(heads, forKey: .heads)
    }

    // MARK: - Equity curve

    static let nsPerDay: Int64 = 86_400_000_000_000

    /// The returns of the equity at each UTC day's last point, the day
    /// before the first point standing at the initial equity. A day without
    /// a point (no bar) keeps the previous equity: a zero return.
    static func dailyReturns(_ curve: [EquityPoint], initialEquity: Double) -> [Double] {
        guard let first = curve.first else { return [] }
        func day(_ ns: Int64) -> Int64 { ns >= 0 ? ns / nsPerDay : (ns + 1) / nsPerDay - 1 }
        var returns: [Double] = []
        var previous = initialEquity
        var currentDay = day(first.ns), currentEquity = first.equity
        for point in curve.dropFirst() {
            let pointDay = day(point.ns)
            if pointDay != currentDay {
                returns.append(currentEquity / previous - 1)
                // The days between without a point: flat.
                returns.append(contentsOf: repeatElement(0, count: Int(max(0, pointDay - currentDay - 1))))
                previous = currentEquity
                currentDay = pointDay
            }
            currentEquity = point.equity
        }
        returns.append(currentEquity / previous - 1)
        return returns
    }

    static let periodsPerYear = 365.0

    static func sharpe(_ returns: [Double]) -> Double {
        guard returns.count >= 2 else { return 0 }
        let average = mean(returns)
        let variance = returns.reduce(0) { $0 + ($1 - average) * ($1 - average) } / Double(returns.count - 1)
        return variance > 0 ? average / variance.squareRoot() * periodsPerYear.squareRoot() : 0
    }

    static func sortino(_ returns: [Double]) -> Double {
        guard returns.count >= 2 else { return 0 }
        let downside = (returns.reduce(0) { $0 + min($1, 0) * min($1, 0) } / Double(returns.count)).squareRoot()
        return downside > 0 ? mean(returns) / downside * periodsPerYear.squareRoot() : 0
    }

    static func maxDrawdown(_ curve: [EquityPoint], initialEquity: Double) -> (fraction: Double, amount: Double) {
        var peak = initialEquity, fraction = 0.0, amount = 0.0
        for point in curve {
            peak = max(peak, point.equity)
            amount = max(amount, peak - point.equity)
            if peak > 0 { fraction = max(fraction, (peak - point.equity) / peak) }
        }
        return (fraction, amount)
    }

    /// The union of the positions' [entry, close] spans over the run's span.
    static func exposure(_ outcomes: [PositionOutcome], _ curve: [EquityPoint]) -> Double {
        let spans = outcomes.map { ($0.entryNs, $0.closedAtNs) }.sorted { $0.0 < $1.0 }
        let starts = spans.map(\.0) + curve.prefix(1).map(\.ns)
        let ends = spans.map(\.1) + curve.suffix(1).map(\.ns)
        guard let runStart = starts.min(), let runEnd = ends.max(), runEnd > runStart else { return 0 }
        var covered: Int64 = 0
        var current: (start: Int64, end: Int64)?
        for (start, end) in spans {
            if let open = current, start <= open.end {
                current = (open.start, max(open.end, end))
            } else {
                if let open = current { covered += open.end - open.start }
                current = (start, end)
            }
        }
        if let open = current { covered += open.end - open.start }
        return Double(covered) / Double(runEnd - runStart)
    }
}

/// How one head's votes lined up with the trades that closed: agreed
/// (voted the signal's side), opposed (voted the other side) or abstained
/// (flat, error, timeout, missing, or no vote recorded).
public struct HeadAttribution: Codable, Equatable, Sendable {
    public var head: String
    public var agreedWins = 0
    public var agreedLosses = 0
    public var opposedWins = 0
    public var opposedLosses = 0
    public var abstainedWins = 0
    public var abstainedLosses = 0
    /// agreedWins / (agreedWins + agreedLosses); nil (JSON null) when the
    /// head agreed with no winning or losing trade.
    public var hitRate: Double? {
        agreedWins + agreedLosses > 0 ? Double(agreedWins) / Double(agreedWins + agreedLosses) : nil
    }

    public init(head: String) {
        self.head = head
    }

    enum CodingKeys: String, CodingKey {
        case head, agreedWins = "agreed_wins", agreedLosses = "agreed_losses", opposedWins = "opposed_wins"
        case opposedLosses = "opposed_losses", abstainedWins = "abstained_wins", abstainedLosses = "abstained_losses"
        case hitRate = "hit_rate"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        head = try container.decode(String.self, forKey: .head)
        agreedWins = try container.decode(Int.self, forKey: .agreedWins)
        agreedLosses = try container.decode(Int.self, forKey: .agreedLosses)
        opposedWins = try container.decode(Int.self, forKey: .opposedWins)
        opposedLosses = try container.decode(Int.self, forKey: .opposedLosses)
        abstainedWins = try container.decode(Int.self, forKey: .abstainedWins)
        abstainedLosses = try container.decode(Int.self, forKey: .abstainedLosses)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(head, forKey: .head)
        try container.encode(agreedWins, forKey: .agreedWins)
        try container.encode(agreedLosses, forKey: .agreedLosses)
        try container.encode(opposedWins, forKey: .opposedWins)
        try container.encode(opposedLosses, forKey: .opposedLosses)
        try container.encode(abstainedWins, forKey: .abstainedWins)
        try container.encode(abstainedLosses, forKey: .abstainedLosses)
        try container.encode(hitRate, forKey: .hitRate)
    }

    /// Per head (in order of first appearance in the signals' votes), and
    /// the count of outcomes whose signal is not in `signals`.
    static func compute(outcomes: [PositionOutcome], signals: [Signal]) -> ([HeadAttribution], unattributed: Int) {
        var heads: [HeadAttribution] = []
        var indexOfHead: [String: Int] = [:]
        for vote in signals.lazy.flatMap(\.votes) where indexOfHead[vote.head] == nil {
            indexOfHead[vote.head] = heads.count
            heads.append(HeadAttribution(head: vote.head))
        }
        let signalByID = Dictionary(signals.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var unattributed = 0
        for outcome in outcomes {
            guard let signal = signalByID[outcome.signalID] else {
                unattributed += 1
                continue
            }
            guard outcome.pnl != 0 else { continue }
            let won = outcome.pnl > 0
            for index in heads.indices {
                let vote = signal.votes.first { $0.head == heads[index].head }
                let side = vote.flatMap { $0.status == .ok ? $0.direction.side : nil }
                switch (side.map { $0 == signal.side }, won) {
                case (true?, true): heads[index].agreedWins += 1
                case (true?, false): heads[index].agreedLosses += 1
                case (false?, true): heads[index].opposedWins += 1
                case (false?, false): heads[index].opposedLosses += 1
                case (nil, true): heads[index].abstainedWins += 1
                case (nil, false): heads[index].abstainedLosses += 1
                }
            }
        }
        return (heads, unattributed)
    }
}

private func mean(_ values: [Double]) -> Double {
    values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
}
