import AlphaPlusFeeds
import AlphaPlusSDK
import CAlphaPlus
import OrderBook
import XCTest

/// Hand-made captures for what the real data never shows.
final class FixtureBookTests: XCTestCase {
    func testSequenceGapIsCountedRecordedAndUnsyncsTheBook() throws {
        let replay = try Replay.binance([Fixture.path("binance_spot_gap.txt")])
        let book = try replay.onlyBook()
        // 95–100 is in snapshot 102 (dropped), 101–104 bridges it, 105–107
        // chains, then 111 arrives where 108 was expected.
        XCTAssertEqual(book.counters.deltasDropped, 1)
        XCTAssertEqual(book.counters.deltasApplied, 2)
        XCTAssertEqual(book.counters.sequenceBreaks, 1)
        XCTAssertEqual(book.sequenceBreakRecords, [SequenceBreak(expected: 108, got: 111, missing: 3, afterDeltasApplied: 2)])
        XCTAssertFalse(book.isSynced)
        XCTAssertEqual(book.bufferedDeltaCount, 2, "the breaking delta and the next wait for a snapshot")
        XCTAssertEqual(book.topBids(3), [PriceLevel(price: decimal("9.99"), size: decimal("2.0")),
                                         PriceLevel(price: decimal("9.98"), size: decimal("4.0")),
                                         PriceLevel(price: decimal("9.97"), size: decimal("5.0"))])
        XCTAssertEqual(book.topAsks(3), [PriceLevel(price: decimal("10.01"), size: decimal("3.0"))])
    }

    func testFuturesChainByPreviousUpdateID() {
        let book = BookBuilder(venue: "binance", symbol: "X")
        func delta(_ first: UInt64, _ last: UInt64, _ prev: UInt64) -> MarketEvent {
            .bookDelta(EventSource(venue: "binance", symbol: "X", exchangeTimeNs: 0), bids: [BookLevel(price: decimal("1.0"), size: decimal("1"))],
                       asks: [], firstSequence: first, lastSequence: last, prevSequence: prev, depth: 0, checksumKind: 0, checksum: 0)
        }
        let books = BookSet(venue: "binance") { _ in book }
        books.apply(delta(10, 20, 5))
        books.apply(.bookSnapshot(EventSource(venue: "binance", symbol: "X", exchangeTimeNs: 0), bids: [], asks: [],
                                  sequence: 15, depth: 0, checksumKind: 0, checksum: 0))
        books.apply(delta(30, 40, 20))  // ids need not be contiguous: pu chains
        books.apply(delta(45, 50, 41))
        XCTAssertEqual(book.counters.deltasApplied, 2)
        XCTAssertEqual(book.sequenceBreakRecords, [SequenceBreak(expected: 40, got: 41, missing: 1, afterDeltasApplied: 2)])
    }

    func testWrongKrakenChecksumIsDetectedAndAsksForASnapshot() throws {
        let replay = try Replay.kraken([Fixture.path("kraken_wrong_checksum.txt")])
        let book = try replay.onlyBook()
        XCTAssertEqual(book.counters.checksumsTotal, 2)
        XCTAssertEqual(book.counters.checksumsMatched, 1)
        XCTAssertFalse(book.isSynced)
        XCTAssertEqual(book.bestBid, PriceLevel(price: decimal("0.04995"), size: decimal("1.00000000")))
    }

    func testCrossedBookIsAppliedCountedAndWithholdsFeatures() throws {
        var decoder = BitfinexRawBookDecoder()
        let events = try decoder.decodeFile(Fixture.path("bitfinex_crossed.json"))
        let books = BookSet(venue: "bitfinex")
        books.apply(events[0])
        books.apply(events[1])  // bid 101.5 over ask 101
        let book = try XCTUnwrap(books["tTESTUSD"])
        XCTAssertTrue(book.isCrossed)
        XCTAssertEqual(book.bestBid, PriceLevel(price: decimal("101.5"), size: decimal("0.75")))
        XCTAssertTrue(book.mid.isNaN && book.spread.isNaN && book.microprice.isNaN && book.imbalance(levels: 5).isNaN)
        books.apply(events[2])  // the ask at 101 leaves: still crossed against 101.25
        XCTAssertTrue(book.isCrossed)
        books.apply(events[3])  // the crossing bid leaves
        XCTAssertFalse(book.isCrossed)
        books.apply(events[4])
        XCTAssertEqual(book.counters.crossedEpisodes, 1)
        XCTAssertEqual(book.crossedEpisodeLengths, [2])
        XCTAssertEqual(book.topBids(5), [PriceLevel(price: decimal("100.5"), size: decimal("3")),
                                         PriceLevel(price: decimal("100"), size: decimal("2"))])
        XCTAssertEqual(book.mid, (100.5 + 101.25) / 2)
        XCTAssertEqual(book.microprice, (100.5 * 0.5 + 101.25 * 3) / 3.5)
        XCTAssertEqual(book.imbalance(levels: 5), (5 - 0.5) / 5.5)
        let features = book.features(imbalanceLevels: 5)
        XCTAssertEqual(features.best_ask_size, 0.5)
        XCTAssertEqual(features.spread, 0.75)
    }

    func testOrdersAggregateIntoLevelsExactly() throws {
        let source = EventSource(venue: "bitfinex", symbol: "T", exchangeTimeNs: 0)
        let book = BookBuilder(venue: "bitfinex", symbol: "T")
        let books = BookSet(venue: "bitfinex") { _ in book }
        books.apply(.bookSnapshot(source, bids: [BookLevel(price: decimal("10"), size: decimal("0.1"), orderID: 1),
                                                 BookLevel(price: decimal("10.0"), size: decimal("0.00000002"), orderID: 2)],
                                  asks: [], sequence: 0, depth: 0, checksumKind: 0, checksum: 0))
        XCTAssertEqual(book.bestBid?.size, ExactDecimal(mantissa: 10000002, exponent: -8))
        // Order 1 moves to 9.5; order 2 is deleted (size 0).
        books.apply(.bookDelta(source, bids: [BookLevel(price: decimal("9.5"), size: decimal("0.1"), orderID: 1),
                                              BookLevel(price: decimal("0"), size: decimal("0"), orderID: 2)], asks: [],
                               firstSequence: 0, lastSequence: 0, prevSequence: 0, depth: 0, checksumKind: 0, checksum: 0))
        XCTAssertEqual(book.topBids(5), [PriceLevel(price: decimal("9.5"), size: decimal("0.1"))])
        XCTAssertEqual(book.restingOrderCount, 1)
    }

    func testLevelsTruncateToTheSubscribedDepth() {
        let source = EventSource(venue: "kraken", symbol: "T", exchangeTimeNs: 0)
        let book = BookBuilder(venue: "kraken", symbol: "T")
        let books = BookSet(venue: "kraken") { _ in book }
        let asks = (1...5).map { BookLevel(price: ExactDecimal(mantissa: Int64(100 + $0), exponent: 0), size: decimal("1")) }
        books.apply(.bookSnapshot(source, bids: [], asks: asks, sequence: 0, depth: 3, checksumKind: 0, checksum: 0))
        XCTAssertEqual(book.topAsks(10).map(\.price.description), ["101", "102", "103"])
        books.apply(.bookDelta(source, bids: [], asks: [BookLevel(price: decimal("100"), size: decimal("2"))],
                               firstSequence: 0, lastSequence: 0, prevSequence: 0, depth: 3, checksumKind: 0, checksum: 0))
        XCTAssertEqual(book.topAsks(10).map(\.price.description), ["100", "101", "102"])
    }

    func testMalformedLineStopsWithFileAndLineOrIsSkipped() throws {
        let path = Fixture.path("binance_malformed.txt")
        XCTAssertThrowsError(try Replay.binance([path], policy: .stop)) { error in
            XCTAssertEqual("\(error)", "\(path):2: malformed JSON at column 113: unexpected character '\"', expected ',' or ']'")
        }
        let replay = try Replay.binance([path], policy: .skip)
        XCTAssertEqual(replay.report.skipped, 1)
        XCTAssertEqual(replay.report.firstErrors.first?.position, FeedPosition(source: path, line: 2))
        let book = try replay.onlyBook()
        XCTAssertEqual(book.counters.sequenceBreaks, 0)
        XCTAssertEqual(book.counters.deltasApplied, 1)
        XCTAssertEqual(book.bestBid, PriceLevel(price: decimal("9.99"), size: decimal("1.0")))
    }

    func testRejectsAnOrderSnapshotWithAnOrderWithoutID() {
        let source = EventSource(venue: "bitfinex", symbol: "T", exchangeTimeNs: 0)
        let book = BookBuilder(venue: "bitfinex", symbol: "T")
        let books = BookSet(venue: "bitfinex") { _ in book }
        books.apply(.bookSnapshot(source, bids: [BookLevel(price: decimal("10"), size: decimal("1"), orderID: 1),
                                                 BookLevel(price: decimal("9"), size: decimal("1"))],
                                  asks: [], sequence: 0, depth: 0, checksumKind: 0, checksum: 0))
        XCTAssertEqual(book.counters.rejectedEvents, 1)
        XCTAssertEqual(book.counters.snapshotsApplied, 0)
        XCTAssertNil(book.bestBid)
    }

    func testRejectsLevelArraysThatAreNullWithACount() {
        let book = BookBuilder(venue: "v", symbol: "s")
        var event = ap_book_snapshot_event()
        event.bid_count = 3
        book.apply(&event)
        XCTAssertEqual(book.counters.rejectedEvents, 1)
        XCTAssertEqual(book.counters.snapshotsApplied, 0)
    }
}
