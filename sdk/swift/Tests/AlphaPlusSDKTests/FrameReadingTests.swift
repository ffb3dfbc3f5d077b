import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// What a head reads from frames beyond single indicators: the standard
/// layout's names, per-series state and book features of any sender size.
final class FrameReadingTests: XCTestCase {
    /// Lends a frame whose venue and symbol are the given bytes (not
    /// necessarily UTF-8) and whose indicators are `names`, valued by position.
    private func withFrame<R>(venue: [UInt8] = Array("sim".utf8), symbol: [UInt8], timeframeSeconds: Int64 = 60,
                              names: [String] = [], book: UnsafePointer<ap_book_features>? = nil,
                              _ body: (FeatureFrame) throws -> R) rethrows -> R {
        try venue.withUnsafeBufferPointer { venue in
            try symbol.withUnsafeBufferPointer { symbol in
                try withAPStrs(names) { names in
                    try names.withUnsafeBufferPointer { names in
                        let values = (0..<names.count).map(Double.init)
                        return try values.withUnsafeBufferPointer { values in
                            func text(_ bytes: UnsafeBufferPointer<UInt8>) -> ap_str {
                                ap_str(ptr: UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self), len: bytes.count)
                            }
                            var frame = ap_feature_frame()
                            frame.struct_size = UInt32(MemoryLayout<ap_feature_frame>.size)
                            (frame.venue, frame.symbol, frame.timeframe_s) = (text(venue), text(symbol), timeframeSeconds)
                            (frame.layout_id, frame.indicator_names, frame.indicator_values) = (1, names.baseAddress, values.baseAddress)
                            (frame.indicator_count, frame.book) = (names.count, book)
                            return try withUnsafePointer(to: &frame) { try body(FeatureFrame($0)) }
                        }
                    }
                }
            }
        }
    }

    func testStandardIndicatorNamesAreUniqueWellFormedAndReadableInOrder() throws {
        let names = FeatureFrame.standardIndicatorNames
        XCTAssertEqual(Set(names).count, names.count, "no name twice")
        for name in names {
            XCTAssertNotNil(name.range(of: "^[a-z][a-z0-9_]*$", options: .regularExpression), name)
        }
        XCTAssertEqual(names.last, "trade_flow_imbalance")
        // Keys for every name read a frame of that layout at the name's position.
        let keys = names.map(IndicatorKey.init)
        let read = withFrame(symbol: Array("BTC-USDT".utf8), names: names) { frame in keys.map { frame[$0] } }
        XCTAssertEqual(read, (0..<names.count).map(Double.init))
    }

    func testPerSeriesStateKeepsOneStatePerVenueSymbolAndTimeframe() throws {
        var made = 0
        let counters = PerSeriesState<Int> {
            made += 1
            return 0
        }
        func bump(venue: String = "sim", _ symbol: [UInt8], timeframe: Int64 = 60) -> Int {
            withFrame(venue: Array(venue.utf8), symbol: symbol, timeframeSeconds: timeframe) { frame in
                counters.withState(for: frame) { count -> Int in
                    count += 1
                    return count
                }
            }
        }
        let long = Array("A-SYMBOL-LONGER-THAN-FIFTEEN-BYTES".utf8)
        XCTAssertEqual(bump(Array("BTC-USDT".utf8)), 1)
        XCTAssertEqual(bump(Array("BTC-USDT".utf8)), 2)
        XCTAssertEqual(bump(Array("BTC-USDT".utf8), timeframe: 300), 1, "another timeframe")
        XCTAssertEqual(bump(venue: "kraken", Array("BTC-USDT".utf8)), 1, "another venue")
        XCTAssertEqual(bump(long), 1)
        XCTAssertEqual(bump(long), 2)
        // Venue and symbol are kept apart: ("sim", "X") is not ("si", "mX").
        XCTAssertEqual(bump(venue: "si", Array("mX".utf8)), 1)
        XCTAssertEqual(bump(Array("X".utf8)), 1)
        // Bytes that are not UTF-8 still name one series.
        XCTAssertEqual(bump([0xFF, 0xFE]), 1)
        XCTAssertEqual(bump([0xFF, 0xFE]), 2)
        XCTAssertEqual(bump([0xFF, 0xFD]), 1)
        XCTAssertEqual(bump([]), 1)
        XCTAssertEqual(bump([]), 2)
        XCTAssertEqual(counters.count, 9)
        XCTAssertEqual(made, 9, "a state is made on a series' first frame only")
    }

    func testBookFeaturesReadOnlyWhatTheSendersStructCovers() throws {
        var raw = ap_book_features()
        (raw.best_bid, raw.best_ask, raw.best_bid_size, raw.best_ask_size) = (99, 101, 2, 3)
        (raw.mid, raw.spread, raw.microprice, raw.imbalance, raw.depth, raw.trade_flow_imbalance) = (100, 2, 99.8, -0.2, 5, 0.25)

        raw.struct_size = UInt32(MemoryLayout<ap_book_features>.size)
        let full = try XCTUnwrap(withUnsafePointer(to: &raw) { book in withFrame(symbol: [], book: book) { $0.book } })
        XCTAssertEqual([full.bestBid, full.bestAsk, full.bestBidSize, full.bestAskSize, full.mid, full.spread, full.microprice,
                        full.imbalance, full.tradeFlowImbalance], [99, 101, 2, 3, 100, 2, 99.8, -0.2, 0.25])
        XCTAssertEqual(full.depth, 5)

        // An older sender whose struct ends before the microprice.
        raw.struct_size = UInt32(MemoryLayout<ap_book_features>.offset(of: \.microprice)!)
        let old = try XCTUnwrap(withUnsafePointer(to: &raw) { book in withFrame(symbol: [], book: book) { $0.book } })
        XCTAssertEqual([old.bestBid, old.bestAsk, old.mid, old.spread], [99, 101, 100, 2])
        XCTAssertTrue(old.microprice.isNaN && old.imbalance.isNaN && old.tradeFlowImbalance.isNaN)
        XCTAssertEqual(old.depth, 0)
    }
}
