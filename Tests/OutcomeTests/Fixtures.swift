import SharedTestData
import Trading

/// Builders for the outcome tests: one-minute bars and signals whose
/// numbers are easy to follow by hand.
enum Fixture {
    static let minute: Int64 = 60_000_000_000
    /// 2024-03-01T00:00:00Z.
    static let start: Int64 = 1_709_251_200_000_000_000

    /// The bar of minute `index` after `start`.
    static func bar(_ index: Int64, open: Double, high: Double, low: Double, close: Double,
                    symbol: String = "BTC-USDT", venue: String = "sim") -> MarketBar {
        MarketBar(venue: venue, symbol: symbol, openTimeNs: start + index * minute, closeTimeNs: start + (index + 1) * minute,
                  open: open, high: high, low: low, close: close)
    }

    /// A signal created at the close of bar `createdAfterBar` (so the next bar is its first).
    static func signal(_ id: String = "s1", side: Side = .long, entry: Double = 100, stop: Double = 95,
                       targets: [Double] = [110], scaleOut: [Double]? = nil, quantity: Double = 2,
                       createdAfterBar: Int64 = 0, expiresAtNs: Int64 = 0, symbol: String = "BTC-USDT",
                       votes: [HeadVote] = [], tenant: String = "acme") -> Signal {
        Signal(id: id, tenant: tenant, venue: "sim", symbol: symbol, timeframeSeconds: 60, side: side, entry: entry, stop: stop,
               targets: targets, scaleOut: scaleOut ?? targets.indices.map { $0 == targets.count - 1 ? 1 : 0.5 },
               quantity: quantity, confidence: 0.7, highConfidence: false, votes: votes,
               createdAtNs: start + (createdAfterBar + 1) * minute, expiresAtNs: expiresAtNs)
    }

    static func vote(_ head: String, _ direction: VoteDirection, _ confidence: Double = 0.6, status: VoteStatus = .ok) -> HeadVote {
        HeadVote(head: head, plugin: "com.example.\(head)", status: status, direction: direction,
                 confidence: status == .ok ? confidence : 0, calibratedConfidence: status == .ok ? confidence : 0, weight: 1)
    }

    /// maker 10 bp, taker 20 bp, slippage 10 bp.
    static let costs = CostModel(makerFee: 0.001, takerFee: 0.002, slippageBps: 10)
}

/// Collects what a trader reports.
final class Recorder {
    var legs: [TradeLeg] = []
    var closed: [PositionOutcome] = []

    func bar(_ trader: PaperTrader, _ bar: MarketBar) throws {
        try trader.onBar(bar, onLeg: { self.legs.append($0) }, onClose: { self.closed.append($0) })
    }

    func closeAll(_ trader: PaperTrader, atNs: Int64) {
        trader.closeAll(atNs: atNs, onLeg: { self.legs.append($0) }, onClose: { self.closed.append($0) })
    }
}

