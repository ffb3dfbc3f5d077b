import Foundation

/// One scored news item as the head keeps it.
public struct ScoredNews: Sendable, Equatable {
    /// The item's time (`exchange_ts_ns`).
    public var timestampNs: Int64
    /// The text's normalised score, in (-1, 1).
    public var score: Double
    /// The headline's leading words, for the rationale.
    public var lead: String

    public init(timestampNs: Int64, score: Double, lead: String) {
        self.timestampNs = timestampNs
        self.score = score
        self.lead = lead
    }
}

/// The decayed news sentiment of one symbol at one time.
public struct SentimentAggregate: Sendable, Equatable {
    /// Σ weight × score × 2^(−age / half-life) over the items counted.
    public var value: Double = 0
    /// Items counted: those with age in [0, max age].
    public var items = 0
    /// Counted items whose contribution has the sign of `value`.
    public var supporting = 0
    /// The supporting item with the largest contribution.
    public var strongest: ScoredNews?
}

/// The news items a sentiment head has seen, per symbol and market-wide,
/// with their decay. Bounded: at most `maxItemsPerSymbol` items per symbol
/// (and market-wide), `maxSymbols` symbols and `rememberedIDs` ids for
/// de-duplication; the oldest go first.
public final class SentimentBook {
    public struct Limits: Sendable {
        public var halfLifeNs: Double
        public var maxAgeNs: Int64
        /// The weight of market-wide items in every symbol's aggregate.
        public var marketWideWeight: Double
        public var maxItemsPerSymbol: Int
        public var maxSymbols: Int
        public var rememberedIDs: Int

        public init(halfLifeNs: Double, maxAgeNs: Int64, marketWideWeight: Double, maxItemsPerSymbol: Int,
                    maxSymbols: Int = 1024, rememberedIDs: Int = 10_000) {
            self.halfLifeNs = halfLifeNs
            self.maxAgeNs = maxAgeNs
            self.marketWideWeight = marketWideWeight
            self.maxItemsPerSymbol = maxItemsPerSymbol
            self.maxSymbols = maxSymbols
            self.rememberedIDs = rememberedIDs
        }
    }

    public let limits: Limits
    /// Per symbol, oldest first.
    private var bySymbol: [String: [ScoredNews]] = [:]
    private var marketWide: [ScoredNews] = []
    private var seen = RecentKeys(capacity: 1)

    public init(limits: Limits) {
        self.limits = limits
        seen = RecentKeys(capacity: limits.rememberedIDs)
    }

    /// Files an item under its symbols (market-wide when there are none).
    /// False, and nothing filed, when an item with this source and id was
    /// already seen.
    @discardableResult
    public func add(_ item: ScoredNews, id: String, source: String, symbols: [String]) -> Bool {
        guard seen.insert("\(source)\u{1F}\(id)") else { return false }
        guard item.score != 0 else { return true }  // contributes nothing
        if symbols.isEmpty {
            Self.insert(item, into: &marketWide, cap: limits.maxItemsPerSymbol)
        }
        for symbol in symbols {
            if bySymbol[symbol] == nil && bySymbol.count >= limits.maxSymbols { evictStalestSymbol() }
            Self.insert(item, into: &bySymbol[symbol, default: []], cap: limits.maxItemsPerSymbol)
        }
        return true
    }

    /// The symbol's sentiment at `atNs`. Items newer than `atNs` are not
    /// counted (no look-ahead); items older than the maximum age are
    /// dropped for good.
    public func aggregate(symbol: String, atNs: Int64) -> SentimentAggregate {
        let oldest = atNs - limits.maxAgeNs
        bySymbol[symbol]?.removeAll { $0.timestampNs < oldest }
        marketWide.removeAll { $0.timestampNs < oldest }
        var result = SentimentAggregate()
        let own = bySymbol[symbol] ?? []
        func eachContribution(_ body: (ScoredNews, Double) -> Void) {
            for item in own where item.timestampNs <= atNs { body(item, item.score * decay(atNs - item.timestampNs)) }
            guard limits.marketWideWeight > 0 else { return }
            for item in marketWide where item.timestampNs <= atNs {
                body(item, limits.marketWideWeight * item.score * decay(atNs - item.timestampNs))
            }
        }
        eachContribution { _, contribution in
            result.value += contribution
            result.items += 1
        }
        var strongestContribution = 0.0
        eachContribution { item, contribution in
            guard contribution != 0, (contribution > 0) == (result.value > 0) else { return }
            result.supporting += 1
            if abs(contribution) > strongestContribution {
                strongestContribution = abs(contribution)
                result.strongest = item
            }
        }
        return result
    }

    /// 2^(−age / half-life).
    private func decay(_ ageNs: Int64) -> Double {
        exp(-M_LN2 * Double(ageNs) / limits.halfLifeNs)
    }

    /// Inserts in time order, then drops the oldest beyond `cap`.
    private static func insert(_ item: ScoredNews, into items: inout [ScoredNews], cap: Int) {
        let position = items.lastIndex { $0.timestampNs <= item.timestampNs }.map { $0 + 1 } ?? 0
        items.insert(item, at: position)
        if items.count > cap { items.removeFirst(items.count - cap) }
    }

    /// Forgets the symbol whose newest item is the oldest.
    private func evictStalestSymbol() {
        let stalest = bySymbol.min { ($0.value.last?.timestampNs ?? .min) < ($1.value.last?.timestampNs ?? .min) }
        if let stalest { bySymbol[stalest.key] = nil }
    }
}

/// The last `capacity` keys inserted, for de-duplication in bounded memory.
struct RecentKeys {
    private var keys: Set<String> = []
    private var order: [String] = []
    private var next = 0
    let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// False when `key` is among the remembered ones.
    mutating func insert(_ key: String) -> Bool {
        guard !keys.contains(key) else { return false }
        if order.count < capacity {
            order.append(key)
        } else {
            keys.remove(order[next])
            order[next] = key
            next = (next + 1) % capacity
        }
        keys.insert(key)
        return true
    }
}
