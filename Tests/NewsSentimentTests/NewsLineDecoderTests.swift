import AlphaPlusFeeds
import AlphaPlusSDKTesting
import NewsReplay
import XCTest

/// Every kind of bad news line, with the reason the decoder gives.
final class NewsLineDecoderTests: XCTestCase {
    private let position = FeedPosition(source: "news.jsonl", line: 7)

    private func decode(_ line: String, after previous: String? = nil) throws -> MarketEvent? {
        var decoder = NewsLineDecoder(venue: "news", policy: .stop)
        for text in [previous, line].compactMap({ $0 }) {
            var bytes = Array(text.utf8)
            let event = try bytes.withUnsafeMutableBufferPointer { try decoder.decode(line: UnsafeBufferPointer($0), at: position) }
            if text == line { return event }
        }
        return nil
    }

    private func reason(_ line: String, after previous: String? = nil, file: StaticString = #filePath, line number: UInt = #line) -> String {
        do {
            let event = try decode(line, after: previous)
            XCTFail("decoded \(String(describing: event))", file: file, line: number)
            return ""
        } catch let error as FeedError {
            XCTAssertEqual(error.position, position, file: file, line: number)
            return error.reason
        } catch {
            XCTFail("\(error)", file: file, line: number)
            return ""
        }
    }

    private let valid = #"{"ts": 1709510400000, "id": "n-1", "headline": "Bitcoin rallies", "symbols": ["BTC-USDT"]}"#

    private func replacing(_ old: String, _ new: String) -> String { valid.replacingOccurrences(of: old, with: new) }

    func testAGoodLineBecomesANewsEvent() throws {
        XCTAssertEqual(try decode(valid), .news(EventSource(venue: "news", symbol: "", exchangeTimeNs: 1_709_510_400_000_000_000),
                                                id: "n-1", source: "", headline: "Bitcoin rallies", body: "", url: "",
                                                symbols: ["BTC-USDT"]))
        XCTAssertEqual(try decode(replacing(#""BTC-USDT""#, #""BTC-USDT-PERP", "ETH-BTC""#))?.newsSymbols, ["BTC-USDT-PERP", "ETH-BTC"])
    }

    func testRFC3339TimesWithAnyOffsetAndFraction() throws {
        let cases: [(String, Int64)] = [
            ("2024-03-04T00:00:00Z", 1_709_510_400_000_000_000),
            ("2024-03-04T00:00:00z", 1_709_510_400_000_000_000),
            ("2024-03-04 00:00:00.123456789Z", 1_709_510_400_123_456_789),
            ("2024-03-04T05:30:00+05:30", 1_709_510_400_000_000_000),
            ("2024-03-03T19:00:00.5-05:00", 1_709_510_400_500_000_000),
        ]
        for (text, ns) in cases {
            XCTAssertEqual(try decode(replacing("1709510400000", "\"\(text)\""))?.source.exchangeTimeNs, ns, text)
        }
    }

    func testEveryBadLineIsRefusedWithItsReason() {
        let rfc = "is not an RFC 3339 time from 1970 to 2261 such as 2024-03-05T14:30:00Z or 2024-03-05T16:30:00.250+02:00"
        let cases: [(String, String)] = [
            ("this is not json", "not a JSON object: this is not json"),
            ("[1, 2]", "not a JSON object: [1, 2]"),
            (String(valid.dropLast()), "malformed JSON at column \(valid.count): unexpected end of input, expected '}'"),
            (replacing(#", "id""#, #" "id""#), "malformed JSON at column 22: unexpected character '\"', expected ',' or '}'"),
            (valid + " x", "unexpected text after the JSON object at column \(valid.count + 2)"),
            (replacing(#""ts": 1709510400000, "#, ""), "missing field 'ts'"),
            (replacing(#""id": "n-1", "#, ""), "missing field 'id'"),
            (replacing(#""headline": "Bitcoin rallies", "#, ""), "missing field 'headline'"),
            (replacing(#", "symbols": ["BTC-USDT"]"#, ""), "missing field 'symbols'"),
            (replacing(#""n-1""#, #""""#), "field 'id' is empty"),
            (replacing(#""Bitcoin rallies""#, #""  ""#), "field 'headline' is empty"),
            (replacing(#""n-1""#, "7"), "field 'id': expected a string, found number"),
            (replacing(#""n-1""#, "null"), "field 'id': expected a string, found null"),
            (replacing(#"["BTC-USDT"]"#, #""BTC-USDT""#), "field 'symbols': expected an array of symbols, found string"),
            (replacing(#""BTC-USDT""#, #""BTC-USDT", 5"#), "field 'symbols[1]': expected a string, found number"),
            (replacing(#""BTC-USDT""#, #""btcusdt""#),
             "field 'symbols[0]': 'btcusdt' is not a canonical symbol (BASE-QUOTE in capitals, e.g. \"BTC-USDT\", or BASE-QUOTE-PERP)"),
            (replacing(#""BTC-USDT""#, #""BTC-USDT", "BTC-USDT""#), "field 'symbols[1]': 'BTC-USDT' appears twice"),
            (replacing("1709510400000", "-5"), "field 'ts': -5 is not a non-negative integer (milliseconds since the epoch)"),
            (replacing("1709510400000", "1.5"), "field 'ts': 1.5 is not a non-negative integer (milliseconds since the epoch)"),
            (replacing("1709510400000", "99999999999999999"), "field 'ts': 99999999999999999 ms since the epoch is out of range"),
            (replacing("1709510400000", "true"), "field 'ts': expected an RFC 3339 string or integer milliseconds, found bool"),
            (replacing("1709510400000", #""2024-03-04T00:00:00""#), "field 'ts': '2024-03-04T00:00:00' \(rfc)"),
            (replacing("1709510400000", #""2024-02-32T00:00:00Z""#), "field 'ts': '2024-02-32T00:00:00Z' \(rfc)"),
            (replacing("1709510400000", #""2023-02-29T00:00:00Z""#), "field 'ts': '2023-02-29T00:00:00Z' \(rfc)"),
            (replacing("1709510400000", #""2024-03-04T00:00:00+25:00""#), "field 'ts': '2024-03-04T00:00:00+25:00' \(rfc)"),
            (replacing("1709510400000", #""9999-01-01T00:00:00Z""#), "field 'ts': '9999-01-01T00:00:00Z' \(rfc)"),
            (replacing("1709510400000", #""0001-01-01T00:00:00Z""#), "field 'ts': '0001-01-01T00:00:00Z' \(rfc)"),
            (replacing("1709510400000", #""1969-12-31T23:59:59Z""#), "field 'ts': '1969-12-31T23:59:59Z' \(rfc)"),
            (replacing(#""id""#, #""title""#), "unknown field 'title' (known: ts, id, headline, symbols, source, body, url)"),
            (replacing(#""id": "n-1""#, #""id": "n-1", "id": "n-2""#), "field 'id' appears twice"),
            (replacing("Bitcoin rallies", #"Bitcoin \x rallies"#), "field 'headline': invalid escape sequence: '\\' followed by 'x'"),
            (replacing("1709510400000", "1709510399999"), "field 'ts': time 2024-03-03T23:59:59.999Z is before the previous item's "
                + "2024-03-04T00:00:00.000Z"),
        ]
        for (line, expected) in cases {
            XCTAssertEqual(reason(line, after: line.contains("1709510399999") ? valid : nil), expected, line)
        }
    }

    func testOptionalFieldsAndEscapesAreDecoded() throws {
        let line = #"{"ts": "2024-03-04T00:00:00Z", "id": "a\/1", "headline": "caf\u00e9 \ud83d\ude80 \"up\"", "symbols": [], "#
            + #""source": "wire", "body": "x\ty", "url": null}"#
        guard case let .news(_, id, source, headline, body, url, symbols) = try XCTUnwrap(try decode(line)) else { return XCTFail() }
        XCTAssertEqual([id, source, headline, body, url], ["a/1", "wire", "café 🚀 \"up\"", "x\ty", ""])
        XCTAssertEqual(symbols, [])
    }
}

private extension MarketEvent {
    var newsSymbols: [String]? {
        if case let .news(_, _, _, _, _, _, symbols) = self { symbols } else { nil }
    }
}
