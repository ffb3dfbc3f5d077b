import CAlphaPlus
import Foundation

public enum Direction: UInt32, Sendable, CustomStringConvertible {
    case flat = 0
    case long = 1
    case short = 2

    public var description: String {
        switch self {
        case .flat: "flat"
        case .long: "long"
        case .short: "short"
        }
    }
}

/// A vote's short explanation: UTF-8 bytes the vote borrows, so a `Vote`
/// is a plain value that costs nothing to return. A string literal is
/// free; computed text goes through a `RationaleBuffer` the head owns.
// @unchecked: it borrows immutable bytes (a literal, or a buffer the head owns) that nothing writes while it is read.
public struct Rationale: @unchecked Sendable, Equatable, ExpressibleByStringLiteral, CustomStringConvertible {
    @usableFromInline let start: UnsafeRawPointer?
    @usableFromInline let count: Int

    // Computed, not stored: a stored static costs a once-check per use.
    public static var none: Rationale { Rationale(start: nil, count: 0) }

    @usableFromInline init(start: UnsafeRawPointer?, count: Int) {
        self.start = start
        self.count = count
    }

    @inlinable
    public init(stringLiteral value: StaticString) {
        // A literal's bytes live in the binary for the process's lifetime.
        self.init(start: value.hasPointerRepresentation ? UnsafeRawPointer(value.utf8Start) : nil,
                  count: value.hasPointerRepresentation ? value.utf8CodeUnitCount : 0)
    }

    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: start, count: count) }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    public static func == (a: Rationale, b: Rationale) -> Bool { a.bytes.elementsEqual(b.bytes) }

    /// Text that lives for the rest of the process, for votes read back
    /// from the C struct (TestHost). Each distinct text is stored once.
    package static func interned(_ text: String) -> Rationale {
        guard !text.isEmpty else { return .none }
        internLock.lock()
        defer { internLock.unlock() }
        if let known = internTable[text] { return known }
        let utf8 = Array(text.utf8)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: utf8.count, alignment: 1)
        storage.copyMemory(from: utf8, byteCount: utf8.count)
        let rationale = Rationale(start: UnsafeRawPointer(storage), count: utf8.count)
        internTable[text] = rationale
        return rationale
    }

    private static let internLock = NSLock()
    nonisolated(unsafe) private static var internTable: [String: Rationale] = [:]
}

/// Storage for computed rationales, owned by a head (keep it as a property):
/// `write` copies the text in, without allocating, and returns a rationale
/// valid until the next `write`. Text longer than the contract's 256 bytes
/// is cut as `Vote` cuts it (on a character, ending in "…").
// @unchecked: written and read by its head's calls, which the instance's executor runs one at a time.
public final class RationaleBuffer: @unchecked Sendable {
    private let storage = UnsafeMutableRawPointer.allocate(byteCount: Int(AP_RATIONALE_CAPACITY), alignment: 1)

    public init() {}

    deinit { storage.deallocate() }

    public func write(_ text: String) -> Rationale {
        var text = text
        return text.withUTF8 { utf8 in
            Rationale(start: UnsafeRawPointer(storage), count: Vote.copyRationale(UnsafeRawBufferPointer(utf8), to: storage))
        }
    }
}

/// A head's answer.
public struct Vote: Sendable, Equatable {
    public var direction: Direction
    /// In [0, 1]; the host refuses other values.
    public var confidence: Double
    /// At most 256 bytes of UTF-8 reach the host: a longer text is cut on a
    /// character boundary and ends in "…" (`AP_RATIONALE_TRUNCATION_MARK`).
    public var rationale: Rationale

    public init(_ direction: Direction, confidence: Double, rationale: Rationale = .none) {
        self.direction = direction
        self.confidence = confidence
        self.rationale = rationale
    }

    public static var flat: Vote { Vote(.flat, confidence: 0) }

    @inlinable
    func write(to out: UnsafeMutablePointer<ap_vote>) {
        out.pointee.direction = direction.rawValue
        out.pointee.confidence = confidence
        let target = UnsafeMutableRawPointer(out) + MemoryLayout<ap_vote>.offset(of: \.rationale)!
        out.pointee.rationale_len = UInt32(Vote.copyRationale(UnsafeRawBufferPointer(start: rationale.start, count: rationale.count), to: target))
    }

    /// "…": what ends a rationale cut to fit the contract's capacity.
    static let truncationMark: [UInt8] = Array(AP_RATIONALE_TRUNCATION_MARK.utf8)

    /// Copies `utf8` to `target` (`AP_RATIONALE_CAPACITY` bytes) and
    /// returns the bytes written: all of it when it fits, else as much as
    /// fits before "…" without splitting a character, then "…".
    @usableFromInline
    static func copyRationale(_ utf8: UnsafeRawBufferPointer, to target: UnsafeMutableRawPointer) -> Int {
        let capacity = Int(AP_RATIONALE_CAPACITY)
        guard utf8.count > capacity else {
            if !utf8.isEmpty { target.copyMemory(from: utf8.baseAddress!, byteCount: utf8.count) }
            return utf8.count
        }
        let kept = characterBoundary(utf8, atMost: capacity - truncationMark.count)
        target.copyMemory(from: utf8.baseAddress!, byteCount: kept)
        truncationMark.withUnsafeBytes { (target + kept).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        return kept + truncationMark.count
    }

    /// The longest prefix of `utf8`, at most `limit` bytes, that does not
    /// end inside a UTF-8 sequence (nor in one `utf8` itself left unfinished).
    static func characterBoundary(_ utf8: UnsafeRawBufferPointer, atMost limit: Int) -> Int {
        var count = min(utf8.count, limit)
        while count < utf8.count, count > 0, utf8[count] & 0xC0 == 0x80 { count -= 1 }
        // The last sequence: from its lead byte, is every byte there?
        var lead = count - 1
        while lead > 0, utf8[lead] & 0xC0 == 0x80 { lead -= 1 }
        guard lead >= 0 else { return 0 }
        let byte = utf8[lead]
        let length = byte < 0x80 ? 1 : byte >= 0xF0 ? 4 : byte >= 0xE0 ? 3 : 2
        return lead + length > count ? lead : count
    }

    /// The rationale a plugin wrote into `raw`, as the host reads it: up to
    /// `rationale_len` bytes (at most `AP_RATIONALE_CAPACITY`) and no
    /// further than the first NUL, so a head that declared the whole
    /// buffer stores no padding. A head that declared more than the
    /// capacity had its text cut (snprintf's return value, say): it is cut
    /// on a character to leave room for "…" and marked. Invalid UTF-8
    /// becomes U+FFFD.
    public static func rationaleText(of raw: UnsafePointer<ap_vote>) -> String {
        let capacity = Int(AP_RATIONALE_CAPACITY)
        let declared = Int(raw.pointee.rationale_len)
        let start = UnsafeRawPointer(raw) + MemoryLayout<ap_vote>.offset(of: \.rationale)!
        var bytes = UnsafeRawBufferPointer(start: start, count: min(declared, capacity))
        if let nul = bytes.firstIndex(of: 0) { bytes = UnsafeRawBufferPointer(rebasing: bytes[..<nul]) }
        guard declared > capacity else { return String(decoding: bytes, as: UTF8.self) }
        let kept = characterBoundary(bytes, atMost: capacity - truncationMark.count)
        return String(decoding: bytes[..<kept], as: UTF8.self) + AP_RATIONALE_TRUNCATION_MARK
    }

    /// Reads a vote a plugin wrote (used by hosts and `TestHost`); the
    /// rationale as `rationaleText(of:)` reads it.
    public init(_ raw: UnsafePointer<ap_vote>) {
        self.init(Direction(rawValue: raw.pointee.direction) ?? .flat, confidence: raw.pointee.confidence,
                  rationale: .interned(Vote.rationaleText(of: raw)))
    }
}

/// A name a head reads from frames, resolved to an index once per frame
/// layout, so that reading it on every frame is one comparison and one load.
/// Owned by one instance (instances run on one executor at a time).
public final class IndicatorKey {
    public let name: String
    private let utf8: [UInt8]
    // Owned by one instance, which the host never calls concurrently, so
    // the runtime's exclusivity checks would only cost time here.
    @usableFromInline @exclusivity(unchecked) var resolvedLayout: UInt64 = 0
    @usableFromInline @exclusivity(unchecked) var isResolved = false
    @usableFromInline @exclusivity(unchecked) var index = -1

    public init(_ name: String) {
        self.name = name
        self.utf8 = Array(name.utf8)
    }

    @inlinable @inline(__always)
    func index(in frame: UnsafePointer<ap_feature_frame>) -> Int {
        if !isResolved || resolvedLayout != frame.pointee.layout_id { resolve(in: frame) }
        return index
    }

    @usableFromInline
    func resolve(in frame: UnsafePointer<ap_feature_frame>) {
        index = -1
        for position in 0..<frame.pointee.indicator_count where frame.pointee.indicator_names[position].equals(utf8) {
            index = position
            break
        }
        resolvedLayout = frame.pointee.layout_id
        isResolved = true
    }
}

public struct Candle: Sendable, Equatable {
    public var openTimeNs: Int64
    public var intervalSeconds: Int64
    public var open, high, low, close, volume: Double
    public var tradeCount: UInt64

    public init(openTimeNs: Int64, intervalSeconds: Int64, open: Double, high: Double, low: Double,
                close: Double, volume: Double, tradeCount: UInt64 = 0) {
        self.openTimeNs = openTimeNs
        self.intervalSeconds = intervalSeconds
        self.open = open
        self.high = high
        self.low = low
        self.close = close
        self.volume = volume
        self.tradeCount = tradeCount
    }

    init(_ raw: ap_candle) {
        self.init(openTimeNs: raw.open_time_ns, intervalSeconds: raw.interval_s, open: raw.open, high: raw.high,
                  low: raw.low, close: raw.close, volume: raw.volume, tradeCount: raw.trade_count)
    }

    var raw: ap_candle {
        ap_candle(open_time_ns: openTimeNs, interval_s: intervalSeconds, open: open, high: high, low: low,
                  close: close, volume: volume, trade_count: tradeCount)
    }
}

/// Book features of a frame (NaN where the book is empty).
public struct BookFeatures: Sendable, Equatable {
    public var bestBid = Double.nan, bestAsk = Double.nan
    public var bestBidSize = Double.nan, bestAskSize = Double.nan
    public var mid = Double.nan, spread = Double.nan, microprice = Double.nan
    public var imbalance = Double.nan
    public var depth: UInt32 = 0
    public var tradeFlowImbalance = Double.nan

    public init() {}

    init(_ raw: UnsafePointer<ap_book_features>) {
        let size = Int(raw.pointee.struct_size)
        if size >= MemoryLayout<ap_book_features>.size {
            // The usual case, every field present: plain loads.
            let book = raw.pointee
            (bestBid, bestAsk, bestBidSize, bestAskSize) = (book.best_bid, book.best_ask, book.best_bid_size, book.best_ask_size)
            (mid, spread, microprice, imbalance) = (book.mid, book.spread, book.microprice, book.imbalance)
            (depth, tradeFlowImbalance) = (book.depth, book.trade_flow_imbalance)
            return
        }
        // An older, smaller sender: read only the fields its struct_size covers.
        func field<T>(_ keyPath: KeyPath<ap_book_features, T>, _ fallback: T) -> T {
            let offset = MemoryLayout<ap_book_features>.offset(of: keyPath)!
            return offset + MemoryLayout<T>.size <= size ? raw.pointee[keyPath: keyPath] : fallback
        }
        bestBid = field(\.best_bid, .nan)
        bestAsk = field(\.best_ask, .nan)
        bestBidSize = field(\.best_bid_size, .nan)
        bestAskSize = field(\.best_ask_size, .nan)
        mid = field(\.mid, .nan)
        spread = field(\.spread, .nan)
        microprice = field(\.microprice, .nan)
        imbalance = field(\.imbalance, .nan)
        depth = field(\.depth, 0)
        tradeFlowImbalance = field(\.trade_flow_imbalance, .nan)
    }

    var raw: ap_book_features {
        ap_book_features(struct_size: UInt32(MemoryLayout<ap_book_features>.size), best_bid: bestBid, best_ask: bestAsk,
                         best_bid_size: bestBidSize, best_ask_size: bestAskSize, mid: mid, spread: spread,
                         microprice: microprice, imbalance: imbalance, depth: depth,
                         trade_flow_imbalance: tradeFlowImbalance)
    }
}

public enum FrameTrigger: UInt32, Sendable {
    case candleClose = 1
    case bookUpdate = 2
}

/// A zero-copy view of the host's feature frame, valid only during
/// `evaluate` (do not store it).
public struct FeatureFrame {
    public let raw: UnsafePointer<ap_feature_frame>

    public init(_ raw: UnsafePointer<ap_feature_frame>) { self.raw = raw }

    public var trigger: FrameTrigger? { FrameTrigger(rawValue: raw.pointee.trigger) }
    public var venue: String { raw.pointee.venue.string }
    public var symbol: String { raw.pointee.symbol.string }
    public var timeframeSeconds: Int64 { raw.pointee.timeframe_s }
    public var timestampNs: Int64 { raw.pointee.ts_ns }
    public var candle: Candle { Candle(raw.pointee.candle) }
    public var close: Double { raw.pointee.candle.close }
    public var layoutID: UInt64 { raw.pointee.layout_id }
    public var book: BookFeatures? { raw.pointee.book.map(BookFeatures.init) }

    /// The indicator's value, NaN when absent or still warming up.
    @inlinable @inline(__always)
    public subscript(_ key: IndicatorKey) -> Double {
        let index = key.index(in: raw)
        // The bound check keeps a host that reuses a layout id for other
        // names from making us read out of bounds.
        return index >= 0 && index < raw.pointee.indicator_count ? raw.pointee.indicator_values[index] : .nan
    }

    /// All indicators by name (allocates; for tests and diagnostics).
    public var indicators: [String: Double] {
        let frame = raw.pointee
        var result: [String: Double] = [:]
        for index in 0..<frame.indicator_count {
            result[frame.indicator_names[index].string] = frame.indicator_values[index]
        }
        return result
    }
}
