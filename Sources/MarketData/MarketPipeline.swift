import AlphaPlusSDK
import CAlphaPlus
import Foundation
import Logging
import Metrics
import AlphaPlusTime
import MetricCatalog
import OrderBook

/// Ingest, candles, indicators and feature frames for every stream the
/// exchange plugins emit. Events come in as the contract's C structs (as
/// emit_event lends them); each is checked, de-duplicated and routed, and
/// every candle close produces a feature frame for the frame sink. Calls
/// are serialised by one lock; after a stream's first event nothing on
/// this path allocates. Events and frames are counted in swift-metrics
/// (`MarketDataMetrics`) with the factory current when the pipeline is made.
// @unchecked: every stream, book and counter is guarded by `lock` (one event at a time, the hot path).
public final class MarketPipeline: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var candles: CandleConfiguration
        /// How far an event's venue time may run ahead of the host clock.
        public var futureToleranceNs: Int64
        /// How many recent trade ids per stream are remembered for
        /// de-duplication.
        public var duplicateWindow: Int
        /// How many data-loss records are kept (the counts are kept always).
        public var dataLossRecordLimit: Int

        public init(candles: CandleConfiguration = CandleConfiguration(), futureToleranceNs: Int64 = 5_000_000_000,
                    duplicateWindow: Int = 4_096, dataLossRecordLimit: Int = 1_000) {
            self.candles = candles
            self.futureToleranceNs = futureToleranceNs
            self.duplicateWindow = duplicateWindow
            self.dataLossRecordLimit = dataLossRecordLimit
        }
    }

    /// Receives each frame for the duration of the call.
    public typealias FrameSink = (UnsafePointer<ap_feature_frame>) -> Void

    public let configuration: Configuration
    private let clock: () -> Int64
    private let logger: Logger
    private let onFrame: FrameSink
    private let lock = NSLock()
    private var streams: [StreamKey: Stream] = [:]
    private var unknownSymbols: Set<StreamKey> = []
    private var rejectionCounts = [Int](repeating: 0, count: IngestRejection.allCases.count)
    private var acceptedCount = 0
    private var dataLossRecords: [DataLoss] = []
    private var dataLossCount = 0
    private var missingEventCount: UInt64 = 0
    private var framesPerTimeframe: [Int]
    private let metricsFactory: any MetricsFactory
    private var venues: [String: VenueMetrics] = [:]

    public init(configuration: Configuration = Configuration(), clock: @escaping () -> Int64,
                logger: Logger = Logger(label: "alphaplus.market"), onFrame: @escaping FrameSink) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.onFrame = onFrame
        framesPerTimeframe = [Int](repeating: 0, count: configuration.candles.timeframes.count)
        metricsFactory = MetricsSystem.factory
    }

    // MARK: - Counters

    public var acceptedEvents: Int { lock.withLock { acceptedCount } }

    public func rejections(_ reason: IngestRejection) -> Int { lock.withLock { rejectionCounts[reason.rawValue] } }

    /// The first `dataLossRecordLimit` sequence gaps seen.
    public var dataLoss: [DataLoss] { lock.withLock { dataLossRecords } }

    /// Gaps seen and events missing in them, over all streams.
    public var dataLossTotals: (gaps: Int, missingEvents: UInt64) { lock.withLock { (dataLossCount, missingEventCount) } }

    /// Frames produced so far, per timeframe in seconds.
    public var frameCounts: [(timeframeSeconds: Int64, frames: Int)] {
        lock.withLock { Array(zip(configuration.candles.timeframes, framesPerTimeframe)) }
    }

    /// A one-line summary for the operator's log.
    public var summary: String {
        lock.withLock {
            let rejected = IngestRejection.allCases.compactMap { reason in
                rejectionCounts[reason.rawValue] > 0 ? "\(reason)=\(rejectionCounts[reason.rawValue])" : nil
            }
            let frames = zip(configuration.candles.timeframes, framesPerTimeframe).map { "\($0)s=\($1)" }.joined(separator: " ")
            return "accepted \(acceptedCount) events; rejected: \(rejected.isEmpty ? "none" : rejected.joined(separator: " ")); "
                + "frames: \(frames); data loss: \(dataLossCount) gaps, \(missingEventCount) events missing"
        }
    }

    /// The canonical symbols seen per venue.
    public var symbols: [(venue: String, symbol: String)] {
        lock.withLock { streams.values.map { ($0.venue, $0.symbol) }.sorted { ($0.venue, $0.symbol) < ($1.venue, $1.symbol) } }
    }

    /// Runs `body` while no event or frame is being processed (frame sinks
    /// read their own state consistently in it).
    public func exclusively<R>(_ body: () throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: - Events

    /// Checks and routes one event.
    @discardableResult
    public func ingest(_ event: UnsafePointer<ap_event_header>) -> IngestResult {
        lock.lock()
        defer { lock.unlock() }
        let header = event.pointee
        // News may be market-wide (no symbol); the strategy layer routes it.
        if header.kind == AP_EVENT_NEWS.rawValue {
            acceptedCount += 1
            venueMetrics(header.venue.string).countAccepted(.news)
            return .accepted
        }
        let key = StreamKey(venue: header.venue.string, rawSymbol: header.symbol.string)
        guard let stream = stream(for: key) else { return reject(.unknownSymbol, key, "cannot be read as BASE-QUOTE") }
        if header.exchange_ts_ns > clock() + configuration.futureToleranceNs {
            return reject(.timestampInFuture, key, "venue time \(header.exchange_ts_ns) ns is ahead of the host clock")
        }
        let raw = UnsafeRawPointer(event)
        let result: IngestResult
        switch header.kind {
        case AP_EVENT_TRADE.rawValue:
            result = trade(raw.assumingMemoryBound(to: ap_trade_event.self).pointee, stream)
        case AP_EVENT_QUOTE.rawValue:
            result = quote(raw.assumingMemoryBound(to: ap_quote_event.self).pointee, stream)
        case AP_EVENT_CANDLE.rawValue:
            result = candle(raw.assumingMemoryBound(to: ap_candle_event.self).pointee, stream)
        case AP_EVENT_BOOK_SNAPSHOT.rawValue, AP_EVENT_BOOK_DELTA.rawValue:
            result = book(raw, kind: header.kind, stream)
        default:
            result = .accepted
        }
        if case .rejected(let reason) = result { return reject(reason, key, "") }
        acceptedCount += 1
        if let kind = MarketEventKind(contractKind: header.kind) { stream.venueMetrics.countAccepted(kind) }
        return .accepted
    }

    /// Moves the clock: closes the buckets whose time (plus grace) passed.
    public func advanceClock(to nowNs: Int64) {
        lock.withLock {
            for stream in streams.values {
                stream.candles.advance(to: nowNs) { index, candle, flow in self.closed(stream, index, candle, flow) }
            }
        }
    }

    // MARK: - Per kind

    private func trade(_ trade: ap_trade_event, _ stream: Stream) -> IngestResult {
        let price = ExactDecimal(trade.price).doubleValue, size = ExactDecimal(trade.size).doubleValue
        guard trade.price.mantissa > 0 else { return .rejected(.nonPositivePrice) }
        guard trade.size.mantissa >= 0 else { return .rejected(.negativeSize) }
        let time = trade.header.exchange_ts_ns
        if trade.trade_id.len > 0, !stream.recentTradeIDs.insert(RecentIDs.hash(trade.trade_id)) {
            return .rejected(.duplicateTrade)
        }
        if trade.sequence != 0 {
            if trade.sequence <= stream.lastTradeSequence { return .rejected(.duplicateTrade) }
            if stream.lastTradeSequence != 0 && trade.sequence > stream.lastTradeSequence + 1 {
                recordDataLoss(stream, .trades, expected: stream.lastTradeSequence + 1, received: trade.sequence)
            }
        }
        guard time >= stream.lastTradeTimeNs else { return .rejected(.timestampBackwards) }
        if trade.sequence != 0 { stream.lastTradeSequence = trade.sequence }
        stream.lastTradeTimeNs = time
        stream.candles.addTrade(price: price, size: size, aggressor: ap_side(trade.aggressor), timeNs: time) {
            index, candle, flow in self.closed(stream, index, candle, flow)
        }
        return .accepted
    }

    private func quote(_ quote: ap_quote_event, _ stream: Stream) -> IngestResult {
        // A side with size 0 is empty; its price may then be 0.
        func sideProblem(_ price: ap_decimal, _ size: ap_decimal) -> IngestRejection? {
            if size.mantissa < 0 { return .negativeSize }
            if price.mantissa < 0 || (price.mantissa == 0 && size.mantissa != 0) { return .nonPositivePrice }
            return nil
        }
        if let problem = sideProblem(quote.bid_price, quote.bid_size) ?? sideProblem(quote.ask_price, quote.ask_size) {
            return .rejected(problem)
        }
        let bid = ExactDecimal(quote.bid_price).doubleValue, ask = ExactDecimal(quote.ask_price).doubleValue
        if quote.bid_size.mantissa > 0 && quote.ask_size.mantissa > 0 && bid > ask { return .rejected(.crossedQuote) }
        guard quote.header.exchange_ts_ns >= stream.lastQuoteTimeNs else { return .rejected(.timestampBackwards) }
        stream.lastQuoteTimeNs = quote.header.exchange_ts_ns
        stream.topOfBook = TopOfBook(bid: quote.bid_size.mantissa > 0 ? bid : .nan, bidSize: ExactDecimal(quote.bid_size).doubleValue,
                                     ask: quote.ask_size.mantissa > 0 ? ask : .nan, askSize: ExactDecimal(quote.ask_size).doubleValue)
        return .accepted
    }

    private func candle(_ event: ap_candle_event, _ stream: Stream) -> IngestResult {
        let candle = event.candle
        guard candle.open.isFinite && candle.high.isFinite && candle.low.isFinite && candle.close.isFinite
                && candle.volume.isFinite else {
            return .rejected(.nonFiniteValue)
        }
        guard candle.open > 0, candle.high > 0, candle.low > 0, candle.close > 0 else { return .rejected(.nonPositivePrice) }
        guard candle.volume >= 0 else { return .rejected(.negativeSize) }
        guard candle.interval_s > 0, candle.low <= min(candle.open, candle.close), candle.high >= max(candle.open, candle.close) else {
            return .rejected(.inconsistentCandle)
        }
        guard event.closed != 0 else { return .accepted }  // still forming: the closed one follows
        if candle.open_time_ns == stream.lastCandleOpenNs && candle.interval_s == stream.lastCandleInterval {
            return .rejected(.duplicateCandle)
        }
        guard candle.open_time_ns > stream.lastCandleOpenNs || candle.interval_s != stream.lastCandleInterval else {
            return .rejected(.timestampBackwards)
        }
        stream.lastCandleOpenNs = candle.open_time_ns
        stream.lastCandleInterval = candle.interval_s
        stream.candles.addClosedCandle(candle) { index, candle, flow in self.closed(stream, index, candle, flow) }
        return .accepted
    }

    private func book(_ event: UnsafeRawPointer, kind: UInt32, _ stream: Stream) -> IngestResult {
        func check(_ levels: UnsafePointer<ap_book_level>?, _ count: Int) -> IngestRejection? {
            guard let levels else { return nil }
            for level in UnsafeBufferPointer(start: levels, count: count) {
                if level.size.mantissa < 0 { return .negativeSize }
                // An order-by-order delete names the order and may carry price 0.
                let isOrderDelete = level.order_id != 0 && level.size.mantissa == 0
                if level.price.mantissa <= 0 && !isOrderDelete { return .nonPositivePrice }
            }
            return nil
        }
        let book = stream.book ?? BookBuilder(venue: stream.venue, symbol: stream.symbol)
        stream.book = book
        let breaksBefore = book.counters.sequenceBreaks
        if kind == AP_EVENT_BOOK_SNAPSHOT.rawValue {
            let snapshot = event.assumingMemoryBound(to: ap_book_snapshot_event.self)
            if let problem = check(snapshot.pointee.bids, snapshot.pointee.bid_count) ?? check(snapshot.pointee.asks, snapshot.pointee.ask_count) {
                return .rejected(problem)
            }
            book.apply(snapshot)
        } else {
            let delta = event.assumingMemoryBound(to: ap_book_delta_event.self)
            if let problem = check(delta.pointee.bids, delta.pointee.bid_count) ?? check(delta.pointee.asks, delta.pointee.ask_count) {
                return .rejected(problem)
            }
            book.apply(delta)
        }
        if book.counters.sequenceBreaks > breaksBefore {
            let last = book.sequenceBreakRecords.last
            recordDataLoss(stream, .book, expected: last?.expected ?? 0, received: last?.got ?? 0)
        }
        return .accepted
    }

    // MARK: - Streams, frames, bookkeeping

    private func stream(for key: StreamKey) -> Stream? {
        if let stream = streams[key] { return stream }
        if unknownSymbols.contains(key) { return nil }
        guard let symbol = SymbolNormalizer.canonical(venue: key.venue, symbol: key.rawSymbol) else {
            unknownSymbols.insert(key)
            return nil
        }
        let stream = Stream(venue: key.venue, symbol: symbol, configuration: configuration, metrics: venueMetrics(key.venue),
                            factory: metricsFactory)
        streams[key] = stream
        return stream
    }

    private func venueMetrics(_ venue: String) -> VenueMetrics {
        if let metrics = venues[venue] { return metrics }
        let metrics = VenueMetrics(venue: venue, factory: metricsFactory)
        venues[venue] = metrics
        return metrics
    }

    private func closed(_ stream: Stream, _ index: Int, _ candle: ap_candle, _ flow: TradeFlow) {
        framesPerTimeframe[index] += 1
        stream.frameCounters[index].increment()
        let frame = stream.frames[index].close(candle, flow: flow, book: stream.bookFeatures(flow: flow), nowNs: clock())
        onFrame(frame)
    }

    private func recordDataLoss(_ stream: Stream, _ kind: DataLoss.Stream, expected: UInt64, received: UInt64) {
        let loss = DataLoss(venue: stream.venue, symbol: stream.symbol, stream: kind, expected: expected,
                            received: received, detectedAtNs: clock())
        dataLossCount += 1
        missingEventCount += loss.missing
        if dataLossRecords.count < configuration.dataLossRecordLimit { dataLossRecords.append(loss) }
        logger.warning("data loss: \(loss)")
    }

    private func reject(_ reason: IngestRejection, _ key: StreamKey, _ detail: String) -> IngestResult {
        rejectionCounts[reason.rawValue] += 1
        venueMetrics(key.venue).countRejected(reason)
        let count = rejectionCounts[reason.rawValue]
        // The first few of each reason in full, then one line per 10,000.
        if count <= 10 || count % 10_000 == 0 {
            logger.warning("market event rejected (\(reason), \(count) so far): venue \(key.venue), symbol \(key.rawSymbol)\(detail.isEmpty ? "" : ": " + detail)")
        }
        return .rejected(reason)
    }
}

struct StreamKey: Hashable {
    var venue: String
    var rawSymbol: String
}

/// The best levels as last reported by quotes (or a book).
struct TopOfBook {
    var bid = Double.nan, bidSize = 0.0, ask = Double.nan, askSize = 0.0
}

/// One (venue, symbol)'s state.
final class Stream {
    let venue: String
    let symbol: String
    var candles: CandleAggregator
    let frames: [FrameProducer]
    /// Frames made, per timeframe (`frames` order).
    let frameCounters: [Counter]
    let venueMetrics: VenueMetrics
    var recentTradeIDs: RecentIDs
    var lastTradeSequence: UInt64 = 0
    var lastTradeTimeNs = Int64.min
    var lastQuoteTimeNs = Int64.min
    var lastCandleOpenNs = Int64.min
    var lastCandleInterval: Int64 = 0
    var topOfBook: TopOfBook?
    /// Built from the stream's book events, if it has any.
    var book: BookBuilder?

    init(venue: String, symbol: String, configuration: MarketPipeline.Configuration, metrics: VenueMetrics,
         factory: any MetricsFactory) {
        self.venue = venue
        self.symbol = symbol
        candles = CandleAggregator(configuration: configuration.candles)
        frames = configuration.candles.timeframes.map { FrameProducer(venue: venue, symbol: symbol, timeframeSeconds: $0) }
        frameCounters = configuration.candles.timeframes.map {
            MarketDataMetrics.frames.counter(venue, symbol, timeframeName(seconds: $0), factory: factory)
        }
        venueMetrics = metrics
        recentTradeIDs = RecentIDs(capacity: configuration.duplicateWindow)
    }

    /// Book features for a frame, with the candle's trade flow: from the
    /// rebuilt book while it is in sync (NaN while crossed), else from the
    /// last quote; nil when nothing is known of the book.
    func bookFeatures(flow: TradeFlow) -> ap_book_features? {
        if let book, book.isSynced {
            var features = book.features(imbalanceLevels: 10)
            features.trade_flow_imbalance = flow.imbalance
            return features
        }
        guard let top = topOfBook else { return nil }
        var features = ap_book_features()
        features.best_bid = top.bid
        features.best_ask = top.ask
        features.best_bid_size = top.bidSize
        features.best_ask_size = top.askSize
        features.mid = (top.bid + top.ask) / 2
        features.spread = top.ask - top.bid
        let sizes = top.bidSize + top.askSize
        features.microprice = BookBuilder.microprice(bid: top.bid, bidSize: top.bidSize, ask: top.ask, askSize: top.askSize)
        features.imbalance = sizes > 0 ? (top.bidSize - top.askSize) / sizes : .nan
        features.depth = 1
        features.trade_flow_imbalance = flow.imbalance
        return features
    }
}
