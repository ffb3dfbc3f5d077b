import AlphaPlusSDK

/// Example head: momentum from two moving averages. Long when the fast
/// average is above the slow one by more than `threshold` (relative), short
/// when below by more, flat otherwise or while either average warms up.
/// Confidence grows with the gap: gap / (gap + threshold), in [0.5, 1).
public final class MomentumHead: HeadPlugin {
    public struct Configuration: Decodable {
        var fast: String = "ema_12"
        var slow: String = "ema_26"
        var threshold: Double = 0.001

        public init(fast: String = "ema_12", slow: String = "ema_26", threshold: Double = 0.001) {
            self.fast = fast
            self.slow = slow
            self.threshold = threshold
        }

        enum CodingKeys: String, CodingKey { case fast, slow, threshold }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            fast = try c.decodeIfPresent(String.self, forKey: .fast) ?? fast
            slow = try c.decodeIfPresent(String.self, forKey: .slow) ?? slow
            threshold = try c.decodeIfPresent(Double.self, forKey: .threshold) ?? threshold
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.example.momentum-swift",
        name: "Momentum (Swift example)",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Votes with the gap between a fast and a slow moving average.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "fast": {"type": "string", "pattern": "^[a-z0-9_]+$", "default": "ema_12"},
            "slow": {"type": "string", "pattern": "^[a-z0-9_]+$", "default": "ema_26"},
            "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.001}
          }
        }
        """)

    private let fast: IndicatorKey
    private let slow: IndicatorKey
    private let threshold: Double

    public convenience init(configuration: Configuration, context: PluginContext) throws {
        try self.init(configuration: configuration)
    }

    /// The head without a host, for direct calls (the contract benchmark).
    public init(configuration: Configuration) throws {
        guard configuration.fast != configuration.slow else {
            throw PluginError.invalidConfig("fast and slow name the same indicator '\(configuration.fast)'")
        }
        fast = IndicatorKey(configuration.fast)
        slow = IndicatorKey(configuration.slow)
        threshold = configuration.threshold
    }

    public func evaluate(_ frame: FeatureFrame) throws -> Vote {
        let fastValue = frame[fast], slowValue = frame[slow]
        guard fastValue.isFinite, slowValue.isFinite, slowValue != 0 else { return .flat }
        let gap = (fastValue - slowValue) / slowValue
        guard abs(gap) > threshold else { return Vote(.flat, confidence: 0) }
        let confidence = abs(gap) / (abs(gap) + threshold)
        return Vote(gap > 0 ? .long : .short, confidence: confidence, rationale: gap > 0 ? "fast above slow" : "fast below slow")
    }
}

@_cdecl("ap_plugin_entry")
public func ap_plugin_entry() -> UnsafePointer<ap_plugin_api> { PluginExport.entry(MomentumHead.self) }
