import AlphaPlusFeeds
import AlphaPlusSDK
import XCTest

/// The file readers on small hand-made files in Fixtures/.
final class FeedReaderTests: XCTestCase {
    private func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }

    private func decimal(_ text: String) -> ExactDecimal { ExactDecimal(text)! }

    func testDetectsEveryFormatFromTheContent() throws {
        let expected: [(String, FeedFormat)] = [
            ("freqtrade-1m.csv", .freqtradeOHLCV), ("freqtrade-1m.csv.gz", .freqtradeOHLCV),
            ("nautilus-1m.csv", .nautilusBars), ("binance-klines.csv", .binanceKlines),
            ("tardis-trades.csv", .tardisTrades), ("tardis-quotes.csv", .tardisQuotes),
            ("hftbacktest.txt.gz", .hftbacktestBinance), ("cryptofeed-kraken.txt", .cryptofeedCapture),
            ("bitfinex-raw-book.json", .bitfinexRawBook),
        ]
        for (name, format) in expected {
            XCTAssertEqual(try FeedFormat.detect(path: fixture(name)), format, name)
        }
        XCTAssertEqual(FeedFormat.detect(firstLine: "1618678132.8258188: {\"event\":\"systemStatus\"}"), .cryptofeedCapture)
        XCTAssertNil(FeedFormat.detect(firstLine: "time,price"))
    }

    func testAnUnknownFormatNamesTheFileAndTheLine() throws {
        let path = NSTemporaryDirectory() + "unknown-\(UUID().uuidString).csv"
        try "time,price\n1,2\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try FeedFormat.detect(path: path)) { error in
            XCTAssertEqual((error as? FeedError)?.position, FeedPosition(source: path, line: 1))
            XCTAssertTrue("\(error)".contains("unrecognised data format: first line 'time,price'"), "\(error)")
        }
    }

    func testFreqtradeBarsBecomeClosedCandlesTimedAtTheirClose() throws {
        for name in ["freqtrade-1m.csv", "freqtrade-1m.csv.gz"] {
            let reader = try FeedReader(path: fixture(name), options: .init(venue: "binance", symbol: "BTC-USDT"))
            let (events, report) = try reader.readAll()
            XCTAssertEqual(report, FeedReader.Report(records: 4, badRecords: 0, firstBadRecords: [], barIntervalSeconds: 60))
            let open: Int64 = 1_700_000_000_000_000_000
            XCTAssertEqual(events.first, .candle(EventSource(venue: "binance", symbol: "BTC-USDT", exchangeTimeNs: open + 60_000_000_000),
                                                 Candle(openTimeNs: open, intervalSeconds: 60, open: 100.5, high: 101, low: 99.5,
                                                        close: 100, volume: 12.5), closed: true))
            guard case .candle(_, let last, _) = events.last else { return XCTFail("not a candle") }
            XCTAssertEqual(last.openTimeNs, open + 240_000_000_000)
        }
    }

    func testAGivenIntervalOverridesTheInferredOneAndTheSymbolDefaultsToTheFileName() throws {
        let (events, report) = try FeedReader(path: fixture("freqtrade-1m.csv"), options: .init(barIntervalSeconds: 30)).readAll()
        XCTAssertEqual(report.barIntervalSeconds, 30)
        XCTAssertEqual(events.first?.source, EventSource(venue: "replay", symbol: "freqtrade-1m", exchangeTimeNs: 1_700_000_030_000_000_000))
    }

    func testNautilusTimestampsAreUTC() throws {
        let (events, report) = try FeedReader(path: fixture("nautilus-1m.csv")).readAll()
        XCTAssertEqual(report.records, 3)
        guard case .candle(_, let candle, _) = events.first else { return XCTFail("not a candle") }
        XCTAssertEqual(candle.openTimeNs, 1_640_991_660_000_000_000) // 2021-12-31T23:01:00Z
        XCTAssertEqual(candle.volume, 2300413.7295)
        XCTAssertEqual(UTCTime.iso8601(ns: candle.openTimeNs), "2021-12-31T23:01:00.000Z")
        XCTAssertEqual(UTCTime.parse("2024-02-29 12:34:56.789"), 1_709_210_096_789_000_000)
        XCTAssertNil(UTCTime.parse("2024-13-01 00:00:00"))
    }

    func testBinanceKlinesKeepTheTradeCount() throws {
        let (events, report) = try FeedReader(path: fixture("binance-klines.csv")).readAll()
        XCTAssertEqual(report.barIntervalSeconds, 60)
        guard case .candle(_, let candle, _) = events.last else { return XCTFail("not a candle") }
        XCTAssertEqual(candle, Candle(openTimeNs: 1_637_971_260_000_000_000, intervalSeconds: 60, open: 0.00002854, high: 0.00002860,
                                      low: 0.00002854, close: 0.00002859, volume: 89196.6, tradeCount: 98))
    }

    func testTardisTradesAreExact() throws {
        let (events, _) = try FeedReader(path: fixture("tardis-trades.csv")).readAll()
        XCTAssertEqual(events, [
            .trade(EventSource(venue: "binance-futures", symbol: "BTCUSDT", exchangeTimeNs: 1_582_329_602_111_000_000,
                               localTimeNs: 1_582_329_602_418_379_000),
                   price: decimal("9682"), size: decimal("0.132"), aggressor: .buy, tradeID: "42377944", sequence: 42377944),
            .trade(EventSource(venue: "binance-futures", symbol: "BTCUSDT", exchangeTimeNs: 1_582_329_602_116_000_000,
                               localTimeNs: 1_582_329_602_418_420_000),
                   price: decimal("9681.92"), size: decimal("0.412"), aggressor: .sell, tradeID: "42377945", sequence: 42377945),
            .trade(EventSource(venue: "binance-futures", symbol: "BTCUSDT", exchangeTimeNs: 1_582_329_602_116_000_000,
                               localTimeNs: 1_582_329_602_418_500_000),
                   price: decimal("9682.01"), size: decimal("1.000"), aggressor: .buy, tradeID: "42377948", sequence: 42377948),
        ])
    }

    func testTardisQuotes() throws {
        let (events, _) = try FeedReader(path: fixture("tardis-quotes.csv")).readAll()
        XCTAssertEqual(events.last, .quote(EventSource(venue: "binance-futures", symbol: "BTCUSDT", exchangeTimeNs: 1_582_329_603_401_000_000,
                                                       localTimeNs: 1_582_329_603_522_418_000),
                                           bidPrice: decimal("9681.83"), bidSize: decimal("0.003"),
                                           askPrice: decimal("9682"), askSize: decimal("0.84"), sequence: 0))
    }

    func testSkipCountsEveryBadRowAndNamesFileLineAndField() throws {
        let path = fixture("freqtrade-bad.csv")
        let reader = try FeedReader(path: path, options: .init(badRecords: .skip, keptBadRecords: 10))
        let (events, report) = try reader.readAll()
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(report.records, 2)
        XCTAssertEqual(report.badRecords, 6)
        XCTAssertEqual(report.firstBadRecords.map(\.description), [
            "\(path):3: expected 6 columns (ts_ms,open,high,low,close,volume), found 4",
            "\(path):4: field 'high': 'abc' is not a number",
            "\(path):5: field 'low': 'nan' is not finite",
            "\(path):6: field 'close': a price must be positive, found 0",
            "\(path):7: field 'volume': a size must not be negative, found -2",
            "\(path):8: field 'ts_ms': time 2023-11-14T22:12:20.000Z is before the previous row's 2023-11-14T22:13:20.000Z",
        ])
    }

    func testSkipKeepsOnlyTheFirstErrors() throws {
        let report = try FeedReader(path: fixture("freqtrade-bad.csv"), options: .init(badRecords: .skip, keptBadRecords: 2)).read { _, _ in }
        XCTAssertEqual(report.badRecords, 6)
        XCTAssertEqual(report.firstBadRecords.map(\.position.line), [3, 4])
    }

    func testStopThrowsTheFirstBadRowAfterTheGoodOnesBeforeIt() throws {
        let path = fixture("freqtrade-bad.csv")
        var delivered: [FeedPosition] = []
        XCTAssertThrowsError(try FeedReader(path: path).read { _, position in delivered.append(position) }) { error in
            XCTAssertEqual(error as? FeedError, FeedError(FeedPosition(source: path, line: 3),
                                                          "expected 6 columns (ts_ms,open,high,low,close,volume), found 4"))
        }
        XCTAssertEqual(delivered, [FeedPosition(source: path, line: 2)])
    }

    func testBadExactPricesAndSizes() throws {
        let path = fixture("tardis-trades-bad.csv")
        let report = try FeedReader(path: path, options: .init(badRecords: .skip)).read { _, _ in }
        XCTAssertEqual(report.records, 0)
        XCTAssertEqual(report.firstBadRecords.map(\.description), [
            "\(path):2: field 'price': '1e3' is not a plain decimal number",
            "\(path):3: field 'price': 'inf' is not finite",
            "\(path):4: field 'price': a price must be positive, found -5",
            "\(path):5: field 'amount': a size must not be negative, found -1",
            "\(path):6: field 'side': 'both' is not buy, sell or unknown",
        ])
    }

    func testCaptureFormatsAreReadThroughTheVenueDecodersWithTheirPolicy() throws {
        // The fixture's two trade messages lack every field a trade needs.
        let path = fixture("hftbacktest.txt.gz")
        XCTAssertThrowsError(try FeedReader(path: path).read { _, _ in }) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path):1: "), "\(error)")
        }
        let report = try FeedReader(path: path, options: .init(badRecords: .skip)).read { _, _ in XCTFail("no event") }
        XCTAssertEqual(report.badRecords, 2)
        XCTAssertEqual(report.firstBadRecords.map(\.position.line), [1, 2])
    }

    func testInspectionFindsMissingBars() throws {
        let inspection = try FeedInspection.inspect(path: fixture("freqtrade-1m.csv"))
        XCTAssertEqual(inspection.records, 4)
        XCTAssertEqual(inspection.startNs, 1_700_000_000_000_000_000)
        XCTAssertEqual(inspection.endNs, 1_700_000_240_000_000_000)
        XCTAssertEqual(inspection.gaps, FeedInspection.Gaps(unit: .bars, count: 1, missing: 1, largest: [
            FeedInspection.Gap(from: 1_700_000_060_000_000_000, to: 1_700_000_180_000_000_000, missing: 1),
        ]))
    }

    func testInspectionFindsMissingTradeIDs() throws {
        let inspection = try FeedInspection.inspect(path: fixture("tardis-trades.csv"))
        XCTAssertEqual(inspection.gaps, FeedInspection.Gaps(unit: .tradeIDs, count: 1, missing: 2, largest: [
            FeedInspection.Gap(from: 42377945, to: 42377948, missing: 2),
        ]))
        XCTAssertNil(try FeedInspection.inspect(path: fixture("tardis-quotes.csv")).gaps)
    }

    func testInspectionOfCapturesCountsLinesAndLocalTimes() throws {
        let hft = try FeedInspection.inspect(path: fixture("hftbacktest.txt.gz"))
        XCTAssertEqual(hft.records, 2)
        XCTAssertEqual(hft.startNs, 1_723_161_255_030_314_667)
        XCTAssertEqual(hft.endNs, 1_723_161_255_030_399_999)
        let kraken = try FeedInspection.inspect(path: fixture("cryptofeed-kraken.txt"))
        XCTAssertEqual(kraken.records, 3)
        XCTAssertEqual(kraken.startNs, 1_618_678_132_825_818_800)
        XCTAssertEqual(kraken.endNs, 1_618_678_133_500_000_000)
        let bitfinex = try FeedInspection.inspect(path: fixture("bitfinex-raw-book.json"))
        XCTAssertEqual(bitfinex.records, 1)
        XCTAssertNil(bitfinex.startNs)
    }
}
