import CAlphaPlus

/// Where and when a market event happened.
public struct EventSource: Sendable, Equatable {
    public var venue: String
    /// As the venue spells it; the host normalises.
    public var symbol: String
    /// Venue time, ns since the Unix epoch (UTC).
    public var exchangeTimeNs: Int64
    /// Receive time; 0 lets the host fill it in.
    public var localTimeNs: Int64

    public init(venue: String, symbol: String, exchangeTimeNs: Int64, localTimeNs: Int64 = 0) {
        self.venue = venue
        self.symbol = symbol
        self.exchangeTimeNs = exchangeTimeNs
        self.localTimeNs = localTimeNs
    }
}

public enum Side: UInt32, Sendable {
    case unknown = 0, buy = 1, sell = 2
}

public struct BookLevel: Sendable, Equatable {
    public var price: ExactDecimal
    public var size: ExactDecimal
    public var orderID: UInt64
    public init(price: ExactDecimal, size: ExactDecimal, orderID: UInt64 = 0) {
        self.price = price
        self.size = size
        self.orderID = orderID
    }
}

/// A market event as an exchange plugin emits it (the contract's
/// ap_*_event structs).
public enum MarketEvent: Sendable, Equatable {
    case trade(EventSource, price: ExactDecimal, size: ExactDecimal, aggressor: Side, tradeID: String, sequence: UInt64)
    case quote(EventSource, bidPrice: ExactDecimal, bidSize: ExactDecimal, askPrice: ExactDecimal, askSize: ExactDecimal, sequence: UInt64)
    case bookSnapshot(EventSource, bids: [BookLevel], asks: [BookLevel], sequence: UInt64, depth: UInt32, checksumKind: UInt32, checksum: UInt32)
    case bookDelta(EventSource, bids: [BookLevel], asks: [BookLevel], firstSequence: UInt64, lastSequence: UInt64, prevSequence: UInt64, depth: UInt32, checksumKind: UInt32, checksum: UInt32)
    case candle(EventSource, Candle, closed: Bool)
    case news(EventSource, id: String, source: String, headline: String, body: String, url: String, symbols: [String])

    public var source: EventSource {
        switch self {
        case .trade(let source, _, _, _, _, _), .quote(let source, _, _, _, _, _),
             .bookSnapshot(let source, _, _, _, _, _, _), .bookDelta(let source, _, _, _, _, _, _, _, _),
             .candle(let source, _, _), .news(let source, _, _, _, _, _, _):
            return source
        }
    }

    /// Reads an event lent by the other side. Nil when the kind is unknown
    /// or `struct_size` is smaller than the kind's ABI 1.0 size.
    public init?(_ header: UnsafePointer<ap_event_header>) {
        func view<T>(_: T.Type) -> T? {
            Int(header.pointee.struct_size) >= MemoryLayout<T>.size
                ? UnsafeRawPointer(header).assumingMemoryBound(to: T.self).pointee : nil
        }
        func levels(_ pointer: UnsafePointer<ap_book_level>?, _ count: Int) -> [BookLevel] {
            guard let pointer else { return [] }
            return UnsafeBufferPointer(start: pointer, count: count).map {
                BookLevel(price: ExactDecimal($0.price), size: ExactDecimal($0.size), orderID: $0.order_id)
            }
        }
        let h = header.pointee
        let source = EventSource(venue: h.venue.string, symbol: h.symbol.string,
                                 exchangeTimeNs: h.exchange_ts_ns, localTimeNs: h.local_ts_ns)
        switch Int(h.kind) {
        case Int(AP_EVENT_TRADE.rawValue):
            guard let e = view(ap_trade_event.self) else { return nil }
            self = .trade(source, price: ExactDecimal(e.price), size: ExactDecimal(e.size),
                          aggressor: Side(rawValue: e.aggressor) ?? .unknown, tradeID: e.trade_id.string, sequence: e.sequence)
        case Int(AP_EVENT_QUOTE.rawValue):
            guard let e = view(ap_quote_event.self) else { return nil }
            self = .quote(source, bidPrice: ExactDecimal(e.bid_price), bidSize: ExactDecimal(e.bid_size),
                          askPrice: ExactDecimal(e.ask_price), askSize: ExactDecimal(e.ask_size), sequence: e.sequence)
        case Int(AP_EVENT_BOOK_SNAPSHOT.rawValue):
            guard let e = view(ap_book_snapshot_event.self) else { return nil }
            self = .bookSnapshot(source, bids: levels(e.bids, e.bid_count), asks: levels(e.asks, e.ask_count),
                                 sequence: e.sequence, depth: e.depth, checksumKind: e.checksum_kind, checksum: e.checksum)
        case Int(AP_EVENT_BOOK_DELTA.rawValue):
            guard let e = view(ap_book_delta_event.self) else { return nil }
            self = .bookDelta(source, bids: levels(e.bids, e.bid_count), asks: levels(e.asks, e.ask_count),
                              firstSequence: e.first_sequence, lastSequence: e.last_sequence, prevSequence: e.prev_sequence,
                              depth: e.depth, checksumKind: e.checksum_kind, checksum: e.checksum)
        case Int(AP_EVENT_CANDLE.rawValue):
            guard let e = view(ap_candle_event.self) else { return nil }
            self = .candle(source, Candle(e.candle), closed: e.closed != 0)
        case Int(AP_EVENT_NEWS.rawValue):
            guard let e = view(ap_news_event.self) else { return nil }
            let symbols = e.symbols.map { UnsafeBufferPointer(start: $0, count: e.symbol_count).map(\.string) } ?? []
            self = .news(source, id: e.id.string, source: e.source.string, headline: e.headline.string,
                         body: e.body.string, url: e.url.string, symbols: symbols)
        default:
            return nil
        }
    }

    /// Lends the event as its C struct for the duration of `body`.
    public func withCEvent<R>(_ body: (UnsafePointer<ap_event_header>) throws -> R) rethrows -> R {
        let source = self.source
        return try withAPStr(source.venue) { venue in
            try withAPStr(source.symbol) { symbol in
                func header<T>(_ kind: ap_event_kind, _: T.Type) -> ap_event_header {
                    ap_event_header(struct_size: UInt32(MemoryLayout<T>.size), kind: kind.rawValue, venue: venue,
                                    symbol: symbol, exchange_ts_ns: source.exchangeTimeNs, local_ts_ns: source.localTimeNs)
                }
                func lend<T>(_ event: T) throws -> R {
                    var event = event
                    return try withUnsafePointer(to: &event) {
                        try body(UnsafeRawPointer($0).assumingMemoryBound(to: ap_event_header.self))
                    }
                }
                func lendLevels<T>(_ bids: [BookLevel], _ asks: [BookLevel],
                                   _ make: (UnsafePointer<ap_book_level>?, UnsafePointer<ap_book_level>?) -> T) throws -> R {
                    let rawBids = bids.map { ap_book_level(price: $0.price.raw, size: $0.size.raw, order_id: $0.orderID) }
                    let rawAsks = asks.map { ap_book_level(price: $0.price.raw, size: $0.size.raw, order_id: $0.orderID) }
                    return try rawBids.withUnsafeBufferPointer { b in
                        try rawAsks.withUnsafeBufferPointer { a in try lend(make(b.baseAddress, a.baseAddress)) }
                    }
                }
                switch self {
                case let .trade(_, price, size, aggressor, tradeID, sequence):
                    return try withAPStr(tradeID) { id in
                        try lend(ap_trade_event(header: header(AP_EVENT_TRADE, ap_trade_event.self), price: price.raw,
                                                size: size.raw, aggressor: aggressor.rawValue, trade_id: id, sequence: sequence))
                    }
                case let .quote(_, bidPrice, bidSize, askPrice, askSize, sequence):
                    return try lend(ap_quote_event(header: header(AP_EVENT_QUOTE, ap_quote_event.self), bid_price: bidPrice.raw,
                                                   bid_size: bidSize.raw, ask_price: askPrice.raw, ask_size: askSize.raw,
                                                   sequence: sequence))
                case let .bookSnapshot(_, bids, asks, sequence, depth, checksumKind, checksum):
                    return try lendLevels(bids, asks) { b, a in
                        ap_book_snapshot_event(header: header(AP_EVENT_BOOK_SNAPSHOT, ap_book_snapshot_event.self),
                                               bids: b, bid_count: bids.count, asks: a, ask_count: asks.count,
                                               sequence: sequence, depth: depth, checksum_kind: checksumKind, checksum: checksum)
                    }
                case let .bookDelta(_, bids, asks, first, last, prev, depth, checksumKind, checksum):
                    return try lendLevels(bids, asks) { b, a in
                        ap_book_delta_event(header: header(AP_EVENT_BOOK_DELTA, ap_book_delta_event.self),
                                            bids: b, bid_count: bids.count, asks: a, ask_count: asks.count,
                                            first_sequence: first, last_sequence: last, prev_sequence: prev,
                                            depth: depth, checksum_kind: checksumKind, checksum: checksum)
                    }
                case let .candle(_, candle, closed):
                    return try lend(ap_candle_event(header: header(AP_EVENT_CANDLE, ap_candle_event.self),
                                                    candle: candle.raw, closed: closed ? 1 : 0))
                case let .news(_, id, newsSource, headline, newsBody, url, symbols):
                    return try withAPStrs([id, newsSource, headline, newsBody, url] + symbols) { s in
                        try Array(s[5...]).withUnsafeBufferPointer { syms in
                            try lend(ap_news_event(header: header(AP_EVENT_NEWS, ap_news_event.self), id: s[0], source: s[1],
                                                   headline: s[2], body: s[3], url: s[4], symbols: syms.baseAddress,
                                                   symbol_count: symbols.count))
                        }
                    }
                }
            }
        }
    }
}

extension ExactDecimal {
    /// The contract's ap_decimal as an ExactDecimal (the host reads event
    /// structs in place and converts fields this way).
    public init(_ raw: ap_decimal) { self.init(mantissa: raw.mantissa, exponent: raw.exponent) }
    var raw: ap_decimal { ap_decimal(mantissa: mantissa, exponent: exponent) }
}
