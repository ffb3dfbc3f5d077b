import AlphaPlusFeeds
import AlphaPlusSDK
import Foundation
import OrderBook
import SharedTestData
import XCTest

/// Replays capture files through a decoder into books, counting deltas.
struct Replay {
    let books: BookSet
    var deltasSeen = 0
    var report = FeedReport()

    static func binance(_ paths: [String], policy: BadRecordPolicy = .stop) throws -> Replay {
        var decoder = BinanceCaptureDecoder(policy: policy)
        var replay = Replay(books: BookSet(venue: "binance"))
        for path in paths { try decoder.decodeFile(path) { replay.take($0) } }
        replay.report = decoder.report
        return replay
    }

    static func kraken(_ paths: [String]) throws -> Replay {
        var decoder = KrakenBookDecoder()
        var replay = Replay(books: BookSet(venue: "kraken"))
        for path in paths { try decoder.decodeFile(path) { replay.take($0) } }
        replay.report = decoder.report
        return replay
    }

    static func bitfinex(_ path: String) throws -> Replay {
        var decoder = BitfinexRawBookDecoder()
        var replay = Replay(books: BookSet(venue: "bitfinex"))
        try decoder.decodeFile(path) { replay.take($0) }
        replay.report = decoder.report
        return replay
    }

    private mutating func take(_ event: MarketEvent) {
        if case .bookDelta = event { deltasSeen += 1 }
        books.apply(event)
    }

    /// The only book, failing the test when there is not exactly one.
    func onlyBook(file: StaticString = #filePath, line: UInt = #line) throws -> BookBuilder {
        XCTAssertEqual(books.symbols.count, 1, "symbols: \(books.symbols)", file: file, line: line)
        return try XCTUnwrap(books[books.symbols[0]], file: file, line: line)
    }
}

enum Fixture {
    static func path(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)").path
    }
}

func decimal(_ text: String) -> ExactDecimal { ExactDecimal(text)! }
