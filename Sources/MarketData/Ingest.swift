import CAlphaPlus

/// Why ingest refused a market event. Each is counted and logged.
public enum IngestRejection: Int, CaseIterable, Sendable, CustomStringConvertible {
    case unknownSymbol, nonPositivePrice, negativeSize, nonFiniteValue, inconsistentCandle, crossedQuote,
         duplicateTrade, duplicateCandle, timestampBackwards, timestampInFuture

    public var description: String {
        switch self {
        case .unknownSymbol: "unknown_symbol"
        case .nonPositivePrice: "non_positive_price"
        case .negativeSize: "negative_size"
        case .nonFiniteValue: "non_finite_value"
        case .inconsistentCandle: "inconsistent_candle"
        case .crossedQuote: "crossed_quote"
        case .duplicateTrade: "duplicate_trade"
        case .duplicateCandle: "duplicate_candle"
        case .timestampBackwards: "timestamp_backwards"
        case .timestampInFuture: "timestamp_in_future"
        }
    }
}

/// Events that should have arrived and did not: a jump in a venue's
/// sequence numbers.
public struct DataLoss: Sendable, Equatable, CustomStringConvertible {
    public enum Stream: String, Sendable { case trades, book }
    public var venue: String
    public var symbol: String
    public var stream: Stream
    /// The sequence that should have come next, and the one that came.
    public var expected: UInt64
    public var received: UInt64
    public var detectedAtNs: Int64

    public var missing: UInt64 { received > expected ? received - expected : 0 }

    public var description: String {
        "\(venue) \(symbol) \(stream.rawValue): expected sequence \(expected), got \(received) (\(missing) missing)"
    }
}

public enum IngestResult: Hashable, Sendable {
    case accepted
    case rejected(IngestRejection)
}

/// The last `capacity` trade ids of a stream (as 64-bit hashes), to drop
/// trades a venue or a reconnect delivers twice. Fixed memory.
struct RecentIDs {
    private var ring: [UInt64]
    private var members: Set<UInt64>
    private var next = 0

    init(capacity: Int) {
        ring = [UInt64](repeating: 0, count: capacity)
        members = Set(minimumCapacity: capacity * 2)
    }

    /// False when `id` is among the recent ones; remembers it otherwise.
    mutating func insert(_ id: UInt64) -> Bool {
        guard members.insert(id).inserted else { return false }
        let evicted = ring[next]
        if evicted != 0 { members.remove(evicted) }
        ring[next] = id
        next = (next + 1) % ring.count
        return true
    }

    static func hash(_ text: ap_str) -> UInt64 {
        let hash = fnv1a(UnsafeRawBufferPointer(start: text.ptr, count: text.ptr == nil ? 0 : text.len))
        return hash == 0 ? 1 : hash  // 0 marks an empty ring slot
    }
}

/// 64-bit FNV-1a: a cheap, stable hash of a few bytes (ids, layout names).
func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
    return hash
}
