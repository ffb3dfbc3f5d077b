import AlphaPlusFeeds
import Foundation
import Indicators
import SharedTestData
import XCTest

/// Every indicator against TA-Lib 0.8 on every row of the reference files
/// in ../shared/data/reference_indicators (generated from real bars; see
/// SOURCES.md there): the same warm-up (empty fields there are NaN here)
/// and values within 1e-9 relative (Bollinger 1e-8).
///
/// "Relative" is to the larger of the two values, and for the oscillators
/// at least to their full scale (100): where an oscillator is exactly 0 in
/// exact arithmetic (a close at the window's low, a window without rising
/// money flow), both implementations print only the rounding residue of
/// their running sums (±1e-12), which no relative test can compare.
final class TALibReferenceTests: XCTestCase {
    func testFTXBitcoinPerpetualOneMinuteBars() throws {
        try compare(with: "reference_indicators/talib_ftx_btc-perp_1m.csv.gz", expectedRows: 45_031)
    }

    func testFreqtradeEthereumBitcoinFiveMinuteBars() throws {
        try compare(with: "reference_indicators/talib_freqtrade_ETH_BTC-5m.csv", expectedRows: 5_760)
    }

    private static let oscillators: Set = ["rsi_14", "stoch_slowk_14_3_3", "stoch_slowd_14_3_3", "adx_14", "plus_di_14",
                                           "minus_di_14", "cci_20", "willr_14", "mfi_14"]

    private func compare(with reference: String, expectedRows: Int) throws {
        let url = try SharedData.file(reference)
        var columnOfName: [String: Int] = [:]
        var checked = [Int](repeating: 0, count: IndicatorSet.taLibColumnCount)
        var failures: [String] = []
        var set = IndicatorSet()
        var values = [Double](repeating: .nan, count: IndicatorSet.columns.count)
        var rows = 0

        try LineReader(path: url.path).forEachLine { bytes, line in
            let fields = String(decoding: bytes, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            if line == 1 {
                for (index, name) in fields.enumerated() { columnOfName[name] = index }
                let missing = IndicatorSet.columns.prefix(IndicatorSet.taLibColumnCount).filter { columnOfName[$0] == nil }
                XCTAssertEqual(missing, [], "reference columns missing")
                return true
            }
            rows += 1
            func number(_ name: String) -> Double { Double(fields[columnOfName[name]!])! }
            let bar = Bar(openTimeNs: Int64(number("ts_ms")) * 1_000_000, open: number("open"), high: number("high"),
                          low: number("low"), close: number("close"), volume: number("volume"))
            values.withUnsafeMutableBufferPointer { set.update(bar, into: $0.baseAddress!) }

            for column in 0..<IndicatorSet.taLibColumnCount {
                let name = IndicatorSet.columns[column]
                let text = fields[columnOfName[name]!]
                let ours = values[column]
                let tolerance = name.hasPrefix("bb_") ? 1e-8 : 1e-9
                let scale = Self.oscillators.contains(name) ? 100.0 : 0
                if text.isEmpty {
                    if !ours.isNaN { failures.append("\(name) row \(rows - 1): TA-Lib warming up, ours \(ours)") }
                    continue
                }
                let theirs = Double(text)!
                checked[column] += 1
                if ours.isNaN || abs(ours - theirs) > tolerance * max(abs(ours), abs(theirs), scale) {
                    failures.append("\(name) row \(rows - 1): TA-Lib \(text), ours \(ours)")
                }
            }
            return failures.count < 40
        }
        XCTAssertEqual(failures, [], "\(reference): first differences")
        XCTAssertEqual(rows, expectedRows, "\(reference): rows compared")
        // Every column was compared on all rows after its warm-up.
        for column in 0..<IndicatorSet.taLibColumnCount where failures.isEmpty {
            XCTAssertGreaterThan(checked[column], expectedRows - 60, IndicatorSet.columns[column])
        }
    }
}
