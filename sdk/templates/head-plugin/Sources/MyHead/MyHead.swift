import AlphaPlusSDK

/// A trend-pullback head: buys dips in an uptrend and sells rallies in a
/// downtrend.
///
/// - Trend: the closed candle's close against a trend average (`trend`,
///   default "ema_50"). Up when the close is above it by more than
///   `min_trend_gap` (relative, default 0), down when below by more.
/// - Pullback: the RSI (`rsi`, default "rsi_14"). In an uptrend an RSI below
///   `pullback` (default 40) votes long; in a downtrend an RSI above
///   100 - `pullback` votes short.
/// - Flat otherwise, and while either indicator warms up (NaN) or is missing
///   from the frame.
/// - Confidence: 0.5 at the bound, rising linearly to 1 as the RSI reaches 0
///   (long) or 100 (short). Always in [0, 1].
///
/// Rename the type, the target and the descriptor id before you ship.
public final class MyHead: HeadPlugin {
    /// The instance's settings (a tenant's `settings:`), already validated
    /// by the host against `descriptor.configSchema`. Every field has a
    /// default, so `{}` is a valid configuration.
    public struct Configuration: Decodable, Sendable {
        public var rsi = "rsi_14"
        public var trend = "ema_50"
        public var pullback = 40.0
        public var minTrendGap = 0.0

        enum CodingKeys: String, CodingKey {
            case rsi, trend, pullback
            case minTrendGap = "min_trend_gap"
        }

        public init() {}

        // Synthesised Decodable ignores property defaults, so decode each
        // field only when present.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            rsi = try c.decodeIfPresent(String.self, forKey: .rsi) ?? rsi
            trend = try c.decodeIfPresent(String.self, forKey: .trend) ?? trend
            pullback = try c.decodeIfPresent(Double.self, forKey: .pullback) ?? pullback
            minTrendGap = try c.decodeIfPresent(Double.self, forKey: .minTrendGap) ?? minTrendGap
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.example.my-head",
        name: "Trend pullback (template)",
        version: "0.1.0",
        vendor: "Example Inc.",
        description: "Long on RSI pullbacks above the trend average, short on RSI rallies below it.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "rsi": {
              "type": "string", "pattern": "^[a-z0-9_]+$", "default": "rsi_14",
              "description": "the RSI indicator to read, e.g. rsi_14"
            },
            "trend": {
              "type": "string", "pattern": "^[a-z0-9_]+$", "default": "ema_50",
              "description": "the trend average the close is compared with, e.g. ema_50 or sma_200"
            },
            "pullback": {
              "type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 50, "default": 40,
              "description": "long below this RSI in an uptrend, short above 100 minus it in a downtrend"
            },
            "min_trend_gap": {
              "type": "number", "minimum": 0, "maximum": 0.5, "default": 0,
              "description": "how far (relative) the close must be from the trend average to count as a trend"
            }
          }
        }
        """)

    // Resolved to an index once per frame layout, then one load per frame.
    private let rsi: IndicatorKey
    private let trend: IndicatorKey
    private let longBelow: Double
    private let shortAbove: Double
    private let minTrendGap: Double

    public init(configuration: Configuration, context: PluginContext) throws {
        // A rule the schema cannot express: name the fields at fault.
        guard configuration.rsi != configuration.trend else {
            throw PluginError.invalidConfig(
                "config fields 'rsi' and 'trend' both name the indicator '\(configuration.rsi)'; they must differ")
        }
        rsi = IndicatorKey(configuration.rsi)
        trend = IndicatorKey(configuration.trend)
        longBelow = configuration.pullback
        shortAbove = 100 - configuration.pullback
        minTrendGap = configuration.minTrendGap
        context.info("trend pullback on \(configuration.rsi) and \(configuration.trend), pullback \(configuration.pullback)")
    }

    /// The hot path: no allocation, no blocking. Literal rationales cost nothing.
    public func evaluate(_ frame: FeatureFrame) throws -> Vote {
        let rsiValue = frame[rsi], trendValue = frame[trend], close = frame.close
        guard rsiValue.isFinite, trendValue.isFinite, close.isFinite, trendValue > 0 else { return .flat }
        let gap = (close - trendValue) / trendValue
        if gap > minTrendGap, rsiValue < longBelow {
            return Vote(.long, confidence: Self.unit(0.5 + 0.5 * (longBelow - rsiValue) / longBelow),
                        rationale: "RSI pullback in an uptrend")
        }
        if gap < -minTrendGap, rsiValue > shortAbove {
            return Vote(.short, confidence: Self.unit(0.5 + 0.5 * (rsiValue - shortAbove) / (100 - shortAbove)),
                        rationale: "RSI rally in a downtrend")
        }
        return .flat
    }

    /// Clamps to [0, 1]: the host refuses a confidence outside it.
    @inline(__always)
    private static func unit(_ value: Double) -> Double { min(max(value, 0), 1) }
}

// The one symbol the host looks up. Keep exactly one per plugin library.
@_cdecl("ap_plugin_entry")
public func ap_plugin_entry() -> UnsafePointer<ap_plugin_api> { PluginExport.entry(MyHead.self) }
