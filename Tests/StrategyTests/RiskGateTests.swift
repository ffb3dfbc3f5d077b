import XCTest
@testable import Trading

/// A portfolio the test sets by hand.
private final class FakePortfolio: PortfolioState {
    var equity = 10_000.0
    var peakEquity = 10_000.0
    var openPositionCount = 0
    var perSymbol: [String: Int] = [:]
    func openPositionCount(symbol: String) -> Int { perSymbol[symbol] ?? 0 }
}

final class RiskGateTests: XCTestCase {
    private let day: Int64 = 86_400_000_000_000
    private let start: Int64 = 19_000 * 86_400_000_000_000 + 3_600_000_000_000

    private func proposal(_ side: Side = .long, symbol: String = "BTC-USDT", confidence: Double = 0.8, entry: Double = 100,
                          atr: Double = 2, at ns: Int64? = nil) -> TradeProposal {
        TradeProposal(symbol: symbol, side: side, confidence: confidence, entry: entry, atr: atr, atNs: ns ?? start)
    }

    private func outcome(pnl: Double, symbol: String = "BTC-USDT", at ns: Int64) -> PositionOutcome {
        PositionOutcome(signalID: "s\(ns)", tenant: "t", symbol: symbol, side: .long, entryNs: ns - 60_000_000_000, entryPrice: 100,
                        quantity: 1, legs: [], finalReason: pnl < 0 ? .stopLoss : .takeProfit, closedAtNs: ns, pnl: pnl, fees: 0,
                        maxAdverseExcursion: 0, maxFavourableExcursion: 0)
    }

    func testSizingIsFractionalKellyOnTheStopDistanceCappedByThePositionFraction() {
        var limits = RiskLimits()
        limits.maxPositionFraction = 1
        let gate = RiskGate(limits: limits, halt: GlobalHalt())
        let verdict = gate.evaluate(proposal(confidence: 0.8, atr: 20), portfolio: FakePortfolio())
        // b = 1/3·1 + 1/3·2 + 1/3·3 = 2; f* = 0.8 − 0.2/2 = 0.7; quarter Kelly 0.175
        // of 10,000 at risk over a 30 stop (1.5 ATR of 20) = 58.33 units,
        // under the cap of 100 units (all the equity at 100).
        XCTAssertEqual(limits.payoffRatio, 2, accuracy: 1e-12)
        guard case .accepted(let quantity, let stop, let targets, _) = verdict else { return XCTFail("\(verdict)") }
        XCTAssertEqual(quantity, 0.175 * 10_000 / 30, accuracy: 1e-9)
        XCTAssertEqual(stop, 70, accuracy: 1e-12)
        XCTAssertEqual(targets, [130, 160, 190])
        // The default cap: 10% of equity in notional = 10 units at 100.
        let capped = RiskGate(limits: RiskLimits(), halt: GlobalHalt()).evaluate(proposal(.short), portfolio: FakePortfolio())
        guard case .accepted(let cappedQuantity, let shortStop, let shortTargets, let detail) = capped else { return XCTFail("\(capped)") }
        XCTAssertEqual(cappedQuantity, 10, accuracy: 1e-12)
        XCTAssertEqual(shortStop, 103, accuracy: 1e-12)
        XCTAssertEqual(shortTargets, [97, 94, 91])
        XCTAssertTrue(detail.contains("capped"), detail)
    }

    func testNoEdgeNoATRAndTinySizesAreRefused() {
        let gate = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        // f* = 0.3 − 0.7 / 2 < 0.
        XCTAssertEqual(reason(gate.evaluate(proposal(confidence: 0.3), portfolio: FakePortfolio())), .nonPositiveEdge)
        XCTAssertEqual(reason(gate.evaluate(proposal(atr: .nan), portfolio: FakePortfolio())), .noVolatility)
        XCTAssertEqual(reason(gate.evaluate(proposal(atr: 0), portfolio: FakePortfolio())), .noVolatility)
        var limits = RiskLimits()
        limits.minQuantity = 50
        XCTAssertEqual(reason(RiskGate(limits: limits, halt: GlobalHalt()).evaluate(proposal(), portfolio: FakePortfolio())), .belowMinimumSize)
    }

    func testOpenPositionLimits() {
        let gate = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        let portfolio = FakePortfolio()
        portfolio.openPositionCount = 5
        XCTAssertEqual(reason(gate.evaluate(proposal(), portfolio: portfolio)), .maxOpenPositions)
        portfolio.openPositionCount = 2
        portfolio.perSymbol["BTC-USDT"] = 2
        XCTAssertEqual(reason(gate.evaluate(proposal(), portfolio: portfolio)), .maxOpenPerSymbol)
        XCTAssertNil(reason(gate.evaluate(proposal(symbol: "ETH-USDT"), portfolio: portfolio)))
    }

    func testGlobalHaltStopsEverythingAndLifts() {
        let halt = GlobalHalt()
        let gate = RiskGate(limits: RiskLimits(), halt: halt)
        halt.set(true)
        XCTAssertEqual(reason(gate.evaluate(proposal(), portfolio: FakePortfolio())), .globalHalt)
        halt.set(false)
        XCTAssertNil(reason(gate.evaluate(proposal(), portfolio: FakePortfolio())))
    }

    func testCooldownAfterALossOnThatSymbolOnly() {
        let gate = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        let portfolio = FakePortfolio()
        gate.record(outcome(pnl: -10, at: start), portfolio: portfolio)
        XCTAssertEqual(reason(gate.evaluate(proposal(at: start + 899_000_000_000), portfolio: portfolio)), .cooldown)
        XCTAssertNil(reason(gate.evaluate(proposal(symbol: "ETH-USDT", at: start + 60_000_000_000), portfolio: portfolio)))
        XCTAssertNil(reason(gate.evaluate(proposal(at: start + 900_000_000_000), portfolio: portfolio)))
    }

    func testDailyLossLimitBlocksUntilTheNextUTCDay() {
        let gate = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        let portfolio = FakePortfolio()
        _ = gate.evaluate(proposal(at: start), portfolio: portfolio)  // the day starts at 10,000
        portfolio.equity = 9_690
        gate.record(outcome(pnl: -310, symbol: "ETH-USDT", at: start + 1_000_000_000), portfolio: portfolio)
        let verdict = gate.evaluate(proposal(at: start + 7_200_000_000_000), portfolio: portfolio)
        XCTAssertEqual(reason(verdict), .dailyLossLimit)
        let nextDay = (start / day + 1) * day
        XCTAssertNil(reason(gate.evaluate(proposal(at: nextDay), portfolio: portfolio)))
    }

    func testLosingStreakBlocksForTheDayThenStartsOver() {
        let gate = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        let portfolio = FakePortfolio()
        for index in 0..<4 {
            gate.record(outcome(pnl: -1, symbol: "S\(index)-USDT", at: start + Int64(index) * 1_000_000_000), portfolio: portfolio)
        }
        XCTAssertEqual(gate.consecutiveLosses, 4)
        XCTAssertEqual(reason(gate.evaluate(proposal(at: start + 10_000_000_000), portfolio: portfolio)), .consecutiveLosses)
        XCTAssertNil(reason(gate.evaluate(proposal(at: (start / day + 1) * day), portfolio: portfolio)))
        XCTAssertEqual(gate.consecutiveLosses, 0)
        gate.record(outcome(pnl: -1, symbol: "X-USDT", at: (start / day + 1) * day + 1), portfolio: portfolio)
        gate.record(outcome(pnl: 5, symbol: "X-USDT", at: (start / day + 1) * day + 2), portfolio: portfolio)
        XCTAssertEqual(gate.consecutiveLosses, 0)
    }

    func testDrawdownHaltsTheTenantForGood() {
        let gate = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        let portfolio = FakePortfolio()
        portfolio.peakEquity = 12_000
        portfolio.equity = 10_100  // 15.8% below the peak
        let verdict = gate.evaluate(proposal(), portfolio: portfolio)
        XCTAssertEqual(reason(verdict), .tenantHalted)
        XCTAssertNotNil(gate.haltReason)
        portfolio.equity = 12_500
        portfolio.peakEquity = 12_500
        XCTAssertEqual(reason(gate.evaluate(proposal(at: start + 2 * day), portfolio: portfolio)), .tenantHalted)
    }

    /// A strategy rebuilt by a reload: the new gate takes over the record and decides the stops under its own limits.
    func testAGateTakingOverARecordKeepsItsStopsUnlessItsLimitsAllowMore() {
        let portfolio = FakePortfolio()
        let previous = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        _ = previous.evaluate(proposal(at: start), portfolio: portfolio)  // the day starts at 10,000
        portfolio.equity = 9_690
        previous.record(outcome(pnl: -310, symbol: "ETH-USDT", at: start + 1_000_000_000), portfolio: portfolio)
        let later = start + 7_200_000_000_000
        XCTAssertEqual(reason(previous.evaluate(proposal(at: later), portfolio: portfolio)), .dailyLossLimit)

        // The same limits (another head's settings changed): still stopped for the day, the cooldown still runs.
        let same = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        same.takeOverRecord(of: previous)
        XCTAssertEqual(reason(same.evaluate(proposal(at: later), portfolio: portfolio)), .dailyLossLimit)
        XCTAssertEqual(reason(same.evaluate(proposal(at: (start / day + 1) * day + 1), portfolio: portfolio)), nil, "the next day lifts it")
        let fresh = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        XCTAssertNil(reason(fresh.evaluate(proposal(at: later), portfolio: portfolio)), "without the record nothing would stop it")

        // A looser daily limit (5%): today's 3.1% loss no longer stops it, but the ETH-USDT cooldown still does.
        var looser = RiskLimits()
        looser.dailyLossLimit = 0.05
        let raised = RiskGate(limits: looser, halt: GlobalHalt())
        raised.takeOverRecord(of: previous)
        XCTAssertNil(reason(raised.evaluate(proposal(at: later), portfolio: portfolio)))
        XCTAssertEqual(reason(raised.evaluate(proposal(symbol: "ETH-USDT", at: start + 2_000_000_000), portfolio: portfolio)), .cooldown)

        // A losing streak carries over too, and a tighter streak limit stops at once.
        let streaky = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        for index in 0..<3 {
            streaky.record(outcome(pnl: -1, symbol: "S\(index)-USDT", at: start + Int64(index) * 1_000_000_000), portfolio: FakePortfolio())
        }
        var tighter = RiskLimits()
        tighter.maxConsecutiveLosses = 3
        let tightened = RiskGate(limits: tighter, halt: GlobalHalt())
        tightened.takeOverRecord(of: streaky)
        XCTAssertEqual(tightened.consecutiveLosses, 3)
        XCTAssertEqual(reason(tightened.evaluate(proposal(at: start + 10_000_000_000), portfolio: FakePortfolio())), .consecutiveLosses)

        // A drawdown halt is decided again from the book at the next proposal.
        let drawn = FakePortfolio()
        drawn.peakEquity = 12_000
        drawn.equity = 10_100  // 15.8% below the peak
        let halted = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        XCTAssertEqual(reason(halted.evaluate(proposal(), portfolio: drawn)), .tenantHalted)
        let continuing = RiskGate(limits: RiskLimits(), halt: GlobalHalt())
        continuing.takeOverRecord(of: halted)
        XCTAssertEqual(reason(continuing.evaluate(proposal(), portfolio: drawn)), .tenantHalted)
        var deeper = RiskLimits()
        deeper.maxDrawdown = 0.2
        let allowed = RiskGate(limits: deeper, halt: GlobalHalt())
        allowed.takeOverRecord(of: halted)
        XCTAssertNil(reason(allowed.evaluate(proposal(), portfolio: drawn)), "a 20% limit allows a 15.8% drawdown")
    }

    func testContradictoryLimitsAreNamed() {
        var limits = RiskLimits()
        limits.maxOpenPerSymbol = 6
        limits.dailyLossLimit = 0.2
        limits.scaleOut = [0.5, 1]
        let fields = limits.problems.map(\.field)
        XCTAssertEqual(Set(fields), ["max_open_per_symbol", "daily_loss_limit", "scale_out"], "\(limits.problems)")
        XCTAssertTrue(RiskLimits().problems.isEmpty)
        var settings = StrategySettings(heads: [HeadSpec(instance: "a"), HeadSpec(instance: "b")])
        settings.consensus.minConfidence = 0.9
        XCTAssertEqual(Set(settings.problems.map(\.field)), ["consensus.min_agree", "consensus.high_confidence"])
    }

    private func reason(_ verdict: RiskVerdict) -> RiskRejection? {
        if case .rejected(let rejection, _) = verdict { return rejection }
        return nil
    }
}
