import AlphaPlusFeeds
import AlphaPlusSDK
import AlphaPlusSDKTesting
import ExchangeReplay
import Foundation
import SharedTestData
import OrderBook
import XCTest

/// The replay exchange on the shared market data, through TestHost.
final class ReplayExchangeTests: XCTestCase {
    private let minuteNs: Int64 = 60_000_000_000

    /// Instances live as long as the test: a released instance is destroyed.
    private var instances: [TestInstance] = []

    private func replay(_ config: String) throws -> TestHost {
        let host = TestHost()
        let instance = try host.load(ReplayExchange.self).create(config: config)
        try instance.start()
        instances.append(instance)
        return host
    }

    private func candles(_ host: TestHost) -> [(event: EventSource, candle: Candle)] {
        host.emitted.compactMap { if case let .candle(source, candle, true) = $0 { (source, candle) } else { nil } }
    }

    private func logs(_ host: TestHost) -> [String] { host.logs.map { "\($0.level): \($0.message)" } }

    private func temporaryFile(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "replay-\(UUID().uuidString).csv"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testMaxSpeedReplaysEveryCandleInOrderInABoundedNumberOfTicks() throws {
        let path = try SharedData.file("freqtrade/ohlcv_5m_btc_pairs/ETH_BTC-5m.csv").path
        let host = try replay(#"{"files": ["\#(path)"], "speed": "max", "symbol": "ETH-BTC", "batch_size": 1000}"#)
        host.advance(byNs: 0)
        let replayed = candles(host)
        XCTAssertEqual(replayed.count, 5760)
        XCTAssertEqual(host.emitted.count, 5760)
        XCTAssertEqual(replayed.first?.candle.openTimeNs, UTCTime.parse("2018-01-10 04:55:00"))
        XCTAssertEqual(replayed.last?.candle.openTimeNs, UTCTime.parse("2018-01-30 04:50:00"))
        XCTAssertEqual(replayed.first?.candle, Candle(openTimeNs: 1_515_560_100_000_000_000, intervalSeconds: 300, open: 0.0984,
                                                      high: 0.0994766, low: 0.09828605, close: 0.0994766, volume: 1820.54447418))
        XCTAssertEqual(replayed.first?.event, EventSource(venue: "replay", symbol: "ETH-BTC", exchangeTimeNs: 1_515_560_400_000_000_000))
        let opens = replayed.map(\.candle.openTimeNs)
        XCTAssertEqual(opens, opens.sorted())
        XCTAssertEqual(Set(opens).count, opens.count)
        // One metric record per timer tick: 6 ticks of at most 1000 events.
        let batches = host.metrics.filter { $0.name == "replay_events" }
        XCTAssertEqual(batches.count, 6)
        XCTAssertEqual(batches.map(\.value).reduce(0, +), 5760)
        XCTAssertEqual(logs(host).last, "info: replay finished: 5760 events")
    }

    func testSpeedSixtyReplaysAnHourOfDataPerMinuteAndNothingBeforeItsTime() throws {
        let path = try SharedData.file("freqtrade/ohlcv_5m_btc_pairs/ETH_BTC-5m.csv").path
        let host = try replay(#"{"files": ["\#(path)"], "speed": 60}"#)
        // Candles 5 minutes apart are due every 5 s: 0 s, 5 s, ..., 55 s.
        host.advance(byNs: minuteNs - 1)
        XCTAssertEqual(candles(host).count, 12)
        host.advance(byNs: 1)
        XCTAssertEqual(candles(host).count, 13)
        host.advance(byNs: minuteNs)
        let replayed = candles(host)
        XCTAssertEqual(replayed.count, 25)
        let firstClose = replayed[0].event.exchangeTimeNs
        XCTAssertEqual(replayed.last!.event.exchangeTimeNs - firstClose, 120 * minuteNs)
    }

    func testTardisTradesReplayWithExactPrices() throws {
        let path = try SharedData.file("nautilus_trader/tardis/binance-futures_trades_BTCUSDT_2020-02-22.csv").path
        let host = try replay(#"{"files": ["\#(path)"], "speed": "max"}"#)
        host.advance(byNs: 0)
        XCTAssertEqual(host.emitted.count, 9999)
        XCTAssertEqual(host.emitted.first, .trade(EventSource(venue: "binance-futures", symbol: "BTCUSDT",
                                                              exchangeTimeNs: 1_582_329_602_111_000_000, localTimeNs: 1_582_329_602_418_379_000),
                                                  price: ExactDecimal("9682")!, size: ExactDecimal("0.132")!, aggressor: .buy,
                                                  tradeID: "42377944", sequence: 42377944))
        XCTAssertEqual(host.emitted.last, .trade(EventSource(venue: "binance-futures", symbol: "BTCUSDT",
                                                             exchangeTimeNs: 1_582_337_147_728_000_000, localTimeNs: 1_582_337_147_852_384_000),
                                                 price: ExactDecimal(mantissa: 966684, exponent: -2), size: ExactDecimal("0.07")!,
                                                 aggressor: .sell, tradeID: "42387942", sequence: 42387942))
    }

    private let badFile = """
        ts_ms,open,high,low,close,volume
        1700000000000,1,1,1,1,1
        1700000060000,1,1,oops,1,1
        1700000120000,1,1,1,1,1
        1700000180000,1,1,1,1,1

        """

    func testSkipLogsTheBadRecordWithFileAndLineCountsItAndGoesOn() throws {
        let path = try temporaryFile(badFile)
        let host = try replay(#"{"files": ["\#(path)"], "speed": "max", "on_bad_record": "skip"}"#)
        host.advance(byNs: 0)
        XCTAssertEqual(candles(host).count, 3)
        XCTAssertTrue(logs(host).contains("warning: skipped bad record \(path):3: field 'low': 'oops' is not a number"), "\(logs(host))")
        XCTAssertEqual(host.metrics.filter { $0.name == "replay_bad_records" }.map(\.value), [1])
    }

    func testStopReplaysUpToTheBadRecordThenEndsWithAnErrorLog() throws {
        let path = try temporaryFile(badFile)
        let host = try replay(#"{"files": ["\#(path)"], "speed": "max", "on_bad_record": "stop"}"#)
        host.advance(byNs: 0)
        XCTAssertEqual(candles(host).map(\.candle.openTimeNs), [1_700_000_000_000_000_000])
        XCTAssertEqual(logs(host).last, "error: replay stopped at bad record \(path):3: field 'low': 'oops' is not a number")
        XCTAssertEqual(host.metrics.filter { $0.name == "replay_bad_records" }.map(\.value), [1])
        host.advance(byNs: minuteNs)
        XCTAssertEqual(host.emitted.count, 1)
    }

    func testFilesThatCannotBeReplayedAreRefusedAtCreateNamingTheField() throws {
        let plugin = try TestHost().load(ReplayExchange.self)
        XCTAssertThrowsError(try plugin.create(config: #"{"files": ["/nonexistent/bars.csv"]}"#)) { error in
            XCTAssertEqual("\(error)", "config field 'files[0]': /nonexistent/bars.csv:0: cannot open the file")
        }
        XCTAssertThrowsError(try plugin.create(config: #"{"files": ["x"], "speed": 0}"#))
    }

    /// The Kraken capture replayed through the plugin, then rebuilt by the
    /// host's books: every checksum the venue sent matches.
    func testKrakenCaptureReplaysIntoBooksWhoseChecksumsAllMatch() throws {
        let path = try SharedData.file("cryptofeed/KRAKEN.ws.50.0").path
        let host = try replay(#"{"files": ["\#(path)"], "speed": "max", "batch_size": 5000}"#)
        host.advance(byNs: 0)
        let books = BookSet(venue: "kraken")
        for event in host.emitted { books.apply(event) }
        let counters = books.symbols.compactMap { books[$0]?.counters }
        XCTAssertEqual(counters.map(\.checksumsMatched).reduce(0, +), 4_269)
        XCTAssertEqual(counters.map(\.checksumsTotal).reduce(0, +), 4_269)
        XCTAssertEqual(books.symbols.count, 10)
    }

    /// A Binance capture (the day pair as one replay): trades and a book
    /// that stays in sequence.
    func testBinanceCapturePairReplaysWithoutSequenceBreaks() throws {
        let day1 = try SharedData.file("hftbacktest/binance_usdm/btcusdt_20240718.gz").path
        let day2 = try SharedData.file("hftbacktest/binance_usdm/btcusdt_20240719.gz").path
        let host = try replay(#"{"files": ["\#(day1)", "\#(day2)"], "speed": "max", "batch_size": 20000}"#)
        host.advance(byNs: 0)
        let books = BookSet(venue: "binance")
        var trades = 0
        for event in host.emitted {
            if case .trade = event { trades += 1 }
            books.apply(event)
        }
        XCTAssertEqual(trades, 974 + 9_727)
        let book = try XCTUnwrap(books["BTCUSDT"])
        XCTAssertEqual(book.counters.sequenceBreaks, 0)
        XCTAssertGreaterThan(book.counters.deltasApplied, 1_000)
        XCTAssertTrue(book.isSynced)
    }
}
