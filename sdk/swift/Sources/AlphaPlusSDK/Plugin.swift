@_exported import CAlphaPlus

/// One plugin instance: a type the host creates once per configured
/// instance (per tenant), from its decoded configuration.
///
/// The host calls an instance from one serial executor at a time, so an
/// instance's own state needs no locking. Conform to one or more of the
/// capability protocols (`HeadPlugin`, `ExchangePlugin`, `ChannelPlugin`,
/// `WebhookPlugin`) and export the type with `PluginExport.entry(_:)`.
public protocol PluginInstance: AnyObject {
    /// The instance's configuration, decoded from the JSON the host passes
    /// (already validated against `descriptor.configSchema`).
    associatedtype Configuration: Decodable
    static var descriptor: PluginDescriptor { get }
    /// Throw `PluginError.invalidConfig` naming the field for a setting the
    /// schema cannot express.
    init(configuration: Configuration, context: PluginContext) throws
}

/// `ap.head.v1`: turns feature frames into votes.
public protocol HeadPlugin: PluginInstance {
    /// Runs on the hot path: must not block, should not allocate.
    func evaluate(_ frame: FeatureFrame) throws -> Vote
    /// Raw market events for the instance's symbols (e.g. news). Optional.
    func onEvent(_ event: MarketEvent)
}

extension HeadPlugin {
    public func onEvent(_ event: MarketEvent) {}
}

/// `ap.exchange.v1`: a market-data connector. Emits events through
/// `context.emit(_:)` once started.
public protocol ExchangePlugin: PluginInstance {
    func start() throws
    func stop()
    func subscribe(_ subscription: Subscription) throws
    func unsubscribe(symbol: String) throws
}

/// `ap.channel.v1`: delivers one message to one destination.
public protocol ChannelPlugin: PluginInstance {
    /// Call `completion` exactly once (now or from a host callback), or
    /// throw to fail the delivery permanently without calling it.
    func deliver(_ delivery: Delivery, completion: DeliveryCompletion) throws
}

/// `ap.rate-limits.v1`: a channel that tells the host its platform's
/// documented limits for a destination; the host never sends faster.
public protocol RateLimitedChannel: ChannelPlugin {
    /// The limits that apply to `targetJSON` (the destination as configured).
    /// Throw `PluginError.invalidConfig` for a target the plugin cannot use.
    func rateLimits(forTarget targetJSON: String) throws -> [RateLimit]
}

/// `ap.webhook.v1`: answers HTTP requests routed to the instance.
public protocol WebhookPlugin: PluginInstance {
    func handle(_ request: WebhookRequest) throws -> WebhookResponse
}

/// What `subscribe` asks for.
public struct Subscription: Sendable, Equatable {
    public struct Streams: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let trades = Streams(rawValue: AP_STREAM_TRADES.rawValue)
        public static let quotes = Streams(rawValue: AP_STREAM_QUOTES.rawValue)
        public static let book = Streams(rawValue: AP_STREAM_BOOK.rawValue)
        public static let candles = Streams(rawValue: AP_STREAM_CANDLES.rawValue)
        public static let news = Streams(rawValue: AP_STREAM_NEWS.rawValue)
    }
    /// Canonical symbol, "BTC-USDT".
    public var symbol: String
    public var streams: Streams
    public var bookDepth: Int
    public var candleIntervalSeconds: Int64

    public init(symbol: String, streams: Streams, bookDepth: Int = 0, candleIntervalSeconds: Int64 = 0) {
        self.symbol = symbol
        self.streams = streams
        self.bookDepth = bookDepth
        self.candleIntervalSeconds = candleIntervalSeconds
    }

    init(_ raw: UnsafePointer<ap_subscription>) {
        let subscription = raw.pointee
        self.init(symbol: subscription.symbol.string, streams: Streams(rawValue: subscription.streams),
                  bookDepth: Int(subscription.book_depth), candleIntervalSeconds: subscription.candle_interval_s)
    }
}
