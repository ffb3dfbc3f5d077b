/// One open paper position: a signal's entry fill and what is left of it,
/// moved bar by bar through the exit rules (see docs/ARCHITECTURE.md,
/// "Outcomes and the paper portfolio").
struct PaperPosition {
    let signal: Signal
    /// Opening order in the portfolio, for a deterministic end-of-data close.
    let sequence: Int
    let entryFill: Double
    /// The whole entry fee (taker), charged to the legs by quantity.
    let entryFee: Double
    private(set) var remaining: Double
    private(set) var entryFeeCharged = 0.0
    private var nextTarget = 0
    private var adverse = 0.0
    private var favourable = 0.0
    private(set) var legs: [TradeLeg] = []

    init(signal: Signal, sequence: Int, costs: CostModel) {
        self.signal = signal
        self.sequence = sequence
        entryFill = costs.takerFill(signal.entry, buying: signal.side == .long)
        entryFee = costs.takerFee * entryFill * signal.quantity
        remaining = signal.quantity
    }

    var isClosed: Bool { remaining == 0 }

    /// Mark-to-market value of what is still open: the price move since the
    /// entry fill, less the entry fee the open quantity has not been charged.
    func unrealised(at mark: Double) -> Double {
        signal.side.sign * (mark - entryFill) * remaining - (entryFee - entryFeeCharged)
    }

    /// Applies one bar of the position's venue and symbol; appends its exit
    /// legs to `newLegs`. A bar that opened before the signal is ignored.
    mutating func advance(over bar: MarketBar, costs: CostModel, newLegs: inout [TradeLeg]) {
        guard bar.openTimeNs >= signal.createdAtNs else { return }
        let sign = signal.side.sign
        // (a) gap through the stop: out at the open. (b) the range reaches the
        // stop: out at the stop, even if a target is in the same range (OHLC
        // cannot tell which came first; the loss is the conservative guess).
        let gapped = sign * (bar.open - signal.stop) < 0
        if gapped || sign * (worstPrice(of: bar) - signal.stop) <= 0 {
            let fill = costs.takerFill(gapped ? bar.open : signal.stop, buying: signal.side == .short)
            // The stop is assumed to be reached straight from the open: the
            // favourable side sees the open only, the adverse one ends at the fill.
            noteExcursions(adverse: sign * (entryFill - fill), favourable: sign * (bar.open - entryFill))
            closeRest(at: fill, ns: gapped ? bar.openTimeNs : bar.closeTimeNs, fee: costs.takerFee,
                      reason: .stopLoss, target: 0, into: &newLegs)
            return
        }
        // The bar's whole range happened while the position was open, except
        // beyond the target that closes it: the favourable side stops there.
        var best = bestPrice(of: bar)
        if let closing = closingTarget(), sign * (best - closing) > 0 { best = closing }
        noteExcursions(adverse: sign * (entryFill - worstPrice(of: bar)), favourable: sign * (best - entryFill))
        // (c) targets in order, each a resting limit order: filled at its
        // price (also when the bar opened beyond it), maker fee, no slippage.
        while nextTarget < signal.targets.count, sign * (bestPrice(of: bar) - signal.targets[nextTarget]) >= 0 {
            let target = signal.targets[nextTarget]
            let fraction = signal.scaleOut[nextTarget]
            nextTarget += 1
            addLeg(fraction: fraction, exit: target, ns: bar.closeTimeNs, fee: costs.makerFee,
                   reason: .takeProfit, target: nextTarget, into: &newLegs)
            if isClosed { return }
        }
        // (d) time exit at the close of the first bar closing at or after the expiry.
        if signal.expiresAtNs > 0, bar.closeTimeNs >= signal.expiresAtNs {
            closeRest(at: costs.takerFill(bar.close, buying: signal.side == .short), ns: bar.closeTimeNs,
                      fee: costs.takerFee, reason: .timeExit, target: 0, into: &newLegs)
        }
    }

    /// Closes the rest at the market (taker) from the reference `price`: the
    /// end of the backtest's data.
    mutating func closeAtEndOfData(price: Double, ns: Int64, costs: CostModel, newLegs: inout [TradeLeg]) {
        closeRest(at: costs.takerFill(price, buying: signal.side == .short), ns: ns, fee: costs.takerFee,
                  reason: .endOfData, target: 0, into: &newLegs)
    }

    func outcome() -> PositionOutcome {
        let last = legs[legs.count - 1]
        return PositionOutcome(signalID: signal.id, tenant: signal.tenant, symbol: signal.symbol, side: signal.side,
                               entryNs: signal.createdAtNs, entryPrice: entryFill, quantity: signal.quantity, legs: legs,
                               finalReason: last.reason, closedAtNs: last.exitNs,
                               pnl: legs.reduce(0) { $0 + $1.pnl }, fees: legs.reduce(0) { $0 + $1.fees },
                               maxAdverseExcursion: adverse, maxFavourableExcursion: favourable)
    }

    /// The price of the next target that closes what is left (the last, or
    /// an earlier one that scales out everything).
    private func closingTarget() -> Double? {
        signal.scaleOut[nextTarget...].firstIndex { $0 >= 1 }.map { signal.targets[$0] }
    }

    private func worstPrice(of bar: MarketBar) -> Double { signal.side == .long ? bar.low : bar.high }
    private func bestPrice(of bar: MarketBar) -> Double { signal.side == .long ? bar.high : bar.low }

    private mutating func noteExcursions(adverse moveAgainst: Double, favourable moveFor: Double) {
        adverse = max(adverse, moveAgainst)
        favourable = max(favourable, moveFor)
    }

    private mutating func closeRest(at price: Double, ns: Int64, fee: Double, reason: ExitReason, target: Int,
                                    into newLegs: inout [TradeLeg]) {
        addLeg(fraction: 1, exit: price, ns: ns, fee: fee, reason: reason, target: target, into: &newLegs)
    }

    /// Exits `fraction` of what is open. The final leg (fraction 1) takes
    /// exactly what is left, and the entry fee not yet charged, so that
    /// nothing is lost to rounding.
    private mutating func addLeg(fraction: Double, exit: Double, ns: Int64, fee: Double, reason: ExitReason, target: Int,
                                 into newLegs: inout [TradeLeg]) {
        let isFinal = fraction >= 1
        let quantity = isFinal ? remaining : remaining * fraction
        let entryShare = isFinal ? entryFee - entryFeeCharged : entryFee * quantity / signal.quantity
        let fees = fee * exit * quantity + entryShare
        let leg = TradeLeg(signalID: signal.id, symbol: signal.symbol, side: signal.side, entryNs: signal.createdAtNs,
                           entryPrice: entryFill, exitNs: ns, exitPrice: exit, quantity: quantity, fees: fees,
                           pnl: signal.side.sign * (exit - entryFill) * quantity - fees, reason: reason, target: target)
        remaining = isFinal ? 0 : remaining - quantity
        entryFeeCharged = isFinal ? entryFee : entryFeeCharged + entryShare
        legs.append(leg)
        newLegs.append(leg)
    }
}

extension CostModel {
    /// A market order's fill: `slippageBps` worse than `price` (a buy pays
    /// more, a sell gets less).
    func takerFill(_ price: Double, buying: Bool) -> Double {
        price * (1 + (buying ? slippageBps : -slippageBps) / 10_000)
    }
}
