import AlphaPlusSDK
import Foundation

/// One simulated symbol: its price process, its book and its counters.
/// Prices are whole ticks and sizes whole lots, so every price respects the
/// tick size exactly.
struct SimulatedMarket {
    /// One side of a book, best level first: (price in ticks, size in lots).
    typealias Levels = [(ticks: Int64, lots: Int64)]

    let symbol: String
    let tick: ExactDecimal
    let lot: ExactDecimal
    let depth: Int
    /// Natural log of the mid price.
    var logMid: Double
    /// GARCH variance of the log-price per second.
    var variance = 0.0
    var lastUpdateNs: Int64 = 0
    /// The current book, and the one subscribers last saw (snapshot + deltas).
    private var bids: Levels = [], asks: Levels = []
    private var publishedBids: Levels = [], publishedAsks: Levels = []
    private(set) var bookSequence: UInt64 = 0
    private var tradeSequence: UInt64 = 0
    private var quoteSequence: UInt64 = 0

    init(symbol: String, tick: ExactDecimal, lot: ExactDecimal, startPrice: Double, depth: Int) {
        self.symbol = symbol
        self.tick = tick
        self.lot = lot
        self.depth = depth
        self.logMid = log(startPrice)
    }

    private func price(_ ticks: Int64) -> ExactDecimal { ExactDecimal(mantissa: ticks * tick.mantissa, exponent: tick.exponent) }
    private func size(_ lots: Int64) -> ExactDecimal { ExactDecimal(mantissa: lots * lot.mantissa, exponent: lot.exponent) }

    /// Advances the log-price to `timeNs`: a diffusion step with the current
    /// GARCH variance, maybe a jump, then the GARCH variance update from the
    /// diffusion shock (per second, so uneven steps weigh the same).
    mutating func move(to timeNs: Int64, omega: Double, alpha: Double, beta: Double, jumpsPerSecond: Double,
                       jumpStdev: Double, random: inout SimRandom) {
        let seconds = max(Double(timeNs - lastUpdateNs) / 1e9, 1e-9)
        lastUpdateNs = timeNs
        let shock = (variance * seconds).squareRoot() * random.normal()
        let jumped = random.uniform() < 1 - exp(-jumpsPerSecond * seconds)
        let jump = jumped ? jumpStdev * random.normal() : 0
        // Keep the mid at least 10 ticks above zero.
        logMid = max(logMid + shock + jump, log(10 * tick.doubleValue))
        variance = omega + alpha * shock * shock / seconds + beta * variance
    }

    /// Rebuilds the book around the mid: a spread of 1 or 2 ticks, `depth`
    /// levels a tick apart on each side, sizes kept where a level stays and
    /// one level's size redrawn. The best bid is always below the best ask.
    mutating func rebuildBook(random: inout SimRandom) {
        let midTicks = exp(logMid) / tick.doubleValue
        let spread = Int64(1 + random.below(2))
        let bestBid = max(Int64(depth), Int64((midTicks - Double(spread) / 2).rounded(.down)))
        func side(_ old: Levels, _ best: Int64, _ step: Int64) -> Levels {
            let sizes = Dictionary(old.map { ($0.ticks, $0.lots) }, uniquingKeysWith: { first, _ in first })
            return (0..<Int64(depth)).map { level in
                let ticks = best + step * level
                return (ticks, sizes[ticks] ?? Self.levelLots(&random))
            }
        }
        bids = side(bids, bestBid, -1)
        asks = side(asks, bestBid + spread, 1)
        let level = random.below(depth)
        if random.below(2) == 0 { bids[level].lots = Self.levelLots(&random) } else { asks[level].lots = Self.levelLots(&random) }
    }

    private static func levelLots(_ random: inout SimRandom) -> Int64 { Int64(1 + random.below(50)) }

    /// Makes the current book the published one: the delta from the last
    /// published book (size 0 removes a level) and its sequence.
    mutating func publishBook() -> (bids: [BookLevel], asks: [BookLevel], sequence: UInt64) {
        func delta(_ old: Levels, _ new: Levels) -> [BookLevel] {
            let newSizes = Dictionary(new.map { ($0.ticks, $0.lots) }, uniquingKeysWith: { first, _ in first })
            let oldSizes = Dictionary(old.map { ($0.ticks, $0.lots) }, uniquingKeysWith: { first, _ in first })
            let removed = old.filter { newSizes[$0.ticks] == nil }.map { BookLevel(price: price($0.ticks), size: size(0)) }
            let changed = new.filter { oldSizes[$0.ticks] != $0.lots }.map { BookLevel(price: price($0.ticks), size: size($0.lots)) }
            return removed + changed
        }
        let result = (delta(publishedBids, bids), delta(publishedAsks, asks))
        publishedBids = bids
        publishedAsks = asks
        bookSequence += 1
        return (result.0, result.1, bookSequence)
    }

    /// The published book as a snapshot, for a new subscriber.
    func snapshot(_ source: EventSource) -> MarketEvent {
        .bookSnapshot(source, bids: publishedBids.map { BookLevel(price: price($0.ticks), size: size($0.lots)) },
                      asks: publishedAsks.map { BookLevel(price: price($0.ticks), size: size($0.lots)) },
                      sequence: bookSequence, depth: UInt32(depth), checksumKind: 0, checksum: 0)
    }

    /// A trade at the touch: a buyer lifts the best ask, a seller hits the best bid.
    mutating func trade(_ source: EventSource, random: inout SimRandom) -> MarketEvent {
        let buy = random.below(2) == 0
        let level = buy ? asks[0] : bids[0]
        let lots = min(level.lots, Int64(1 + random.exponential(mean: 3)))
        tradeSequence += 1
        return .trade(source, price: price(level.ticks), size: size(lots), aggressor: buy ? .buy : .sell,
                      tradeID: String(tradeSequence), sequence: tradeSequence)
    }

    mutating func quote(_ source: EventSource) -> MarketEvent {
        quoteSequence += 1
        return .quote(source, bidPrice: price(bids[0].ticks), bidSize: size(bids[0].lots),
                      askPrice: price(asks[0].ticks), askSize: size(asks[0].lots), sequence: quoteSequence)
    }
}
