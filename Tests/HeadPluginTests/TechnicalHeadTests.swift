import AlphaPlusSDKTesting
import HeadTechnical
import XCTest

final class TechnicalHeadTests: XCTestCase {
    private let minute: Int64 = 60_000_000_000

    /// Every component bullish: fast above slow, close above ema_50, a
    /// positive histogram, RSI in the bull zone, DI+ above DI− with a trend.
    private func uptrend(histogram: Double = 0.5, rsi: Double = 60, adx: Double = 30, candle: Int64 = 0,
                         symbol: String = "BTC-USDT") -> TestFrame {
        standardFrame(["ema_12": 105, "ema_26": 100, "ema_50": 100, "macd_hist_12_26_9": histogram, "rsi_14": rsi,
                       "adx_14": adx, "plus_di_14": 25, "minus_di_14": 10],
                      symbol: symbol, candleOpenNs: 1_700_000_000_000_000_000 + candle * minute, close: 110)
    }

    private func downtrend(histogram: Double = -0.5, rsi: Double = 40, adx: Double = 30, candle: Int64 = 0) -> TestFrame {
        standardFrame(["ema_12": 95, "ema_26": 100, "ema_50": 100, "macd_hist_12_26_9": histogram, "rsi_14": rsi,
                       "adx_14": adx, "plus_di_14": 10, "minus_di_14": 25],
                      candleOpenNs: 1_700_000_000_000_000_000 + candle * minute, close: 90)
    }

    private func head(_ config: String = "{}") throws -> TestInstance {
        try TestHost().load(TechnicalHead.self).create(config: config)
    }

    func testTheDescriptorNamesTheHead() throws {
        let plugin = try TestHost().load(TechnicalHead.self)
        XCTAssertEqual(plugin.id, "com.alphaplus.head-technical")
        XCTAssertEqual(plugin.capabilities, ["ap.head.v1"])
    }

    func testUptrendVotesLongAndAGrowingHistogramAddsConfidence() throws {
        let head = try head()
        // First candle: no previous histogram, so MACD counts half: (1 + 1 + 0.5 + 1 + 1) / 5.
        XCTAssertEqual(try head.evaluate(uptrend(histogram: 0.5, candle: 0)),
                       Vote(.long, confidence: 0.9, rationale: "bullish trend and momentum"))
        // The histogram grew since the previous candle: every component is +1.
        XCTAssertEqual(try head.evaluate(uptrend(histogram: 0.8, candle: 1)).confidence, 1, accuracy: 1e-12)
        // It shrank: MACD half again.
        XCTAssertEqual(try head.evaluate(uptrend(histogram: 0.6, candle: 2)).confidence, 0.9, accuracy: 1e-12)
    }

    func testDowntrendVotesShort() throws {
        let head = try head()
        XCTAssertEqual(try head.evaluate(downtrend(histogram: -0.5, candle: 0)),
                       Vote(.short, confidence: 0.9, rationale: "bearish trend and momentum"))
        // Growing in its own direction means more negative.
        XCTAssertEqual(try head.evaluate(downtrend(histogram: -0.9, candle: 1)).confidence, 1, accuracy: 1e-12)
    }

    func testAnotherFrameOfTheSameCandleDoesNotCountAsGrowth() throws {
        let head = try head()
        _ = try head.evaluate(uptrend(histogram: 0.5, candle: 0))
        // Same candle again, higher histogram: still the first candle, so no previous one.
        XCTAssertEqual(try head.evaluate(uptrend(histogram: 0.8, candle: 0)).confidence, 0.9, accuracy: 1e-12)
        // The next candle compares with the last value of the previous candle (0.8).
        XCTAssertEqual(try head.evaluate(uptrend(histogram: 0.7, candle: 1)).confidence, 0.9, accuracy: 1e-12)
        XCTAssertEqual(try head.evaluate(uptrend(histogram: 0.75, candle: 2)).confidence, 1, accuracy: 1e-12)
    }

    func testEachSeriesHasItsOwnHistogramHistory() throws {
        let head = try head()
        _ = try head.evaluate(uptrend(histogram: 0.1, candle: 0, symbol: "BTC-USDT"))
        // ETH's first candle: growth is unknown although BTC's histogram was lower.
        XCTAssertEqual(try head.evaluate(uptrend(histogram: 0.5, candle: 1, symbol: "ETH-USDT")).confidence, 0.9, accuracy: 1e-12)
        XCTAssertEqual(try head.evaluate(uptrend(histogram: 0.5, candle: 1, symbol: "BTC-USDT")).confidence, 1, accuracy: 1e-12)
    }

    func testWarmUpIsFlatWithConfidenceZero() throws {
        let head = try head()
        XCTAssertEqual(try head.evaluate(uptrend(adx: .nan)), Vote(.flat, confidence: 0, rationale: "warming up"))
        XCTAssertEqual(try head.evaluate(uptrend(rsi: .nan)), Vote(.flat, confidence: 0, rationale: "warming up"))
        XCTAssertEqual(try head.evaluate(uptrend(histogram: .nan)), Vote(.flat, confidence: 0, rationale: "warming up"))
        XCTAssertEqual(try head.evaluate(standardFrame([:])), Vote(.flat, confidence: 0, rationale: "warming up"))
        // A component of weight 0 reads nothing, so its NaN does not hold the head back.
        let withoutRSI = try self.head(#"{"weights": {"rsi": 0}}"#)
        XCTAssertEqual(try withoutRSI.evaluate(uptrend(rsi: .nan)).direction, .long)
    }

    func testWeakADXDampsOrFlattens() throws {
        // adx 15 < 20: DI gives no direction and the rest is halved: (1 + 1 + 0.5 + 1 + 0) / 5 × 0.5.
        let damped = try head().evaluate(uptrend(adx: 15))
        XCTAssertEqual(damped.direction, .long)
        XCTAssertEqual(damped.confidence, 0.35, accuracy: 1e-12)
        XCTAssertEqual(damped.rationale, "bullish, damped: adx below min_adx")
        XCTAssertEqual(try head(#"{"weak_trend_factor": 0}"#).evaluate(uptrend(adx: 15)),
                       Vote(.flat, confidence: 0, rationale: "no trend: adx below min_adx"))
        XCTAssertEqual(try head(#"{"min_adx": 10}"#).evaluate(uptrend(adx: 15)).confidence, 0.9, accuracy: 1e-12)
    }

    func testRSIZones() throws {
        // RSI alone (the other weights 0), with a trend so nothing is damped.
        let head = try head(#"{"weights": {"ema_cross": 0, "ema_trend": 0, "macd": 0, "di": 0}}"#)
        func vote(_ rsi: Double) throws -> Vote { try head.evaluate(uptrend(rsi: rsi)) }
        XCTAssertEqual(try vote(25).direction, .long, "oversold: a rebound")
        XCTAssertEqual(try vote(30).direction, .long, "the oversold bound is inclusive")
        XCTAssertEqual(try vote(40).direction, .short, "bear zone")
        XCTAssertEqual(try vote(50), Vote(.flat, confidence: 0, rationale: "mixed signals"), "neutral")
        XCTAssertEqual(try vote(60).direction, .long, "bull zone")
        XCTAssertEqual(try vote(80).direction, .short, "overbought: exhaustion")
        let moved = try self.head(#"{"weights": {"ema_cross": 0, "ema_trend": 0, "macd": 0, "di": 0}, "rsi_overbought": 85}"#)
        XCTAssertEqual(try moved.evaluate(uptrend(rsi: 80)).direction, .long)
    }

    func testConfidenceRisesWithAgreement() throws {
        let head = try head()
        // Turn bullish components bearish one at a time: the score falls monotonically.
        let frames = [
            standardFrame(["ema_12": 105, "ema_26": 100, "ema_50": 100, "macd_hist_12_26_9": 0.5, "rsi_14": 60,
                           "adx_14": 30, "plus_di_14": 25, "minus_di_14": 10], symbol: "A", close: 110),
            standardFrame(["ema_12": 95, "ema_26": 100, "ema_50": 100, "macd_hist_12_26_9": 0.5, "rsi_14": 60,
                           "adx_14": 30, "plus_di_14": 25, "minus_di_14": 10], symbol: "B", close: 110),
            standardFrame(["ema_12": 95, "ema_26": 100, "ema_50": 100, "macd_hist_12_26_9": 0.5, "rsi_14": 40,
                           "adx_14": 30, "plus_di_14": 25, "minus_di_14": 10], symbol: "C", close: 110),
        ]
        let confidences = try frames.map { try head.evaluate($0).confidence }
        XCTAssertEqual(confidences[0], 0.9, accuracy: 1e-12)
        XCTAssertEqual(confidences[1], 0.5, accuracy: 1e-12)
        XCTAssertEqual(try head.evaluate(frames[2]), Vote(.flat, confidence: 0, rationale: "mixed signals"), "0.1 is under min_score")
        // Weights: a heavy ema_cross turns the same frame short.
        let crossHeavy = try self.head(#"{"weights": {"ema_cross": 10}}"#).evaluate(frames[1])
        let heavyScore: Double = (-10 + 1 + 0.5 + 1 + 1) / 14
        XCTAssertEqual(crossHeavy.direction, .short)
        XCTAssertEqual(crossHeavy.confidence, -heavyScore, accuracy: 1e-12)
    }

    func testSchemaAndCreateRefuseBadSettingsNamingTheField() throws {
        let plugin = try TestHost().load(TechnicalHead.self)
        XCTAssertTrue(createError(plugin, #"{"min_adx": 150}"#).hasPrefix("min_adx:"))
        XCTAssertTrue(createError(plugin, #"{"min_score": 0}"#).hasPrefix("min_score:"))
        XCTAssertTrue(createError(plugin, #"{"weak_trend_factor": 1.5}"#).hasPrefix("weak_trend_factor:"))
        XCTAssertTrue(createError(plugin, #"{"weights": {"rsi": -1}}"#).hasPrefix("weights.rsi:"))
        let typo = createError(plugin, #"{"weights": {"emacross": 2}}"#)
        XCTAssertTrue(typo.contains("'emacross'") && typo.contains("did you mean 'ema_cross'"), typo)
        XCTAssertTrue(createError(plugin, #"{"rsi_bul": 60}"#).contains("'rsi_bul'"))
        XCTAssertEqual(createError(plugin, #"{"weights": {"ema_cross": 0, "ema_trend": 0, "macd": 0, "rsi": 0, "di": 0}}"#),
                       "config field 'weights': at least one weight must be above 0")
        XCTAssertEqual(createError(plugin, #"{"rsi_bear": 60}"#),
                       "config fields 'rsi_oversold' < 'rsi_bear' ≤ 'rsi_bull' < 'rsi_overbought' must hold; found 30.0, 60.0, 55.0, 70.0")
    }
}
