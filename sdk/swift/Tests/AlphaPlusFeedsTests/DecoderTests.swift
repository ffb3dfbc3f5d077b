import AlphaPlusFeeds
import AlphaPlusSDK
import CAlphaPlus
import Foundation
import XCTest

final class DecoderTests: XCTestCase {
    private func temporaryFile(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "decoder-\(UUID().uuidString).txt"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func decimal(_ text: String) -> ExactDecimal { ExactDecimal(text)! }

    // MARK: Binance

    func testBinanceFuturesDepthSnapshotTradeAndTicker() throws {
        let path = try temporaryFile("""
        1000 {"stream":"btcusdt@depth@0ms","data":{"e":"depthUpdate","E":1721347022504,"T":1721347022503,"s":"BTCUSDT","U":10,"u":12,"pu":9,"b":[["63939.80","0.100"]],"a":[["63951.10","0.000"]]}}
        1001 {"lastUpdateId":11,"E":1721347022759,"T":1721347022750,"bids":[["63943.90","46.372"]],"asks":[["63944.00","0.095"]]}
        1002 {"stream":"btcusdt@trade","data":{"e":"trade","E":1721347022600,"T":1721347022599,"s":"BTCUSDT","t":77,"p":"63944.00","q":"0.010","m":true}}
        1003 {"stream":"btcusdt@bookTicker","data":{"e":"bookTicker","u":13,"s":"BTCUSDT","b":"63943.90","B":"46.371","a":"63944.00","A":"0.095","T":1721347022507,"E":1721347022508}}
        """)
        var decoder = BinanceCaptureDecoder()
        let events = try decoder.decodeFiles([path])
        let delta = EventSource(venue: "binance", symbol: "BTCUSDT", exchangeTimeNs: 1721347022504_000_000, localTimeNs: 1000)
        XCTAssertEqual(events, [
            .bookDelta(delta, bids: [BookLevel(price: decimal("63939.80"), size: decimal("0.100"))],
                       asks: [BookLevel(price: decimal("63951.10"), size: decimal("0.000"))],
                       firstSequence: 10, lastSequence: 12, prevSequence: 9, depth: 0, checksumKind: 0, checksum: 0),
            .bookSnapshot(EventSource(venue: "binance", symbol: "BTCUSDT", exchangeTimeNs: 1721347022759_000_000, localTimeNs: 1001),
                          bids: [BookLevel(price: decimal("63943.90"), size: decimal("46.372"))],
                          asks: [BookLevel(price: decimal("63944.00"), size: decimal("0.095"))],
                          sequence: 11, depth: 0, checksumKind: 0, checksum: 0),
            .trade(EventSource(venue: "binance", symbol: "BTCUSDT", exchangeTimeNs: 1721347022600_000_000, localTimeNs: 1002),
                   price: decimal("63944.00"), size: decimal("0.010"), aggressor: .sell, tradeID: "77", sequence: 77),
            .quote(EventSource(venue: "binance", symbol: "BTCUSDT", exchangeTimeNs: 1721347022508_000_000, localTimeNs: 1003),
                   bidPrice: decimal("63943.90"), bidSize: decimal("46.371"), askPrice: decimal("63944.00"), askSize: decimal("0.095"),
                   sequence: 13),
        ])
        XCTAssertEqual(decoder.report.events, 4)
    }

    func testBinanceSpotHasNoPreviousSequenceAndTickerWithoutTimes() throws {
        let path = try temporaryFile("""
        5 {"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50,"u":52,"b":[],"a":[]}}
        6 {"stream":"btcusdt@bookTicker","data":{"u":53,"s":"BTCUSDT","b":"1.0","B":"2","a":"1.1","A":"3"}}
        7 {"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":3,"p":"1.0","q":"1","T":1,"m":false}}
        """)
        var decoder = BinanceCaptureDecoder()
        let events = try decoder.decodeFiles([path])
        guard case let .bookDelta(_, _, _, first, last, prev, _, _, _) = events[0] else { return XCTFail("\(events[0])") }
        XCTAssertEqual([first, last, prev], [50, 52, 0])
        guard case let .quote(source, _, _, _, _, sequence) = events[1] else { return XCTFail("\(events[1])") }
        XCTAssertEqual(source.exchangeTimeNs, 0)
        XCTAssertEqual(sequence, 53)
        guard case let .trade(_, _, _, aggressor, _, _) = events[2] else { return XCTFail("\(events[2])") }
        XCTAssertEqual(aggressor, .buy, "the buyer was the taker")
    }

    func testBinanceSnapshotBeforeAnyDepthStreamNeedsAGivenSymbol() throws {
        let line = #"9 {"lastUpdateId":11,"bids":[],"asks":[]}"#
        var unnamed = BinanceCaptureDecoder()
        XCTAssertThrowsError(try unnamed.decodeFiles([try temporaryFile(line)])) { error in
            XCTAssertTrue("\(error)".hasSuffix(":1: the depth snapshot names no symbol and no depth stream came before it: give the decoder a symbol"), "\(error)")
        }
        var named = BinanceCaptureDecoder(symbol: "ETHUSDT")
        XCTAssertEqual(try named.decodeFiles([try temporaryFile(line)]).first?.source.symbol, "ETHUSDT")
    }

    func testBinanceBadLinesStopWithFileAndLineOrAreSkippedAndCounted() throws {
        let path = try temporaryFile("""
        1 {"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":3,"p":"1.0","q":"1","m":false}}
        2 {"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":4,"p":"1.0","q":"1","m":false}
        not-a-time {}
        4 {"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","p":"1.0","q":"1","m":false}}
        5 {"stream":"btcusdt@trade","data":{"e":"trade","E":1,"s":"BTCUSDT","t":5,"p":"1.0","q":"1","m":false}}
        """)
        var stopping = BinanceCaptureDecoder(policy: .stop)
        var seen = 0
        XCTAssertThrowsError(try stopping.decodeFile(path) { _ in seen += 1 }) { error in
            let badLine = try! String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[1]
            XCTAssertEqual("\(error)", "\(path):2: malformed JSON at column \(badLine.utf8.count + 1): unexpected end of input, expected '}'")
        }
        XCTAssertEqual(seen, 1, "nothing after the bad line is read")

        var skipping = BinanceCaptureDecoder(policy: .skip)
        let events = try skipping.decodeFiles([path])
        XCTAssertEqual(events.count, 2)
        XCTAssertEqual(skipping.report.skipped, 3)
        XCTAssertEqual(skipping.report.firstErrors.map(\.position.line), [2, 3, 4])
        XCTAssertEqual(skipping.report.firstErrors[1].reason, "expected '<local_receive_ts_ns> <json>'")
        XCTAssertEqual(skipping.report.firstErrors[2].reason, "trade event without \"t\"")
    }

    // MARK: Kraken

    func testKrakenSnapshotAndTwoDictUpdateWithChecksum() throws {
        let path = try temporaryFile("""
        wss://ws.kraken.com <-> 1618678132.3858151
        1618678132.8258188: {"connectionID":1,"event":"systemStatus","status":"online","version":"1.8.3"}
        1618678133.5: [464,{"as":[["56218.30000","0.15000000","1618678117.243818"]],"bs":[["56200.10000","1.00000000","1618678118.5"]]},"book-1000","XBT/CHF"]
        1618678133.7: {"event":"heartbeat"}
        1618678134.25: [464,{"a":[["56218.30000","0.00000000","1618678133.1"]]},{"b":[["56201.00000","0.50000000","1618678133.2","r"]],"c":"2583817756"},"book-1000","XBT/CHF"]

        """ + "\n")
        var decoder = KrakenBookDecoder()
        let events = try decoder.decodeFiles([path])
        XCTAssertEqual(events, [
            .bookSnapshot(EventSource(venue: "kraken", symbol: "XBT/CHF", exchangeTimeNs: 1618678118_500_000_000, localTimeNs: 1618678133_500_000_000),
                          bids: [BookLevel(price: decimal("56200.10000"), size: decimal("1.00000000"))],
                          asks: [BookLevel(price: decimal("56218.30000"), size: decimal("0.15000000"))],
                          sequence: 0, depth: 1000, checksumKind: AP_CHECKSUM_NONE.rawValue, checksum: 0),
            .bookDelta(EventSource(venue: "kraken", symbol: "XBT/CHF", exchangeTimeNs: 1618678133_200_000_000, localTimeNs: 1618678134_250_000_000),
                       bids: [BookLevel(price: decimal("56201.00000"), size: decimal("0.50000000"))],
                       asks: [BookLevel(price: decimal("56218.30000"), size: decimal("0.00000000"))],
                       firstSequence: 0, lastSequence: 0, prevSequence: 0, depth: 1000,
                       checksumKind: AP_CHECKSUM_KRAKEN_CRC32.rawValue, checksum: 2583817756),
        ])
        XCTAssertEqual(decoder.report.ignored, 4, "the marker, two events and a blank line")
    }

    func testKrakenBadUpdatesAreNamed() throws {
        let path = try temporaryFile("""
        1.0: [464,{"a":[["1.0","2.0","3.0"]]},"book-1000","XBT/CHF"]
        2.0: [464,{"a":[["1.0","2.0"]],"c":"1"},"book-1000","XBT/CHF"]
        3.0 [464]
        """)
        var decoder = KrakenBookDecoder(policy: .skip)
        XCTAssertEqual(try decoder.decodeFiles([path]), [])
        XCTAssertEqual(decoder.report.firstErrors.map(\.description), [
            "\(path):1: a book update without its checksum \"c\"",
            "\(path):2: a book entry needs [price, volume, timestamp]",
            "\(path):3: expected '<recv_unix_seconds>: <message>' or a 'wss://' marker",
        ])
    }

    // MARK: Bitfinex

    private let bitfinexFeed = """
    [{"event": "info", "version": 2}, {"event": "subscribed", "channel": "book", "chanId": 8047, "symbol": "tBTCUSD", "prec": "R0", "len": "25"},
     [8047, [[1, 61391, 0.5], [2, 61405.27923706, -1.48e-06]]],
     [8047, "hb"],
     [8047, [3, 61390, 2]],
     [8047, [1, 0, 1]]]
    """

    func testBitfinexOrdersSnapshotUpdatesAndDeletes() throws {
        var decoder = BitfinexRawBookDecoder()
        let events = try decoder.decodeFile(try temporaryFile(bitfinexFeed))
        let source = EventSource(venue: "bitfinex", symbol: "tBTCUSD", exchangeTimeNs: 0, localTimeNs: 0)
        let zero = ExactDecimal(mantissa: 0, exponent: 0)
        XCTAssertEqual(events, [
            .bookSnapshot(source, bids: [BookLevel(price: decimal("61391"), size: decimal("0.5"), orderID: 1)],
                          asks: [BookLevel(price: decimal("61405.27923706"), size: ExactDecimal(mantissa: 148, exponent: -8), orderID: 2)],
                          sequence: 0, depth: 0, checksumKind: 0, checksum: 0),
            .bookDelta(source, bids: [BookLevel(price: decimal("61390"), size: decimal("2"), orderID: 3)], asks: [],
                       firstSequence: 0, lastSequence: 0, prevSequence: 0, depth: 0, checksumKind: 0, checksum: 0),
            .bookDelta(source, bids: [BookLevel(price: zero, size: zero, orderID: 1)], asks: [],
                       firstSequence: 0, lastSequence: 0, prevSequence: 0, depth: 0, checksumKind: 0, checksum: 0),
        ])
        XCTAssertEqual(decoder.report.records, 6)
        XCTAssertEqual(decoder.report.ignored, 3)
    }

    func testBitfinexBadMessagesByIndexSkipOrStop() throws {
        let feed = """
        [{"event": "subscribed", "channel": "book", "chanId": 1, "symbol": "tBTCUSD", "prec": "R0"},
         [2, [3, 61390, 2]],
         [1, [3, 61390]],
         [1, [4, 61390, 1]]]
        """
        let path = try temporaryFile(feed)
        var stopping = BitfinexRawBookDecoder()
        XCTAssertThrowsError(try stopping.decodeFile(path)) { error in
            XCTAssertEqual("\(error)", "\(path):2: a message on channel 2 before its book subscription")
        }
        var skipping = BitfinexRawBookDecoder(policy: .skip)
        XCTAssertEqual(try skipping.decodeFile(path).count, 1)
        XCTAssertEqual(skipping.report.firstErrors.map(\.description), [
            "\(path):2: a message on channel 2 before its book subscription",
            "\(path):3: an order needs [order_id, price, amount]",
        ])
        var broken = BitfinexRawBookDecoder(policy: .skip)
        XCTAssertThrowsError(try broken.decodeFile(try temporaryFile(#"[{"event": "info"}, [1, [2, 3 4]]]"#))) { error in
            XCTAssertTrue("\(error)".hasSuffix(":2: malformed JSON at byte 31 of the file: unexpected character '4', expected ',' or ']'"), "\(error)")
        }
    }
}
