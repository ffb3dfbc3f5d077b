import AlphaPlusJSON
import AlphaPlusSDK

/// `channel-twitter`: posts each delivery's text as a Tweet of the X account
/// whose credentials the instance holds (`POST https://api.x.com/2/tweets`,
/// OAuth 1.0a user context). A destination's target is `{}`: the account is
/// the instance.
///
/// The text is fitted to X's 280 by twitter-text's weighted count (cut with
/// "…", a URL dropped whole rather than cut); X's answers map to results
/// as `XResponse` describes. Declares one rate-limit bucket, "tweets".
public final class TwitterChannel: RateLimitedChannel {
    public struct Configuration: Decodable, Sendable {
        /// Tweets per window for the account. Default 100 per 900 s: X's
        /// documented per-user limit for POST /2/tweets, 100 requests per
        /// 15 minutes [secondary: docs.x.com x-api/fundamentals/rate-limits,
        /// "Manage posts"; not in channels.md].
        public var tweetsPerWindow = 100
        public var windowSeconds = 900

        enum CodingKeys: String, CodingKey {
            case tweetsPerWindow = "tweets_per_window", windowSeconds = "window_seconds"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            tweetsPerWindow = try c.decodeIfPresent(Int.self, forKey: .tweetsPerWindow) ?? tweetsPerWindow
            windowSeconds = try c.decodeIfPresent(Int.self, forKey: .windowSeconds) ?? windowSeconds
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.channel-twitter",
        name: "X (Twitter)",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Posts signals as Tweets (POST /2/tweets, OAuth 1.0a), fitted to 280 by twitter-text's weighted length.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "tweets_per_window": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 100,
                                  "description": "Tweets the host sends per window for this account"},
            "window_seconds": {"type": "integer", "minimum": 1, "maximum": 86400, "default": 900,
                               "description": "Length of that window in seconds"}
          }
        }
        """,
        networkHosts: ["api.x.com"])

    public static let endpoint = "https://api.x.com/2/tweets"
    /// The instance secrets holding the account's credentials.
    public static let secretNames = ["consumer_key", "consumer_secret", "access_token", "access_token_secret"]
    public static let rateLimitBucket = "tweets"

    private let context: PluginContext
    private let credentials: OAuth1Credentials
    private let rateLimit: RateLimit

    public init(configuration: Configuration, context: PluginContext) throws {
        var values: [String] = []
        for name in Self.secretNames {
            let value = context.secret(name)
            guard let value, !value.isEmpty else {
                throw PluginError.invalidConfig("secret '\(name)' is \(value == nil ? "not set" : "empty") for this "
                    + "instance: the X channel needs the secrets \(Self.secretNames.joined(separator: ", "))")
            }
            values.append(value)
        }
        // Fail now rather than at the first delivery on a host without HMAC.
        _ = try context.hmac(.sha1, key: [], message: [])
        self.context = context
        credentials = OAuth1Credentials(consumerKey: values[0], consumerSecret: values[1], accessToken: values[2],
                                        accessTokenSecret: values[3])
        rateLimit = RateLimit(bucket: Self.rateLimitBucket, capacity: configuration.tweetsPerWindow,
                              windowMs: configuration.windowSeconds * 1000)
    }

    public func rateLimits(forTarget targetJSON: String) throws -> [RateLimit] {
        if let problem = Self.targetProblem(targetJSON) { throw PluginError.invalidConfig(problem) }
        return [rateLimit]
    }

    public func deliver(_ delivery: Delivery, completion: DeliveryCompletion) throws {
        if let problem = Self.targetProblem(delivery.targetJSON) {
            return completion(DeliveryResult(.permanentFailure, reason: problem))
        }
        let text = TwitterText.fitted(delivery.text)
        guard text.contains(where: { !$0.isWhitespace }) else {
            return completion(DeliveryResult(.permanentFailure, reason: "the delivery's text is empty: there is nothing to post"))
        }
        let weight = TwitterText.weightedLength(delivery.text)
        if weight > TwitterText.maxWeightedLength {
            context.info("delivery \(delivery.idempotencyKey): the text weighs \(weight), cut to \(TwitterText.weightedLength(text)) "
                + "to fit X's \(TwitterText.maxWeightedLength)")
        }
        let context = self.context
        let authorization = try OAuth1.authorizationHeader(
            method: "POST", url: Self.endpoint, credentials: credentials, nonce: OAuth1.makeNonce(),
            timestamp: context.nowNs / 1_000_000_000, hmac: { try context.hmac(.sha1, key: $0, message: $1) })
        let request = HTTPRequest(method: "POST", url: Self.endpoint,
                                  headers: [HTTPHeader("Authorization", authorization), HTTPHeader("Content-Type", "application/json")],
                                  body: Array(JSONValue.object(["text": .string(text)]).jsonText.utf8))
        try context.send(request) { answer in
            let result = XResponse.deliveryResult(for: answer, nowMs: context.nowNs / 1_000_000, attempt: delivery.attempt)
            if result.outcome != .delivered {
                context.warning("delivery \(delivery.idempotencyKey) (attempt \(delivery.attempt)): \(result.reason)")
            }
            completion(result)
        }
    }

    /// Why a target is unusable, nil when it is `{}`.
    static func targetProblem(_ targetJSON: String) -> String? {
        guard case .object(let members)? = try? JSONValue(parsing: targetJSON) else {
            return "target must be the JSON object {} (the X account is the instance's), found: \(targetJSON.prefix(80))"
        }
        guard members.isEmpty else {
            return "target must be {}: an X channel instance posts to the account its secrets belong to, so it takes no "
                + "field (found \(members.keys.sorted().map { "'\($0)'" }.joined(separator: ", ")))"
        }
        return nil
    }
}
