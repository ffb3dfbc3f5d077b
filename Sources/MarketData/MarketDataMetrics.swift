import Metrics
import MetricCatalog

/// The market pipeline's metrics.
public enum MarketDataMetrics {
    public static let events = MetricDescriptor(
        name: "alphaplus_market_events_total", kind: .counter, labels: ["venue", "kind"],
        help: "Market events ingest accepted, by venue and kind (trade, quote, book, candle, news).")
    public static let rejectedEvents = MetricDescriptor(
        name: "alphaplus_market_events_rejected_total", kind: .counter, labels: ["venue", "reason"],
        help: "Market events ingest rejected, by venue and reason (unknown_symbol, non_positive_price, duplicate_trade, timestamp_backwards, ...).")
    public static let frames = MetricDescriptor(
        name: "alphaplus_feature_frames_total", kind: .counter, labels: ["venue", "symbol", "timeframe"],
        help: "Feature frames made, one per closed candle, by venue, canonical symbol and timeframe (1m, 5m, 15m, 1h, 4h, 1d).")

    public static let all = [events, rejectedEvents, frames]
}

/// One venue's event counters: per kind, made with the venue (a series
/// at 0 says the venue sent none); per rejection reason, made at the
/// first. Used under the pipeline's lock.
final class VenueMetrics {
    let venue: String
    private let factory: any MetricsFactory
    /// Per `MarketEventKind`.
    private let accepted: [Counter]
    private var rejected = [Counter?](repeating: nil, count: IngestRejection.allCases.count)

    init(venue: String, factory: any MetricsFactory) {
        self.venue = venue
        self.factory = factory
        accepted = MarketEventKind.allCases.map { MarketDataMetrics.events.counter(venue, $0.description, factory: factory) }
    }

    func countAccepted(_ kind: MarketEventKind) {
        accepted[kind.rawValue].increment()
    }

    func countRejected(_ reason: IngestRejection) {
        if let counter = rejected[reason.rawValue] { return counter.increment() }
        let counter = MarketDataMetrics.rejectedEvents.counter(venue, reason.description, factory: factory)
        rejected[reason.rawValue] = counter
        counter.increment()
    }
}
