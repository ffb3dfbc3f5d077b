import AlphaPlusFeeds
import AlphaPlusSDK
import OrderBook
import SharedTestData
import XCTest

/// Every hftbacktest capture, alone and as consecutive days, rebuilds its
/// book with no sequence break.
final class BinanceBookTests: XCTestCase {
    private func assertRebuildsCleanly(_ files: [String], symbol: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let paths = try files.map { try SharedData.file("hftbacktest/\($0)").path }
        let replay = try Replay.binance(paths)
        let book = try replay.onlyBook()
        let counters = book.counters
        XCTAssertEqual(book.symbol, symbol, file: file, line: line)
        XCTAssertEqual(counters.snapshotsApplied, 1, file: file, line: line)
        XCTAssertEqual(counters.sequenceBreaks, 0, "\(book.sequenceBreakRecords)", file: file, line: line)
        XCTAssertEqual(counters.bufferOverflows, 0, file: file, line: line)
        XCTAssertEqual(counters.rejectedEvents, 0, file: file, line: line)
        XCTAssertGreaterThan(replay.deltasSeen, 3000, file: file, line: line)
        // Every delta is accounted for: applied, or dropped as already in the snapshot.
        XCTAssertEqual(counters.deltasApplied + counters.deltasDropped, replay.deltasSeen, file: file, line: line)
        XCTAssertEqual(book.bufferedDeltaCount, 0, file: file, line: line)
        XCTAssertGreaterThan(Double(counters.deltasApplied), 0.99 * Double(replay.deltasSeen), file: file, line: line)
        XCTAssertTrue(book.isSynced, file: file, line: line)
        XCTAssertFalse(book.isCrossed, file: file, line: line)
        let bid = try XCTUnwrap(book.bestBid, file: file, line: line)
        let ask = try XCTUnwrap(book.bestAsk, file: file, line: line)
        XCTAssertLessThan(bid.price.doubleValue, ask.price.doubleValue, file: file, line: line)
        XCTAssertGreaterThan(bid.size.doubleValue, 0, file: file, line: line)
        XCTAssertGreaterThan(ask.size.doubleValue, 0, file: file, line: line)
        XCTAssertEqual(book.spread, ask.price.doubleValue - bid.price.doubleValue, file: file, line: line)
        XCTAssertTrue((bid.price.doubleValue...ask.price.doubleValue).contains(book.microprice), file: file, line: line)
        XCTAssertTrue((-1.0...1.0).contains(book.imbalance(levels: 10)), file: file, line: line)
    }

    func testUSDMBTCUSDT20240808() throws { try assertRebuildsCleanly(["binance_usdm/btcusdt_20240808.gz"], symbol: "BTCUSDT") }
    func testUSDMETHUSDT20240808() throws { try assertRebuildsCleanly(["binance_usdm/ethusdt_20240808.gz"], symbol: "ETHUSDT") }
    func testUSDMBTCUSDT20240718() throws { try assertRebuildsCleanly(["binance_usdm/btcusdt_20240718.gz"], symbol: "BTCUSDT") }
    func testSpotBTCUSDT20240808() throws { try assertRebuildsCleanly(["binance_spot/btcusdt_20240808.gz"], symbol: "BTCUSDT") }
    func testCOINMBTCUSDPerp20240808() throws { try assertRebuildsCleanly(["binance_coinm/btcusd_perp_20240808.gz"], symbol: "BTCUSD_PERP") }

    func testUSDMDays0718And0719AsOneStream() throws {
        try assertRebuildsCleanly(["binance_usdm/btcusdt_20240718.gz", "binance_usdm/btcusdt_20240719.gz"], symbol: "BTCUSDT")
    }

    func testSpotDays0808And0809AsOneStream() throws {
        try assertRebuildsCleanly(["binance_spot/btcusdt_20240808.gz", "binance_spot/btcusdt_20240809.gz"], symbol: "BTCUSDT")
    }

    /// A day-2 file alone has no snapshot: its deltas wait in the bounded buffer.
    func testAContinuationFileAloneNeverSyncsAndItsBufferStaysBounded() throws {
        let path = try SharedData.file("hftbacktest/binance_spot/btcusdt_20240809.gz").path
        var decoder = BinanceCaptureDecoder()
        let books = BookSet(venue: "binance") { BookBuilder(venue: "binance", symbol: $0, maxBufferedDeltas: 100) }
        var deltas = 0
        try decoder.decodeFile(path) { event in
            if case .bookDelta = event { deltas += 1 }
            books.apply(event)
        }
        let book = try XCTUnwrap(books["BTCUSDT"])
        XCTAssertFalse(book.isSynced)
        XCTAssertEqual(book.counters.deltasApplied, 0)
        XCTAssertEqual(book.bufferedDeltaCount, 100)
        XCTAssertEqual(book.counters.bufferOverflows, deltas - 100)
        XCTAssertNil(book.bestBid)
    }

    /// The pre-decoded tape gives the same book as the event-by-event path.
    func testEventTapeReplaysToTheSameBook() throws {
        let path = try SharedData.file("hftbacktest/binance_usdm/btcusdt_20240808.gz").path
        var decoder = BinanceCaptureDecoder()
        let events = try decoder.decodeFiles([path])
        let tape = BookEventTape(events, symbol: "BTCUSDT")
        let fromTape = BookBuilder(venue: "binance", symbol: "BTCUSDT")
        tape.apply(to: fromTape)
        let replay = try Replay.binance([path])
        let direct = try replay.onlyBook()
        XCTAssertEqual(tape.deltaCount, replay.deltasSeen)
        XCTAssertEqual(fromTape.counters, direct.counters)
        XCTAssertEqual(fromTape.topBids(50), direct.topBids(50))
        XCTAssertEqual(fromTape.topAsks(50), direct.topAsks(50))
    }
}
