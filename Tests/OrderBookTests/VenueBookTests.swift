import AlphaPlusFeeds
import AlphaPlusSDK
import OrderBook
import SharedTestData
import XCTest

final class VenueBookTests: XCTestCase {
    func testKrakenEveryChecksumMatches() throws {
        let replay = try Replay.kraken([try SharedData.file("cryptofeed/KRAKEN.ws.50.0").path])
        XCTAssertEqual(replay.books.symbols.count, 10)
        var matched = 0, total = 0
        for symbol in replay.books.symbols {
            let book = try XCTUnwrap(replay.books[symbol])
            XCTAssertEqual(book.counters.checksumsMatched, book.counters.checksumsTotal, symbol)
            XCTAssertTrue(book.isSynced, symbol)
            XCTAssertFalse(book.isCrossed, symbol)
            matched += book.counters.checksumsMatched
            total += book.counters.checksumsTotal
        }
        XCTAssertEqual(matched, 4269)
        XCTAssertEqual(total, 4269)
        XCTAssertEqual(replay.deltasSeen, 4269)
    }

    func testBitfinexRawBookEndsAtTheUpstreamTopOfBook() throws {
        let replay = try Replay.bitfinex(try SharedData.file("nautilus_trader/bitfinex/tBTCUSD_raw_book_R0_feed.json").path)
        let book = try replay.onlyBook()
        XCTAssertTrue(book.isOrderByOrder)
        XCTAssertEqual(book.bestBid?.price, decimal("61391"))
        XCTAssertEqual(book.bestAsk?.price, decimal("61405.27923706"))
        XCTAssertEqual(book.counters.crossedEpisodes, 2)
        XCTAssertEqual(book.crossedEpisodeLengths, [6, 15])
        XCTAssertEqual(book.counters.deltasApplied, 99_998)
        XCTAssertEqual(book.counters.rejectedEvents, 0)
        XCTAssertFalse(book.isCrossed)
    }
}
