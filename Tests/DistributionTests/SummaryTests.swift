import Foundation
import Store
import Trading
import XCTest
@testable import Distribution

final class SummaryTests: XCTestCase {
    /// A position of `signal` closed at `closedAtNs` with `pnl`.
    private func outcome(_ signal: Signal, closedAtNs: Int64, pnl: Double) -> PositionOutcome {
        let leg = TradeLeg(signalID: signal.id, symbol: signal.symbol, side: signal.side, entryNs: signal.createdAtNs,
                           entryPrice: signal.entry, exitNs: closedAtNs, exitPrice: signal.entry + pnl, quantity: 1, fees: 0, pnl: pnl,
                           reason: pnl > 0 ? .takeProfit : .stopLoss, target: pnl > 0 ? 1 : 0)
        return PositionOutcome(signalID: signal.id, tenant: signal.tenant, symbol: signal.symbol, side: signal.side,
                               entryNs: signal.createdAtNs, entryPrice: signal.entry, quantity: 1, legs: [leg], finalReason: leg.reason,
                               closedAtNs: closedAtNs, pnl: pnl, fees: 0, maxAdverseExcursion: 0, maxFavourableExcursion: 0)
    }

    func testTheDailySummaryCoversTheDayBeforeItsTimeAndGoesOutOnce() throws {
        let harness = try Harness()
        // The summary at 08:30 UTC covers 08:30 the day before to 08:30 today.
        let hour = 3600 * second
        let signals = [makeSignal(1, atNs: t0 - 25 * hour), makeSignal(2, atNs: t0 - 20 * hour), makeSignal(3, atNs: t0 - 2 * hour),
                       makeSignal(4, atNs: t0 + 15 * 60 * second)]
        for signal in signals { try harness.store.record(signal) }
        try harness.store.record(outcome(signals[0], closedAtNs: t0 - 24 * hour - 1, pnl: 99))   // the day before: not counted
        try harness.store.record(outcome(signals[1], closedAtNs: t0 - 19 * hour, pnl: 40.25))
        try harness.store.record(outcome(signals[2], closedAtNs: t0 - hour, pnl: -10))
        var config = settings([("vip", "premium", #"{"chat_id":1}"#), ("pub", "free", #"{"chat_id":2}"#)])
        config.dailySummary = DailySummarySettings(enabled: true, minuteOfDay: 8 * 60 + 30)
        let distributor = try harness.distributor(config)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.count, 0, "08:00: the last summary time (yesterday 08:30) is too long ago to catch up")
        harness.clock.set(toNs: t0 + 30 * 60 * second)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.map(\.text), [
            "Daily summary 2026-11-21\nSignals 3\nClosed trades 2 (1 won, 1 lost)\nWin rate 50%\nP&L +30.25",
        ])
        XCTAssertEqual(harness.script.sent.first?.key, "t/vip/summary/2026-11-21T08:30")
        harness.clock.set(toNs: t0 + 35 * 60 * second)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.last?.text, "Daily summary 2026-11-21\nSignals 3\nWin rate 50%", "free 5 minutes later")

        // A restart within the hour after the summary time does not send it again.
        distributor.stop()
        let restarted = try harness.distributor(config)
        XCTAssertTrue(restarted.settle())
        XCTAssertEqual(harness.script.sent.count, 2)
        XCTAssertEqual(try harness.rows().filter { $0.kind == .summary }.count, 2)
        // The next day's at 08:30 the day after.
        harness.clock.set(toNs: t0 + 24 * hour + 30 * 60 * second)
        XCTAssertTrue(restarted.settle())
        XCTAssertEqual(harness.script.sent.last?.key, "t/vip/summary/2026-11-22T08:30", "\(harness.script.sent.map { ($0.key, $0.atNs) })")
    }
}
