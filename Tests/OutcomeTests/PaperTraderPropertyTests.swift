import Trading
import SharedTestData
import XCTest

/// PaperTrader against a brute-force simulation written out plainly below
/// (long and short spelled separately, the whole portfolio revalued every
/// bar), on thousands of random price paths and signals.
final class PaperTraderPropertyTests: XCTestCase {
    func testMatchesBruteForceSimulationOnRandomPaths() throws {
        var generator = SplitMix64(seed: 20_240_301)
        var legsCompared = 0, reasons: [ExitReason: Int] = [:]
        for scenario in 0..<3000 {
            let script = randomScript(&generator)
            let trader = try PaperTrader(tenant: "acme", initialEquity: 10_000, costs: script.costs)
            let recorder = Recorder()
            var reference = ReferencePortfolio(cash: 10_000, costs: script.costs)
            for step in script.steps {
                switch step {
                case .open(let signal):
                    try trader.open(signal)
                    reference.open(signal)
                case .bar(let bar):
                    try recorder.bar(trader, bar)
                    reference.bar(bar)
                case .closeAll(let ns):
                    recorder.closeAll(trader, atNs: ns)
                    reference.closeAll(ns)
                }
                assertClose(trader.equity, reference.equity, "scenario \(scenario): equity after \(step)")
            }
            XCTAssertEqual(recorder.legs.count, reference.legs.count, "scenario \(scenario): legs")
            for (leg, expected) in zip(recorder.legs, reference.legs) {
                XCTAssertEqual(leg.signalID, expected.signalID, "scenario \(scenario)")
                XCTAssertEqual(leg.reason, expected.reason, "scenario \(scenario) \(leg.signalID)")
                XCTAssertEqual(leg.target, expected.target, "scenario \(scenario) \(leg.signalID)")
                XCTAssertEqual(leg.exitNs, expected.exitNs, "scenario \(scenario) \(leg.signalID)")
                assertClose(leg.entryPrice, expected.entryPrice, "scenario \(scenario) \(leg.signalID) entry")
                assertClose(leg.exitPrice, expected.exitPrice, "scenario \(scenario) \(leg.signalID) exit")
                assertClose(leg.quantity, expected.quantity, "scenario \(scenario) \(leg.signalID) quantity")
                assertClose(leg.fees, expected.fees, "scenario \(scenario) \(leg.signalID) fees")
                assertClose(leg.pnl, expected.pnl, "scenario \(scenario) \(leg.signalID) pnl")
                reasons[leg.reason, default: 0] += 1
            }
            legsCompared += recorder.legs.count
            XCTAssertEqual(recorder.closed.map(\.signalID), reference.closed.map(\.signalID), "scenario \(scenario)")
            for (outcome, expected) in zip(recorder.closed, reference.closed) {
                XCTAssertEqual(outcome.closedAtNs, expected.closedAtNs, "scenario \(scenario)")
                XCTAssertEqual(outcome.finalReason, expected.finalReason, "scenario \(scenario)")
                // The legs add up to the position, the last one taking what was left.
                XCTAssertGreaterThan(outcome.legs.last?.quantity ?? 0, 0, "scenario \(scenario)")
                XCTAssertEqual(outcome.legs.reduce(0) { $0 + $1.quantity }, outcome.quantity, accuracy: 1e-12 * outcome.quantity,
                               "scenario \(scenario)")
                assertClose(outcome.pnl, expected.pnl, "scenario \(scenario) \(outcome.signalID) pnl")
                assertClose(outcome.fees, expected.fees, "scenario \(scenario) \(outcome.signalID) fees")
                assertClose(outcome.maxAdverseExcursion, expected.mae, "scenario \(scenario) \(outcome.signalID) MAE")
                assertClose(outcome.maxFavourableExcursion, expected.mfe, "scenario \(scenario) \(outcome.signalID) MFE")
            }
            XCTAssertEqual(trader.equityCurve.map(\.ns), reference.curve.map(\.ns), "scenario \(scenario)")
            for (point, expected) in zip(trader.equityCurve, reference.curve) {
                assertClose(point.equity, expected.equity, "scenario \(scenario) equity at \(point.ns)")
            }
            assertClose(trader.cash, reference.cash, "scenario \(scenario) cash")
            assertClose(trader.peakEquity, max(10_000, reference.curve.map(\.equity).max() ?? 0), "scenario \(scenario) peak")
            XCTAssertEqual(trader.openPositionCount, 0)
        }
        // The paths must exercise every rule, or the comparison proves little.
        XCTAssertGreaterThan(legsCompared, 10_000)
        for reason in [ExitReason.takeProfit, .stopLoss, .timeExit, .endOfData] {
            XCTAssertGreaterThan(reasons[reason, default: 0], 300, "\(reason) exits: \(reasons)")
        }
    }

    private func assertClose(_ actual: Double, _ expected: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let tolerance = 1e-9 * max(1, abs(expected))
        if !(abs(actual - expected) <= tolerance) {
            XCTFail("\(message): \(actual) ≠ \(expected)", file: file, line: line)
        }
    }

    // MARK: - Random scripts

    enum Step: CustomStringConvertible {
        case open(Signal)
        case bar(MarketBar)
        case closeAll(Int64)

        var description: String {
            switch self {
            case .open(let signal): "open \(signal.id)"
            case .bar(let bar): "bar \(bar.symbol) \(bar.openTimeNs)"
            case .closeAll: "close-all"
            }
        }
    }

    struct Script {
        var costs: CostModel
        var steps: [Step]
    }

    /// One or two symbols on random walks with gaps; signals at bar closes
    /// with random sides, stops, 0 to 3 targets, scale-outs and expiries.
    /// Half the scenarios keep every price on a 0.5 tick, so that bars touch
    /// stops and targets exactly.
    private func randomScript(_ generator: inout SplitMix64) -> Script {
        let tick = Bool.random(using: &generator) ? 0.5 : 0
        func snap(_ price: Double) -> Double { tick > 0 ? max(tick, (price / tick).rounded() * tick) : price }
        let costs = CostModel(makerFee: Double.random(in: 0...0.001, using: &generator),
                              takerFee: Double.random(in: 0...0.002, using: &generator),
                              slippageBps: Double.random(in: 0...20, using: &generator))
        let symbols = Bool.random(using: &generator) ? ["BTC-USDT"] : ["BTC-USDT", "ETH-USDT"]
        var close = Dictionary(uniqueKeysWithValues: symbols.map { ($0, Double.random(in: 50...500, using: &generator)) })
        let barCount = Int.random(in: 3...30, using: &generator)
        var steps: [Step] = []
        var signalNumber = 0
        for index in 0..<Int64(barCount) {
            for symbol in symbols {
                let previous = close[symbol]!
                let volatility = previous * 0.01
                let gap = Double.random(in: 0...1, using: &generator) < 0.15 ? Double.random(in: -3...3, using: &generator) * volatility : 0
                let open = snap(max(1, previous + gap))
                let next = snap(max(1, open + Double.random(in: -2...2, using: &generator) * volatility))
                let high = snap(max(open, next) + Double.random(in: 0...1.5, using: &generator) * volatility)
                let low = min(min(open, next), snap(max(0.5, min(open, next) - Double.random(in: 0...1.5, using: &generator) * volatility)))
                let bar = Fixture.bar(index, open: open, high: high, low: low, close: next, symbol: symbol)
                close[symbol] = next
                // Sometimes the signal comes before the bar it was made from
                // (that bar opened before it and must not move it).
                let signal = Double.random(in: 0...1, using: &generator) < 0.35
                    ? randomSignal("sig\(signalNumber)", at: bar, tick: tick, &generator) : nil
                let signalFirst = Bool.random(using: &generator)
                if let signal, signalFirst { steps.append(.open(signal)) }
                steps.append(.bar(bar))
                if let signal, !signalFirst { steps.append(.open(signal)) }
                if signal != nil { signalNumber += 1 }
            }
        }
        steps.append(.closeAll(Fixture.start + Int64(barCount) * Fixture.minute))
        return Script(costs: costs, steps: steps)
    }

    private func randomSignal(_ id: String, at bar: MarketBar, tick: Double, _ generator: inout SplitMix64) -> Signal {
        let side: Side = Bool.random(using: &generator) ? .long : .short
        let entry = bar.close
        let unit = entry * 0.01
        let away = side == .long ? 1.0 : -1.0
        /// `distance` beyond `price` (away from the entry), on the tick when there is one.
        func level(beyond price: Double, _ distance: Double) -> Double {
            guard tick > 0 else { return price + distance }
            let snapped = (((price + distance) / tick).rounded()) * tick
            return snapped == price ? price + (distance > 0 ? tick : -tick) : snapped
        }
        let stop = level(beyond: entry, -away * Double.random(in: 0.3...3, using: &generator) * unit)
        var targets: [Double] = []
        var previous = entry
        for _ in 0..<Int.random(in: 0...3, using: &generator) {
            let target = level(beyond: previous, away * Double.random(in: 0.2...2.5, using: &generator) * unit)
            targets.append(target)
            previous = target
        }
        let scaleOut = targets.indices.map { index in
            index == targets.count - 1 ? 1 : (Double.random(in: 0...1, using: &generator) < 0.1 ? 1 : Double.random(in: 0.1...0.9, using: &generator))
        }
        let expires = Double.random(in: 0...1, using: &generator) < 0.5
            ? bar.closeTimeNs + Int64.random(in: 1...8, using: &generator) * Fixture.minute - Int64.random(in: 0...30, using: &generator) * 1_000_000_000
            : 0
        return Signal(id: id, tenant: "acme", venue: bar.venue, symbol: bar.symbol, timeframeSeconds: 60, side: side,
                      entry: entry, stop: stop, targets: targets, scaleOut: scaleOut,
                      quantity: Double.random(in: 0.001...5, using: &generator), confidence: 0.6, highConfidence: false,
                      votes: [], createdAtNs: bar.closeTimeNs, expiresAtNs: expires)
    }
}

// MARK: - The brute-force reference

/// The rules of docs/ARCHITECTURE.md "Outcomes and the paper portfolio",
/// spelled out without the trader's shortcuts.
private struct ReferencePortfolio {
    struct Position {
        var signal: Signal
        var entryFill: Double
        var entryFee: Double
        var open: Double
        var feeCharged = 0.0
        var nextTarget = 0
        var mae = 0.0
        var mfe = 0.0
        var legs: [TradeLeg] = []
    }

    struct Closed {
        var signalID: String
        var closedAtNs: Int64
        var finalReason: ExitReason
        var pnl: Double
        var fees: Double
        var mae: Double
        var mfe: Double
    }

    var cash: Double
    let costs: CostModel
    var positions: [Position] = []
    var legs: [TradeLeg] = []
    var closed: [Closed] = []
    var curve: [EquityPoint] = []
    /// symbol -> (price, time) of the newest close or signal entry.
    var marks: [String: (price: Double, ns: Int64)] = [:]

    init(cash: Double, costs: CostModel) {
        self.cash = cash
        self.costs = costs
    }

    var equity: Double {
        var total = cash
        for position in positions {
            let mark = marks[position.signal.symbol]!.price
            let move = position.signal.side == .long ? mark - position.entryFill : position.entryFill - mark
            total += move * position.open - (position.entryFee - position.feeCharged)
        }
        return total
    }

    mutating func open(_ signal: Signal) {
        let slip = costs.slippageBps / 10_000
        let fill = signal.side == .long ? signal.entry * (1 + slip) : signal.entry * (1 - slip)
        positions.append(Position(signal: signal, entryFill: fill, entryFee: costs.takerFee * fill * signal.quantity,
                                  open: signal.quantity))
        if marks[signal.symbol] == nil || marks[signal.symbol]!.ns <= signal.createdAtNs {
            marks[signal.symbol] = (signal.entry, signal.createdAtNs)
        }
    }

    mutating func bar(_ bar: MarketBar) {
        if marks[bar.symbol] == nil || marks[bar.symbol]!.ns <= bar.closeTimeNs {
            marks[bar.symbol] = (bar.close, bar.closeTimeNs)
        }
        var index = 0
        while index < positions.count {
            var position = positions[index]
            guard position.signal.symbol == bar.symbol, bar.openTimeNs >= position.signal.createdAtNs else {
                index += 1
                continue
            }
            let closed = step(&position, bar)
            positions[index] = position
            if closed {
                finish(positions.remove(at: index))
            } else {
                index += 1
            }
        }
        record(bar.closeTimeNs)
    }

    mutating func closeAll(_ ns: Int64) {
        let slip = costs.slippageBps / 10_000
        for var position in positions {
            let mark = marks[position.signal.symbol]!.price
            let fill = position.signal.side == .long ? mark * (1 - slip) : mark * (1 + slip)
            exit(&position, quantity: position.open, price: fill, fee: costs.takerFee, ns: ns, reason: .endOfData, target: 0)
            finish(position)
        }
        positions = []
        record(ns)
    }

    /// One bar for one position; true when it closed.
    private mutating func step(_ p: inout Position, _ bar: MarketBar) -> Bool {
        let slip = costs.slippageBps / 10_000
        let s = p.signal
        if s.side == .long {
            if bar.open < s.stop {
                let fill = bar.open * (1 - slip)
                p.mae = max(p.mae, p.entryFill - fill)
                p.mfe = max(p.mfe, bar.open - p.entryFill)
                exit(&p, quantity: p.open, price: fill, fee: costs.takerFee, ns: bar.openTimeNs, reason: .stopLoss, target: 0)
                return true
            }
            if bar.low <= s.stop {
                let fill = s.stop * (1 - slip)
                p.mae = max(p.mae, p.entryFill - fill)
                p.mfe = max(p.mfe, bar.open - p.entryFill)
                exit(&p, quantity: p.open, price: fill, fee: costs.takerFee, ns: bar.closeTimeNs, reason: .stopLoss, target: 0)
                return true
            }
            var best = bar.high
            if let closing = closingTarget(p), best > closing { best = closing }
            p.mae = max(p.mae, p.entryFill - bar.low)
            p.mfe = max(p.mfe, best - p.entryFill)
        } else {
            if bar.open > s.stop {
                let fill = bar.open * (1 + slip)
                p.mae = max(p.mae, fill - p.entryFill)
                p.mfe = max(p.mfe, p.entryFill - bar.open)
                exit(&p, quantity: p.open, price: fill, fee: costs.takerFee, ns: bar.openTimeNs, reason: .stopLoss, target: 0)
                return true
            }
            if bar.high >= s.stop {
                let fill = s.stop * (1 + slip)
                p.mae = max(p.mae, fill - p.entryFill)
                p.mfe = max(p.mfe, p.entryFill - bar.open)
                exit(&p, quantity: p.open, price: fill, fee: costs.takerFee, ns: bar.closeTimeNs, reason: .stopLoss, target: 0)
                return true
            }
            var best = bar.low
            if let closing = closingTarget(p), best < closing { best = closing }
            p.mae = max(p.mae, bar.high - p.entryFill)
            p.mfe = max(p.mfe, p.entryFill - best)
        }
        while p.nextTarget < s.targets.count {
            let target = s.targets[p.nextTarget]
            let reached = s.side == .long ? bar.high >= target : bar.low <= target
            if !reached { break }
            let last = s.scaleOut[p.nextTarget] == 1
            let quantity = last ? p.open : p.open * s.scaleOut[p.nextTarget]
            p.nextTarget += 1
            exit(&p, quantity: quantity, price: target, fee: costs.makerFee, ns: bar.closeTimeNs, reason: .takeProfit,
                 target: p.nextTarget)
            if last { return true }
        }
        if s.expiresAtNs > 0 && bar.closeTimeNs >= s.expiresAtNs {
            let fill = s.side == .long ? bar.close * (1 - slip) : bar.close * (1 + slip)
            exit(&p, quantity: p.open, price: fill, fee: costs.takerFee, ns: bar.closeTimeNs, reason: .timeExit, target: 0)
            return true
        }
        return false
    }

    private func closingTarget(_ p: Position) -> Double? {
        for index in p.nextTarget..<p.signal.targets.count where p.signal.scaleOut[index] == 1 {
            return p.signal.targets[index]
        }
        return nil
    }

    private mutating func exit(_ p: inout Position, quantity: Double, price: Double, fee: Double, ns: Int64,
                               reason: ExitReason, target: Int) {
        let isLast = quantity == p.open
        let entryPart = isLast ? p.entryFee - p.feeCharged : p.entryFee * quantity / p.signal.quantity
        let fees = fee * price * quantity + entryPart
        let move = p.signal.side == .long ? price - p.entryFill : p.entryFill - price
        let leg = TradeLeg(signalID: p.signal.id, symbol: p.signal.symbol, side: p.signal.side, entryNs: p.signal.createdAtNs,
                           entryPrice: p.entryFill, exitNs: ns, exitPrice: price, quantity: quantity, fees: fees,
                           pnl: move * quantity - fees, reason: reason, target: target)
        p.open -= quantity
        p.feeCharged += entryPart
        p.legs.append(leg)
        legs.append(leg)
        cash += leg.pnl
    }

    private mutating func finish(_ p: Position) {
        closed.append(Closed(signalID: p.signal.id, closedAtNs: p.legs.last!.exitNs, finalReason: p.legs.last!.reason,
                             pnl: p.legs.map(\.pnl).reduce(0, +), fees: p.legs.map(\.fees).reduce(0, +), mae: p.mae, mfe: p.mfe))
    }

    private mutating func record(_ ns: Int64) {
        if let last = curve.last, last.ns >= ns {
            curve[curve.count - 1].equity = equity
        } else {
            curve.append(EquityPoint(ns: ns, equity: equity))
        }
    }
}
