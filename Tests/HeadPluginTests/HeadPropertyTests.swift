import AlphaPlusSDKTesting
import HeadOrderflow
import HeadRules
import HeadTechnical
import SharedTestData
import XCTest

/// Properties every head keeps on any frame, and the hot path's promise:
/// no allocation per evaluate.
final class HeadPropertyTests: XCTestCase {
    private static let rules = [
        "rsi_14 < 30 and close > ema_50 -> long 0.8",
        "(macd_hist_12_26_9 > 0 or not adx_14 < 20) and imbalance * 2 - 1 > -0.5 -> long",
        "close / (ema_26 - ema_12) > 3 -> short 0.3",
        "microprice > mid and trade_flow_imbalance >= 0.1 -> long 1",
        "-obv != vwap * 1e-3 -> flat 0",
    ]

    /// A value that is usually plausible and sometimes NaN, ±infinity, zero,
    /// huge or negative.
    private func draw(_ random: inout SplitMix64, around center: Double) -> Double {
        switch Int.random(in: 0..<20, using: &random) {
        case 0: .nan
        case 1: .infinity
        case 2: -.infinity
        case 3: 0
        case 4: Double.random(in: -1e300...1e300, using: &random)
        default: center * Double.random(in: 0.5...1.5, using: &random) + Double.random(in: -1...1, using: &random)
        }
    }

    private func randomFrame(_ random: inout SplitMix64, candle: Int64) -> TestFrame {
        var values: [String: Double] = [:]
        for name in FeatureFrame.standardIndicatorNames { values[name] = draw(&random, around: 50) }
        values["trade_flow_imbalance"] = draw(&random, around: 0)
        var book: BookFeatures?
        switch Int.random(in: 0..<3, using: &random) {
        case 0: book = nil
        case 1: book = BookFeatures()
        default:
            var features = BookFeatures()
            (features.bestBid, features.bestAsk) = (draw(&random, around: 99.9), draw(&random, around: 100.1))
            (features.mid, features.spread) = (draw(&random, around: 100), draw(&random, around: 0.2))
            (features.microprice, features.imbalance) = (draw(&random, around: 100), draw(&random, around: 0))
            (features.bestBidSize, features.bestAskSize) = (draw(&random, around: 1), draw(&random, around: 1))
            book = features
        }
        return standardFrame(values, symbol: ["BTC-USDT", "ETH-USDT", "A-LONGER-SYMBOL-NAME-USDT"].randomElement(using: &random)!,
                             timeframeSeconds: [60, 300].randomElement(using: &random)!,
                             candleOpenNs: 1_700_000_000_000_000_000 + candle * 60_000_000_000,
                             close: draw(&random, around: 100), volume: draw(&random, around: 10), book: book)
    }

    func testConfidenceIsAlwaysFiniteAndWithinZeroAndOne() throws {
        let host = TestHost()
        let heads = [
            try host.load(TechnicalHead.self).create(config: #"{"min_score": 0.01}"#),
            try host.load(TechnicalHead.self).create(config: #"{"weak_trend_factor": 1, "weights": {"macd": 7}}"#),
            try host.load(OrderflowHead.self).create(config: #"{"volume_period": 2, "spike_boost": 10, "min_score": 0.01}"#),
            try host.load(OrderflowHead.self).create(config: #"{"require_book": true}"#),
            try host.load(RulesHead.self).create(config: #"{"rules": \#(String(decoding: JSONEncoder().encode(Self.rules), as: UTF8.self))}"#),
        ]
        var random = SplitMix64(seed: 20_240_601)
        var directions: [Direction: Int] = [:]
        for candle in 0..<1500 {
            let frame = randomFrame(&random, candle: Int64(candle / 3))
            for (index, head) in heads.enumerated() {
                let vote = try head.evaluate(frame)
                XCTAssertTrue(vote.confidence.isFinite && vote.confidence >= 0 && vote.confidence <= 1,
                              "head \(index), frame \(candle): confidence \(vote.confidence)")
                if vote.direction == .flat, index < 4 { XCTAssertEqual(vote.confidence, 0, "head \(index), frame \(candle)") }
                directions[vote.direction, default: 0] += 1
            }
        }
        // The frames exercised every outcome, not only warm-up.
        XCTAssertGreaterThan(directions[.long] ?? 0, 100)
        XCTAssertGreaterThan(directions[.short] ?? 0, 100)
        XCTAssertGreaterThan(directions[.flat] ?? 0, 100)
    }

    func testEvaluateDoesNotAllocate() throws {
        var random = SplitMix64(seed: 7)
        let frames = (0..<6).map { randomFrame(&random, candle: Int64($0)) } + [
            standardFrame(["rsi_14": 25, "ema_50": 90, "adx_14": 30, "ema_12": 1, "ema_26": 2, "macd_hist_12_26_9": 1,
                           "plus_di_14": 1, "minus_di_14": 2, "trade_flow_imbalance": 0.5],
                          symbol: "A-SYMBOL-LONGER-THAN-FIFTEEN-BYTES", close: 100, book: book(imbalance: 0.5, microprice: 100.05)),
        ]
        let technical = try TechnicalHead(configuration: configuration(TechnicalHead.Configuration.self, "{}"))
        XCTAssertEqual(try allocations(evaluating: technical.evaluate, over: frames), 0, "technical")
        let orderflow = try OrderflowHead(configuration: configuration(OrderflowHead.Configuration.self, #"{"volume_period": 2}"#))
        XCTAssertEqual(try allocations(evaluating: orderflow.evaluate, over: frames), 0, "orderflow")
        let rules = try RulesHead(configuration: .init(rules: Self.rules))
        XCTAssertEqual(try allocations(evaluating: rules.evaluate, over: frames), 0, "rules")
        let matched = try frames.last!.withCFrame { try rules.evaluate(FeatureFrame($0)) }
        XCTAssertEqual(matched.rationale, "rules[0] matched: rsi_14 < 30 and close > ema_50 -> long 0.8", "a rationale was written")
    }
}
