import AllocationCounter
import AlphaPlusSDKTesting
import Foundation
import SharedTestData
import XCTest

/// A frame of the host's standard layout: every standard indicator, NaN
/// unless given in `values`.
func standardFrame(_ values: [String: Double], symbol: String = "BTC-USDT", timeframeSeconds: Int64 = 60,
                   candleOpenNs: Int64 = 1_700_000_000_000_000_000, close: Double = 100, volume: Double = 10,
                   book: BookFeatures? = nil, file: StaticString = #filePath, line: UInt = #line) -> TestFrame {
    for name in values.keys where !FeatureFrame.standardIndicatorNames.contains(name) {
        XCTFail("'\(name)' is not a standard indicator", file: file, line: line)
    }
    func value(_ name: String) -> Double { values[name] ?? .nan }
    // TestFrame takes its indicators as a literal, so the standard layout is spelled out here.
    let frame = TestFrame(
        symbol: symbol, timeframeSeconds: timeframeSeconds,
        candle: Candle(openTimeNs: candleOpenNs, intervalSeconds: timeframeSeconds, open: close, high: close, low: close,
                       close: close, volume: volume),
        indicators: [
            "sma_20": value("sma_20"), "ema_12": value("ema_12"), "ema_26": value("ema_26"), "ema_50": value("ema_50"),
            "rsi_14": value("rsi_14"), "macd_12_26_9": value("macd_12_26_9"),
            "macd_signal_12_26_9": value("macd_signal_12_26_9"), "macd_hist_12_26_9": value("macd_hist_12_26_9"),
            "trange": value("trange"), "atr_14": value("atr_14"), "natr_14": value("natr_14"),
            "bb_upper_20_2": value("bb_upper_20_2"), "bb_middle_20_2": value("bb_middle_20_2"),
            "bb_lower_20_2": value("bb_lower_20_2"), "stoch_slowk_14_3_3": value("stoch_slowk_14_3_3"),
            "stoch_slowd_14_3_3": value("stoch_slowd_14_3_3"), "adx_14": value("adx_14"),
            "plus_di_14": value("plus_di_14"), "minus_di_14": value("minus_di_14"), "cci_20": value("cci_20"),
            "willr_14": value("willr_14"), "mfi_14": value("mfi_14"), "obv": value("obv"), "vwap": value("vwap"),
            "trade_flow_imbalance": value("trade_flow_imbalance"),
        ],
        book: book)
    XCTAssertEqual(frame.indicators.map(\.key), FeatureFrame.standardIndicatorNames, "the literal above drifted from the SDK's layout",
                   file: file, line: line)
    return frame
}

/// A book around `mid` with the given imbalance and microprice.
func book(mid: Double = 100, spread: Double = 0.2, imbalance: Double, microprice: Double) -> BookFeatures {
    var book = BookFeatures()
    (book.bestBid, book.bestAsk, book.mid, book.spread) = (mid - spread / 2, mid + spread / 2, mid, spread)
    (book.bestBidSize, book.bestAskSize, book.depth) = (1, 1, 10)
    (book.imbalance, book.microprice) = (imbalance, microprice)
    return book
}

/// A plugin's `Configuration` from JSON, for heads created without a host.
func configuration<C: Decodable>(_: C.Type, _ json: String) throws -> C {
    try JSONDecoder().decode(C.self, from: Data(json.utf8))
}

/// The create error's message, failing when create succeeds.
func createError(_ plugin: TestPlugin, _ config: String, file: StaticString = #filePath, line: UInt = #line) -> String {
    do {
        _ = try plugin.create(config: config)
        XCTFail("create accepted \(config)", file: file, line: line)
        return ""
    } catch let error as PluginError {
        XCTAssertEqual(error.status, ap_status(AP_ERR_INVALID_CONFIG), file: file, line: line)
        return error.message
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
        return ""
    }
}

/// Heap allocations made by `evaluate` over `frames`, after one warm-up
/// round (which may allocate: first sight of a series, key resolution).
func allocations(evaluating evaluate: (FeatureFrame) throws -> Vote, over frames: [TestFrame], rounds: Int = 200) rethrows -> UInt64 {
    // Lend every frame's C view at once, then count only the evaluations.
    func lend(_ index: Int, _ views: [FeatureFrame]) throws -> UInt64 {
        guard index == frames.count else {
            return try frames[index].withCFrame { try lend(index + 1, views + [FeatureFrame($0)]) }
        }
        for view in views { _ = try evaluate(view) }
        var confidences = 0.0
        let before = ap_allocation_count()
        for _ in 0..<rounds {
            // By index: the generic iterator allocates in unoptimised builds.
            for index in 0..<views.count { confidences += try evaluate(views[index]).confidence }
        }
        let after = ap_allocation_count()
        XCTAssertTrue(confidences.isFinite)
        return after - before
    }
    return try lend(0, [])
}

