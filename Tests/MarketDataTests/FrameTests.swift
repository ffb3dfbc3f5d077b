import AlphaPlusFeeds
import AlphaPlusSDK
import CAlphaPlus
import Foundation
import Indicators
import MarketData
import SharedTestData
import XCTest

final class FrameTests: XCTestCase {
    /// Real 5m bars as candle events through ingest and candles: one frame
    /// per bar whose indicator values are TA-Lib's for that row, and the
    /// longer timeframes built from them.
    func testFramesOnRealBarsCarryTALibValuesForEveryClose() throws {
        let url = try SharedData.file("reference_indicators/talib_freqtrade_ETH_BTC-5m.csv")
        var header: [String] = []
        var rows: [[String]] = []
        try LineReader(path: url.path).forEachLine { bytes, line in
            let fields = String(decoding: bytes, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if line == 1 { header = fields } else { rows.append(fields) }
            return true
        }
        var frames: [SeenFrame] = []
        let market = MarketPipeline(clock: { Int64.max / 4 }) { frames.append(capture($0)) }
        let column = Dictionary(uniqueKeysWithValues: header.enumerated().map { ($1, $0) })
        for row in rows {
            func value(_ name: String) -> Double { Double(row[column[name]!])! }
            XCTAssertEqual(market.ingest(bar(value("open"), value("high"), value("low"), value("close"), value("volume"),
                                             at: Int64(value("ts_ms")) * 1_000_000, interval: 300)), .accepted)
        }
        let fiveMinute = frames.filter { $0.timeframe == 300 }
        XCTAssertEqual(fiveMinute.count, rows.count)
        XCTAssertEqual(Set(frames.map(\.symbol)), ["ETH-BTC"])
        for (index, (frame, row)) in zip(fiveMinute, rows).enumerated() {
            XCTAssertEqual(frame.candle.open_time_ns, Int64(row[column["ts_ms"]!])! * 1_000_000)
            for name in IndicatorSet.columns.prefix(IndicatorSet.taLibColumnCount) {
                let reference = row[column[name]!]
                let ours = frame.values[name]!
                if reference.isEmpty {
                    XCTAssertTrue(ours.isNaN, "\(name) row \(index) warms up in TA-Lib")
                } else {
                    let theirs = Double(reference)!
                    XCTAssertLessThanOrEqual(abs(ours - theirs), 1e-8 * max(abs(theirs), 100), "\(name) row \(index)")
                }
            }
        }
        // 20 days of 5m bars, contiguous: 1,920 quarter hours and 480 hours.
        XCTAssertEqual(frames.filter { $0.timeframe == 900 }.count, 1_920)
        XCTAssertEqual(frames.filter { $0.timeframe == 3600 }.count, 480)
        XCTAssertEqual(frames.filter { $0.timeframe == 86_400 }.count, 20, "Jan 10 (partial) to 29; Jan 30 is still open")
    }

    /// Real Binance futures trades (Tardis capture, µs) into minute candles,
    /// against the same grouping done here by hand.
    func testMinuteCandlesFromRealTradesMatchAGroupingByHand() throws {
        let url = try SharedData.file("nautilus_trader/tardis/binance-futures_trades_BTCUSDT_2020-02-22.csv")
        struct Row { var time: Int64; var price: Double; var size: Double }
        var trades: [Row] = []
        var frames: [SeenFrame] = []
        let market = MarketPipeline(clock: { Int64.max / 4 }) { frames.append(capture($0)) }
        try LineReader(path: url.path).forEachLine { bytes, line in
            guard line > 1 else { return true }
            let f = String(decoding: bytes, as: UTF8.self).split(separator: ",").map(String.init)
            let time = Int64(f[2])! * 1_000
            trades.append(Row(time: time, price: Double(f[6])!, size: Double(f[7])!))
            XCTAssertEqual(market.ingest(trade(f[6], f[7], at: time, id: f[4], sequence: UInt64(f[4])!,
                                               side: f[5] == "buy" ? .buy : .sell, venue: "binance-usdm",
                                               symbol: f[1])), .accepted, "line \(line)")
            return true
        }
        XCTAssertEqual(trades.count, 9_999)
        let byMinute = Dictionary(grouping: trades) { $0.time - $0.time % minuteNs }
        let closedMinutes = byMinute.keys.sorted().dropLast()  // the last minute is still open
        let candles = frames.filter { $0.timeframe == 60 }.map(\.candle)
        XCTAssertEqual(candles.map(\.open_time_ns), Array(closedMinutes), "contiguous trading: no flat fills needed")
        for candle in candles {
            let group = byMinute[candle.open_time_ns]!
            XCTAssertEqual(candle.open, group.first!.price)
            XCTAssertEqual(candle.close, group.last!.price)
            XCTAssertEqual(candle.high, group.map(\.price).max()!)
            XCTAssertEqual(candle.low, group.map(\.price).min()!)
            XCTAssertEqual(candle.volume, group.reduce(0) { $0 + $1.size }, accuracy: 1e-9)
            XCTAssertEqual(candle.trade_count, UInt64(group.count))
        }
        XCTAssertEqual(market.dataLossTotals.gaps, 0, "the capture's trade ids are consecutive")
    }

    func testFramesCarryTheTopOfBookFromQuotes() throws {
        var frames: [SeenFrame] = []
        let market = MarketPipeline(clock: { t0 + 3_600_000_000_000 }) { frames.append(capture($0)) }
        market.ingest(.quote(EventSource(venue: "binance", symbol: "BTCUSDT", exchangeTimeNs: t0), bidPrice: decimal("100"),
                             bidSize: decimal("3"), askPrice: decimal("101"), askSize: decimal("1"), sequence: 0))
        market.ingest(trade("100.5", at: t0))
        market.ingest(trade("100.5", at: t0 + minuteNs))
        let book = try XCTUnwrap(frames.first?.book)
        XCTAssertEqual(book.best_bid, 100)
        XCTAssertEqual(book.best_ask, 101)
        XCTAssertEqual(book.mid, 100.5)
        XCTAssertEqual(book.spread, 1)
        XCTAssertEqual(book.microprice, (100 * 1 + 101 * 3) / 4.0, "leans to the side with less size")
        XCTAssertEqual(book.imbalance, 0.5)
        XCTAssertEqual(book.trade_flow_imbalance, 1, "one buy")
    }
}

final class CapturePipelineTests: XCTestCase {
    /// A real Binance futures capture (trades, quotes, the depth stream and
    /// its REST snapshot) through ingest: the book stays in sequence and the
    /// frames carry the rebuilt book's features.
    func testBinanceCaptureThroughIngestKeepsTheBookInSequenceAndFeedsFrames() throws {
        let day1 = try SharedData.file("hftbacktest/binance_usdm/btcusdt_20240718.gz").path
        let day2 = try SharedData.file("hftbacktest/binance_usdm/btcusdt_20240719.gz").path
        var frames: [SeenFrame] = []
        let market = MarketPipeline(clock: { Int64.max / 4 }) { frames.append(capture($0)) }
        var results: [IngestResult: Int] = [:]
        for path in [day1, day2] {
            _ = try FeedReader(path: path).read { event, _ in results[market.ingest(event), default: 0] += 1 }
        }
        XCTAssertEqual(results[.accepted], results.values.reduce(0, +), "every event is accepted: \(results)")
        XCTAssertEqual(market.dataLossTotals.gaps, 0)
        let minutes = frames.filter { $0.timeframe == 60 }
        XCTAssertGreaterThanOrEqual(minutes.count, 7, "23:57 to 00:05")
        for frame in minutes {
            let book = try XCTUnwrap(frame.book)
            XCTAssertLessThan(book.best_bid, book.best_ask)
            XCTAssertEqual(book.depth, 10, "features come from the rebuilt book, not the quotes")
            XCTAssertGreaterThan(frame.candle.trade_count, 0)
        }
    }
}
