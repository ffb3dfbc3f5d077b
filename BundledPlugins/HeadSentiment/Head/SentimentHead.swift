import AlphaPlusSDK
import Foundation

/// Votes with the news: each headline (and body, if configured) is scored
/// with the finance lexicon (`SentimentScorer`), kept per symbol with an
/// exponential decay (`SentimentBook`), and the decayed sum at the frame's
/// time decides the vote: long above `threshold`, short below
/// −`threshold`, flat otherwise or without news.
///
/// Confidence = tanh(|sum|) × (1 − 2^(−n)), n the number of items whose
/// contribution has the sum's sign: it grows with the sum and with the
/// number of items that agree, and stays in [0, 1).
public final class SentimentHead: HeadPlugin {
    public struct Configuration: Decodable {
        var halfLifeSeconds = 3600.0
        var maxAgeSeconds = 86_400.0
        var threshold = 0.25
        var marketWideWeight = 0.5
        var scoreBody = false
        var bodyWeight = 0.5
        var maxItemsPerSymbol = 200

        enum CodingKeys: String, CodingKey {
            case halfLifeSeconds = "half_life_s", maxAgeSeconds = "max_age_s", threshold
            case marketWideWeight = "market_wide_weight", scoreBody = "score_body", bodyWeight = "body_weight"
            case maxItemsPerSymbol = "max_items_per_symbol"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            halfLifeSeconds = try c.decodeIfPresent(Double.self, forKey: .halfLifeSeconds) ?? halfLifeSeconds
            maxAgeSeconds = try c.decodeIfPresent(Double.self, forKey: .maxAgeSeconds) ?? maxAgeSeconds
            threshold = try c.decodeIfPresent(Double.self, forKey: .threshold) ?? threshold
            marketWideWeight = try c.decodeIfPresent(Double.self, forKey: .marketWideWeight) ?? marketWideWeight
            scoreBody = try c.decodeIfPresent(Bool.self, forKey: .scoreBody) ?? scoreBody
            bodyWeight = try c.decodeIfPresent(Double.self, forKey: .bodyWeight) ?? bodyWeight
            maxItemsPerSymbol = try c.decodeIfPresent(Int.self, forKey: .maxItemsPerSymbol) ?? maxItemsPerSymbol
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.head-sentiment",
        name: "News sentiment",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Votes with the decayed lexicon sentiment of the news about the frame's symbol.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "half_life_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 31536000, "default": 3600},
            "max_age_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 31536000, "default": 86400},
            "threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 100, "default": 0.25},
            "market_wide_weight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "score_body": {"type": "boolean", "default": false},
            "body_weight": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "max_items_per_symbol": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 200}
          }
        }
        """)

    /// How many words of the strongest headline the rationale quotes, and
    /// at most how many characters.
    static let leadWords = 8
    static let leadCharacters = 80

    private let configuration: Configuration
    private let context: PluginContext
    private let book: SentimentBook
    private let rationale = RationaleBuffer()

    public init(configuration: Configuration, context: PluginContext) throws {
        self.configuration = configuration
        self.context = context
        book = SentimentBook(limits: .init(halfLifeNs: configuration.halfLifeSeconds * 1e9,
                                           maxAgeNs: Int64(configuration.maxAgeSeconds * 1e9),
                                           marketWideWeight: configuration.marketWideWeight,
                                           maxItemsPerSymbol: configuration.maxItemsPerSymbol))
    }

    public func onEvent(_ event: MarketEvent) {
        guard case let .news(source, id, origin, headline, body, _, symbols) = event else { return }
        var sum = SentimentScorer.score(headline).sum
        if configuration.scoreBody && !body.isEmpty { sum += configuration.bodyWeight * SentimentScorer.score(body).sum }
        let item = ScoredNews(timestampNs: source.exchangeTimeNs, score: SentimentScorer.normalized(sum), lead: Self.lead(of: headline))
        // An item naming no symbols in its list may still carry one in its header.
        let targets = symbols.isEmpty && !source.symbol.isEmpty ? [source.symbol] : symbols
        if book.add(item, id: id, source: origin, symbols: targets) {
            context.count("sentiment_news_items")
        } else {
            context.count("sentiment_duplicate_news")
        }
    }

    public func evaluate(_ frame: FeatureFrame) throws -> Vote {
        let aggregate = book.aggregate(symbol: frame.symbol, atNs: frame.timestampNs)
        guard aggregate.items > 0, aggregate.value.isFinite else { return .flat }
        let value = aggregate.value
        guard abs(value) > configuration.threshold else { return Vote(.flat, confidence: 0) }
        let confidence = Self.confidence(value: value, supporting: aggregate.supporting)
        let lead = aggregate.strongest.map { ": \"\($0.lead)\"" } ?? ""
        let text = "news \(value > 0 ? "+" : "")\((value * 100).rounded() / 100) from \(aggregate.supporting) of "
            + "\(aggregate.items) items\(lead)"
        return Vote(value > 0 ? .long : .short, confidence: confidence, rationale: rationale.write(text))
    }

    /// tanh(|value|) × (1 − 2^(−supporting)): monotone in both, in [0, 1).
    public static func confidence(value: Double, supporting: Int) -> Double {
        let confidence = tanh(abs(value)) * (1 - pow(0.5, Double(supporting)))
        return confidence.isFinite ? min(max(confidence, 0), 1) : 0
    }

    /// The headline's first `leadWords` words, at most `leadCharacters`
    /// characters, "…" when cut.
    static func lead(of headline: String) -> String {
        let words = headline.split(whereSeparator: \.isWhitespace)
        var lead = words.prefix(leadWords).joined(separator: " ")
        var cut = words.count > leadWords
        if lead.count > leadCharacters {
            lead = String(lead.prefix(leadCharacters))
            cut = true
        }
        return cut ? lead + "…" : lead
    }
}
