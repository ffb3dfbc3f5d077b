import AlphaPlusSDK
import CAlphaPlus

/// Decodes a Bitfinex v2 raw (order-by-order, `prec: R0`) book capture:
/// ONE JSON array of websocket messages. Positions are 1-based message
/// indexes in that array.
///
/// - `{"event":"info"…}` carries nothing; `{"event":"subscribed",
///   "channel":"book","chanId","symbol","prec":"R0"…}` names the channel.
/// - `[chan, [[order_id, price, amount], …]]` → `.bookSnapshot` of orders:
///   amount > 0 is a bid, < 0 an ask; size = |amount|, `orderID` set.
/// - `[chan, [order_id, price, amount]]` → `.bookDelta` with that one order;
///   price 0 deletes it (size 0 with that order id, on the side of the
///   amount's sign).
/// - `[chan, "hb"]` heartbeats carry nothing.
///
/// This feed has no sequence numbers (all sequences are 0) and no
/// timestamps: every event has exchange time 0 and local time 0 (the
/// contract's "host fills it in"). `len` is not used as a depth: the venue
/// itself sends the removals that keep the book at its length.
public struct BitfinexRawBookDecoder {
    public let venue: String
    public let policy: BadRecordPolicy
    public private(set) var report = FeedReport()
    /// chanId → symbol, from the subscribed events.
    private var channels: [UInt64: String] = [:]

    public init(venue: String = "bitfinex", policy: BadRecordPolicy = .stop) {
        self.venue = venue
        self.policy = policy
    }

    /// Decodes every message of a file (plain or gzip) in order. A
    /// message that is valid JSON but not a valid book message is skipped
    /// and counted, or thrown, as `policy` says; broken JSON always stops,
    /// since the array cannot be followed past it.
    public mutating func decodeFile(_ path: String, _ emit: (MarketEvent) throws -> Void) throws {
        var bytes = try readWholeFile(path)
        try bytes.withUnsafeMutableBufferPointer { try decode(messages: UnsafeBufferPointer($0), source: path, emit) }
    }

    /// All events of a file, in order.
    public mutating func decodeFile(_ path: String) throws -> [MarketEvent] {
        var events: [MarketEvent] = []
        try decodeFile(path) { events.append($0) }
        return events
    }

    public mutating func decode(messages: UnsafeBufferPointer<UInt8>, source: String, _ emit: (MarketEvent) throws -> Void) throws {
        var s = JSONScanner(messages)
        func position(_ index: Int) -> FeedPosition { FeedPosition(source: source, line: index) }
        func syntax(_ error: JSONScanError, _ index: Int) -> FeedError {
            FeedError(position(index), "malformed JSON at byte \(error.offset + 1) of the file: \(error.reason)")
        }
        var messagesCursor: JSONScanner.Cursor
        do { messagesCursor = try s.beginArray() } catch let error as JSONScanError { throw syntax(error, 0) }
        var index = 0
        while true {
            do {
                guard try s.nextElement(&messagesCursor) else { break }
            } catch let error as JSONScanError { throw syntax(error, index + 1) }
            index += 1
            report.records += 1
            let start = s.offset
            let event: MarketEvent?
            do {
                event = try message(&s, at: position(index))
            } catch {
                let failure = (error as? FeedError) ?? FeedError(position(index), "malformed message: \(error)")
                // Only a message whose JSON is whole can be stepped over.
                s.seek(to: start)
                do { try s.skipValue() } catch let jsonError as JSONScanError { throw syntax(jsonError, index) }
                guard policy == .skip else { throw failure }
                report.recordSkipped(failure)
                continue
            }
            if let event {
                report.events += 1
                try emit(event)
            } else {
                report.ignored += 1
            }
        }
        guard s.atEnd() else { throw FeedError(position(index), "unexpected text after the array of messages") }
    }

    private mutating func message(_ s: inout JSONScanner, at position: FeedPosition) throws -> MarketEvent? {
        do {
            return try s.peekKind() == .object ? try event(&s, at: position) : try channelMessage(&s, at: position)
        } catch let error as JSONScanError {
            throw FeedError(position, "malformed JSON: \(error.reason)")
        }
    }

    private mutating func event(_ s: inout JSONScanner, at position: FeedPosition) throws -> MarketEvent? {
        var name: String?, channel: String?, symbol: String?, precision: String?, channelID: UInt64?
        var members = try s.beginObject()
        while let key = try s.nextKey(&members) {
            if key.equals("event") { name = try s.text() }
            else if key.equals("channel") { channel = try s.text() }
            else if key.equals("symbol") { symbol = try s.text() }
            else if key.equals("prec") { precision = try s.text() }
            else if key.equals("chanId") { channelID = try s.uint64() }
            else { try s.skipValue() }
        }
        guard let name else { throw FeedError(position, "an object message without \"event\"") }
        if name == "error" { throw FeedError(position, "the venue reported an error event") }
        guard name == "subscribed", channel == "book" else { return nil }
        guard let channelID, let symbol else { throw FeedError(position, "a book subscription without \"chanId\" or \"symbol\"") }
        guard precision == "R0" else {
            throw FeedError(position, "book precision \"\(precision ?? "")\" is not a raw book: only \"R0\" is decoded")
        }
        channels[channelID] = symbol
        return nil
    }

    private func channelMessage(_ s: inout JSONScanner, at position: FeedPosition) throws -> MarketEvent? {
        var items = try s.beginArray()
        guard try s.nextElement(&items) else { throw FeedError(position, "an empty array message") }
        let channelID = try s.uint64()
        guard let symbol = channels[channelID] else {
            throw FeedError(position, "a message on channel \(channelID) before its book subscription")
        }
        guard try s.nextElement(&items) else { throw FeedError(position, "a channel message without data") }
        let source = EventSource(venue: venue, symbol: symbol, exchangeTimeNs: 0, localTimeNs: 0)
        let event: MarketEvent?
        switch try s.peekKind() {
        case .string:
            guard try s.string().equals("hb") else { throw FeedError(position, "unknown channel message (not \"hb\")") }
            event = nil
        case .array:
            var entries = try s.beginArray()
            guard try s.nextElement(&entries) else {
                event = .bookSnapshot(source, bids: [], asks: [], sequence: 0, depth: 0, checksumKind: AP_CHECKSUM_NONE.rawValue, checksum: 0)
                break
            }
            if try s.peekKind() == .array {
                var bids: [BookLevel] = [], asks: [BookLevel] = []
                repeat {
                    let (order, isBid) = try Self.order(&s, position)
                    if isBid { bids.append(order) } else { asks.append(order) }
                } while try s.nextElement(&entries)
                event = .bookSnapshot(source, bids: bids, asks: asks, sequence: 0, depth: 0,
                                      checksumKind: AP_CHECKSUM_NONE.rawValue, checksum: 0)
            } else {
                let (order, isBid) = try Self.orderFields(&s, &entries, position)
                event = .bookDelta(source, bids: isBid ? [order] : [], asks: isBid ? [] : [order],
                                   firstSequence: 0, lastSequence: 0, prevSequence: 0, depth: 0,
                                   checksumKind: AP_CHECKSUM_NONE.rawValue, checksum: 0)
            }
        default:
            throw FeedError(position, "unexpected \(try s.peekKind()) as channel data")
        }
        guard try !s.nextElement(&items) else { throw FeedError(position, "a channel message with more than [chanId, data]") }
        return event
    }

    /// `[order_id, price, amount]`
    private static func order(_ s: inout JSONScanner, _ position: FeedPosition) throws -> (BookLevel, isBid: Bool) {
        var fields = try s.beginArray()
        guard try s.nextElement(&fields) else { throw FeedError(position, "an order needs [order_id, price, amount]") }
        return try orderFields(&s, &fields, position)
    }

    /// The fields of an order whose array is open and whose first element is next.
    private static func orderFields(_ s: inout JSONScanner, _ fields: inout JSONScanner.Cursor,
                                    _ position: FeedPosition) throws -> (BookLevel, isBid: Bool) {
        let orderID = try s.uint64()
        guard try s.nextElement(&fields) else { throw FeedError(position, "an order needs [order_id, price, amount]") }
        let price = try s.decimal()
        guard try s.nextElement(&fields) else { throw FeedError(position, "an order needs [order_id, price, amount]") }
        let amount = try s.decimal()
        guard try !s.nextElement(&fields) else { throw FeedError(position, "an order has more than [order_id, price, amount]") }
        guard amount.mantissa != 0 else { throw FeedError(position, "order \(orderID) has amount 0, so no side") }
        guard price.mantissa >= 0 else { throw FeedError(position, "order \(orderID) has a negative price") }
        let deleted = price.mantissa == 0
        let size = deleted ? ExactDecimal(mantissa: 0, exponent: 0) : ExactDecimal(mantissa: abs(amount.mantissa), exponent: amount.exponent)
        return (BookLevel(price: price, size: size, orderID: orderID), amount.mantissa > 0)
    }
}
