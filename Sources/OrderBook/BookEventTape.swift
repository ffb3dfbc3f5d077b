import AlphaPlusSDK
import CAlphaPlus

/// One symbol's book events laid out once as the contract's C structs, in
/// storage that stays put, so they can be applied to a BookBuilder in a
/// tight loop exactly as the host receives them from a plugin — e.g. a
/// benchmark that decodes a capture once and replays it many times.
public final class BookEventTape {
    public enum Entry {
        case snapshot(UnsafePointer<ap_book_snapshot_event>)
        case delta(UnsafePointer<ap_book_delta_event>)
    }

    public let venue: String
    public let symbol: String
    private let entries: [Entry]
    private let levels: UnsafeMutableBufferPointer<ap_book_level>
    private let snapshots: UnsafeMutableBufferPointer<ap_book_snapshot_event>
    private let deltas: UnsafeMutableBufferPointer<ap_book_delta_event>
    private let names: UnsafeMutableBufferPointer<UInt8>

    /// Keeps the book snapshots and deltas of `symbol` from `events`, in order.
    public init(_ events: [MarketEvent], symbol: String) {
        self.symbol = symbol
        var venue = "", levelCount = 0, snapshotCount = 0, deltaCount = 0
        for event in events where event.source.symbol == symbol {
            switch event {
            case let .bookSnapshot(source, bids, asks, _, _, _, _):
                venue = source.venue; levelCount += bids.count + asks.count; snapshotCount += 1
            case let .bookDelta(source, bids, asks, _, _, _, _, _, _):
                venue = source.venue; levelCount += bids.count + asks.count; deltaCount += 1
            default: continue
            }
        }
        self.venue = venue
        let levels = UnsafeMutableBufferPointer<ap_book_level>.allocate(capacity: levelCount)
        let snapshots = UnsafeMutableBufferPointer<ap_book_snapshot_event>.allocate(capacity: snapshotCount)
        let deltas = UnsafeMutableBufferPointer<ap_book_delta_event>.allocate(capacity: deltaCount)
        let names = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: venue.utf8.count + symbol.utf8.count)
        _ = names.initialize(from: Array(venue.utf8) + Array(symbol.utf8))
        let venueStr = ap_str(ptr: UnsafeRawPointer(names.baseAddress!).assumingMemoryBound(to: CChar.self), len: venue.utf8.count)
        let symbolStr = ap_str(ptr: venueStr.ptr + venue.utf8.count, len: symbol.utf8.count)

        var entries: [Entry] = []
        var nextLevel = 0, nextSnapshot = 0, nextDelta = 0
        func store(_ list: [BookLevel]) -> UnsafePointer<ap_book_level>? {
            guard !list.isEmpty else { return nil }
            let start = levels.baseAddress! + nextLevel
            for level in list {
                (levels.baseAddress! + nextLevel).initialize(to: ap_book_level(
                    price: ap_decimal(mantissa: level.price.mantissa, exponent: level.price.exponent),
                    size: ap_decimal(mantissa: level.size.mantissa, exponent: level.size.exponent), order_id: level.orderID))
                nextLevel += 1
            }
            return UnsafePointer(start)
        }
        func header<T>(_ kind: ap_event_kind, _: T.Type, _ source: EventSource) -> ap_event_header {
            ap_event_header(struct_size: UInt32(MemoryLayout<T>.size), kind: kind.rawValue, venue: venueStr, symbol: symbolStr,
                            exchange_ts_ns: source.exchangeTimeNs, local_ts_ns: source.localTimeNs)
        }
        for event in events where event.source.symbol == symbol {
            switch event {
            case let .bookSnapshot(source, bids, asks, sequence, depth, checksumKind, checksum):
                let slot = snapshots.baseAddress! + nextSnapshot
                slot.initialize(to: ap_book_snapshot_event(
                    header: header(AP_EVENT_BOOK_SNAPSHOT, ap_book_snapshot_event.self, source),
                    bids: store(bids), bid_count: bids.count, asks: store(asks), ask_count: asks.count,
                    sequence: sequence, depth: depth, checksum_kind: checksumKind, checksum: checksum))
                nextSnapshot += 1
                entries.append(.snapshot(UnsafePointer(slot)))
            case let .bookDelta(source, bids, asks, first, last, prev, depth, checksumKind, checksum):
                let slot = deltas.baseAddress! + nextDelta
                slot.initialize(to: ap_book_delta_event(
                    header: header(AP_EVENT_BOOK_DELTA, ap_book_delta_event.self, source),
                    bids: store(bids), bid_count: bids.count, asks: store(asks), ask_count: asks.count,
                    first_sequence: first, last_sequence: last, prev_sequence: prev,
                    depth: depth, checksum_kind: checksumKind, checksum: checksum))
                nextDelta += 1
                entries.append(.delta(UnsafePointer(slot)))
            default: continue
            }
        }
        self.entries = entries
        self.levels = levels
        self.snapshots = snapshots
        self.deltas = deltas
        self.names = names
    }

    deinit {
        levels.deallocate()
        snapshots.deallocate()
        deltas.deallocate()
        names.deallocate()
    }

    public var count: Int { entries.count }
    public var deltaCount: Int { deltas.count }

    public subscript(index: Int) -> Entry { entries[index] }

    /// Applies every event, in order. Valid while the tape lives.
    public func apply(to builder: BookBuilder) {
        for entry in entries {
            switch entry {
            case .snapshot(let event): builder.apply(event)
            case .delta(let event): builder.apply(event)
            }
        }
    }
}

/// The books of every symbol in a stream of market events, keyed by
/// symbol, in the order the symbols first appeared. Events go through the
/// contract's C structs, as from a plugin; trades and quotes are ignored.
public final class BookSet {
    public let venue: String
    public private(set) var symbols: [String] = []
    private var builders: [String: BookBuilder] = [:]
    private let makeBuilder: (String) -> BookBuilder

    public init(venue: String, makeBuilder: ((String) -> BookBuilder)? = nil) {
        self.venue = venue
        self.makeBuilder = makeBuilder ?? { BookBuilder(venue: venue, symbol: $0) }
    }

    public subscript(symbol: String) -> BookBuilder? { builders[symbol] }

    public func apply(_ event: MarketEvent) {
        switch event {
        case .bookSnapshot, .bookDelta: break
        default: return
        }
        let symbol = event.source.symbol
        let builder: BookBuilder
        if let known = builders[symbol] {
            builder = known
        } else {
            builder = makeBuilder(symbol)
            builders[symbol] = builder
            symbols.append(symbol)
        }
        event.withCEvent { header in
            let raw = UnsafeRawPointer(header)
            if header.pointee.kind == AP_EVENT_BOOK_SNAPSHOT.rawValue {
                builder.apply(raw.assumingMemoryBound(to: ap_book_snapshot_event.self))
            } else {
                builder.apply(raw.assumingMemoryBound(to: ap_book_delta_event.self))
            }
        }
    }
}
