import Foundation
import HeadSentiment
import XCTest

/// The head's store: decay, age limits, de-duplication, market-wide items
/// and its memory bounds.
final class SentimentBookTests: XCTestCase {
    private let t0: Int64 = 1_709_510_400_000_000_000  // 2024-03-04T00:00:00Z
    private let hourNs: Int64 = 3_600_000_000_000

    private func book(halfLife: Int64 = 3_600_000_000_000, maxAge: Int64 = 86_400_000_000_000, marketWideWeight: Double = 0.5,
                      cap: Int = 100, maxSymbols: Int = 1024, rememberedIDs: Int = 10_000) -> SentimentBook {
        SentimentBook(limits: .init(halfLifeNs: Double(halfLife), maxAgeNs: maxAge, marketWideWeight: marketWideWeight,
                                    maxItemsPerSymbol: cap, maxSymbols: maxSymbols, rememberedIDs: rememberedIDs))
    }

    private func item(_ score: Double, at ns: Int64, _ lead: String = "") -> ScoredNews {
        ScoredNews(timestampNs: ns, score: score, lead: lead)
    }

    func testEachHalfLifeHalvesAnItemsContribution() {
        let book = book()
        book.add(item(0.6, at: t0), id: "a", source: "wire", symbols: ["BTC-USDT"])
        XCTAssertEqual(book.aggregate(symbol: "BTC-USDT", atNs: t0).value, 0.6)
        XCTAssertEqual(book.aggregate(symbol: "BTC-USDT", atNs: t0 + hourNs).value, 0.3, accuracy: 1e-12)
        XCTAssertEqual(book.aggregate(symbol: "BTC-USDT", atNs: t0 + 2 * hourNs).value, 0.15, accuracy: 1e-12)
        XCTAssertEqual(book.aggregate(symbol: "BTC-USDT", atNs: t0 + hourNs / 2).value, 0.6 / 2.0.squareRoot(), accuracy: 1e-12)
        let short = self.book(halfLife: hourNs / 4)
        short.add(item(0.6, at: t0), id: "a", source: "wire", symbols: ["BTC-USDT"])
        XCTAssertEqual(short.aggregate(symbol: "BTC-USDT", atNs: t0 + hourNs).value, 0.6 / 16, accuracy: 1e-12)
    }

    func testItemsAfterTheFrameAreNotCountedAndTooOldOnesAreDropped() {
        let book = book(maxAge: 3 * hourNs)
        book.add(item(0.5, at: t0), id: "old", source: "wire", symbols: ["BTC-USDT"])
        book.add(item(-0.4, at: t0 + 2 * hourNs), id: "new", source: "wire", symbols: ["BTC-USDT"])
        let before = book.aggregate(symbol: "BTC-USDT", atNs: t0 + hourNs)
        XCTAssertEqual(before.items, 1, "the item of t0+2h is in the future of a frame at t0+1h")
        XCTAssertEqual(before.value, 0.25, accuracy: 1e-12)
        XCTAssertEqual(book.aggregate(symbol: "BTC-USDT", atNs: t0 + 3 * hourNs).items, 2, "exactly the maximum age still counts")
        let later = book.aggregate(symbol: "BTC-USDT", atNs: t0 + 3 * hourNs + 1)
        XCTAssertEqual(later.items, 1)
        XCTAssertEqual(later.value, -0.4 * 0.5, accuracy: 1e-12)
        XCTAssertEqual(book.aggregate(symbol: "BTC-USDT", atNs: t0 + hourNs).items, 0, "dropped for good")
    }

    func testAnIDIsCountedOncePerSource() {
        let book = book()
        XCTAssertTrue(book.add(item(0.5, at: t0), id: "n-1", source: "wire", symbols: ["BTC-USDT"]))
        XCTAssertFalse(book.add(item(0.5, at: t0), id: "n-1", source: "wire", symbols: ["BTC-USDT"]))
        XCTAssertFalse(book.add(item(0.9, at: t0 + 1), id: "n-1", source: "wire", symbols: ["ETH-USDT"]))
        XCTAssertEqual(book.aggregate(symbol: "BTC-USDT", atNs: t0).value, 0.5)
        XCTAssertEqual(book.aggregate(symbol: "ETH-USDT", atNs: t0 + 1).items, 0)
        XCTAssertTrue(book.add(item(0.5, at: t0), id: "n-1", source: "other", symbols: ["BTC-USDT"]))
        XCTAssertEqual(book.aggregate(symbol: "BTC-USDT", atNs: t0).value, 1.0)
    }

    func testTheRememberedIDsAreBounded() {
        let book = book(rememberedIDs: 2)
        for id in ["a", "b", "c"] { XCTAssertTrue(book.add(item(0.1, at: t0), id: id, source: "", symbols: ["BTC-USDT"])) }
        XCTAssertFalse(book.add(item(0.1, at: t0), id: "c", source: "", symbols: ["BTC-USDT"]))
        XCTAssertTrue(book.add(item(0.1, at: t0), id: "a", source: "", symbols: ["BTC-USDT"]), "forgotten: it is the oldest of three")
    }

    func testMarketWideItemsCountForEverySymbolWithTheirWeight() {
        let book = book(marketWideWeight: 0.25)
        book.add(item(-0.8, at: t0), id: "m", source: "wire", symbols: [])
        book.add(item(0.4, at: t0), id: "b", source: "wire", symbols: ["BTC-USDT"])
        XCTAssertEqual(book.aggregate(symbol: "BTC-USDT", atNs: t0).value, 0.4 - 0.2, accuracy: 1e-12)
        XCTAssertEqual(book.aggregate(symbol: "ETH-USDT", atNs: t0).value, -0.2, accuracy: 1e-12)
        XCTAssertEqual(book.aggregate(symbol: "ETH-USDT", atNs: t0 + hourNs).value, -0.1, accuracy: 1e-12)
        let ignoring = self.book(marketWideWeight: 0)
        ignoring.add(item(-0.8, at: t0), id: "m", source: "wire", symbols: [])
        let nothing = ignoring.aggregate(symbol: "ETH-USDT", atNs: t0)
        XCTAssertEqual(nothing.value, 0)
        XCTAssertEqual(nothing.items, 0)
        XCTAssertNil(nothing.strongest)
    }

    func testSupportAndTheStrongestItemFollowTheSumsSign() {
        let book = book()
        book.add(item(0.5, at: t0, "good"), id: "1", source: "", symbols: ["BTC-USDT"])
        book.add(item(0.7, at: t0 - hourNs, "older but stronger"), id: "2", source: "", symbols: ["BTC-USDT"])
        book.add(item(-0.3, at: t0, "bad"), id: "3", source: "", symbols: ["BTC-USDT"])
        book.add(item(0, at: t0, "neutral"), id: "4", source: "", symbols: ["BTC-USDT"])
        let aggregate = book.aggregate(symbol: "BTC-USDT", atNs: t0)
        XCTAssertEqual(aggregate.value, 0.5 + 0.35 - 0.3, accuracy: 1e-12)
        XCTAssertEqual(aggregate.items, 3, "a neutral item contributes nothing and is not kept")
        XCTAssertEqual(aggregate.supporting, 2)
        XCTAssertEqual(aggregate.strongest?.lead, "good", "0.5 now beats 0.7 an hour ago")
    }

    func testEachSymbolAndTheMarketWideListKeepAtMostTheCapNewestItems() {
        let minuteNs: Int64 = 60_000_000_000
        let book = book(marketWideWeight: 1, cap: 3)
        // Out of time order: the newest three are kept whatever the arrival order.
        for minutes in [5, 1, 4, 2, 3, 6] {
            book.add(item(0.1 * Double(minutes), at: t0 + Int64(minutes) * minuteNs), id: "b\(minutes)", source: "", symbols: ["BTC-USDT"])
        }
        let now = t0 + 6 * minuteNs
        let aggregate = book.aggregate(symbol: "BTC-USDT", atNs: now)
        XCTAssertEqual(aggregate.items, 3)
        let expected = [4, 5, 6].map { 0.1 * Double($0) * pow(0.5, Double(now - t0 - Int64($0) * minuteNs) / Double(hourNs)) }
        XCTAssertEqual(aggregate.value, expected.reduce(0, +), accuracy: 1e-12)
        for minutes in 1...4 { book.add(item(-0.5, at: t0 + Int64(minutes) * minuteNs), id: "m\(minutes)", source: "", symbols: []) }
        XCTAssertEqual(book.aggregate(symbol: "ETH-USDT", atNs: now).items, 3)
    }

    func testTheNumberOfSymbolsIsBoundedByForgettingTheStalest() {
        let book = book(maxSymbols: 2)
        book.add(item(0.5, at: t0), id: "a", source: "", symbols: ["AAA-USDT"])
        book.add(item(0.5, at: t0 + 2), id: "b", source: "", symbols: ["BBB-USDT"])
        book.add(item(0.5, at: t0 + 1), id: "c", source: "", symbols: ["AAA-USDT"])
        book.add(item(0.5, at: t0 + 3), id: "d", source: "", symbols: ["CCC-USDT"])
        XCTAssertEqual(book.aggregate(symbol: "AAA-USDT", atNs: t0 + 3).items, 0, "AAA's newest item (t0+1) was the stalest")
        XCTAssertEqual(book.aggregate(symbol: "BBB-USDT", atNs: t0 + 3).items, 1)
        XCTAssertEqual(book.aggregate(symbol: "CCC-USDT", atNs: t0 + 3).items, 1)
    }
}
