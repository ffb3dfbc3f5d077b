import Foundation
import Trading
import XCTest

final class PerformanceMetricsTests: XCTestCase {
    private let hour: Int64 = 3_600_000_000_000
    private let day: Int64 = 86_400_000_000_000

    /// A closed position with one leg of `pnl` over [entry, close] (hours after the start).
    private func outcome(_ id: String, pnl: Double, side: Side = .long, entryHour: Int64 = 0, closeHour: Int64 = 1,
                         fees: Double = 0.5, mae: Double = 1, mfe: Double = 2) -> PositionOutcome {
        let entry = Fixture.start + entryHour * hour, close = Fixture.start + closeHour * hour
        let leg = TradeLeg(signalID: id, symbol: "BTC-USDT", side: side, entryNs: entry, entryPrice: 100, exitNs: close,
                           exitPrice: 101, quantity: 1, fees: fees, pnl: pnl, reason: pnl > 0 ? .takeProfit : .stopLoss, target: 0)
        return PositionOutcome(signalID: id, tenant: "acme", symbol: "BTC-USDT", side: side, entryNs: entry, entryPrice: 100,
                               quantity: 1, legs: [leg], finalReason: leg.reason, closedAtNs: close, pnl: pnl, fees: fees,
                               maxAdverseExcursion: mae, maxFavourableExcursion: mfe)
    }

    func testTradeCountsProfitFactorAndAverages() {
        let outcomes = [outcome("a", pnl: 10, mae: 1, mfe: 4), outcome("b", pnl: -4, side: .short, mae: 3, mfe: 0),
                        outcome("c", pnl: -1, mae: 2, mfe: 1), outcome("d", pnl: 6), outcome("e", pnl: 0)]
        let metrics = PerformanceMetrics.compute(outcomes: outcomes, signals: [], equity: [], initialEquity: 1000)
        XCTAssertEqual(metrics.trades, 5)
        XCTAssertEqual(metrics.wins, 2)
        XCTAssertEqual(metrics.losses, 2)
        XCTAssertEqual(metrics.breakeven, 1)
        XCTAssertEqual(metrics.longTrades, 4)
        XCTAssertEqual(metrics.shortTrades, 1)
        XCTAssertEqual(metrics.winRate, 0.4)
        XCTAssertEqual(metrics.netPnl, 11)
        XCTAssertEqual(metrics.grossProfit, 16)
        XCTAssertEqual(metrics.grossLoss, 5)
        XCTAssertEqual(metrics.profitFactor, 3.2)
        XCTAssertEqual(metrics.expectancy, 2.2, accuracy: 1e-12)
        XCTAssertEqual(metrics.averageWin, 8)
        XCTAssertEqual(metrics.averageLoss, -2.5)
        XCTAssertEqual(metrics.largestWin, 10)
        XCTAssertEqual(metrics.largestLoss, -4)
        XCTAssertEqual(metrics.maxConsecutiveLosses, 2)
        XCTAssertEqual(metrics.fees, 2.5)
        XCTAssertEqual(metrics.averageMae, (1 + 3 + 2 + 1 + 1) / 5.0)
        XCTAssertEqual(metrics.averageMfe, (4 + 0 + 1 + 2 + 2) / 5.0)
        XCTAssertEqual(metrics.averageHoldingSeconds, 3600)
        XCTAssertEqual(metrics.exits, .init(takeProfit: 2, stopLoss: 3, timeExit: 0, endOfData: 0))
        // No equity point: nothing moved.
        XCTAssertEqual(metrics.finalEquity, 1000)
        XCTAssertEqual(metrics.totalReturn, 0)
        XCTAssertEqual(metrics.sharpe, 0)
    }

    func testNetPnlIsTheSumOfTheLegs() {
        var split = outcome("a", pnl: 3)
        split.legs.append(split.legs[0])
        split.legs[1].pnl = 4
        split.pnl = 7
        let metrics = PerformanceMetrics.compute(outcomes: [split], signals: [], equity: [], initialEquity: 1000)
        XCTAssertEqual(metrics.netPnl, 7)
    }

    func testProfitFactorIsNullWithoutLosses() throws {
        let metrics = PerformanceMetrics.compute(outcomes: [outcome("a", pnl: 5)], signals: [], equity: [], initialEquity: 1000)
        XCTAssertNil(metrics.profitFactor)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(metrics)) as? [String: Any])
        XCTAssertTrue(json["profit_factor"] is NSNull, "\(json["profit_factor"] as Any)")
        XCTAssertEqual(json["net_pnl"] as? Double, 5)
        XCTAssertEqual(json["win_rate"] as? Double, 1)
        XCTAssertNotNil(json["max_drawdown_abs"])
        XCTAssertEqual(try JSONDecoder().decode(PerformanceMetrics.self, from: JSONEncoder().encode(metrics)), metrics)
    }

    func testDrawdownSharpeAndSortinoOnAKnownCurve() {
        // Day closes 120, 90, 99, (no point on day 3), 99; starting from 100.
        let curve = [EquityPoint(ns: Fixture.start + hour, equity: 110), EquityPoint(ns: Fixture.start + 20 * hour, equity: 120),
                     EquityPoint(ns: Fixture.start + day + hour, equity: 90), EquityPoint(ns: Fixture.start + 2 * day, equity: 99),
                     EquityPoint(ns: Fixture.start + 4 * day + 5 * hour, equity: 99)]
        let metrics = PerformanceMetrics.compute(outcomes: [], signals: [], equity: curve, initialEquity: 100)
        // Returns 0.2, −0.25, 0.1, 0, 0: mean 0.01, sample variance 0.112 / 4.
        XCTAssertEqual(metrics.dailyReturns, 5)
        XCTAssertEqual(metrics.sharpe, 0.01 / (0.112 / 4).squareRoot() * 365.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(metrics.sortino, 0.01 / (0.0625 / 5).squareRoot() * 365.0.squareRoot(), accuracy: 1e-9)
        XCTAssertEqual(metrics.maxDrawdown, 0.25, accuracy: 1e-12)
        XCTAssertEqual(metrics.maxDrawdownAbs, 30)
        XCTAssertEqual(metrics.finalEquity, 99)
        XCTAssertEqual(metrics.totalReturn, -0.01, accuracy: 1e-12)
    }

    func testDrawdownCountsFromTheInitialEquityAndFlatCurvesHaveNoSharpe() {
        let falling = [EquityPoint(ns: Fixture.start, equity: 95), EquityPoint(ns: Fixture.start + day, equity: 80)]
        let metrics = PerformanceMetrics.compute(outcomes: [], signals: [], equity: falling, initialEquity: 100)
        XCTAssertEqual(metrics.maxDrawdown, 0.2, accuracy: 1e-12)
        XCTAssertEqual(metrics.maxDrawdownAbs, 20)
        // Two losing days: −5 % then 80 / 95 − 1.
        let returns = [-0.05, 80.0 / 95 - 1]
        let meanReturn = (returns[0] + returns[1]) / 2
        XCTAssertEqual(metrics.sortino, meanReturn / ((returns[0] * returns[0] + returns[1] * returns[1]) / 2).squareRoot()
                       * 365.0.squareRoot(), accuracy: 1e-9)
        let flat = [EquityPoint(ns: Fixture.start, equity: 100), EquityPoint(ns: Fixture.start + day, equity: 100)]
        let still = PerformanceMetrics.compute(outcomes: [], signals: [], equity: flat, initialEquity: 100)
        XCTAssertEqual(still.sharpe, 0)
        XCTAssertEqual(still.sortino, 0)
        XCTAssertEqual(still.maxDrawdown, 0)
        let oneDay = PerformanceMetrics.compute(outcomes: [], signals: [], equity: [EquityPoint(ns: Fixture.start, equity: 120)],
                                                initialEquity: 100)
        XCTAssertEqual(oneDay.dailyReturns, 1)
        XCTAssertEqual(oneDay.sharpe, 0)
    }

    func testExposureIsTheUnionOfOpenSpans() {
        let outcomes = [outcome("a", pnl: 1, entryHour: 0, closeHour: 10), outcome("b", pnl: 1, entryHour: 5, closeHour: 15),
                        outcome("c", pnl: 1, entryHour: 20, closeHour: 25)]
        let curve = [EquityPoint(ns: Fixture.start, equity: 100), EquityPoint(ns: Fixture.start + 40 * hour, equity: 103)]
        let metrics = PerformanceMetrics.compute(outcomes: outcomes, signals: [], equity: curve, initialEquity: 100)
        XCTAssertEqual(metrics.exposure, 0.5, accuracy: 1e-12)
    }

    func testHeadAttribution() throws {
        let signals = [
            Fixture.signal("s1", votes: [Fixture.vote("trend", .long), Fixture.vote("flow", .short), Fixture.vote("news", .flat)]),
            Fixture.signal("s2", side: .short, stop: 105, targets: [90],
                           votes: [Fixture.vote("trend", .short), Fixture.vote("flow", .short),
                                   Fixture.vote("news", .flat, status: .timeout)]),
            // flow's error counts as an abstention whatever its direction; news has no vote at all.
            Fixture.signal("s3", votes: [Fixture.vote("trend", .long), Fixture.vote("flow", .long, status: .error)]),
            Fixture.signal("s4", votes: [Fixture.vote("trend", .long)]),
        ]
        let outcomes = [outcome("s1", pnl: 5), outcome("s2", pnl: -2, side: .short), outcome("s3", pnl: 1),
                        outcome("s4", pnl: 0), outcome("unknown", pnl: 3)]
        let metrics = PerformanceMetrics.compute(outcomes: outcomes, signals: signals, equity: [], initialEquity: 100)
        XCTAssertEqual(metrics.heads.map(\.head), ["trend", "flow", "news"])
        var trend = HeadAttribution(head: "trend")
        trend.agreedWins = 2
        trend.agreedLosses = 1
        var flow = HeadAttribution(head: "flow")
        flow.opposedWins = 1
        flow.agreedLosses = 1
        flow.abstainedWins = 1
        var news = HeadAttribution(head: "news")
        news.abstainedWins = 2
        news.abstainedLosses = 1
        XCTAssertEqual(metrics.heads, [trend, flow, news])
        XCTAssertEqual(metrics.heads[0].hitRate ?? .nan, 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(metrics.heads[1].hitRate, 0)
        XCTAssertNil(metrics.heads[2].hitRate)
        XCTAssertEqual(metrics.unattributedTrades, 1)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: JSONEncoder().encode(metrics)) as? [String: Any])
        let heads = try XCTUnwrap(json["heads"] as? [[String: Any]])
        XCTAssertEqual(heads[0]["agreed_wins"] as? Int, 2)
        XCTAssertTrue(heads[2]["hit_rate"] is NSNull)
    }
}
