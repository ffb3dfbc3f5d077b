import AlphaPlusSDK
import CAlphaPlus

/// Decodes Binance websocket captures in the hftbacktest format: one line
/// per message, `<local_receive_ts_ns> <json>`, the JSON being the
/// combined-stream envelope `{"stream":…,"data":…}` or the REST depth
/// snapshot `{"lastUpdateId":…,"bids":…,"asks":…}`. Spot, USD-M and COIN-M.
///
/// - `depthUpdate` → `.bookDelta` with first = `U`, last = `u`, prev = `pu`
///   (0 on spot, which has no `pu`).
/// - the depth snapshot → `.bookSnapshot` with sequence = `lastUpdateId`.
///   It names no symbol on spot and USD-M: the symbol of the depth stream
///   seen before it in the capture is used, else the one given to `init`.
/// - `trade` → `.trade` with trade id and sequence `t`; `m` (buyer is the
///   maker) means the seller aggressed.
/// - `bookTicker` → `.quote` with sequence `u`.
///
/// Exchange time is `E` (else `T`, else 0: spot bookTicker carries
/// neither), local time is the line's prefix. Levels keep the venue's digits.
public struct BinanceCaptureDecoder: LineFeedDecoder {
    public let venue: String
    /// The symbol given to `init` or, once seen, the one of the depth stream.
    public private(set) var symbol: String?
    public let policy: BadRecordPolicy
    public var report = FeedReport()

    public init(venue: String = "binance", symbol: String? = nil, policy: BadRecordPolicy = .stop) {
        self.venue = venue
        self.symbol = symbol
        self.policy = policy
    }

    public mutating func decode(line: UnsafeBufferPointer<UInt8>, at position: FeedPosition) throws -> MarketEvent? {
        guard let space = line.firstIndex(of: UInt8(ascii: " ")),
              let localTime = Int64(exactly: try Self.integer(UnsafeBufferPointer(rebasing: line[..<space]), position)) else {
            throw FeedError(position, "expected '<local_receive_ts_ns> <json>'")
        }
        var fields = try scanning(line, from: space + 1, at: position) { scanner in
            let fields = try Fields(&scanner)
            guard scanner.atEnd() else { throw JSONScanError(offset: scanner.offset, "unexpected text after the message") }
            return fields
        }
        fields.localTime = localTime
        return try event(fields, at: position)
    }

    private mutating func event(_ f: Fields, at position: FeedPosition) throws -> MarketEvent? {
        func required<T>(_ value: T?, _ key: String) throws -> T {
            guard let value else { throw FeedError(position, "\(f.kindName) without \"\(key)\"") }
            return value
        }
        func source(_ symbol: String) -> EventSource {
            EventSource(venue: venue, symbol: symbol, exchangeTimeNs: (f.eventTime ?? f.transactionTime ?? 0) &* 1_000_000,
                        localTimeNs: f.localTime)
        }
        switch f.kind {
        case .depthUpdate:
            let symbol = try required(f.symbol, "s")
            if self.symbol == nil { self.symbol = symbol }
            return .bookDelta(source(symbol), bids: try required(f.bidLevels, "b"), asks: try required(f.askLevels, "a"),
                              firstSequence: try required(f.firstUpdate, "U"), lastSequence: try required(f.lastUpdate, "u"),
                              prevSequence: f.previousUpdate ?? 0, depth: 0,
                              checksumKind: AP_CHECKSUM_NONE.rawValue, checksum: 0)
        case .snapshot:
            guard let symbol = f.symbol ?? self.symbol else {
                throw FeedError(position, "the depth snapshot names no symbol and no depth stream came before it: give the decoder a symbol")
            }
            return .bookSnapshot(source(symbol), bids: try required(f.bidLevels, "bids"), asks: try required(f.askLevels, "asks"),
                                 sequence: try required(f.lastUpdateID, "lastUpdateId"), depth: 0,
                                 checksumKind: AP_CHECKSUM_NONE.rawValue, checksum: 0)
        case .trade:
            let id = try required(f.tradeID, "t")
            let buyerIsMaker = try required(f.buyerIsMaker, "m")
            return .trade(source(try required(f.symbol, "s")), price: try required(f.price, "p"), size: try required(f.quantity, "q"),
                          aggressor: buyerIsMaker ? .sell : .buy, tradeID: String(id), sequence: id)
        case .bookTicker:
            return .quote(source(try required(f.symbol, "s")), bidPrice: try required(f.bidPrice, "b"),
                          bidSize: try required(f.bidSize, "B"), askPrice: try required(f.askPrice, "a"),
                          askSize: try required(f.askSize, "A"), sequence: f.lastUpdate ?? 0)
        case .other:
            return nil
        }
    }

    private static func integer(_ text: UnsafeBufferPointer<UInt8>, _ position: FeedPosition) throws -> UInt64 {
        var scanner = JSONScanner(text)
        guard let value = try? scanner.uint64(), scanner.atEnd() else {
            throw FeedError(position, "expected '<local_receive_ts_ns> <json>'")
        }
        return value
    }

    /// The fields of one message, envelope unwrapped.
    private struct Fields {
        enum Kind { case depthUpdate, snapshot, trade, bookTicker, other }
        var kind = Kind.other
        var eventType: String?
        var symbol: String?
        var eventTime: Int64?, transactionTime: Int64?, localTime: Int64 = 0
        var firstUpdate: UInt64?, lastUpdate: UInt64?, previousUpdate: UInt64?, lastUpdateID: UInt64?
        var bidLevels: [BookLevel]?, askLevels: [BookLevel]?
        var bidPrice: ExactDecimal?, bidSize: ExactDecimal?, askPrice: ExactDecimal?, askSize: ExactDecimal?
        var tradeID: UInt64?, price: ExactDecimal?, quantity: ExactDecimal?, buyerIsMaker: Bool?

        var kindName: String {
            switch kind {
            case .snapshot: "the depth snapshot"
            default: eventType.map { "\($0) event" } ?? "bookTicker event"
            }
        }

        init(_ s: inout JSONScanner) throws {
            var stream: UnsafeBufferPointer<UInt8>?
            var sawData = false
            var members = try s.beginObject()
            while let key = try s.nextKey(&members) {
                if key.equals("stream") {
                    stream = try s.string()
                } else if key.equals("data") {
                    sawData = true
                    try readData(&s)
                } else {
                    try read(key, &s)
                }
            }
            if lastUpdateID != nil && !sawData {
                kind = .snapshot
            } else if let eventType {
                kind = switch eventType {
                case "depthUpdate": .depthUpdate
                case "trade": .trade
                case "bookTicker": .bookTicker
                default: .other
                }
            } else if bidPrice != nil || stream.map({ String(decoding: $0, as: UTF8.self).hasSuffix("@bookTicker") }) == true {
                kind = .bookTicker  // spot bookTicker has no "e"
            }
        }

        private mutating func readData(_ s: inout JSONScanner) throws {
            var members = try s.beginObject()
            while let key = try s.nextKey(&members) { try read(key, &s) }
        }

        private mutating func read(_ key: UnsafeBufferPointer<UInt8>, _ s: inout JSONScanner) throws {
            guard key.count <= 12 else { return try s.skipValue() }
            switch String(decoding: key, as: UTF8.self) {
            case "e": eventType = try s.text()
            case "s", "symbol": symbol = try s.text()
            case "E": eventTime = try Int64(exactly: s.uint64())
            case "T": transactionTime = try Int64(exactly: s.uint64())
            case "U": firstUpdate = try s.uint64()
            case "u": lastUpdate = try s.uint64()
            case "pu": previousUpdate = try s.uint64()
            case "lastUpdateId": lastUpdateID = try s.uint64()
            case "b", "bids":
                if try s.peekKind() == .array { bidLevels = try Self.levels(&s) } else { bidPrice = try s.decimal() }
            case "a", "asks":
                if try s.peekKind() == .array { askLevels = try Self.levels(&s) } else { askPrice = try s.decimal() }
            case "B": bidSize = try s.decimal()
            case "A": askSize = try s.decimal()
            case "t": tradeID = try s.uint64()
            case "p": price = try s.decimal()
            case "q": quantity = try s.decimal()
            case "m": buyerIsMaker = try s.bool()
            default: try s.skipValue()
            }
        }

        /// `[["price","qty"],…]`
        private static func levels(_ s: inout JSONScanner) throws -> [BookLevel] {
            var levels: [BookLevel] = []
            var items = try s.beginArray()
            while try s.nextElement(&items) {
                let start = s.offset
                var pair = try s.beginArray()
                guard try s.nextElement(&pair) else { throw JSONScanError(offset: start, "a level needs [price, quantity]") }
                let price = try s.decimal()
                guard try s.nextElement(&pair) else { throw JSONScanError(offset: start, "a level needs [price, quantity]") }
                let size = try s.decimal()
                guard try !s.nextElement(&pair) else { throw JSONScanError(offset: start, "a level has more than [price, quantity]") }
                levels.append(BookLevel(price: price, size: size))
            }
            return levels
        }
    }
}
