import CAlphaPlus
import Metrics

/// One of the host's metrics as the operator sees it in /metrics: name,
/// kind, label names, help text and, for a histogram, its buckets. The code
/// that records a metric makes its handles through its descriptor, once per
/// label set (never per event), with the metrics factory of the component
/// that records; the Prometheus backend (`HostMetrics`) reads help and
/// buckets from the descriptors.
public struct MetricDescriptor: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case counter, gauge, histogram
    }

    /// Prometheus-style: `alphaplus_` first, `_total` for a counter,
    /// `_seconds` for a histogram of durations.
    public let name: String
    public let kind: Kind
    /// Label names, in the order handles give their values.
    public let labels: [String]
    public let help: String
    /// A histogram's bucket upper bounds, in its unit (seconds for `_seconds`).
    public let buckets: [Double]

    public init(name: String, kind: Kind, labels: [String], help: String, buckets: [Double] = []) {
        precondition(kind == .histogram || buckets.isEmpty, "\(name): only a histogram has buckets")
        self.name = name
        self.kind = kind
        self.labels = labels
        self.help = help
        self.buckets = buckets
    }

    /// The counter of one label set; `values` in the order of `labels`.
    public func counter(_ values: String..., factory: any MetricsFactory) -> Counter {
        Counter(label: name, dimensions: dimensions(values, for: .counter), factory: factory)
    }

    /// The gauge of one label set; `values` in the order of `labels`.
    public func gauge(_ values: String..., factory: any MetricsFactory) -> Gauge {
        Gauge(label: name, dimensions: dimensions(values, for: .gauge), factory: factory)
    }

    /// The histogram of durations of one label set; `values` in the order of `labels`.
    public func timer(_ values: String..., factory: any MetricsFactory) -> CoreMetrics.Timer {
        CoreMetrics.Timer(label: name, dimensions: dimensions(values, for: .histogram), factory: factory)
    }

    private func dimensions(_ values: [String], for use: Kind) -> [(String, String)] {
        precondition(kind == use, "\(name) is a \(kind), not a \(use)")
        precondition(values.count == labels.count, "\(name) takes the labels \(labels); \(values.count) values given")
        return Array(zip(labels, values))
    }
}

/// The kinds of market event the contract has, as metrics label them: a
/// book snapshot and a book delta are both `book`.
public enum MarketEventKind: Int, CaseIterable, Sendable, CustomStringConvertible {
    case trade, quote, book, candle, news

    /// Nil for a kind the contract does not define.
    public init?(contractKind kind: UInt32) {
        switch kind {
        case AP_EVENT_TRADE.rawValue: self = .trade
        case AP_EVENT_QUOTE.rawValue: self = .quote
        case AP_EVENT_BOOK_SNAPSHOT.rawValue, AP_EVENT_BOOK_DELTA.rawValue: self = .book
        case AP_EVENT_CANDLE.rawValue: self = .candle
        case AP_EVENT_NEWS.rawValue: self = .news
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .trade: "trade"
        case .quote: "quote"
        case .book: "book"
        case .candle: "candle"
        case .news: "news"
        }
    }
}
