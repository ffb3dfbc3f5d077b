import AlphaPlusSDKTesting
import HeadOrderflow
import XCTest

final class OrderflowHeadTests: XCTestCase {
    private let minute: Int64 = 60_000_000_000

    private func frame(flow: Double, book: BookFeatures? = nil, volume: Double = 10, candle: Int64 = 0,
                       symbol: String = "BTC-USDT") -> TestFrame {
        standardFrame(["trade_flow_imbalance": flow], symbol: symbol,
                      candleOpenNs: 1_700_000_000_000_000_000 + candle * minute, volume: volume, book: book)
    }

    private func head(_ config: String = "{}") throws -> TestInstance {
        try TestHost().load(OrderflowHead.self).create(config: config)
    }

    func testTheDescriptorNamesTheHead() throws {
        let plugin = try TestHost().load(OrderflowHead.self)
        XCTAssertEqual(plugin.id, "com.alphaplus.head-orderflow")
        XCTAssertEqual(plugin.capabilities, ["ap.head.v1"])
    }

    func testWithABookAllThreeComponentsCount() throws {
        let head = try head()
        // Microprice 0.05 above the mid with a 0.2 spread: 2 × 0.05 / 0.2 = 0.5.
        let buying = try head.evaluate(frame(flow: 0.4, book: book(imbalance: 0.6, microprice: 100.05)))
        XCTAssertEqual(buying.direction, .long)
        XCTAssertEqual(buying.confidence, (0.6 + 0.5 + 0.4) / 3, accuracy: 1e-12)
        XCTAssertEqual(buying.rationale, "buying pressure")
        let selling = try head.evaluate(frame(flow: -0.4, book: book(imbalance: -0.6, microprice: 99.95)))
        XCTAssertEqual(selling.direction, .short)
        XCTAssertEqual(selling.confidence, 0.5, accuracy: 1e-12)
        XCTAssertEqual(selling.rationale, "selling pressure")
        // Opposed components cancel out.
        XCTAssertEqual(try head.evaluate(frame(flow: -0.6, book: book(imbalance: 0.6, microprice: 100))),
                       Vote(.flat, confidence: 0, rationale: "balanced order flow"))
    }

    func testWeightsAndClamping() throws {
        let flowOnly = try head(#"{"weights": {"book_imbalance": 0, "microprice": 0}}"#)
        XCTAssertEqual(try flowOnly.evaluate(frame(flow: -0.3, book: book(imbalance: 0.9, microprice: 100.1))).confidence,
                       0.3, accuracy: 1e-12)
        // A microprice beyond the ask and an imbalance beyond 1 count as ±1.
        let clamped = try head().evaluate(frame(flow: 1, book: book(imbalance: 3, microprice: 101)))
        XCTAssertEqual(clamped.confidence, 1, accuracy: 1e-12)
    }

    func testWithoutABookTheTradeFlowDecidesUnlessABookIsRequired() throws {
        XCTAssertEqual(try head().evaluate(frame(flow: 0.5)),
                       Vote(.long, confidence: 0.5, rationale: "buying pressure (trade flow, no book)"))
        // An empty book (NaN features) is no book either.
        XCTAssertEqual(try head().evaluate(frame(flow: -0.5, book: BookFeatures())),
                       Vote(.short, confidence: 0.5, rationale: "selling pressure (trade flow, no book)"))
        let strict = try head(#"{"require_book": true}"#)
        XCTAssertEqual(try strict.evaluate(frame(flow: 0.5)), Vote(.flat, confidence: 0, rationale: "no book"))
        XCTAssertEqual(try strict.evaluate(frame(flow: 0.5, book: BookFeatures())), Vote(.flat, confidence: 0, rationale: "no book"))
        XCTAssertEqual(try strict.evaluate(frame(flow: 0.5, book: book(imbalance: 0.5, microprice: 100.05))).direction, .long)
    }

    func testNoDataIsFlat() throws {
        XCTAssertEqual(try head().evaluate(frame(flow: .nan)), Vote(.flat, confidence: 0, rationale: "no order-flow data"))
        // With a book but no trades, the book alone decides.
        XCTAssertEqual(try head().evaluate(frame(flow: .nan, book: book(imbalance: 0.4, microprice: 100.02))).confidence,
                       0.3, accuracy: 1e-12)
    }

    func testAVolumeSpikeAmplifies() throws {
        let head = try head(#"{"volume_period": 3, "spike_ratio": 2, "spike_boost": 1.5}"#)
        // Before the EMA has seen 3 candles, a big candle is not a spike.
        XCTAssertEqual(try head.evaluate(frame(flow: 0.3, volume: 10, candle: 0)).confidence, 0.3, accuracy: 1e-12)
        XCTAssertEqual(try head.evaluate(frame(flow: 0.3, volume: 10, candle: 1)).confidence, 0.3, accuracy: 1e-12)
        XCTAssertEqual(try head.evaluate(frame(flow: 0.3, volume: 100, candle: 2)).confidence, 0.3, accuracy: 1e-12)
        // The EMA of 10, 10, 100 with α = 0.5 is 55; 109 is under twice that, 110 is a spike.
        XCTAssertEqual(try head.evaluate(frame(flow: 0.3, volume: 109, candle: 3)).confidence, 0.3, accuracy: 1e-12)
        // A later frame of the same candle does not advance the EMA: still measured against 55.
        let spike = try head.evaluate(frame(flow: 0.3, volume: 110, candle: 3))
        XCTAssertEqual(spike.confidence, 0.45, accuracy: 1e-12)
        XCTAssertEqual(spike.rationale, "buying pressure on a volume spike")
        // Another series has its own EMA: no spike there.
        XCTAssertEqual(try head.evaluate(frame(flow: 0.3, volume: 110, candle: 3, symbol: "ETH-USDT")).confidence, 0.3, accuracy: 1e-12)
    }

    func testASpikeCanLiftAWeakScoreOverTheThreshold() throws {
        let head = try head(#"{"volume_period": 2, "spike_boost": 2}"#)
        for candle in 0..<2 { _ = try head.evaluate(frame(flow: 0.15, volume: 10, candle: Int64(candle))) }
        XCTAssertEqual(try head.evaluate(frame(flow: 0.15, volume: 10, candle: 2)).direction, .flat, "0.15 is under min_score 0.2")
        let spike = try head.evaluate(frame(flow: -0.15, volume: 50, candle: 3))
        XCTAssertEqual(spike.direction, .short)
        XCTAssertEqual(spike.confidence, 0.3, accuracy: 1e-12)
        // Amplified past 1, the confidence stays 1.
        XCTAssertEqual(try head.evaluate(frame(flow: 0.9, volume: 50, candle: 3)).confidence, 1)
    }

    func testSchemaAndCreateRefuseBadSettingsNamingTheField() throws {
        let plugin = try TestHost().load(OrderflowHead.self)
        XCTAssertTrue(createError(plugin, #"{"spike_ratio": 1}"#).hasPrefix("spike_ratio:"))
        XCTAssertTrue(createError(plugin, #"{"volume_period": 1}"#).hasPrefix("volume_period:"))
        XCTAssertTrue(createError(plugin, #"{"volume_period": 2.5}"#).hasPrefix("volume_period:"))
        XCTAssertTrue(createError(plugin, #"{"require_book": "yes"}"#).hasPrefix("require_book:"))
        XCTAssertTrue(createError(plugin, #"{"weights": {"flow": 1}}"#).contains("'flow'"))
        XCTAssertEqual(createError(plugin, #"{"weights": {"book_imbalance": 0, "trade_flow": 0, "microprice": 0}}"#),
                       "config field 'weights': at least one weight must be above 0")
        XCTAssertTrue(createError(plugin, #"{"require_book": true, "weights": {"book_imbalance": 0, "microprice": 0}}"#)
            .hasPrefix("config field 'require_book' is true but"))
    }
}
