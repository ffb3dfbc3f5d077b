import AlphaPlusSDK
import CAlphaPlus

/// Decodes Kraken v1 book captures in the cryptofeed format: one line per
/// message, `<recv_unix_seconds>: <raw message>`. Lines starting `wss://`
/// are connection markers; event objects (systemStatus,
/// subscriptionStatus, heartbeat) carry no market data. Several pairs may
/// be interleaved; the symbol is the pair ("XBT/CHF").
///
/// - `[chan, {"as":[…],"bs":[…]}, "book-N", pair]` → `.bookSnapshot`, depth N.
/// - `[chan, {"a":[…]}(, {"b":[…],"c":"…"}), "book-N", pair]` → `.bookDelta`
///   with depth N, `AP_CHECKSUM_KRAKEN_CRC32` and the checksum `c`. Kraken
///   books have no sequence numbers, so all three sequences are 0.
///
/// Entries are `[price, volume, timestamp(, "r")]`, kept with the venue's
/// digits (the checksum is computed over them). Exchange time is the latest
/// entry timestamp, local time the line's prefix.
public struct KrakenBookDecoder: LineFeedDecoder {
    public let venue: String
    public let policy: BadRecordPolicy
    public var report = FeedReport()

    public init(venue: String = "kraken", policy: BadRecordPolicy = .stop) {
        self.venue = venue
        self.policy = policy
    }

    public mutating func decode(line: UnsafeBufferPointer<UInt8>, at position: FeedPosition) throws -> MarketEvent? {
        if line.starts(with: "wss://".utf8) { return nil }
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
              let seconds = JSONScanner.parseDecimal(UnsafeBufferPointer(rebasing: line[..<colon])),
              let localTime = nanoseconds(fromSeconds: seconds) else {
            throw FeedError(position, "expected '<recv_unix_seconds>: <message>' or a 'wss://' marker")
        }
        return try scanning(line, from: colon + 1, at: position) { s in
            let event = try Self.message(&s, venue: venue, localTime: localTime, position)
            guard s.atEnd() else { throw JSONScanError(offset: s.offset, "unexpected text after the message") }
            return event
        }
    }

    private static func message(_ s: inout JSONScanner, venue: String, localTime: Int64, _ position: FeedPosition) throws -> MarketEvent? {
        if try s.peekKind() == .object {
            var sawEvent = false
            var members = try s.beginObject()
            while let key = try s.nextKey(&members) {
                if key.equals("event") { sawEvent = true }
                try s.skipValue()
            }
            guard sawEvent else { throw FeedError(position, "an object message without \"event\"") }
            return nil
        }
        var book = Book()
        var strings: [String] = []
        var items = try s.beginArray()
        guard try s.nextElement(&items) else { throw FeedError(position, "an empty array message") }
        _ = try s.uint64()  // the channel id; the channel name and pair follow
        while try s.nextElement(&items) {
            switch try s.peekKind() {
            case .object: try book.read(&s, position)
            case .string: strings.append(try s.text())
            default: throw FeedError(position, "unexpected \(try s.peekKind()) in a channel message")
            }
        }
        guard strings.count == 2 else { throw FeedError(position, "a channel message needs its channel name and pair after the data") }
        let (channelName, pair) = (strings[0], strings[1])
        guard channelName.hasPrefix("book") else { return nil }
        guard let depth = channelName.split(separator: "-").last.flatMap({ UInt32($0) }) else {
            throw FeedError(position, "channel name \"\(channelName)\" does not end in a depth (\"book-1000\")")
        }
        let source = EventSource(venue: venue, symbol: pair, exchangeTimeNs: book.latestTime, localTimeNs: localTime)
        switch (book.isSnapshot, book.isUpdate) {
        case (true, false):
            return .bookSnapshot(source, bids: book.bids, asks: book.asks, sequence: 0, depth: depth,
                                 checksumKind: AP_CHECKSUM_NONE.rawValue, checksum: 0)
        case (false, true):
            guard let checksum = book.checksum else { throw FeedError(position, "a book update without its checksum \"c\"") }
            return .bookDelta(source, bids: book.bids, asks: book.asks, firstSequence: 0, lastSequence: 0, prevSequence: 0,
                              depth: depth, checksumKind: AP_CHECKSUM_KRAKEN_CRC32.rawValue, checksum: checksum)
        case (true, true): throw FeedError(position, "a book message mixes snapshot (\"as\"/\"bs\") and update (\"a\"/\"b\") keys")
        case (false, false): throw FeedError(position, "a book message without \"as\", \"bs\", \"a\" or \"b\"")
        }
    }

    /// The book dicts of one message (an update may come in two).
    private struct Book {
        var bids: [BookLevel] = [], asks: [BookLevel] = []
        var isSnapshot = false, isUpdate = false
        var checksum: UInt32?
        var latestTime: Int64 = 0

        mutating func read(_ s: inout JSONScanner, _ position: FeedPosition) throws {
            var members = try s.beginObject()
            while let key = try s.nextKey(&members) {
                if key.equals("as") || key.equals("a") {
                    isSnapshot = isSnapshot || key.count == 2
                    isUpdate = isUpdate || key.count == 1
                    latestTime = max(latestTime, try Self.entries(&s, into: &asks, position))
                } else if key.equals("bs") || key.equals("b") {
                    isSnapshot = isSnapshot || key.count == 2
                    isUpdate = isUpdate || key.count == 1
                    latestTime = max(latestTime, try Self.entries(&s, into: &bids, position))
                } else if key.equals("c") {
                    let value = try s.uint64()
                    guard let crc = UInt32(exactly: value) else { throw FeedError(position, "checksum \(value) does not fit 32 bits") }
                    checksum = crc
                } else {
                    try s.skipValue()
                }
            }
        }

        /// Appends the entries to `levels`; returns the latest entry time.
        private static func entries(_ s: inout JSONScanner, into levels: inout [BookLevel], _ position: FeedPosition) throws -> Int64 {
            var latestTime: Int64 = 0
            var items = try s.beginArray()
            while try s.nextElement(&items) {
                var fields = try s.beginArray()
                guard try s.nextElement(&fields) else { throw FeedError(position, "a book entry needs [price, volume, timestamp]") }
                let price = try s.decimal()
                guard try s.nextElement(&fields) else { throw FeedError(position, "a book entry needs [price, volume, timestamp]") }
                let volume = try s.decimal()
                guard try s.nextElement(&fields) else { throw FeedError(position, "a book entry needs [price, volume, timestamp]") }
                guard let time = nanoseconds(fromSeconds: try s.decimal()) else {
                    throw FeedError(position, "a book entry's timestamp is out of range")
                }
                while try s.nextElement(&fields) { try s.skipValue() }  // "r": a republished entry, applied the same way
                latestTime = max(latestTime, time)
                levels.append(BookLevel(price: price, size: volume))
            }
            return latestTime
        }
    }
}
