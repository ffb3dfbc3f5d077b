import AlphaPlusSDK
import CAlphaPlus
import Foundation
import Logging
import MarketData
import Strategy
import Trading
import Timekeeping

/// The live path on recorded data: events go through the same market
/// pipeline and the same tenant strategy as in `alphaplus run`; only the
/// clock differs — it is the data's own time, advanced by each event, so
/// a run goes as fast as the machine allows and always decides the same.
/// The runner moves `clock`, the host clock its plugins' services read, so
/// their `now_ns` is the event's time and their timers fire on data time,
/// between two events.
public final class BacktestRunner {
    /// A hole in a bar series: bars missing between two that arrived.
    public struct Gap: Sendable, Equatable {
        public var symbol: String
        public var afterNs: Int64
        public var beforeNs: Int64
        public var missingBars: Int64
    }

    public let strategy: TenantStrategy
    public private(set) var pipeline: MarketPipeline!
    /// Simulated time: the latest event time seen (what `clock` reads).
    public private(set) var nowNs: Int64 = .min
    private let clock: ManualClock
    public private(set) var bars = 0
    public private(set) var events = 0
    public private(set) var rejectedEvents = 0
    /// Events ingest rejected, per `IngestRejection` (by its raw value).
    public private(set) var rejections = [Int](repeating: 0, count: IngestRejection.allCases.count)
    /// Every frame the pipeline made, traded by the tenant or not, per
    /// stream in the order they appeared: what to tell a user whose
    /// backtest evaluated nothing.
    public private(set) var framesMade: [(symbol: String, timeframeSeconds: Int64, frames: Int)] = []
    /// A stream's frame keeps its address: its place in `framesMade`.
    private var frameStreams: [UnsafeRawPointer: Int] = [:]
    public private(set) var gapCount = 0
    public private(set) var missingBars: Int64 = 0
    /// The first gaps, for the report.
    public private(set) var firstGaps: [Gap] = []
    private var lastBarOpen: [String: Int64] = [:]
    private var nextClockSecond: Int64 = .min
    private var names: [String: UnsafeMutablePointer<CChar>] = [:]

    public init(strategy: TenantStrategy, clock: ManualClock, logger: Logger = Logger(label: "alphaplus.backtest")) {
        self.strategy = strategy
        self.clock = clock
        pipeline = MarketPipeline(clock: { [unowned self] in nowNs }, logger: logger) { [unowned self] frame in
            countFrame(frame)
            strategy.onFrame(frame)
        }
    }

    deinit { names.values.forEach { $0.deallocate() } }

    /// One event of any kind. Bars take a path that builds the C event in
    /// place; the rest go through the SDK's conversion.
    @discardableResult
    public func feed(_ event: MarketEvent) -> IngestResult {
        if case .candle(let source, let candle, let closed) = event, closed {
            return feedBar(venue: source.venue, symbol: source.symbol, candle)
        }
        advance(to: event.source.exchangeTimeNs)
        events += 1
        return count(event.withCEvent { pipeline.ingest($0) })
    }

    /// One closed bar, known at its close.
    @discardableResult
    public func feedBar(venue: String, symbol: String, _ candle: Candle) -> IngestResult {
        let intervalNs = candle.intervalSeconds * 1_000_000_000
        advance(to: candle.openTimeNs + intervalNs)
        events += 1
        bars += 1
        if let last = lastBarOpen[symbol], candle.openTimeNs - last > intervalNs {
            let missing = (candle.openTimeNs - last) / intervalNs - 1
            gapCount += 1
            missingBars += missing
            if firstGaps.count < 20 {
                firstGaps.append(Gap(symbol: symbol, afterNs: last, beforeNs: candle.openTimeNs, missingBars: missing))
            }
        }
        lastBarOpen[symbol] = candle.openTimeNs
        var event = ap_candle_event()
        event.header.struct_size = UInt32(MemoryLayout<ap_candle_event>.size)
        event.header.kind = AP_EVENT_CANDLE.rawValue
        event.header.venue = name(venue)
        event.header.symbol = name(symbol)
        event.header.exchange_ts_ns = candle.openTimeNs + intervalNs
        event.header.local_ts_ns = event.header.exchange_ts_ns
        event.candle = ap_candle(open_time_ns: candle.openTimeNs, interval_s: candle.intervalSeconds, open: candle.open,
                                 high: candle.high, low: candle.low, close: candle.close, volume: candle.volume,
                                 trade_count: candle.tradeCount)
        event.closed = 1
        return count(withUnsafePointer(to: &event) { pointer in
            pointer.withMemoryRebound(to: ap_event_header.self, capacity: 1) { pipeline.ingest($0) }
        })
    }

    public func rejections(_ reason: IngestRejection) -> Int { rejections[reason.rawValue] }

    private func count(_ result: IngestResult) -> IngestResult {
        if case .rejected(let reason) = result {
            rejectedEvents += 1
            rejections[reason.rawValue] += 1
        }
        return result
    }

    private func countFrame(_ frame: UnsafePointer<ap_feature_frame>) {
        let key = UnsafeRawPointer(frame)
        if let index = frameStreams[key] {
            framesMade[index].frames += 1
        } else {
            frameStreams[key] = framesMade.count
            framesMade.append((frame.pointee.symbol.string, frame.pointee.timeframe_s, 1))
        }
    }

    /// Ends the run: open positions close at their last price.
    public func finish() {
        strategy.finish(atNs: nowNs)
    }

    private func advance(to ns: Int64) {
        guard ns > nowNs else { return }
        nowNs = ns
        clock.set(toNs: ns)
        // Buckets that only the clock can close (trade and quote data).
        if ns >= nextClockSecond {
            nextClockSecond = (ns / 1_000_000_000 + 1) * 1_000_000_000
            pipeline.advanceClock(to: ns)
        }
    }

    /// A stable C string per name, made once.
    private func name(_ text: String) -> ap_str {
        if let known = names[text] { return ap_str(ptr: UnsafePointer(known), len: text.utf8.count) }
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: text.utf8.count + 1)
        for (index, byte) in text.utf8.enumerated() { storage[index] = CChar(bitPattern: byte) }
        storage[text.utf8.count] = 0
        names[text] = storage
        return ap_str(ptr: UnsafePointer(storage), len: text.utf8.count)
    }
}
