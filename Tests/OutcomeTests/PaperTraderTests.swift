import Trading
import XCTest

/// Each exit rule on a case worked out by hand. Costs: maker 10 bp, taker
/// 20 bp, slippage 10 bp; a long entry at 100 fills at 100.1.
final class PaperTraderTests: XCTestCase {
    private let accuracy = 1e-9

    private func trader() throws -> PaperTrader {
        try PaperTrader(tenant: "acme", initialEquity: 10_000, costs: Fixture.costs)
    }

    func testEntryFillSlippageAndFeeShowInEquityAtOnce() throws {
        let trader = try trader()
        try trader.open(Fixture.signal(quantity: 2))
        // Marked at the entry reference 100: (100 − 100.1) × 2 − fee 0.002 × 100.1 × 2.
        XCTAssertEqual(trader.equity, 10_000 - 0.2 - 0.4004, accuracy: accuracy)
        XCTAssertEqual(trader.cash, 10_000)
        XCTAssertEqual(trader.openPositionCount, 1)
        XCTAssertEqual(trader.openPositionCount(symbol: "BTC-USDT"), 1)
        XCTAssertEqual(trader.openPositionCount(symbol: "ETH-USDT"), 0)
    }

    func testGapThroughTheStopExitsAtTheOpen() throws {
        let trader = try trader(), recorder = Recorder()
        try trader.open(Fixture.signal(stop: 95, targets: [110], quantity: 2))
        try recorder.bar(trader, Fixture.bar(1, open: 94, high: 96, low: 90, close: 91))

        let leg = try XCTUnwrap(recorder.legs.first)
        XCTAssertEqual(recorder.legs.count, 1)
        XCTAssertEqual(leg.reason, .stopLoss)
        XCTAssertEqual(leg.exitPrice, 94 * 0.999, accuracy: accuracy)  // the open, sold 10 bp lower
        XCTAssertEqual(leg.exitNs, Fixture.start + Fixture.minute)      // at the bar's open
        XCTAssertEqual(leg.fees, 0.002 * 93.906 * 2 + 0.4004, accuracy: accuracy)
        XCTAssertEqual(leg.pnl, (93.906 - 100.1) * 2 - 0.776024, accuracy: accuracy)
        let outcome = try XCTUnwrap(recorder.closed.first)
        XCTAssertEqual(outcome.maxAdverseExcursion, 100.1 - 93.906, accuracy: accuracy)  // capped at the exit
        XCTAssertEqual(outcome.maxFavourableExcursion, 0)
        XCTAssertEqual(trader.cash, 10_000 - 13.164024, accuracy: accuracy)
        XCTAssertEqual(trader.equity, trader.cash)
        XCTAssertEqual(trader.openPositionCount, 0)
    }

    func testStopAndTargetInTheSameBarTakeTheStop() throws {
        let trader = try trader(), recorder = Recorder()
        try trader.open(Fixture.signal(stop: 95, targets: [110], quantity: 2))
        try recorder.bar(trader, Fixture.bar(1, open: 101, high: 111, low: 94, close: 105))

        XCTAssertEqual(recorder.legs.map(\.reason), [.stopLoss])
        XCTAssertEqual(recorder.legs[0].exitPrice, 95 * 0.999, accuracy: accuracy)
        XCTAssertEqual(recorder.legs[0].exitNs, Fixture.start + 2 * Fixture.minute)
        XCTAssertEqual(recorder.legs[0].pnl, (94.905 - 100.1) * 2 - (0.002 * 94.905 * 2 + 0.4004), accuracy: accuracy)
        // The stop is taken as reached straight from the open: the high does not count.
        XCTAssertEqual(recorder.closed[0].maxFavourableExcursion, 101 - 100.1, accuracy: accuracy)
        XCTAssertEqual(recorder.closed[0].maxAdverseExcursion, 100.1 - 94.905, accuracy: accuracy)
    }

    func testPartialTargetsThenTheStop() throws {
        let trader = try trader(), recorder = Recorder()
        try trader.open(Fixture.signal(targets: [105, 110, 120], scaleOut: [0.5, 0.5, 1], quantity: 4))
        let entryFee = 0.002 * 100.1 * 4  // 0.8008

        try recorder.bar(trader, Fixture.bar(1, open: 100, high: 106, low: 99, close: 104))
        XCTAssertEqual(recorder.legs.count, 1)
        let first = recorder.legs[0]
        XCTAssertEqual(first.quantity, 2)
        XCTAssertEqual(first.exitPrice, 105)  // limit order: no slippage
        XCTAssertEqual(first.target, 1)
        XCTAssertEqual(first.fees, 0.001 * 105 * 2 + entryFee / 2, accuracy: accuracy)
        XCTAssertEqual(first.pnl, 4.9 * 2 - 0.6104, accuracy: accuracy)
        // Cash has the first leg; the rest (2) is marked at 104 less its share of the entry fee.
        XCTAssertEqual(trader.cash, 10_000 + 9.1896, accuracy: accuracy)
        XCTAssertEqual(trader.equity, 10_000 + 9.1896 + 3.9 * 2 - 0.4004, accuracy: accuracy)
        XCTAssertTrue(recorder.closed.isEmpty)

        try recorder.bar(trader, Fixture.bar(2, open: 104, high: 111, low: 104, close: 108))
        XCTAssertEqual(recorder.legs.count, 2)
        XCTAssertEqual(recorder.legs[1].quantity, 1)  // half of the 2 still open
        XCTAssertEqual(recorder.legs[1].target, 2)
        XCTAssertEqual(recorder.legs[1].pnl, 9.9 - (0.11 + 0.2002), accuracy: accuracy)

        try recorder.bar(trader, Fixture.bar(3, open: 100, high: 101, low: 94, close: 96))
        XCTAssertEqual(recorder.legs.map(\.reason), [.takeProfit, .takeProfit, .stopLoss])
        let last = recorder.legs[2]
        XCTAssertEqual(last.quantity, 1)
        XCTAssertEqual(last.target, 0)
        XCTAssertEqual(last.fees, 0.002 * 94.905 + (entryFee - 0.4004 - 0.2002), accuracy: accuracy)
        let outcome = try XCTUnwrap(recorder.closed.first)
        XCTAssertEqual(outcome.legs, recorder.legs)
        XCTAssertEqual(outcome.finalReason, .stopLoss)
        XCTAssertEqual(outcome.quantity, 4)
        XCTAssertEqual(outcome.legs.map(\.quantity).reduce(0, +), 4)
        XCTAssertEqual(outcome.pnl, 9.1896 + 9.5898 - 5.58501, accuracy: accuracy)
        XCTAssertEqual(outcome.fees, entryFee + 0.21 + 0.11 + 0.18981, accuracy: accuracy)
        XCTAssertEqual(outcome.maxFavourableExcursion, 111 - 100.1, accuracy: accuracy)
        XCTAssertEqual(outcome.maxAdverseExcursion, 100.1 - 94.905, accuracy: accuracy)
        XCTAssertEqual(trader.cash, 10_000 + outcome.pnl, accuracy: accuracy)
    }

    func testABarOpeningBeyondATargetFillsAtTheTargetAndCapsTheExcursion() throws {
        let trader = try trader(), recorder = Recorder()
        try trader.open(Fixture.signal(targets: [110], quantity: 1))
        try recorder.bar(trader, Fixture.bar(1, open: 112, high: 115, low: 111, close: 114))
        XCTAssertEqual(recorder.legs.map(\.exitPrice), [110])
        XCTAssertEqual(recorder.legs[0].reason, .takeProfit)
        XCTAssertEqual(recorder.legs[0].fees, 0.001 * 110 + 0.002 * 100.1, accuracy: accuracy)
        XCTAssertEqual(recorder.closed[0].maxFavourableExcursion, 110 - 100.1, accuracy: accuracy)
        XCTAssertEqual(recorder.closed[0].maxAdverseExcursion, 0)  // the low 111 is above the entry
    }

    func testTimeExitAtTheCloseOfTheFirstBarClosingAtTheExpiry() throws {
        let trader = try trader(), recorder = Recorder()
        let created = Fixture.start + Fixture.minute
        try trader.open(Fixture.signal(quantity: 2, expiresAtNs: created + 90_000_000_000))  // 1.5 bars
        try recorder.bar(trader, Fixture.bar(1, open: 100, high: 103, low: 98, close: 102))
        XCTAssertTrue(recorder.legs.isEmpty)
        try recorder.bar(trader, Fixture.bar(2, open: 102, high: 104, low: 97, close: 103))
        XCTAssertEqual(recorder.legs.map(\.reason), [.timeExit])
        XCTAssertEqual(recorder.legs[0].exitPrice, 103 * 0.999, accuracy: accuracy)
        XCTAssertEqual(recorder.legs[0].exitNs, Fixture.start + 3 * Fixture.minute)
        XCTAssertEqual(recorder.closed[0].maxAdverseExcursion, 100.1 - 97, accuracy: accuracy)
        XCTAssertEqual(recorder.closed[0].maxFavourableExcursion, 104 - 100.1, accuracy: accuracy)
    }

    func testEndOfDataClosesAtEachSymbolsLastCloseInOpeningOrder() throws {
        let trader = try trader(), recorder = Recorder()
        try trader.open(Fixture.signal("b", entry: 50, stop: 40, targets: [60], quantity: 1, symbol: "ETH-USDT"))
        try trader.open(Fixture.signal("a", quantity: 1))
        try recorder.bar(trader, Fixture.bar(1, open: 100, high: 102, low: 99, close: 101))
        try recorder.bar(trader, Fixture.bar(1, open: 50, high: 52, low: 49, close: 51, symbol: "ETH-USDT"))
        let end = Fixture.start + 2 * Fixture.minute
        recorder.closeAll(trader, atNs: end)

        XCTAssertEqual(recorder.closed.map(\.signalID), ["b", "a"])
        XCTAssertEqual(recorder.legs.map(\.reason), [.endOfData, .endOfData])
        XCTAssertEqual(recorder.legs[0].exitPrice, 51 * 0.999, accuracy: accuracy)
        XCTAssertEqual(recorder.legs[1].exitPrice, 101 * 0.999, accuracy: accuracy)
        XCTAssertEqual(recorder.legs.map(\.exitNs), [end, end])
        XCTAssertEqual(trader.openPositionCount, 0)
        XCTAssertEqual(trader.equity, trader.cash)
        XCTAssertEqual(trader.equityCurve.last, EquityPoint(ns: end, equity: trader.cash))
        XCTAssertEqual(trader.equityCurve.count, 1)  // both bars and the close-out share one close time
        XCTAssertEqual(trader.closedPositions, recorder.closed)
        XCTAssertEqual(trader.legs, recorder.legs)
    }

    func testShortSideGapTargetAndFees() throws {
        let trader = try trader(), recorder = Recorder()
        // A short at 100 fills 10 bp lower: 99.9.
        try trader.open(Fixture.signal("short-target", side: .short, stop: 105, targets: [90], quantity: 3))
        try recorder.bar(trader, Fixture.bar(1, open: 99, high: 101, low: 89, close: 91))
        let leg = try XCTUnwrap(recorder.legs.first)
        XCTAssertEqual(leg.entryPrice, 99.9, accuracy: accuracy)
        XCTAssertEqual(leg.exitPrice, 90)
        XCTAssertEqual(leg.fees, 0.001 * 90 * 3 + 0.002 * 99.9 * 3, accuracy: accuracy)
        XCTAssertEqual(leg.pnl, (99.9 - 90) * 3 - leg.fees, accuracy: accuracy)
        XCTAssertEqual(recorder.closed[0].maxAdverseExcursion, 101 - 99.9, accuracy: accuracy)
        XCTAssertEqual(recorder.closed[0].maxFavourableExcursion, 99.9 - 90, accuracy: accuracy)

        try trader.open(Fixture.signal("short-gap", side: .short, stop: 105, targets: [90], quantity: 1, createdAfterBar: 1))
        try recorder.bar(trader, Fixture.bar(2, open: 106, high: 108, low: 104, close: 107))
        let stop = recorder.legs[1]
        XCTAssertEqual(stop.reason, .stopLoss)
        XCTAssertEqual(stop.exitPrice, 106 * 1.001, accuracy: accuracy)  // bought back 10 bp higher
        XCTAssertEqual(stop.pnl, (99.9 - 106.106) - (0.002 * 106.106 + 0.002 * 99.9), accuracy: accuracy)
    }

    func testOnlyBarsOfTheSymbolFromTheSignalOnMoveThePosition() throws {
        let trader = try trader(), recorder = Recorder()
        try trader.open(Fixture.signal(stop: 95, quantity: 1, createdAfterBar: 1))
        // The bar the signal came from (it opened before the signal): ignored.
        try recorder.bar(trader, Fixture.bar(1, open: 100, high: 120, low: 80, close: 100))
        // Another symbol and another venue with the same name: ignored.
        try recorder.bar(trader, Fixture.bar(2, open: 90, high: 120, low: 80, close: 90, symbol: "ETH-USDT"))
        try recorder.bar(trader, Fixture.bar(2, open: 90, high: 120, low: 80, close: 90, venue: "other"))
        XCTAssertTrue(recorder.legs.isEmpty)
        XCTAssertEqual(trader.openPositionCount, 1)
        try recorder.bar(trader, Fixture.bar(2, open: 100, high: 111, low: 99, close: 110))
        XCTAssertEqual(recorder.legs.map(\.reason), [.takeProfit])
    }

    func testEquityCurveHasOnePointPerCloseTimeAndThePeak() throws {
        let trader = try trader(), recorder = Recorder()
        try trader.open(Fixture.signal(quantity: 1))
        try recorder.bar(trader, Fixture.bar(1, open: 100, high: 104, low: 99, close: 104))
        try recorder.bar(trader, Fixture.bar(1, open: 50, high: 52, low: 49, close: 51, symbol: "ETH-USDT"))
        try recorder.bar(trader, Fixture.bar(2, open: 104, high: 104, low: 101, close: 102))
        let entryFee = 0.002 * 100.1
        XCTAssertEqual(trader.equityCurve.map(\.ns), [Fixture.start + 2 * Fixture.minute, Fixture.start + 3 * Fixture.minute])
        XCTAssertEqual(trader.equityCurve[0].equity, 10_000 + 3.9 - entryFee, accuracy: accuracy)
        XCTAssertEqual(trader.equityCurve[1].equity, 10_000 + 1.9 - entryFee, accuracy: accuracy)
        XCTAssertEqual(trader.peakEquity, 10_000 + 3.9 - entryFee, accuracy: accuracy)
    }

    func testCallbacksSeeTheUpdatedPortfolio() throws {
        let trader = try trader()
        try trader.open(Fixture.signal(quantity: 1))
        var seen: [String] = []
        try trader.onBar(Fixture.bar(1, open: 100, high: 111, low: 99, close: 110),
                         onLeg: { _ in seen.append("leg open=\(trader.openPositionCount)") },
                         onClose: { _ in seen.append("close legs=\(trader.legs.count) cash=\(trader.cash > 10_000)") })
        XCTAssertEqual(seen, ["leg open=0", "close legs=1 cash=true"])
    }

    func testInconsistentSignalsAreRefusedNamingTheField() throws {
        let trader = try trader()
        func refusal(_ signal: Signal) -> PaperTradeError? {
            do {
                try trader.open(signal)
                return nil
            } catch {
                return error as? PaperTradeError
            }
        }
        XCTAssertEqual(refusal(Fixture.signal(tenant: "other"))?.field, "tenant")
        XCTAssertEqual(refusal(Fixture.signal(stop: 101))?.field, "stop")
        XCTAssertEqual(refusal(Fixture.signal(side: .short, stop: 95, targets: [90]))?.field, "stop")
        XCTAssertEqual(refusal(Fixture.signal(targets: [110, 105], scaleOut: [0.5, 1]))?.field, "targets[1]")
        XCTAssertEqual(refusal(Fixture.signal(targets: [110], scaleOut: [0.5]))?.field, "scale_out[0]")
        XCTAssertEqual(refusal(Fixture.signal(targets: [105, 110], scaleOut: [1]))?.field, "scale_out")
        XCTAssertEqual(refusal(Fixture.signal(targets: [105, 110], scaleOut: [0, 1]))?.field, "scale_out[0]")
        XCTAssertEqual(refusal(Fixture.signal(quantity: 0))?.field, "quantity")
        XCTAssertEqual(refusal(Fixture.signal(entry: .nan))?.field, "entry")
        XCTAssertEqual(refusal(Fixture.signal(expiresAtNs: 5))?.field, "expires_at")
        let error = refusal(Fixture.signal(stop: 101))
        XCTAssertEqual(error?.description, "tenant acme: signal s1: stop: 101.0 is not a positive price on the losing side "
                       + "of the entry 100.0 for a long")
        XCTAssertEqual(trader.openPositionCount, 0)  // nothing refused was opened

        XCTAssertNil(refusal(Fixture.signal()))
        XCTAssertEqual(refusal(Fixture.signal())?.problem, "was already opened")
        let recorder = Recorder()
        try recorder.bar(trader, Fixture.bar(3, open: 100, high: 101, low: 99, close: 100))
        // Created before a bar already applied: its bars would be missed.
        XCTAssertEqual(refusal(Fixture.signal("late", createdAfterBar: 1))?.field, "created_at")
    }

    func testBadBarsOfAnOpenSymbolAreRefusedAndChangeNothing() throws {
        let trader = try trader(), recorder = Recorder()
        try trader.open(Fixture.signal(quantity: 1))
        try recorder.bar(trader, Fixture.bar(2, open: 100, high: 101, low: 99, close: 100))
        let before = (trader.equityCurve, trader.equity)
        XCTAssertThrowsError(try recorder.bar(trader, Fixture.bar(1, open: 100, high: 101, low: 99, close: 100))) { error in
            XCTAssertEqual((error as? PaperTradeError)?.field, "open_time")
            XCTAssertTrue("\(error)".contains("sim/BTC-USDT bar opening at"), "\(error)")
        }
        XCTAssertThrowsError(try recorder.bar(trader, Fixture.bar(3, open: 100, high: 99, low: 98, close: 100))) { error in
            XCTAssertEqual((error as? PaperTradeError)?.field, "high/low")
        }
        XCTAssertThrowsError(try recorder.bar(trader, Fixture.bar(3, open: 100, high: .infinity, low: 98, close: 100))) { error in
            XCTAssertEqual((error as? PaperTradeError)?.field, "high")
        }
        XCTAssertEqual(trader.equityCurve, before.0)
        XCTAssertEqual(trader.equity, before.1)
        XCTAssertEqual(trader.openPositionCount, 1)
    }

    func testPortfolioSettingsAreChecked() {
        XCTAssertThrowsError(try PaperTrader(tenant: "acme", initialEquity: 0, costs: Fixture.costs)) { error in
            XCTAssertEqual((error as? PaperTradeError)?.field, "initial_equity")
        }
        XCTAssertThrowsError(try PaperTrader(tenant: "acme", initialEquity: 1, costs: CostModel(takerFee: -1))) { error in
            XCTAssertEqual((error as? PaperTradeError)?.field, "costs.taker_fee")
        }
    }
}
