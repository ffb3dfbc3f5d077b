import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// ap.exchange.v1 through the exchange table, TestHost's timers and emit_event.
final class ExchangeTests: XCTestCase {
    private let host = TestHost()
    private let ms: Int64 = 1_000_000

    private func makeExchange(instance: String) throws -> (TestInstance, SimExchange) {
        let created = try host.load(SimExchange.self).create(config: #"{"venue": "sim", "tick_ms": 1000}"#, instance: instance)
        return (created, try XCTUnwrap(Live.get(SimExchange.self, instance: instance)))
    }

    private func decimal(_ text: String) -> ExactDecimal { ExactDecimal(text)! }

    func testStartAndSubscribeRecordTheSubscription() throws {
        let (instance, exchange) = try makeExchange(instance: "subs")
        XCTAssertThrowsError(try instance.subscribe(Subscription(symbol: "BTC-USDT", streams: .trades))) { error in
            XCTAssertEqual((error as? PluginError)?.status, ap_status(AP_ERR_WRONG_STATE))
            XCTAssertEqual((error as? PluginError)?.message, "subscribe before start (BTC-USDT)")
        }
        XCTAssertFalse(exchange.started)

        try instance.start()
        XCTAssertTrue(exchange.started)
        XCTAssertThrowsError(try instance.start()) { error in
            XCTAssertEqual((error as? PluginError)?.status, ap_status(AP_ERR_WRONG_STATE))
        }

        let book = Subscription(symbol: "BTC-USDT", streams: [.trades, .book], bookDepth: 25)
        let candles = Subscription(symbol: "ETH-USDT", streams: [.quotes, .candles, .news], bookDepth: 0,
                                   candleIntervalSeconds: 900)
        try instance.subscribe(book)
        try instance.subscribe(candles)
        XCTAssertEqual(exchange.subscriptions, [book, candles])
        XCTAssertEqual(exchange.subscriptions[1].streams.rawValue,
                       AP_STREAM_QUOTES.rawValue | AP_STREAM_CANDLES.rawValue | AP_STREAM_NEWS.rawValue)

        try instance.stop()
        XCTAssertFalse(exchange.started)
    }

    func testTheRawExchangeTable() throws {
        let table = PluginExport.entry(SimExchange.self)
        let context = RawContext()
        var err = emptyError()
        XCTAssertEqual(table.pointee.`init`(table, RawHost.api, context.opaque, &err), ap_status(AP_OK))
        defer { table.pointee.deinit(table) }
        let created = rawCreate(table, context: context, instance: "raw-exchange", config: #"{"venue": "sim", "tick_ms": 10}"#)
        XCTAssertEqual(created.status, ap_status(AP_OK), created.message)
        defer { table.pointee.destroy(table, created.instance) }
        let exchange = try XCTUnwrap(capability(table, "ap.exchange.v1")).assumingMemoryBound(to: ap_exchange_v1.self)
        let plugin = try XCTUnwrap(Live.get(SimExchange.self, tenant: "raw", instance: "raw-exchange"))

        func subscribe(_ symbol: String, _ streams: UInt32, depth: UInt32, interval: Int64) -> ap_status {
            withAPStr(symbol) { symbol in
                var subscription = ap_subscription(struct_size: UInt32(MemoryLayout<ap_subscription>.size), symbol: symbol,
                                                   streams: streams, book_depth: depth, candle_interval_s: interval)
                err = emptyError()
                return exchange.pointee.subscribe(created.instance, &subscription, &err)
            }
        }
        func unsubscribe(_ symbol: String) -> ap_status {
            err = emptyError()
            return withAPStr(symbol) { exchange.pointee.unsubscribe(created.instance, $0, &err) }
        }

        XCTAssertEqual(subscribe("BTC-USDT", AP_STREAM_TRADES.rawValue, depth: 0, interval: 0), ap_status(AP_ERR_WRONG_STATE))
        XCTAssertEqual(message(err), "subscribe before start (BTC-USDT)")

        err = emptyError()
        XCTAssertEqual(exchange.pointee.start(created.instance, &err), ap_status(AP_OK), message(err))
        XCTAssertEqual(context.timersStarted, 3)
        XCTAssertEqual(subscribe("BTC-USDT", AP_STREAM_BOOK.rawValue | AP_STREAM_TRADES.rawValue, depth: 50, interval: 0),
                       ap_status(AP_OK))
        XCTAssertEqual(subscribe("ETH-USDT", AP_STREAM_CANDLES.rawValue, depth: 0, interval: 3600), ap_status(AP_OK))
        XCTAssertEqual(plugin.subscriptions, [
            Subscription(symbol: "BTC-USDT", streams: [.book, .trades], bookDepth: 50),
            Subscription(symbol: "ETH-USDT", streams: .candles, candleIntervalSeconds: 3600),
        ])

        XCTAssertEqual(unsubscribe("BTC-USDT"), ap_status(AP_OK))
        XCTAssertEqual(plugin.subscriptions.map(\.symbol), ["ETH-USDT"])
        XCTAssertEqual(unsubscribe("BTC-USDT"), ap_status(AP_ERR_NOT_FOUND))
        XCTAssertEqual(message(err), "not subscribed to BTC-USDT")

        exchange.pointee.stop(created.instance)
        XCTAssertFalse(plugin.started)
    }

    func testTimersFireInOrderAsTheClockAdvances() throws {
        let (instance, exchange) = try makeExchange(instance: "timers")
        let t0 = host.nowNs
        try instance.start()
        XCTAssertEqual(exchange.fired, [])

        host.advance(byNs: 999 * ms)
        XCTAssertEqual(exchange.fired, [], "nothing is due before the first tick")

        host.advance(byNs: 2_501 * ms) // to 3.5 s
        XCTAssertEqual(exchange.fired, ["tick@1000ms", "once@1500ms", "tick@2000ms", "tick@3000ms"])
        XCTAssertEqual(host.nowNs, t0 + 3_500 * ms)

        host.advance(byNs: 500 * ms) // to 4 s: a timer due exactly at the end fires
        XCTAssertEqual(exchange.fired.suffix(1), ["tick@4000ms"])

        host.advance(byNs: 3_000 * ms) // to 7 s
        XCTAssertEqual(exchange.fired, ["tick@1000ms", "once@1500ms", "tick@2000ms", "tick@3000ms", "tick@4000ms",
                                        "tick@5000ms", "tick@6000ms", "tick@7000ms"])
        XCTAssertFalse(exchange.fired.contains { $0.hasPrefix("cancelled") })

        // stop cancels the repeating timer.
        try instance.stop()
        host.advance(byNs: 10_000 * ms)
        XCTAssertEqual(exchange.fired.count, 8)
        XCTAssertEqual(exchange.fired.filter { $0.hasPrefix("once") }.count, 1)

        // Starting again schedules afresh from the current time.
        try instance.start()
        host.advance(byNs: 1_500 * ms)
        XCTAssertEqual(exchange.fired.suffix(2), ["tick@1000ms", "once@1500ms"])
    }

    static func allEvents() -> [MarketEvent] {
        let source = EventSource(venue: "sim", symbol: "BTC-USDT", exchangeTimeNs: 1_700_000_000_123_456_789,
                                 localTimeNs: 1_700_000_000_200_000_000)
        let d = { (text: String) in ExactDecimal(text)! }
        return [
            .trade(source, price: d("61405.27923706"), size: d("0.05000"), aggressor: .sell, tradeID: "t-981",
                   sequence: 42),
            .trade(EventSource(venue: "sim", symbol: "ETH-USDT", exchangeTimeNs: -1), price: d("-0.5"), size: d("12"),
                   aggressor: .unknown, tradeID: "", sequence: 0),
            .quote(source, bidPrice: d("61405.10"), bidSize: d("1.250"), askPrice: d("61405.2"), askSize: d("0.001"),
                   sequence: 43),
            .bookSnapshot(source,
                          bids: [BookLevel(price: d("61405.10"), size: d("1.250")),
                                 BookLevel(price: d("61405.0"), size: d("3"))],
                          asks: [BookLevel(price: d("61405.2"), size: d("0.001"), orderID: 77),
                                 BookLevel(price: d("61406"), size: d("10.5"), orderID: UInt64.max)],
                          sequence: 1000, depth: 10, checksumKind: AP_CHECKSUM_KRAKEN_CRC32.rawValue, checksum: 0xDEAD_BEEF),
            .bookSnapshot(source, bids: [], asks: [], sequence: 0, depth: 0, checksumKind: 0, checksum: 0),
            .bookDelta(source, bids: [BookLevel(price: d("61405.10"), size: d("0"))],
                       asks: [BookLevel(price: d("61405.3"), size: d("2.00000000"))],
                       firstSequence: 1001, lastSequence: 1004, prevSequence: 1000, depth: 10,
                       checksumKind: AP_CHECKSUM_KRAKEN_CRC32.rawValue, checksum: 12345),
            .bookDelta(source, bids: [], asks: [BookLevel(price: d("1"), size: d("1"), orderID: 9)],
                       firstSequence: 1005, lastSequence: 1005, prevSequence: 0, depth: 0, checksumKind: 0, checksum: 0),
            .candle(source, Candle(openTimeNs: 1_700_000_040_000_000_000, intervalSeconds: 60, open: 1.5, high: 2.25,
                                   low: 1.0, close: 2.0, volume: 1234.5678, tradeCount: 99), closed: true),
            .candle(source, Candle(openTimeNs: 1_700_000_100_000_000_000, intervalSeconds: 60, open: 2, high: 2, low: 2,
                                   close: 2, volume: 0), closed: false),
            .news(EventSource(venue: "newswire", symbol: "", exchangeTimeNs: 1_700_000_000_000_000_000),
                  id: "n-1", source: "Reuters", headline: "Bitcoin ünïcödé 📈", body: "Line 1\nLine 2",
                  url: "https://example.com/n/1", symbols: ["BTC-USDT", "ETH-USDT"]),
            .news(source, id: "n-2", source: "Wire", headline: "No symbols", body: "", url: "", symbols: []),
        ]
    }

    func testEmittedEventsRoundTripExactly() throws {
        let (instance, exchange) = try makeExchange(instance: "emitter")
        let events = ExchangeTests.allEvents()
        exchange.script = events
        try instance.start()
        host.advance(byNs: Int64(events.count) * 1_000 * ms)
        XCTAssertEqual(host.emitted.count, events.count)
        for (index, (got, want)) in zip(host.emitted, events).enumerated() {
            XCTAssertEqual(got, want, "event \(index)")
        }
        XCTAssertEqual(host.emitted, events)
        XCTAssertEqual(host.logs.map(\.message), [], "no emit failed")

        // Exactness: "0.05000" and "0.05" are different decimals, and the emitted one kept its digits.
        guard case let .trade(_, price, size, _, _, _) = host.emitted[0] else { return XCTFail("not a trade") }
        XCTAssertEqual(size, ExactDecimal(mantissa: 5000, exponent: -5))
        XCTAssertNotEqual(size, ExactDecimal("0.05"))
        XCTAssertEqual(price.description, "61405.27923706")
    }

    func testEmittedEventsCarryTheirKindAndSize() throws {
        // What the host sees in the C header for each case.
        let expected: [(ap_event_kind, Int)] = [
            (AP_EVENT_TRADE, MemoryLayout<ap_trade_event>.size), (AP_EVENT_TRADE, MemoryLayout<ap_trade_event>.size),
            (AP_EVENT_QUOTE, MemoryLayout<ap_quote_event>.size),
            (AP_EVENT_BOOK_SNAPSHOT, MemoryLayout<ap_book_snapshot_event>.size),
            (AP_EVENT_BOOK_SNAPSHOT, MemoryLayout<ap_book_snapshot_event>.size),
            (AP_EVENT_BOOK_DELTA, MemoryLayout<ap_book_delta_event>.size),
            (AP_EVENT_BOOK_DELTA, MemoryLayout<ap_book_delta_event>.size),
            (AP_EVENT_CANDLE, MemoryLayout<ap_candle_event>.size), (AP_EVENT_CANDLE, MemoryLayout<ap_candle_event>.size),
            (AP_EVENT_NEWS, MemoryLayout<ap_news_event>.size), (AP_EVENT_NEWS, MemoryLayout<ap_news_event>.size),
        ]
        let events = ExchangeTests.allEvents()
        XCTAssertEqual(events.count, expected.count)
        for (event, (kind, size)) in zip(events, expected) {
            event.withCEvent { header in
                XCTAssertEqual(header.pointee.kind, kind.rawValue)
                XCTAssertEqual(Int(header.pointee.struct_size), size)
                XCTAssertEqual(header.pointee.venue.string, event.source.venue)
                XCTAssertEqual(header.pointee.symbol.string, event.source.symbol)
                // A struct_size below the kind's size is refused.
                var truncated = header.pointee
                truncated.struct_size = UInt32(MemoryLayout<ap_event_header>.size)
                XCTAssertNil(MarketEvent(&truncated))
            }
        }
        var unknown = ap_event_header()
        unknown.struct_size = UInt32(MemoryLayout<ap_event_header>.size)
        unknown.kind = 99
        XCTAssertNil(MarketEvent(&unknown))
    }
}
