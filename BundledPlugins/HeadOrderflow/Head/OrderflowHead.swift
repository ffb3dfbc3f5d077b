import AlphaPlusSDK

/// Order-flow pressure. Three components, each clamped to [−1, 1]:
///
/// - `book_imbalance`: the book's size imbalance (bid − ask) / (bid + ask)
///   over its top levels (`frame.book.imbalance`).
/// - `trade_flow`: the closed candle's aggressor imbalance (buy − sell) /
///   (buy + sell), the frame's `trade_flow_imbalance`.
/// - `microprice`: where the microprice sits against the mid, in units of
///   the spread, doubled so that a microprice at the ask is +1 and at the
///   bid −1: 2 × (microprice − mid) / spread, clamped to [−1, 1].
///
/// The score S is the weighted mean of the components that are known (a
/// NaN input, a missing book or a zero spread leaves its component out):
/// without a book it is the trade flow alone, or the head votes flat
/// ("no book") when `require_book` is true. With no component known it is
/// flat with confidence 0 ("no order-flow data").
///
/// A volume spike amplifies: the head keeps, per series (venue, symbol,
/// timeframe), an EMA of candle volume with period `volume_period`
/// (α = 2 / (period + 1), seeded with the first candle). Once it has seen
/// `volume_period` candles, a candle whose volume is at least
/// `spike_ratio` × the EMA of the candles before it is a spike, and
/// S becomes S × `spike_boost`, clamped to [−1, 1].
///
/// The vote is long when S ≥ `min_score`, short when S ≤ −`min_score`,
/// with confidence |S|; otherwise flat with confidence 0.
public final class OrderflowHead: HeadPlugin {
    public struct Weights: Decodable, Sendable, Equatable {
        public var bookImbalance = 1.0, tradeFlow = 1.0, microprice = 1.0

        enum CodingKeys: String, CodingKey {
            case bookImbalance = "book_imbalance", tradeFlow = "trade_flow", microprice
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            bookImbalance = try c.decodeIfPresent(Double.self, forKey: .bookImbalance) ?? bookImbalance
            tradeFlow = try c.decodeIfPresent(Double.self, forKey: .tradeFlow) ?? tradeFlow
            microprice = try c.decodeIfPresent(Double.self, forKey: .microprice) ?? microprice
        }

        public init() {}
    }

    public struct Configuration: Decodable, Sendable {
        public var weights = Weights()
        public var requireBook = false
        public var volumePeriod = 20
        public var spikeRatio = 2.0
        public var spikeBoost = 1.5
        public var minScore = 0.2

        enum CodingKeys: String, CodingKey {
            case weights
            case requireBook = "require_book", volumePeriod = "volume_period"
            case spikeRatio = "spike_ratio", spikeBoost = "spike_boost", minScore = "min_score"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            weights = try c.decodeIfPresent(Weights.self, forKey: .weights) ?? weights
            requireBook = try c.decodeIfPresent(Bool.self, forKey: .requireBook) ?? requireBook
            volumePeriod = try c.decodeIfPresent(Int.self, forKey: .volumePeriod) ?? volumePeriod
            spikeRatio = try c.decodeIfPresent(Double.self, forKey: .spikeRatio) ?? spikeRatio
            spikeBoost = try c.decodeIfPresent(Double.self, forKey: .spikeBoost) ?? spikeBoost
            minScore = try c.decodeIfPresent(Double.self, forKey: .minScore) ?? minScore
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.head-orderflow",
        name: "Order flow",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Votes with book imbalance, trade-flow imbalance and the microprice, amplified on volume spikes.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "weights": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "book_imbalance": {"type": "number", "minimum": 0, "maximum": 100, "default": 1},
                "trade_flow": {"type": "number", "minimum": 0, "maximum": 100, "default": 1},
                "microprice": {"type": "number", "minimum": 0, "maximum": 100, "default": 1}
              }
            },
            "require_book": {"type": "boolean", "default": false},
            "volume_period": {"type": "integer", "minimum": 2, "maximum": 1000, "default": 20},
            "spike_ratio": {"type": "number", "exclusiveMinimum": 1, "maximum": 100, "default": 2},
            "spike_boost": {"type": "number", "minimum": 1, "maximum": 10, "default": 1.5},
            "min_score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.2}
          }
        }
        """)

    /// One series' EMA of candle volume.
    struct VolumeAverage {
        var candleOpenNs = Int64.min
        /// The EMA of the candles before the current one, and with it.
        var before = Double.nan, including = Double.nan
        /// Candles in `before`.
        var candlesBefore = 0

        /// Takes the candle opened at `openNs` (again, for a later frame of
        /// the same candle: the history then does not advance) and returns
        /// the EMA of the candles before it with how many it holds.
        mutating func record(volume: Double, candleOpenNs openNs: Int64, alpha: Double) -> (average: Double, candles: Int) {
            guard volume.isFinite, volume >= 0 else { return (before, candlesBefore) }
            if openNs > candleOpenNs {
                if including.isFinite { candlesBefore += 1 }
                before = including
                candleOpenNs = openNs
            }
            including = before.isFinite ? before + alpha * (volume - before) : volume
            return (before, candlesBefore)
        }
    }

    /// The weighted mean of the components that are known.
    struct KnownComponentsMean {
        private var sum = 0.0, weight = 0.0

        mutating func add(_ component: Double, weight componentWeight: Double) {
            guard componentWeight > 0, component.isFinite else { return }
            // Clamped: a host's imbalance outside [−1, 1] must not push the
            // confidence past 1.
            sum += componentWeight * max(-1, min(1, component))
            weight += componentWeight
        }

        /// Nil when no component was known.
        var value: Double? { weight > 0 ? sum / weight : nil }
    }

    private let configuration: Configuration
    private let volumeAlpha: Double
    private let tradeFlow = IndicatorKey("trade_flow_imbalance")
    private let volumes = PerSeriesState { VolumeAverage() }

    public convenience init(configuration: Configuration, context: PluginContext) throws {
        try self.init(configuration: configuration)
    }

    /// The head without a host, for direct calls (tests, benchmarks).
    public init(configuration: Configuration) throws {
        let w = configuration.weights
        guard w.bookImbalance + w.tradeFlow + w.microprice > 0 else {
            throw PluginError.invalidConfig("config field 'weights': at least one weight must be above 0")
        }
        if configuration.requireBook, w.bookImbalance + w.microprice == 0 {
            throw PluginError.invalidConfig(
                "config field 'require_book' is true but 'weights.book_imbalance' and 'weights.microprice' are both 0: the book would never be read")
        }
        self.configuration = configuration
        volumeAlpha = 2 / Double(configuration.volumePeriod + 1)
    }

    public func evaluate(_ frame: FeatureFrame) throws -> Vote {
        let c = configuration, w = c.weights
        let candle = frame.raw.pointee.candle
        let volume = volumes.withState(for: frame) {
            $0.record(volume: candle.volume, candleOpenNs: candle.open_time_ns, alpha: volumeAlpha)
        }

        var mean = KnownComponentsMean()
        let book = frame.book
        let hasBook = book?.mid.isFinite ?? false
        if c.requireBook, !hasBook { return Vote(.flat, confidence: 0, rationale: "no book") }
        if let book, hasBook {
            mean.add(book.imbalance, weight: w.bookImbalance)
            if book.spread > 0 { mean.add(2 * (book.microprice - book.mid) / book.spread, weight: w.microprice) }
        }
        mean.add(frame[tradeFlow], weight: w.tradeFlow)
        guard var score = mean.value else { return Vote(.flat, confidence: 0, rationale: "no order-flow data") }

        let spike = volume.candles >= c.volumePeriod && volume.average > 0 && candle.volume >= c.spikeRatio * volume.average
        if spike { score = max(-1, min(1, score * c.spikeBoost)) }
        guard abs(score) >= c.minScore else { return Vote(.flat, confidence: 0, rationale: "balanced order flow") }
        let confidence = abs(score)
        switch (score > 0, spike, hasBook) {
        case (true, true, _): return Vote(.long, confidence: confidence, rationale: "buying pressure on a volume spike")
        case (false, true, _): return Vote(.short, confidence: confidence, rationale: "selling pressure on a volume spike")
        case (true, false, true): return Vote(.long, confidence: confidence, rationale: "buying pressure")
        case (false, false, true): return Vote(.short, confidence: confidence, rationale: "selling pressure")
        case (true, false, false): return Vote(.long, confidence: confidence, rationale: "buying pressure (trade flow, no book)")
        case (false, false, false): return Vote(.short, confidence: confidence, rationale: "selling pressure (trade flow, no book)")
        }
    }
}
