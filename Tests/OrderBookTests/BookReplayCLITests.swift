import Foundation
import SharedTestData
import XCTest

/// `alphaplus book replay` as an operator runs it, on the real captures.
final class BookReplayCLITests: XCTestCase {
    private func alphaplus(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        let result = try AlphaPlusCLI.run(arguments)
        return (result.status, result.out, result.err)
    }

    private func books(_ result: (status: Int32, out: String, err: String)) throws -> [[String: Any]] {
        XCTAssertEqual(result.status, 0, result.err)
        let output = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        return try XCTUnwrap(output["books"] as? [[String: Any]])
    }

    func testKrakenJSONReportsEveryChecksumMatched() throws {
        let books = try books(alphaplus(["book", "replay", "--format", "kraken", try SharedData.file("cryptofeed/KRAKEN.ws.50.0").path, "--json"]))
        XCTAssertEqual(books.count, 10)
        XCTAssertEqual(books.map { $0["checksums_matched"] as? Int ?? -1 }.reduce(0, +), 4269)
        XCTAssertEqual(books.map { $0["checksums_total"] as? Int ?? -1 }.reduce(0, +), 4269)
        let chf = try XCTUnwrap(books.first { $0["symbol"] as? String == "XBT/CHF" })
        XCTAssertEqual(chf["best_bid_price"] as? String, "56060.30000", "the venue's digits, trailing zeros kept")
        XCTAssertEqual(chf["sequence_breaks"] as? Int, 0)
    }

    func testBinanceDayPairIsOneStreamWithoutBreaks() throws {
        let files = try ["btcusdt_20240718.gz", "btcusdt_20240719.gz"].map { try SharedData.file("hftbacktest/binance_usdm/\($0)").path }
        let books = try books(alphaplus(["book", "replay", "--format", "binance", "--json"] + files))
        XCTAssertEqual(books.count, 1)
        XCTAssertEqual(books[0]["symbol"] as? String, "BTCUSDT")
        XCTAssertEqual(books[0]["sequence_breaks"] as? Int, 0)
        XCTAssertEqual(books[0]["synced"] as? Bool, true)
        XCTAssertNil(books[0]["checksums_total"], "only Kraken books carry checksums")
        let bid = try XCTUnwrap(Double(try XCTUnwrap(books[0]["best_bid_price"] as? String)))
        let ask = try XCTUnwrap(Double(try XCTUnwrap(books[0]["best_ask_price"] as? String)))
        XCTAssertLessThan(bid, ask)
    }

    func testBitfinexTextOutput() throws {
        let result = try alphaplus(["book", "replay", "--format", "bitfinex",
                                    try SharedData.file("nautilus_trader/bitfinex/tBTCUSD_raw_book_R0_feed.json").path])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertEqual(result.out, "tBTCUSD  bid 61391 x 1  ask 61405.27923706 x 0.12227  sequence_breaks 0\n")
    }

    func testBadLineExitsNonZeroNamingFileAndLine() throws {
        let path = Fixture.path("binance_malformed.txt")
        let result = try alphaplus(["book", "replay", "--format", "binance", path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.out, "")
        XCTAssertEqual(result.err, "\(path):2: malformed JSON at column 113: unexpected character '\"', expected ',' or ']'\n")
    }
}
