import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// ap.head.v1 through the head table: frames in, votes out.
final class HeadTests: XCTestCase {
    private let host = TestHost()

    private func makeHead(_ config: String = #"{"threshold": 0.5}"#, instance: String = "head") throws -> TestInstance {
        try host.load(TestHead.self).create(config: config, instance: instance)
    }

    private func frame(_ indicators: KeyValuePairs<String, Double>, layout: UInt64, close: Double = 100.5) -> TestFrame {
        TestFrame(candle: Candle(openTimeNs: 1_700_000_000_000_000_000, intervalSeconds: 60, open: 100, high: 101, low: 99,
                                 close: close, volume: 10),
                  indicators: indicators, layoutID: layout)
    }

    func testIndicatorKeysResolveAndReResolveWhenTheLayoutChanges() throws {
        let head = try makeHead()

        let first = try head.evaluate(frame(["ema_50": 100, "rsi_14": 55], layout: 1))
        XCTAssertEqual(first, Vote(.long, confidence: 0.5, rationale: "ema_50=100.0 rsi_14=55.0 vwap_20=nan"))

        // Same names, different order, new layout id: the keys must follow.
        let second = try head.evaluate(frame(["rsi_14": 40, "macd_hist_12_26_9": -1, "ema_50": 101], layout: 2))
        XCTAssertEqual(second, Vote(.short, confidence: 0.5, rationale: "ema_50=101.0 rsi_14=40.0 vwap_20=nan"))

        // A layout that has vwap_20 but not rsi_14.
        let third = try head.evaluate(frame(["vwap_20": 100.25, "ema_50": 99], layout: 3))
        XCTAssertEqual(third.rationale, "ema_50=99.0 rsi_14=nan vwap_20=100.25")
        XCTAssertEqual(third.direction, .long)

        // Back to layout 1.
        let fourth = try head.evaluate(frame(["ema_50": 102, "rsi_14": 61], layout: 1))
        XCTAssertEqual(fourth, Vote(.short, confidence: 0.5, rationale: "ema_50=102.0 rsi_14=61.0 vwap_20=nan"))

        // No indicators at all.
        let empty = try head.evaluate(frame([:], layout: 4))
        XCTAssertEqual(empty, Vote(.flat, confidence: 0.5, rationale: "ema_50=nan rsi_14=nan vwap_20=nan"))
    }

    func testAKeyIsResolvedOncePerLayoutID() throws {
        let head = try makeHead()
        _ = try head.evaluate(frame(["rsi_14": 40, "macd_hist_12_26_9": -1, "ema_50": 101], layout: 7))
        // The contract promises that one layout id has one order; a frame
        // that (wrongly) reorders under the same id is read by the cached
        // indexes, which shows the names were not looked up again.
        let cached = try head.evaluate(frame(["ema_50": 1, "macd_hist_12_26_9": 2, "rsi_14": 3], layout: 7))
        XCTAssertEqual(cached.rationale, "ema_50=3.0 rsi_14=1.0 vwap_20=nan")
    }

    func testMissingAndWarmingUpIndicatorsAreNaN() throws {
        let head = try makeHead()
        let warming = try head.evaluate(frame(["ema_50": .nan, "rsi_14": 30], layout: 1))
        XCTAssertEqual(warming.direction, .flat)
        XCTAssertEqual(warming.rationale, "ema_50=nan rsi_14=30.0 vwap_20=nan")
        let absent = try head.evaluate(frame(["sma_200": 5], layout: 2))
        XCTAssertEqual(absent.direction, .flat)
        XCTAssertEqual(absent.rationale, "ema_50=nan rsi_14=nan vwap_20=nan")
    }

    func testTheHeadSeesTheWholeFrame() throws {
        let head = try makeHead(instance: "seer")
        var book = BookFeatures()
        (book.bestBid, book.bestAsk, book.bestBidSize, book.bestAskSize) = (100.25, 100.5, 3, 4)
        (book.mid, book.spread, book.microprice, book.imbalance) = (100.375, 0.25, 100.39, -0.125)
        (book.depth, book.tradeFlowImbalance) = (10, 0.5)
        let candle = Candle(openTimeNs: 1_700_000_100_000_000_000, intervalSeconds: 300, open: 1, high: 4, low: 0.5,
                            close: 2, volume: 123.5, tradeCount: 77)
        let testFrame = TestFrame(venue: "kraken", symbol: "ETH-USD", timeframeSeconds: 300,
                                  timestampNs: 1_700_000_400_000_000_001, candle: candle,
                                  indicators: ["ema_50": 1.5, "rsi_14": 70], book: book, layoutID: 42)
        _ = try head.evaluate(testFrame)
        let seen = try XCTUnwrap(Live.get(TestHead.self, instance: "seer")?.seen)
        XCTAssertEqual(seen, TestHead.Seen(venue: "kraken", symbol: "ETH-USD", timeframeSeconds: 300,
                                           timestampNs: 1_700_000_400_000_000_001, candle: candle, layoutID: 42,
                                           book: book, trigger: .candleClose, indicatorCount: 2))

        _ = try head.evaluate(TestFrame(symbol: "BTC-USDT", book: nil, layoutID: 43))
        XCTAssertNil(Live.get(TestHead.self, instance: "seer")?.seen?.book)
    }

    /// A text over the 256 bytes is cut on a character boundary to leave
    /// room for "…" (3 bytes), which marks it; one that fits is whole.
    func testRationaleIsTruncatedAt256BytesOnACharacterBoundaryAndMarked() throws {
        let a = { (count: Int) in String(repeating: "a", count: count) }
        let cases: [(rationale: String, expected: String)] = [
            (a(256), a(256)),
            (a(300), a(253) + "…"),
            (a(255) + "é", a(253) + "…"),
            (a(254) + "€", a(253) + "…"),
            (a(253) + "€", a(253) + "€"),                // exactly 256 bytes
            (a(252) + "😀", a(252) + "😀"),              // exactly 256 bytes
            (a(250) + "😀" + "bcd", a(250) + "…"),       // 😀 would end past the 253 bytes kept
            (a(251) + "€€", a(251) + "…"),               // the first € would end at byte 254
            (String(repeating: "é", count: 128), String(repeating: "é", count: 128)),
            (String(repeating: "é", count: 129), String(repeating: "é", count: 126) + "…"),
            (String(repeating: "€", count: 86), String(repeating: "€", count: 84) + "…"),
            ("short ✓", "short ✓"),
        ]
        for (index, (rationale, expected)) in cases.enumerated() {
            let config = #"{"threshold": 0.25, "rationale": "\#(rationale)"}"#
            let vote = try makeHead(config, instance: "rationale-\(index)")
                .evaluate(frame(["ema_50": 1], layout: 1))
            let text = vote.rationale.description
            XCTAssertEqual(text, expected, "case \(index)")
            XCTAssertLessThanOrEqual(text.utf8.count, Int(AP_RATIONALE_CAPACITY))
            XCTAssertFalse(text.contains("\u{FFFD}"), "case \(index) split a character")
            XCTAssertEqual(vote.direction, .long)
            XCTAssertEqual(vote.confidence, 0.25)
        }
    }

    func testALiteralRationaleIsTruncatedTheSameWay() throws {
        let vote = try makeHead().evaluate(TestFrame(symbol: "LITERAL-USDT"))
        XCTAssertEqual(vote.rationale.description, String(repeating: "a", count: 253) + "…")
    }

    func testRationaleLengthInTheRawVote() throws {
        let table = PluginExport.entry(TestHead.self)
        let context = RawContext()
        var err = emptyError()
        XCTAssertEqual(table.pointee.`init`(table, RawHost.api, context.opaque, &err), ap_status(AP_OK))
        defer { table.pointee.deinit(table) }
        let created = rawCreate(table, context: context, instance: "raw-vote",
                                config: #"{"threshold": 1, "rationale": "\#(String(repeating: "x", count: 255))é"}"#)
        XCTAssertEqual(created.status, ap_status(AP_OK), created.message)
        defer { table.pointee.destroy(table, created.instance) }
        let head = try XCTUnwrap(capability(table, "ap.head.v1")).assumingMemoryBound(to: ap_head_v1.self)

        var vote = ap_vote()
        vote.struct_size = UInt32(MemoryLayout<ap_vote>.size)
        let status = TestFrame(indicators: ["ema_50": 200]).withCFrame { head.pointee.evaluate(created.instance, $0, &vote, &err) }
        XCTAssertEqual(status, ap_status(AP_OK))
        XCTAssertEqual(vote.direction, AP_DIRECTION_SHORT.rawValue)
        XCTAssertEqual(vote.confidence, 1)
        XCTAssertEqual(vote.rationale_len, 256)
        let text = withUnsafeBytes(of: vote.rationale) { String(decoding: $0.prefix(Int(vote.rationale_len)), as: UTF8.self) }
        XCTAssertEqual(text, String(repeating: "x", count: 253) + AP_RATIONALE_TRUNCATION_MARK)
    }

    /// How a host reads a rationale a C head wrote: up to rationale_len
    /// and the first NUL, so a head that declares the whole buffer stores
    /// no padding; a declared length over the capacity (snprintf's return)
    /// means the text was cut, so it is cut on a character and marked.
    func testTheHostReadsARationaleUpToItsFirstNULAndMarksOneDeclaredTooLong() throws {
        func read(_ bytes: [UInt8], declared: Int) -> String {
            var vote = ap_vote()
            withUnsafeMutableBytes(of: &vote.rationale) { $0.copyBytes(from: bytes.prefix(Int(AP_RATIONALE_CAPACITY))) }
            vote.rationale_len = UInt32(declared)
            return withUnsafePointer(to: &vote) { Vote.rationaleText(of: $0) }
        }
        let capacity = Int(AP_RATIONALE_CAPACITY)
        XCTAssertEqual(read(Array("padded".utf8), declared: capacity), "padded")
        XCTAssertEqual(read(Array("padded".utf8), declared: 3), "pad")
        XCTAssertEqual(read([], declared: 0), "")
        // snprintf of 300 bytes: 255 bytes and a NUL, returning 300.
        XCTAssertEqual(read(Array(String(repeating: "b", count: 255).utf8) + [0], declared: 300), String(repeating: "b", count: 253) + "…")
        // strncpy of 300 bytes: the buffer full, no NUL.
        XCTAssertEqual(read(Array(String(repeating: "é", count: 150).utf8), declared: 300), String(repeating: "é", count: 126) + "…")
        // Cut inside "€" (3 bytes) by the writer: the broken character goes, not a U+FFFD.
        XCTAssertEqual(read(Array("ab".utf8) + [0xE2, 0x82, 0], declared: 400), "ab…")
        // Invalid UTF-8 that fits is shown as U+FFFD, never dropped silently.
        XCTAssertEqual(read([0x61, 0xFF, 0x62], declared: 3), "a\u{FFFD}b")
    }

    func testAThrowingEvaluateReturnsStatusAndMessage() throws {
        let head = try makeHead()
        do {
            _ = try head.evaluate(TestFrame(symbol: "STALE-USDT"))
            XCTFail("evaluate should have failed")
        } catch let error as PluginError {
            XCTAssertEqual(error.status, ap_status(AP_ERR_UNAVAILABLE))
            XCTAssertEqual(error.message, "no fresh data for STALE-USDT")
        }
        // A Swift error that is not a PluginError is an internal error.
        do {
            _ = try head.evaluate(TestFrame(symbol: "BUG-USDT"))
            XCTFail("evaluate should have failed")
        } catch let error as PluginError {
            XCTAssertEqual(error.status, ap_status(AP_ERR_INTERNAL))
            XCTAssertEqual(error.message, "head failure: bad index 7")
        }
        // The instance keeps working.
        XCTAssertEqual(try head.evaluate(frame(["ema_50": 1], layout: 1)).direction, .long)
    }

    func testOnEventDeliversMarketEvents() throws {
        let head = try makeHead(instance: "listener")
        let news = MarketEvent.news(EventSource(venue: "newswire", symbol: "", exchangeTimeNs: 5, localTimeNs: 6),
                                    id: "n-1", source: "Wire", headline: "ETF approved", body: "…", url: "https://x.example/1",
                                    symbols: ["BTC-USDT"])
        let trade = MarketEvent.trade(EventSource(venue: "sim", symbol: "BTC-USDT", exchangeTimeNs: 7),
                                      price: ExactDecimal("61405.27923706")!, size: ExactDecimal("0.05000")!,
                                      aggressor: .buy, tradeID: "t-1", sequence: 3)
        try head.send(news)
        try head.send(trade)
        XCTAssertEqual(Live.get(TestHead.self, instance: "listener")?.events, [news, trade])
    }
}
