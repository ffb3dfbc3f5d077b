import Foundation
import SharedTestData
import XCTest

/// `alphaplus indicators` as other tools read it.
final class IndicatorsCLITests: XCTestCase {
    func testPrintsTALibsValuesForEveryRowOfABarFile() throws {
        let bars = try SharedData.file("freqtrade/ohlcv_5m_btc_pairs/ETH_BTC-5m.csv")
        let reference = try SharedData.file("reference_indicators/talib_freqtrade_ETH_BTC-5m.csv")
        let result = try AlphaPlusCLI.run(["indicators", bars.path])
        XCTAssertEqual(result.status, 0, result.err)
        let ours = result.out.split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        let theirs = try String(contentsOf: reference, encoding: .utf8).split(separator: "\n")
            .map { $0.split(separator: ",", omittingEmptySubsequences: false) }
        XCTAssertEqual(ours.first?.joined(separator: ","), "ts_ms," + [
            "sma_20", "ema_12", "ema_26", "ema_50", "rsi_14", "macd_12_26_9", "macd_signal_12_26_9", "macd_hist_12_26_9",
            "trange", "atr_14", "natr_14", "bb_upper_20_2", "bb_middle_20_2", "bb_lower_20_2", "stoch_slowk_14_3_3",
            "stoch_slowd_14_3_3", "adx_14", "plus_di_14", "minus_di_14", "cci_20", "willr_14", "mfi_14", "obv",
        ].joined(separator: ","))
        XCTAssertEqual(ours.count, theirs.count, "one row per input row")
        let header = theirs[0].map(String.init)
        for (row, (mine, reference)) in zip(ours, theirs).enumerated().dropFirst() {
            XCTAssertEqual(mine[0], reference[0], "ts_ms, row \(row)")
            for (column, name) in ours[0].enumerated().dropFirst() {
                let expected = reference[header.firstIndex(of: String(name))!]
                if expected.isEmpty || mine[column].isEmpty {
                    XCTAssertEqual(mine[column], expected, "\(name) row \(row): warm-up")
                } else {
                    let a = Double(mine[column])!, b = Double(expected)!
                    XCTAssertLessThanOrEqual(abs(a - b), 1e-8 * max(abs(b), 100), "\(name) row \(row)")
                    // Shortest round-trip: the text reads back to the same double.
                    XCTAssertEqual("\(a)", String(mine[column]))
                }
            }
        }
    }

    func testAMalformedRowStopsWithItsFileAndLineOrIsSkippedWhenAsked() throws {
        let path = NSTemporaryDirectory() + "bars-\(UUID().uuidString).csv"
        try """
        ts_ms,open,high,low,close,volume
        1515560100000,1,2,0.5,1.5,10
        1515560400000,1,2,oops,1.5,10
        1515560700000,1,2,0.5,1.5,10

        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }

        let stopped = try AlphaPlusCLI.run(["indicators", path])
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertTrue(stopped.err.contains("\(path):3"), stopped.err)

        let skipped = try AlphaPlusCLI.run(["indicators", "--on-bad-row", "skip", path])
        XCTAssertEqual(skipped.status, 0, skipped.err)
        XCTAssertEqual(skipped.out.split(separator: "\n").map { $0.prefix(13) }, ["ts_ms,sma_20,", "1515560100000", "1515560700000"])
        XCTAssertTrue(skipped.err.contains("skipped 1 malformed rows"), skipped.err)
    }
}
