import CAlphaPlus

/// What a timeframe does with a bucket in which nothing traded.
public enum EmptyBucketPolicy: String, Sendable, CaseIterable {
    /// No candle: the series has a gap, as the bar files in ../shared do.
    case skip
    /// A flat candle at the previous close with zero volume, as venues'
    /// kline endpoints publish (the default: heads see an even clock).
    case carryForward = "carry_forward"
}

/// The timeframes and closing rules of one symbol's candles.
public struct CandleConfiguration: Sendable, Equatable {
    /// Bucket lengths in seconds, ascending; each divides the next ones'
    /// alignment (UTC epoch multiples).
    public var timeframes: [Int64]
    /// How long after its end a bucket waits for late trades before the
    /// clock closes it.
    public var gracePeriodNs: Int64
    public var emptyBuckets: EmptyBucketPolicy
    /// At most this many flat candles are made for one gap; a longer gap
    /// (a feed down for days) is left as a gap rather than invented.
    public var maximumFilledBuckets: Int

    public static let standardTimeframes: [Int64] = [60, 300, 900, 3600, 14_400, 86_400]

    public init(timeframes: [Int64] = standardTimeframes, gracePeriodNs: Int64 = 2_000_000_000,
                emptyBuckets: EmptyBucketPolicy = .carryForward, maximumFilledBuckets: Int = 1_440) {
        precondition(!timeframes.isEmpty && timeframes == timeframes.sorted() && timeframes.allSatisfy { $0 > 0 },
                     "timeframes are positive and ascending")
        self.timeframes = timeframes
        self.gracePeriodNs = gracePeriodNs
        self.emptyBuckets = emptyBuckets
        self.maximumFilledBuckets = maximumFilledBuckets
    }
}

/// Aggressor volume inside one candle, for trade-flow imbalance.
public struct TradeFlow: Sendable, Equatable {
    public var buyVolume = 0.0
    public var sellVolume = 0.0

    public init(buyVolume: Double = 0, sellVolume: Double = 0) {
        self.buyVolume = buyVolume
        self.sellVolume = sellVolume
    }

    /// (buy − sell) / (buy + sell) in [−1, 1]; NaN when no aggressor side
    /// is known.
    public var imbalance: Double {
        let total = buyVolume + sellVolume
        return total > 0 ? (buyVolume - sellVolume) / total : .nan
    }
}

/// One timeframe's open bucket.
struct CandleSlot {
    let intervalNs: Int64
    var isOpen = false
    var candle = ap_candle()
    var flow = TradeFlow()
    /// The close of the last candle this slot emitted, for flat fills.
    var lastClose = Double.nan
    /// The start of the next bucket nothing has been emitted for.
    var nextBucketNs = Int64.min

    init(intervalSeconds: Int64) {
        intervalNs = intervalSeconds * 1_000_000_000
        candle.interval_s = intervalSeconds
    }

    func bucket(of timeNs: Int64) -> Int64 {
        let remainder = timeNs % intervalNs
        return timeNs - (remainder < 0 ? remainder + intervalNs : remainder)
    }

    var endNs: Int64 { candle.open_time_ns + intervalNs }
}

/// Builds one symbol's candles for every configured timeframe, from trades
/// (into the finest timeframe) or from closed candles of a finer or equal
/// interval (a bar file, a venue's kline stream). Buckets are aligned to
/// UTC. A bucket closes when the first event of a later bucket arrives,
/// when its last sub-candle arrives, or when the clock passes its end plus
/// the grace period. Closed candles are reported finest first; nothing
/// allocates per event (the slots live in one buffer the aggregator owns,
/// so it cannot be copied).
public struct CandleAggregator: ~Copyable {
    public let configuration: CandleConfiguration
    private let slots: UnsafeMutablePointer<CandleSlot>
    private let slotCount: Int
    /// Events that arrived for a bucket already closed.
    public private(set) var lateEvents = 0

    public typealias Emit = (_ timeframeIndex: Int, _ candle: ap_candle, _ flow: TradeFlow) -> Void

    public init(configuration: CandleConfiguration = CandleConfiguration()) {
        self.configuration = configuration
        slotCount = configuration.timeframes.count
        slots = .allocate(capacity: slotCount)
        for (index, seconds) in configuration.timeframes.enumerated() {
            (slots + index).initialize(to: CandleSlot(intervalSeconds: seconds))
        }
    }

    deinit {
        slots.deinitialize(count: slotCount)
        slots.deallocate()
    }

    /// A trade: goes into the finest timeframe's bucket.
    public mutating func addTrade(price: Double, size: Double, aggressor: ap_side, timeNs: Int64, emit: Emit) {
        let bucket = slots[0].bucket(of: timeNs)
        guard prepare(slot: 0, bucket: bucket, emit: emit) else { return }
        if !slots[0].isOpen {
            open(slot: 0, bucket: bucket, open: price, high: price, low: price)
        }
        let slot = slots
        if price > slot.pointee.candle.high { slot.pointee.candle.high = price }
        if price < slot.pointee.candle.low { slot.pointee.candle.low = price }
        slot.pointee.candle.close = price
        slot.pointee.candle.volume += size
        slot.pointee.candle.trade_count += 1
        switch aggressor {
        case AP_SIDE_BUY: slot.pointee.flow.buyVolume += size
        case AP_SIDE_SELL: slot.pointee.flow.sellVolume += size
        default: break
        }
    }

    /// A closed candle from the feed. It passes through as the timeframe of
    /// its own interval (when configured) and is merged into every longer
    /// timeframe it divides. Others are ignored and counted as late.
    public mutating func addClosedCandle(_ candle: ap_candle, flow: TradeFlow = TradeFlow(), emit: Emit) {
        var used = false
        let candleInterval = candle.interval_s * 1_000_000_000
        for index in 0..<slotCount {
            let interval = slots[index].intervalNs
            if interval == candleInterval {
                used = true
                guard prepare(slot: index, bucket: candle.open_time_ns, emit: emit) else { continue }
                slots[index].candle = candle
                slots[index].flow = flow
                slots[index].isOpen = true
                close(slot: index, emit: emit)
            } else if interval > candleInterval && interval % candleInterval == 0 {
                used = true
                merge(candle, flow: flow, into: index, emit: emit)
            }
        }
        if !used { lateEvents += 1 }
    }

    /// Closes every bucket whose end plus the grace period is at or before
    /// `nowNs`, and (carrying forward) makes flat candles for buckets that
    /// passed without a trade.
    public mutating func advance(to nowNs: Int64, emit: Emit) {
        let due = nowNs - configuration.gracePeriodNs
        // The finest timeframe first: its closes and flat fills feed the
        // longer ones, which may then be complete without the clock.
        if slots[0].isOpen && slots[0].endNs <= due { closeAndCascade(slot: 0, emit: emit) }
        if configuration.emptyBuckets == .carryForward && !slots[0].isOpen {
            fillFlat(slot: 0, upTo: slots[0].bucket(of: due), emit: emit)  // buckets ending at or before `due`
        }
        for index in 1..<slotCount where slots[index].isOpen && slots[index].endNs <= due {
            close(slot: index, emit: emit)
        }
    }

    // MARK: - Buckets

    /// Readies `slot` for an event in `bucket`: closes the open bucket if
    /// the event belongs to a later one and fills the gap per the policy.
    /// False when the event is late (its bucket was already emitted).
    private mutating func prepare(slot index: Int, bucket: Int64, emit: Emit) -> Bool {
        if slots[index].isOpen {
            if bucket == slots[index].candle.open_time_ns { return true }
            if bucket < slots[index].candle.open_time_ns { lateEvents += 1; return false }
            closeAndCascade(slot: index, emit: emit)
        } else if slots[index].nextBucketNs != .min && bucket < slots[index].nextBucketNs {
            lateEvents += 1
            return false
        }
        if configuration.emptyBuckets == .carryForward { fillFlat(slot: index, upTo: bucket, emit: emit) }
        return true
    }

    /// Flat candles for every bucket from the slot's next one up to (not
    /// including) `bucket`, unless the gap is longer than allowed.
    private mutating func fillFlat(slot index: Int, upTo bucket: Int64, emit: Emit) {
        let slot = slots[index]
        guard slot.nextBucketNs != .min, !slot.lastClose.isNaN, bucket > slot.nextBucketNs else { return }
        let missing = (bucket - slot.nextBucketNs) / slot.intervalNs
        guard missing <= configuration.maximumFilledBuckets else {
            slots[index].nextBucketNs = bucket
            return
        }
        var start = slot.nextBucketNs
        while start < bucket {
            let price = slots[index].lastClose
            open(slot: index, bucket: start, open: price, high: price, low: price)
            slots[index].candle.close = price
            closeAndCascade(slot: index, emit: emit)
            start += slot.intervalNs
        }
    }

    private mutating func open(slot index: Int, bucket: Int64, open: Double, high: Double, low: Double) {
        let interval = slots[index].candle.interval_s
        slots[index].candle = ap_candle(open_time_ns: bucket, interval_s: interval, open: open, high: high, low: low,
                                        close: open, volume: 0, trade_count: 0)
        slots[index].flow = TradeFlow()
        slots[index].isOpen = true
    }

    private mutating func close(slot index: Int, emit: Emit) {
        slots[index].isOpen = false
        slots[index].lastClose = slots[index].candle.close
        slots[index].nextBucketNs = slots[index].endNs
        emit(index, slots[index].candle, slots[index].flow)
    }

    /// Closes a slot fed by the input; the finest timeframe's candle, built
    /// from trades, then goes into every longer timeframe it divides.
    private mutating func closeAndCascade(slot index: Int, emit: Emit) {
        close(slot: index, emit: emit)
        guard index == 0 else { return }
        let candle = slots[0].candle
        let flow = slots[0].flow
        for higher in 1..<slotCount where slots[higher].intervalNs % slots[0].intervalNs == 0 {
            merge(candle, flow: flow, into: higher, emit: emit)
        }
    }

    private mutating func merge(_ candle: ap_candle, flow: TradeFlow, into index: Int, emit: Emit) {
        let bucket = slots[index].bucket(of: candle.open_time_ns)
        guard prepare(slot: index, bucket: bucket, emit: emit) else { return }
        if !slots[index].isOpen {
            open(slot: index, bucket: bucket, open: candle.open, high: candle.high, low: candle.low)
        }
        let slot = slots + index
        if candle.high > slot.pointee.candle.high { slot.pointee.candle.high = candle.high }
        if candle.low < slot.pointee.candle.low { slot.pointee.candle.low = candle.low }
        slot.pointee.candle.close = candle.close
        slot.pointee.candle.volume += candle.volume
        slot.pointee.candle.trade_count += candle.trade_count
        slot.pointee.flow.buyVolume += flow.buyVolume
        slot.pointee.flow.sellVolume += flow.sellVolume
        // The bucket's last sub-candle completes it: no need to wait.
        if candle.open_time_ns + candle.interval_s * 1_000_000_000 >= slot.pointee.endNs {
            close(slot: index, emit: emit)
        }
    }
}
