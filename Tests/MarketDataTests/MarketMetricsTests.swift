import AlphaPlusSDK
import MarketData
import Metrics
import MetricsTestKit
import XCTest

/// What ingest counts in swift-metrics: events by venue and kind,
/// rejections by venue and reason, frames by venue, symbol and timeframe.
final class MarketMetricsTests: XCTestCase {
    private let metrics = TestMetrics()

    private func count(_ descriptor: String, _ dimensions: [(String, String)]) throws -> Int64 {
        try metrics.expectCounter(descriptor, dimensions).totalValue
    }

    func testEventsRejectionsAndFramesAreCountedWithTheirLabels() throws {
        let market = withMetricsFactory(metrics) { MarketPipeline(clock: { t0 + 3_600_000_000_000 }) { _ in } }
        // Ten closed 1m bars of a bar file: ten 1m frames, two 5m frames.
        for minute in 0..<10 { market.ingest(bar(10, 11, 9, 10.5, at: t0 + Int64(minute) * minuteNs)) }
        market.ingest(trade("100", at: t0, id: "a"))
        market.ingest(trade("101", at: t0 + 1, id: "b"))
        market.ingest(trade("101", at: t0 + 2, id: "b"))  // duplicate
        market.ingest(trade("0", at: t0 + 3, id: "c"))  // price 0
        market.ingest(trade("10", at: t0, symbol: "???"))
        market.ingest(.quote(EventSource(venue: "binance", symbol: "BTCUSDT", exchangeTimeNs: t0 + 4), bidPrice: decimal("100"),
                             bidSize: decimal("1"), askPrice: decimal("101"), askSize: decimal("2"), sequence: 0))
        market.ingest(.news(EventSource(venue: "newswire", symbol: "", exchangeTimeNs: t0), id: "n1", source: "wire",
                            headline: "BTC up", body: "", url: "", symbols: []))

        XCTAssertEqual(try count("alphaplus_market_events_total", [("venue", "file"), ("kind", "candle")]), 10)
        XCTAssertEqual(try count("alphaplus_market_events_total", [("venue", "binance"), ("kind", "trade")]), 2)
        XCTAssertEqual(try count("alphaplus_market_events_total", [("venue", "binance"), ("kind", "quote")]), 1)
        XCTAssertEqual(try count("alphaplus_market_events_total", [("venue", "newswire"), ("kind", "news")]), 1)
        XCTAssertEqual(try count("alphaplus_market_events_rejected_total", [("venue", "binance"), ("reason", "duplicate_trade")]), 1)
        XCTAssertEqual(try count("alphaplus_market_events_rejected_total", [("venue", "binance"), ("reason", "non_positive_price")]), 1)
        XCTAssertEqual(try count("alphaplus_market_events_rejected_total", [("venue", "binance"), ("reason", "unknown_symbol")]), 1)
        XCTAssertEqual(metrics.counterTotal(label: "alphaplus_market_events_total"), Int64(market.acceptedEvents))

        XCTAssertEqual(try count("alphaplus_feature_frames_total", [("venue", "file"), ("symbol", "ETH-BTC"), ("timeframe", "1m")]), 10)
        XCTAssertEqual(try count("alphaplus_feature_frames_total", [("venue", "file"), ("symbol", "ETH-BTC"), ("timeframe", "5m")]), 2)
        XCTAssertEqual(try count("alphaplus_feature_frames_total", [("venue", "file"), ("symbol", "ETH-BTC"), ("timeframe", "1d")]), 0,
                       "every timeframe's series exists from the stream's first event")
        let framesMade = market.frameCounts.reduce(0) { $0 + $1.frames }
        XCTAssertEqual(metrics.counterTotal(label: "alphaplus_feature_frames_total"), Int64(framesMade))
    }
}
