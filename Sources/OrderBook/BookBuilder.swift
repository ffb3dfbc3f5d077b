import AlphaPlusSDK
import CAlphaPlus

/// What a BookBuilder has done, for operators and tests.
public struct BookCounters: Sendable, Equatable {
    public var snapshotsApplied = 0
    public var deltasApplied = 0
    /// Deltas held before a snapshot (or after a break) to bridge it.
    public var deltasBuffered = 0
    /// Deltas already contained in the snapshot, or unsequenced deltas
    /// that arrived while the book was not synced.
    public var deltasDropped = 0
    /// Buffered deltas thrown away, oldest first, because the buffer was full.
    public var bufferOverflows = 0
    public var sequenceBreaks = 0
    public var checksumsMatched = 0
    public var checksumsTotal = 0
    /// Times the book went from uncrossed to crossed (best bid ≥ best ask).
    public var crossedEpisodes = 0
    /// Events refused as malformed (a NULL level array with a count,
    /// negative prices or sizes, an order-book delta without order ids,
    /// decimals too large to add); the book is left as it was.
    public var rejectedEvents = 0
    public init() {}
}

/// Builds the order book of one (venue, symbol) from the contract's book
/// events, checks sequencing and checksums, and serves top-of-book
/// features. Not thread-safe: one builder belongs to one ingest thread.
///
/// Two modes, chosen by each snapshot: an L2 book of price levels, or,
/// when the snapshot's levels carry order ids, an order-by-order book
/// (order id → side, price, size) aggregated into levels exactly.
///
/// Crossed books: a delta is applied as the venue reports it even when it
/// leaves best bid ≥ best ask (the venue's own removals uncross the book
/// later); episodes are counted and, while crossed, mid, spread,
/// microprice and imbalance are NaN.
///
/// Steady state allocates nothing per delta: sides and the order map are
/// reserved up front and only grow past their reservation.
public final class BookBuilder {
    public let venue: String
    public let symbol: String
    public private(set) var counters = BookCounters()
    /// Sequence breaks, in order (the first `maxKeptRecords`).
    public private(set) var sequenceBreakRecords: [SequenceBreak] = []
    public static let maxKeptRecords = 100
    /// For each crossed episode that ended, the deltas it took to uncross
    /// (the first `maxKeptRecords`).
    public private(set) var crossedEpisodeLengths: [Int] = []

    private var bids: BookSide
    private var asks: BookSide
    private var sequencer = BookSequencer()
    private var isOrderBook = false
    private var orders: [UInt64: RestingOrder] = [:]
    private var deltasWhileCrossed = 0
    public private(set) var isCrossed = false

    private let maxBufferedDeltas: Int
    private let maxBufferedLevels: Int
    private var buffered: [BufferedDelta] = []
    private var bufferedLevels: [ap_book_level] = []
    // The buffer being replayed after a snapshot; kept to reuse its storage.
    private var replaying: [BufferedDelta] = []
    private var replayingLevels: [ap_book_level] = []

    private struct RestingOrder {
        var isBid: Bool
        var price: ExactDecimal
        var size: ExactDecimal
    }

    private struct BufferedDelta {
        var bidStart: Int, bidCount: Int, askStart: Int, askCount: Int
        var first: UInt64, last: UInt64, prev: UInt64
        var depth: UInt32, checksumKind: UInt32, checksum: UInt32
    }

    /// - Parameters:
    ///   - reservedLevels: levels per side reserved up front.
    ///   - reservedOrders: resting orders reserved up front (order books).
    ///   - maxBufferedDeltas, maxBufferedLevels: the bounds of the buffer
    ///     that holds deltas until a snapshot arrives.
    public init(venue: String, symbol: String, reservedLevels: Int = 4096, reservedOrders: Int = 0,
                maxBufferedDeltas: Int = 4096, maxBufferedLevels: Int = 1 << 18) {
        self.venue = venue
        self.symbol = symbol
        bids = BookSide(isBid: true, reserving: reservedLevels)
        asks = BookSide(isBid: false, reserving: reservedLevels)
        orders.reserveCapacity(reservedOrders)
        self.maxBufferedDeltas = maxBufferedDeltas
        self.maxBufferedLevels = maxBufferedLevels
    }

    // MARK: Applying events

    public func apply(_ snapshot: UnsafePointer<ap_book_snapshot_event>) {
        let event = snapshot.pointee
        guard let bidLevels = Self.levels(event.bids, event.bid_count),
              let askLevels = Self.levels(event.asks, event.ask_count),
              Self.valid(bidLevels), Self.valid(askLevels) else {
            counters.rejectedEvents += 1
            return
        }
        let withOrderIDs = bidLevels.contains { $0.order_id != 0 } || askLevels.contains { $0.order_id != 0 }
        // An order book needs every order's id.
        if withOrderIDs && (bidLevels.contains { $0.order_id == 0 } || askLevels.contains { $0.order_id == 0 }) {
            counters.rejectedEvents += 1
            return
        }
        isOrderBook = withOrderIDs
        orders.removeAll(keepingCapacity: true)
        if isOrderBook {
            bids.removeAll()
            asks.removeAll()
            for level in bidLevels where !applyOrder(level, isBid: true) { return reject() }
            for level in askLevels where !applyOrder(level, isBid: false) { return reject() }
        } else {
            bids.replace(with: bidLevels)
            asks.replace(with: askLevels)
            truncate(to: event.depth)
        }
        counters.snapshotsApplied += 1
        sequencer.snapshotApplied(sequence: event.sequence)
        updateCrossed(afterDelta: false)
        replayBuffered()
    }

    public func apply(_ delta: UnsafePointer<ap_book_delta_event>) {
        let event = delta.pointee
        guard let bidLevels = Self.levels(event.bids, event.bid_count),
              let askLevels = Self.levels(event.asks, event.ask_count) else {
            counters.rejectedEvents += 1
            return
        }
        admit(bids: bidLevels, asks: askLevels, first: event.first_sequence, last: event.last_sequence,
              prev: event.prev_sequence, depth: event.depth, checksumKind: event.checksum_kind, checksum: event.checksum)
    }

    private func admit(bids bidLevels: UnsafeBufferPointer<ap_book_level>, asks askLevels: UnsafeBufferPointer<ap_book_level>,
                       first: UInt64, last: UInt64, prev: UInt64, depth: UInt32, checksumKind: UInt32, checksum: UInt32) {
        guard Self.valid(bidLevels), Self.valid(askLevels) else {
            counters.rejectedEvents += 1
            return
        }
        switch sequencer.admit(first: first, last: last, prev: prev) {
        case .apply:
            applyDelta(bids: bidLevels, asks: askLevels, depth: depth, checksumKind: checksumKind, checksum: checksum)
        case .drop:
            counters.deltasDropped += 1
        case .buffer:
            buffer(bids: bidLevels, asks: askLevels, first: first, last: last, prev: prev,
                   depth: depth, checksumKind: checksumKind, checksum: checksum)
        case let .gap(expected, got, missing):
            counters.sequenceBreaks += 1
            if sequenceBreakRecords.count < Self.maxKeptRecords {
                sequenceBreakRecords.append(SequenceBreak(expected: expected, got: got, missing: missing, afterDeltasApplied: counters.deltasApplied))
            }
            // It may bridge the next snapshot.
            buffer(bids: bidLevels, asks: askLevels, first: first, last: last, prev: prev,
                   depth: depth, checksumKind: checksumKind, checksum: checksum)
        }
    }

    private func applyDelta(bids bidLevels: UnsafeBufferPointer<ap_book_level>, asks askLevels: UnsafeBufferPointer<ap_book_level>,
                            depth: UInt32, checksumKind: UInt32, checksum: UInt32) {
        if isOrderBook {
            for level in bidLevels where !applyOrder(level, isBid: true) { return reject() }
            for level in askLevels where !applyOrder(level, isBid: false) { return reject() }
        } else {
            for level in bidLevels { bids.set(price: ExactDecimal(level.price), size: ExactDecimal(level.size)) }
            for level in askLevels { asks.set(price: ExactDecimal(level.price), size: ExactDecimal(level.size)) }
            truncate(to: depth)
        }
        counters.deltasApplied += 1
        if checksumKind == AP_CHECKSUM_KRAKEN_CRC32.rawValue {
            counters.checksumsTotal += 1
            if KrakenChecksum.of(bids: bids, asks: asks) == checksum {
                counters.checksumsMatched += 1
            } else {
                sequencer.desynchronise()  // wrong from here on: wait for a snapshot
            }
        }
        updateCrossed(afterDelta: true)
    }

    /// An order-book event that cannot be applied leaves the book unknown.
    private func reject() {
        counters.rejectedEvents += 1
        sequencer.desynchronise()
    }

    /// Places, changes or (size 0) removes one order. False when it has no
    /// id or its sizes overflow.
    private func applyOrder(_ level: ap_book_level, isBid: Bool) -> Bool {
        guard level.order_id != 0 else { return false }
        if let old = orders[level.order_id] {
            let removed = ExactDecimal(mantissa: -old.size.mantissa, exponent: old.size.exponent)
            let done = old.isBid ? bids.add(price: old.price, change: removed) : asks.add(price: old.price, change: removed)
            guard done else { return false }
        }
        let size = ExactDecimal(level.size)
        guard size.mantissa > 0 else {
            orders.removeValue(forKey: level.order_id)
            return true
        }
        let price = ExactDecimal(level.price)
        orders[level.order_id] = RestingOrder(isBid: isBid, price: price, size: size)
        return isBid ? bids.add(price: price, change: size) : asks.add(price: price, change: size)
    }

    private func truncate(to depth: UInt32) {
        bids.truncate(to: Int(depth))
        asks.truncate(to: Int(depth))
    }

    private func updateCrossed(afterDelta: Bool) {
        let crossed: Bool
        if let bid = bids.best, let ask = asks.best { crossed = DecimalMath.compare(bid.price, ask.price) >= 0 } else { crossed = false }
        if crossed && !isCrossed {
            counters.crossedEpisodes += 1
            deltasWhileCrossed = 0
        } else if crossed && afterDelta {
            deltasWhileCrossed += 1
        } else if !crossed && isCrossed {
            if afterDelta { deltasWhileCrossed += 1 }
            if crossedEpisodeLengths.count < Self.maxKeptRecords { crossedEpisodeLengths.append(deltasWhileCrossed) }
        }
        isCrossed = crossed
    }

    // MARK: The buffer before a snapshot

    private func buffer(bids bidLevels: UnsafeBufferPointer<ap_book_level>, asks askLevels: UnsafeBufferPointer<ap_book_level>,
                        first: UInt64, last: UInt64, prev: UInt64, depth: UInt32, checksumKind: UInt32, checksum: UInt32) {
        let levelCount = bidLevels.count + askLevels.count
        guard levelCount <= maxBufferedLevels else {
            counters.bufferOverflows += 1
            return
        }
        while buffered.count >= maxBufferedDeltas || bufferedLevels.count + levelCount > maxBufferedLevels {
            dropOldestBuffered()
        }
        let bidStart = bufferedLevels.count
        bufferedLevels.append(contentsOf: bidLevels)
        bufferedLevels.append(contentsOf: askLevels)
        buffered.append(BufferedDelta(bidStart: bidStart, bidCount: bidLevels.count, askStart: bidStart + bidLevels.count,
                                      askCount: askLevels.count, first: first, last: last, prev: prev,
                                      depth: depth, checksumKind: checksumKind, checksum: checksum))
        counters.deltasBuffered += 1
    }

    private func dropOldestBuffered() {
        let oldest = buffered.removeFirst()
        let levelCount = oldest.bidCount + oldest.askCount
        bufferedLevels.removeFirst(levelCount)
        for index in buffered.indices {
            buffered[index].bidStart -= levelCount
            buffered[index].askStart -= levelCount
        }
        counters.bufferOverflows += 1
    }

    /// Feeds the buffered deltas through the sequencer after a snapshot;
    /// those that still do not fit are buffered again.
    private func replayBuffered() {
        guard !buffered.isEmpty else { return }
        swap(&buffered, &replaying)
        swap(&bufferedLevels, &replayingLevels)
        replayingLevels.withUnsafeBufferPointer { levels in
            for delta in replaying {
                admit(bids: UnsafeBufferPointer(rebasing: levels[delta.bidStart..<delta.bidStart + delta.bidCount]),
                      asks: UnsafeBufferPointer(rebasing: levels[delta.askStart..<delta.askStart + delta.askCount]),
                      first: delta.first, last: delta.last, prev: delta.prev,
                      depth: delta.depth, checksumKind: delta.checksumKind, checksum: delta.checksum)
            }
        }
        replaying.removeAll(keepingCapacity: true)
        replayingLevels.removeAll(keepingCapacity: true)
    }

    private static func levels(_ pointer: UnsafePointer<ap_book_level>?, _ count: Int) -> UnsafeBufferPointer<ap_book_level>? {
        guard let pointer else { return count == 0 ? UnsafeBufferPointer(start: nil, count: 0) : nil }
        return UnsafeBufferPointer(start: pointer, count: count)
    }

    private static func valid(_ levels: UnsafeBufferPointer<ap_book_level>) -> Bool {
        for level in levels where level.price.mantissa < 0 || level.size.mantissa < 0 { return false }
        return true
    }

    // MARK: Reading the book

    /// True from a snapshot until a sequence break or checksum mismatch.
    public var isSynced: Bool { sequencer.isSynced }
    /// The last sequence applied (the snapshot's or the last delta's), 0 for unsequenced venues.
    public var lastSequence: UInt64 { sequencer.lastSequence }
    public var isOrderByOrder: Bool { isOrderBook }
    public var bidLevelCount: Int { bids.count }
    public var askLevelCount: Int { asks.count }
    public var restingOrderCount: Int { orders.count }
    /// Deltas waiting for a snapshot.
    public var bufferedDeltaCount: Int { buffered.count }

    public var bestBid: PriceLevel? { bids.best }
    public var bestAsk: PriceLevel? { asks.best }

    /// The best `limit` levels of each side, best first.
    public func topBids(_ limit: Int) -> [PriceLevel] { (0..<min(limit, bids.count)).map { bids.level(fromBest: $0) } }
    public func topAsks(_ limit: Int) -> [PriceLevel] { (0..<min(limit, asks.count)).map { asks.level(fromBest: $0) } }

    /// Both sides present and not crossed: the features below are defined.
    private var quotable: (bid: PriceLevel, ask: PriceLevel)? {
        guard !isCrossed, let bid = bids.best, let ask = asks.best else { return nil }
        return (bid, ask)
    }

    public var mid: Double {
        guard let (bid, ask) = quotable else { return .nan }
        return (bid.price.doubleValue + ask.price.doubleValue) / 2
    }

    public var spread: Double {
        guard let (bid, ask) = quotable else { return .nan }
        return ask.price.doubleValue - bid.price.doubleValue
    }

    /// The mid weighted towards the side with less size.
    public var microprice: Double {
        guard let (bid, ask) = quotable else { return .nan }
        return Self.microprice(bid: bid.price.doubleValue, bidSize: bid.size.doubleValue,
                               ask: ask.price.doubleValue, askSize: ask.size.doubleValue)
    }

    /// bid × askSize + ask × bidSize over their sum; NaN without size.
    public static func microprice(bid: Double, bidSize: Double, ask: Double, askSize: Double) -> Double {
        let sizes = bidSize + askSize
        return sizes > 0 ? (bid * askSize + ask * bidSize) / sizes : .nan
    }

    /// (bid − ask) / (bid + ask) size over the top `levels` of each side, in [-1, 1].
    public func imbalance(levels: Int) -> Double {
        guard quotable != nil else { return .nan }
        var bidSize = 0.0, askSize = 0.0
        for rank in 0..<min(levels, bids.count) { bidSize += bids.level(fromBest: rank).size.doubleValue }
        for rank in 0..<min(levels, asks.count) { askSize += asks.level(fromBest: rank).size.doubleValue }
        return (bidSize - askSize) / (bidSize + askSize)
    }

    /// The contract's book features (trade flow is not the book's: NaN).
    public func features(imbalanceLevels: UInt32) -> ap_book_features {
        ap_book_features(struct_size: UInt32(MemoryLayout<ap_book_features>.size),
                         best_bid: bids.best?.price.doubleValue ?? .nan, best_ask: asks.best?.price.doubleValue ?? .nan,
                         best_bid_size: bids.best?.size.doubleValue ?? .nan, best_ask_size: asks.best?.size.doubleValue ?? .nan,
                         mid: mid, spread: spread, microprice: microprice, imbalance: imbalance(levels: Int(imbalanceLevels)),
                         depth: imbalanceLevels, trade_flow_imbalance: .nan)
    }
}
