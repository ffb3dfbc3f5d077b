import AlphaPlusSDK

/// Trend and momentum from the standard indicators. Five components, each
/// in [−1, 1]:
///
/// - `ema_cross`: +1 when `ema_12` > `ema_26`, −1 when below, 0 when equal.
/// - `ema_trend`: +1 when the close is above `ema_50`, −1 below, 0 equal.
/// - `macd`: the sign of `macd_hist_12_26_9`, full (±1) when the histogram
///   grew in its own direction since the previous candle of the series
///   (h > h₋₁ for a positive h, h < h₋₁ for a negative one), half (±0.5)
///   otherwise or when there is no previous candle; 0 for h = 0.
/// - `rsi`: on `rsi_14` r: +1 when r ≤ `rsi_oversold` (a rebound is due),
///   −1 when r ≥ `rsi_overbought` (exhaustion), else +1 when r ≥ `rsi_bull`,
///   −1 when r ≤ `rsi_bear`, 0 between.
/// - `di`: the sign of `plus_di_14` − `minus_di_14`, 0 when `adx_14` is
///   below `min_adx` (no trend, so no trend direction).
///
/// The score is their weighted mean S = Σ wᵢcᵢ / Σ wᵢ, in [−1, 1]; when
/// `adx_14` < `min_adx` it is damped: S × `weak_trend_factor` (0 makes the
/// head flat without a trend). The vote is long when S ≥ `min_score`,
/// short when S ≤ −`min_score`, with confidence |S|: the more weight agrees
/// on one side, the higher. Otherwise flat with confidence 0. While any
/// input it reads is NaN (components of weight 0 read nothing; `adx_14` is
/// always read) it is flat with confidence 0.
public final class TechnicalHead: HeadPlugin {
    public struct Weights: Decodable, Sendable, Equatable {
        public var emaCross = 1.0, emaTrend = 1.0, macd = 1.0, rsi = 1.0, di = 1.0

        enum CodingKeys: String, CodingKey {
            case emaCross = "ema_cross", emaTrend = "ema_trend", macd, rsi, di
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            emaCross = try c.decodeIfPresent(Double.self, forKey: .emaCross) ?? emaCross
            emaTrend = try c.decodeIfPresent(Double.self, forKey: .emaTrend) ?? emaTrend
            macd = try c.decodeIfPresent(Double.self, forKey: .macd) ?? macd
            rsi = try c.decodeIfPresent(Double.self, forKey: .rsi) ?? rsi
            di = try c.decodeIfPresent(Double.self, forKey: .di) ?? di
        }

        public init() {}

        var total: Double { emaCross + emaTrend + macd + rsi + di }
    }

    public struct Configuration: Decodable, Sendable {
        public var weights = Weights()
        public var minADX = 20.0
        public var weakTrendFactor = 0.5
        public var rsiOversold = 30.0, rsiBear = 45.0, rsiBull = 55.0, rsiOverbought = 70.0
        public var minScore = 0.25

        enum CodingKeys: String, CodingKey {
            case weights
            case minADX = "min_adx", weakTrendFactor = "weak_trend_factor"
            case rsiOversold = "rsi_oversold", rsiBear = "rsi_bear", rsiBull = "rsi_bull", rsiOverbought = "rsi_overbought"
            case minScore = "min_score"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            weights = try c.decodeIfPresent(Weights.self, forKey: .weights) ?? weights
            minADX = try c.decodeIfPresent(Double.self, forKey: .minADX) ?? minADX
            weakTrendFactor = try c.decodeIfPresent(Double.self, forKey: .weakTrendFactor) ?? weakTrendFactor
            rsiOversold = try c.decodeIfPresent(Double.self, forKey: .rsiOversold) ?? rsiOversold
            rsiBear = try c.decodeIfPresent(Double.self, forKey: .rsiBear) ?? rsiBear
            rsiBull = try c.decodeIfPresent(Double.self, forKey: .rsiBull) ?? rsiBull
            rsiOverbought = try c.decodeIfPresent(Double.self, forKey: .rsiOverbought) ?? rsiOverbought
            minScore = try c.decodeIfPresent(Double.self, forKey: .minScore) ?? minScore
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.head-technical",
        name: "Technical (trend and momentum)",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Votes with the weighted agreement of EMA crossings, the MACD histogram, RSI zones and ADX/DI.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "weights": {
              "type": "object",
              "additionalProperties": false,
              "properties": {
                "ema_cross": {"type": "number", "minimum": 0, "maximum": 100, "default": 1},
                "ema_trend": {"type": "number", "minimum": 0, "maximum": 100, "default": 1},
                "macd": {"type": "number", "minimum": 0, "maximum": 100, "default": 1},
                "rsi": {"type": "number", "minimum": 0, "maximum": 100, "default": 1},
                "di": {"type": "number", "minimum": 0, "maximum": 100, "default": 1}
              }
            },
            "min_adx": {"type": "number", "minimum": 0, "maximum": 100, "default": 20},
            "weak_trend_factor": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "rsi_oversold": {"type": "number", "minimum": 0, "maximum": 100, "default": 30},
            "rsi_bear": {"type": "number", "minimum": 0, "maximum": 100, "default": 45},
            "rsi_bull": {"type": "number", "minimum": 0, "maximum": 100, "default": 55},
            "rsi_overbought": {"type": "number", "minimum": 0, "maximum": 100, "default": 70},
            "min_score": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.25}
          }
        }
        """)

    /// The histogram of the last two candles of one series.
    struct MACDHistory {
        var candleOpenNs = Int64.min
        var current = Double.nan
        var previous = Double.nan

        /// Records the histogram of the candle opened at `openNs` and returns
        /// the previous candle's. A frame of a candle already seen (a later
        /// trigger of the same candle) does not advance the history.
        mutating func record(_ histogram: Double, candleOpenNs openNs: Int64) -> Double {
            if openNs > candleOpenNs {
                previous = current
                candleOpenNs = openNs
            }
            current = histogram
            return previous
        }
    }

    private let configuration: Configuration
    private let emaFast = IndicatorKey("ema_12"), emaSlow = IndicatorKey("ema_26"), emaTrend = IndicatorKey("ema_50")
    private let histogram = IndicatorKey("macd_hist_12_26_9")
    private let rsi = IndicatorKey("rsi_14")
    private let adx = IndicatorKey("adx_14"), plusDI = IndicatorKey("plus_di_14"), minusDI = IndicatorKey("minus_di_14")
    private let histories = PerSeriesState { MACDHistory() }

    public convenience init(configuration: Configuration, context: PluginContext) throws {
        try self.init(configuration: configuration)
    }

    /// The head without a host, for direct calls (tests, benchmarks).
    public init(configuration: Configuration) throws {
        let c = configuration
        guard c.weights.total > 0 else {
            throw PluginError.invalidConfig("config field 'weights': at least one weight must be above 0")
        }
        guard c.rsiOversold < c.rsiBear, c.rsiBear <= c.rsiBull, c.rsiBull < c.rsiOverbought else {
            throw PluginError.invalidConfig(
                "config fields 'rsi_oversold' < 'rsi_bear' ≤ 'rsi_bull' < 'rsi_overbought' must hold; found "
                + "\(c.rsiOversold), \(c.rsiBear), \(c.rsiBull), \(c.rsiOverbought)")
        }
        self.configuration = configuration
    }

    public func evaluate(_ frame: FeatureFrame) throws -> Vote {
        let c = configuration, w = c.weights
        // The history advances on every frame, warm-up included, so growth
        // is known from the first candle with two histograms.
        let histogramNow = frame[histogram]
        let histogramBefore = histories.withState(for: frame) {
            $0.record(histogramNow, candleOpenNs: frame.raw.pointee.candle.open_time_ns)
        }
        let strength = frame[adx]
        guard strength.isFinite else { return Vote(.flat, confidence: 0, rationale: "warming up") }
        let trending = strength >= c.minADX

        var sum = 0.0
        if w.emaCross > 0 {
            let fast = frame[emaFast], slow = frame[emaSlow]
            guard fast.isFinite, slow.isFinite else { return Vote(.flat, confidence: 0, rationale: "warming up") }
            sum += w.emaCross * Self.sign(fast - slow)
        }
        if w.emaTrend > 0 {
            let close = frame.close, trend = frame[emaTrend]
            guard close.isFinite, trend.isFinite else { return Vote(.flat, confidence: 0, rationale: "warming up") }
            sum += w.emaTrend * Self.sign(close - trend)
        }
        if w.macd > 0 {
            guard histogramNow.isFinite else { return Vote(.flat, confidence: 0, rationale: "warming up") }
            let direction = Self.sign(histogramNow)
            let growing = histogramBefore.isFinite && direction * (histogramNow - histogramBefore) > 0
            sum += w.macd * direction * (growing ? 1 : 0.5)
        }
        if w.rsi > 0 {
            let value = frame[rsi]
            guard value.isFinite else { return Vote(.flat, confidence: 0, rationale: "warming up") }
            sum += w.rsi * rsiComponent(value)
        }
        if w.di > 0 {
            let plus = frame[plusDI], minus = frame[minusDI]
            guard plus.isFinite, minus.isFinite else { return Vote(.flat, confidence: 0, rationale: "warming up") }
            if trending { sum += w.di * Self.sign(plus - minus) }
        }

        let score = sum / w.total * (trending ? 1 : c.weakTrendFactor)
        guard abs(score) >= c.minScore else {
            return Vote(.flat, confidence: 0, rationale: trending ? "mixed signals" : "no trend: adx below min_adx")
        }
        let confidence = min(abs(score), 1)
        switch (score > 0, trending) {
        case (true, true): return Vote(.long, confidence: confidence, rationale: "bullish trend and momentum")
        case (false, true): return Vote(.short, confidence: confidence, rationale: "bearish trend and momentum")
        case (true, false): return Vote(.long, confidence: confidence, rationale: "bullish, damped: adx below min_adx")
        case (false, false): return Vote(.short, confidence: confidence, rationale: "bearish, damped: adx below min_adx")
        }
    }

    private func rsiComponent(_ value: Double) -> Double {
        let c = configuration
        if value <= c.rsiOversold { return 1 }
        if value >= c.rsiOverbought { return -1 }
        if value >= c.rsiBull { return 1 }
        if value <= c.rsiBear { return -1 }
        return 0
    }

    private static func sign(_ value: Double) -> Double { value > 0 ? 1 : value < 0 ? -1 : 0 }
}
