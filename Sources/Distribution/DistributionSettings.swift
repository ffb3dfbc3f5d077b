import AlphaPlusJSON

/// What a delivery is about.
public enum MessageKind: String, Sendable, CaseIterable, Codable {
    case signal, outcome, summary, alert
}

/// A tenant's `distribution:` section: tiers and their delays, message
/// templates, destinations, retries, the daily summary and who gets alerts.
public struct DistributionSettings: Sendable, Equatable {
    /// premium at once, basic after 60 s, free after 300 s.
    public static let defaultTierDelays: [String: Int64] = [
        "premium": 0, "basic": 60_000_000_000, "free": 300_000_000_000,
    ]

    /// Tier name → delay after the event (ns). When configured, exactly the
    /// configured tiers exist.
    public var tierDelaysNs: [String: Int64]
    /// Templates the tenant configured, by tier and kind; the rest are the
    /// built-in defaults (`MessageTemplate.defaultTemplate`).
    public var templates: [String: [MessageKind: MessageTemplate]]
    public var destinations: [DestinationSettings]
    /// Attempts before a delivery becomes a dead letter (the first included).
    public var maxAttempts: Int
    public var backoff: BackoffPolicy
    public var dailySummary: DailySummarySettings
    /// Destination ids that receive operator alerts.
    public var alertsTo: [String]
    /// Deliveries to the tenant's subscribers (`subscribers:`), nil: none.
    public var subscribers: SubscriberDeliverySettings?

    public init(tierDelaysNs: [String: Int64] = DistributionSettings.defaultTierDelays,
                templates: [String: [MessageKind: MessageTemplate]] = [:], destinations: [DestinationSettings] = [],
                maxAttempts: Int = 8, backoff: BackoffPolicy = BackoffPolicy(),
                dailySummary: DailySummarySettings = DailySummarySettings(), alertsTo: [String] = [],
                subscribers: SubscriberDeliverySettings? = nil) {
        self.tierDelaysNs = tierDelaysNs
        self.templates = templates
        self.destinations = destinations
        self.maxAttempts = maxAttempts
        self.backoff = backoff
        self.dailySummary = dailySummary
        self.alertsTo = alertsTo
        self.subscribers = subscribers
    }

    /// The channel instances the destinations and subscribers use.
    public var channelInstances: Set<String> {
        Set(destinations.map(\.channel) + (subscribers?.channels.map(\.channel) ?? []))
    }

    /// The tier's delay; 0 for a tier not configured (config checks every
    /// destination's tier exists, so this is for hand-built settings).
    public func delayNs(tier: String) -> Int64 { tierDelaysNs[tier] ?? 0 }

    /// The tenant's template for `tier` and `kind`, else the built-in one.
    public func template(tier: String, kind: MessageKind) -> MessageTemplate {
        templates[tier]?[kind] ?? MessageTemplate.defaultTemplate(tier: tier, kind: kind)
    }
}

/// One place a tenant's messages go: a channel instance and a target on it.
public struct DestinationSettings: Sendable, Equatable {
    public var id: String
    /// The tenant's channel instance id.
    public var channel: String
    public var tier: String
    /// The target handed to the plugin, a JSON object ({"chat_id": "@x"}).
    public var targetJSON: String

    public init(id: String, channel: String, tier: String, targetJSON: String) {
        self.id = id
        self.channel = channel
        self.tier = tier
        self.targetJSON = targetJSON
    }
}

/// `distribution.subscribers`: each subscriber's linked identities become
/// destinations of their own, with the tier the subscriber receives when
/// the message is made.
public struct SubscriberDeliverySettings: Sendable, Equatable {
    /// What a subscriber without a paid subscription receives.
    public var unpaidTier: String
    public var channels: [SubscriberChannel]

    public init(unpaidTier: String, channels: [SubscriberChannel]) {
        self.unpaidTier = unpaidTier
        self.channels = channels
    }
}

/// One channel instance that delivers to subscribers' identities of one kind:
/// the target is `{"<targetKey>": <identity value>}` (a number when the value
/// is an integer, as Telegram chat ids are).
public struct SubscriberChannel: Sendable, Equatable {
    public var channel: String
    public var identityKind: String
    public var targetKey: String

    public init(channel: String, identityKind: String, targetKey: String) {
        self.channel = channel
        self.identityKind = identityKind
        self.targetKey = targetKey
    }

    /// The destination id of one identity: "<channel>:<kind>:<value>".
    public func destinationID(value: String) -> String { "\(channel):\(identityKind):\(value)" }

    public func targetJSON(value: String) -> String {
        let key = JSONValue.string(targetKey).jsonText
        return Int64(value) != nil ? "{\(key): \(value)}" : "{\(key): \(JSONValue.string(value).jsonText)}"
    }
}

/// Exponential backoff: attempt n (n failures so far) waits up to
/// min(max, initial × 2^(n−1)); with full jitter a uniform draw in [0, that].
public struct BackoffPolicy: Sendable, Equatable {
    public enum Jitter: String, Sendable, CaseIterable {
        /// Uniform in [0, cap] (spreads retries of many destinations apart).
        case full
        /// Exactly the cap.
        case none
    }

    public var initialNs: Int64
    public var maxNs: Int64
    public var jitter: Jitter

    public init(initialNs: Int64 = 5_000_000_000, maxNs: Int64 = 900_000_000_000, jitter: Jitter = .full) {
        self.initialNs = initialNs
        self.maxNs = maxNs
        self.jitter = jitter
    }

    /// The cap for a retry after `failures` failed attempts (≥ 1).
    public func capNs(afterFailures failures: Int) -> Int64 {
        let doublings = min(max(failures - 1, 0), 62)
        let (scaled, overflow) = initialNs.multipliedReportingOverflow(by: Int64(1) << doublings)
        return overflow ? maxNs : min(maxNs, scaled)
    }

    /// The wait before the next attempt after `failures` failed attempts.
    public func delayNs(afterFailures failures: Int, using random: inout some RandomNumberGenerator) -> Int64 {
        let cap = capNs(afterFailures: failures)
        switch jitter {
        case .none: return cap
        case .full: return cap == 0 ? 0 : Int64.random(in: 0...cap, using: &random)
        }
    }
}

/// The daily summary: on or off, and the UTC time it goes out. It covers
/// the 24 hours before that time (the previous UTC day at 00:00).
public struct DailySummarySettings: Sendable, Equatable {
    public var enabled: Bool
    /// Minutes after 00:00 UTC.
    public var minuteOfDay: Int

    public init(enabled: Bool = true, minuteOfDay: Int = 0) {
        self.enabled = enabled
        self.minuteOfDay = minuteOfDay
    }
}
