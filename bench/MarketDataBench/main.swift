// Market-data throughput and allocations, measured in one run on real bars
// from ../shared/data:
//
//     swift run -c release MarketDataBench [rounds]
//
// Prints bars per second through the indicators, through candles plus
// indicators plus frames, and through the whole ingest path; trades per
// second through ingest into candles, and through emit_event from an
// exchange plugin into ingest; and heap allocations per event after
// warm-up (the hot path's target is 0). Metrics are recorded as in
// `alphaplus run`: swift-metrics bootstrapped to the Prometheus registry.
import AllocationCounter
import AlphaPlusFeeds
import AlphaPlusJSON
import struct AlphaPlusSDK.EventSource
import struct AlphaPlusSDK.ExactDecimal
import protocol AlphaPlusSDK.ExchangePlugin
import enum AlphaPlusSDK.MarketEvent
import class AlphaPlusSDK.PluginContext
import struct AlphaPlusSDK.PluginDescriptor
import enum AlphaPlusSDK.PluginExport
import struct AlphaPlusSDK.Subscription
import BenchSupport
import CAlphaPlus
import Foundation
import HostMetrics
import Indicators
import MarketData
import OrderBook
import PluginRuntime

HostMetrics.bootstrap()

let rounds = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 40 : 40

/// Runs `body` (which processes `events` events) and reports events per
/// second and heap allocations per event.
func measure(_ events: Int, _ body: () -> Void) -> (perSecond: Double, allocationsPerEvent: Double) {
    let allocationsBefore = ap_allocation_count()
    let start = monotonicNs()
    body()
    let elapsed = Double(monotonicNs() - start) / 1e9
    let allocations = Double(ap_allocation_count() - allocationsBefore)
    return (Double(events) / elapsed, allocations / Double(events))
}

func format(_ perSecond: Double) -> String { String(format: "%.2f million/s", perSecond / 1e6) }
func ratio(_ value: Double) -> String { String(format: "%.2fx", value) }

let dataRoot = ProcessInfo.processInfo.environment["ALPHAPLUS_SHARED_DATA"]
    ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data").path
let barsFile = dataRoot + "/nautilus_trader/btc-perp-20211231-20220201_1m.csv"
guard FileManager.default.fileExists(atPath: barsFile) else {
    print("skipped: \(barsFile) is not here (the shared market data sits in ../shared/data beside the checkout)")
    exit(0)
}

// FTX BTC-PERP 1m bars, read as the replay connector reads them.
var bars: [Bar] = []
try FeedReader(path: barsFile).read { event, _ in
    guard case .candle(_, let candle, _) = event else { return }
    bars.append(Bar(openTimeNs: candle.openTimeNs, open: candle.open, high: candle.high, low: candle.low,
                    close: candle.close, volume: candle.volume))
}
let spanNs = Int64(bars.count) * 60_000_000_000
let totalBars = bars.count * rounds
print("market data: \(bars.count) FTX BTC-PERP 1m bars x \(rounds) rounds = \(totalBars) bars, one core")

// 1. The indicator set alone.
var sink = 0.0
let values = UnsafeMutablePointer<Double>.allocate(capacity: IndicatorSet.columns.count)
let indicatorsOnly = measure(totalBars) {
    var indicators = IndicatorSet()
    for round in 0..<rounds {
        let shift = Int64(round) * spanNs
        for var bar in bars {
            bar.openTimeNs += shift
            indicators.update(bar, into: values)
            sink += values[4]
        }
    }
}

// 2. Candles for six timeframes, the indicators of every close, frames.
var aggregator = CandleAggregator()
let producers = CandleConfiguration.standardTimeframes.map { FrameProducer(venue: "ftx", symbol: "BTC-PERP", timeframeSeconds: $0) }
var frames = 0
let candlesAndIndicators = measure(totalBars) {
    for round in 0..<rounds {
        let shift = Int64(round) * spanNs
        for bar in bars {
            let candle = ap_candle(open_time_ns: bar.openTimeNs + shift, interval_s: 60, open: bar.open, high: bar.high,
                                   low: bar.low, close: bar.close, volume: bar.volume, trade_count: 0)
            aggregator.addClosedCandle(candle) { index, closed, flow in
                let frame = producers[index].close(closed, flow: flow, book: nil, nowNs: 0)
                sink += frame.pointee.indicator_values[4]
                frames += 1
            }
        }
    }
}

// 3. The whole ingest path: C events as emit_event lends them, checked,
//    routed to candles, indicators and frames.
let venue = strdup("ftx")!, symbol = strdup("BTC-PERP")!
func header(_ kind: ap_event_kind, _ size: Int) -> ap_event_header {
    ap_event_header(struct_size: UInt32(size), kind: kind.rawValue, venue: ap_str(ptr: venue, len: 3),
                    symbol: ap_str(ptr: symbol, len: 8), exchange_ts_ns: 0, local_ts_ns: 0)
}
let pipeline = MarketPipeline(clock: { Int64.max / 4 }) { frame in sink += frame.pointee.indicator_values[4] }
var candleEvent = ap_candle_event(header: header(AP_EVENT_CANDLE, MemoryLayout<ap_candle_event>.size), candle: ap_candle(), closed: 1)
func ingestRound(_ round: Int) {
    let shift = Int64(round) * spanNs
    withUnsafeMutablePointer(to: &candleEvent) { event in
        let raw = UnsafeRawPointer(event).assumingMemoryBound(to: ap_event_header.self)
        for bar in bars {
            event.pointee.header.exchange_ts_ns = bar.openTimeNs + shift
            event.pointee.candle = ap_candle(open_time_ns: bar.openTimeNs + shift, interval_s: 60, open: bar.open, high: bar.high,
                                             low: bar.low, close: bar.close, volume: bar.volume, trade_count: 0)
            pipeline.ingest(raw)
        }
    }
}
ingestRound(0)  // warm-up: the stream's state and frames are made once
let fullIngest = measure(bars.count * (rounds - 1)) { for round in 1..<rounds { ingestRound(round) } }
precondition(pipeline.acceptedEvents == totalBars, "every bar is accepted")

// 4. Trades through ingest into candles (one trade every 100 ms).
let tradeCount = 2_000_000
var tradeEvent = ap_trade_event(header: header(AP_EVENT_TRADE, MemoryLayout<ap_trade_event>.size),
                                price: ap_decimal(mantissa: 0, exponent: -2), size: ap_decimal(mantissa: 150, exponent: -3),
                                aggressor: AP_SIDE_BUY.rawValue, trade_id: ap_str(ptr: nil, len: 0), sequence: 0)
let trades = MarketPipeline(clock: { Int64.max / 4 }) { frame in sink += frame.pointee.indicator_values[4] }
func ingestTrades(_ range: Range<Int>) {
    withUnsafeMutablePointer(to: &tradeEvent) { event in
        let raw = UnsafeRawPointer(event).assumingMemoryBound(to: ap_event_header.self)
        for index in range {
            event.pointee.header.exchange_ts_ns = 1_640_995_200_000_000_000 + Int64(index) * 100_000_000
            event.pointee.price.mantissa = 4_700_000 + Int64((index &* 7919) % 2_000) - 1_000
            event.pointee.sequence = UInt64(index + 1)
            event.pointee.aggressor = index % 3 == 0 ? AP_SIDE_SELL.rawValue : AP_SIDE_BUY.rawValue
            trades.ingest(raw)
        }
    }
}
ingestTrades(0..<10_000)
let tradeIngest = measure(tradeCount - 10_000) { ingestTrades(10_000..<tradeCount) }
precondition(trades.acceptedEvents == tradeCount, "every trade is accepted")

// 5. Trades as a connector emits them: an exchange plugin (linked in, its
//    SDK context) calls emit_event through the services table and counts
//    each trade (metric_record); the host checks the struct, counts it and
//    hands it to ingest.
final class BenchFeed: ExchangePlugin {
    struct Configuration: Decodable {}
    static let descriptor = PluginDescriptor(id: "bench.feed", name: "Bench feed", version: "1.0.0", configSchema: #"{"type": "object"}"#)
    static var current: BenchFeed?
    let context: PluginContext

    init(configuration: Configuration, context: PluginContext) throws {
        self.context = context
        BenchFeed.current = self
    }

    func start() throws {}
    func stop() {}
    func subscribe(_ subscription: Subscription) throws {}
    func unsubscribe(symbol: String) throws {}

    func emitTrade(index: Int) {
        let trade = MarketEvent.trade(EventSource(venue: "bench", symbol: "BTC-PERP", exchangeTimeNs: 1_640_995_200_000_000_000 + Int64(index) * 100_000_000),
                                      price: ExactDecimal(mantissa: 4_700_000 + Int64((index &* 7919) % 2_000) - 1_000, exponent: -2),
                                      size: ExactDecimal(mantissa: 150, exponent: -3), aggressor: index % 3 == 0 ? .sell : .buy,
                                      tradeID: "", sequence: UInt64(index + 1))
        try! context.emit(trade)
        context.count("bench_trades")
    }
}
let services = HostServices()
let emitted = MarketPipeline(clock: { Int64.max / 4 }) { frame in sink += frame.pointee.indicator_values[4] }
services.setEventSink { _, event in emitted.ingest(event) }
let feedPlugin = try PluginLoader(services: services).load(linked: PluginExport.entry(BenchFeed.self), name: "bench-feed")
// The instance lives until the process ends.
let feedInstance = try HostedInstance(plugin: feedPlugin, tenantID: "bench", instanceID: "feed", config: .object([:]),
                                                    services: services)
let feed = BenchFeed.current!
for index in 0..<10_000 { feed.emitTrade(index: index) }
let emitIngest = measure(tradeCount - 10_000) { for index in 10_000..<tradeCount { feed.emitTrade(index: index) } }
precondition(emitted.acceptedEvents == tradeCount, "every emitted trade is accepted")

// 6. Book events through the Binance rebuild: a real USD-M capture decoded
//    once, its snapshot and depth updates applied from the contract's
//    structs, as the host receives them.
let capture = dataRoot + "/hftbacktest/binance_usdm/btcusdt_20240808.gz"
var decoder = BinanceCaptureDecoder()
let tape = BookEventTape(try decoder.decodeFiles([capture]), symbol: "BTCUSDT")
let bookRounds = 20
var books: [BookBuilder] = (0..<bookRounds).map { _ in BookBuilder(venue: "binance", symbol: "BTCUSDT") }
tape.apply(to: BookBuilder(venue: "binance", symbol: "BTCUSDT"))  // warm-up
let bookRebuild = measure(tape.count * bookRounds) { for book in books { tape.apply(to: book) } }
precondition(books.allSatisfy { $0.counters.sequenceBreaks == 0 && $0.isSynced }, "the capture rebuilds without breaks")
books.removeAll()

print("  indicators only (23 TA-Lib columns + VWAP):     \(format(indicatorsOnly.perSecond)) bars")
print("  candles (6 timeframes) + indicators + frames:   \(format(candlesAndIndicators.perSecond)) bars (\(frames) frames)")
print("  full ingest (C event -> checks -> candles -> frames): \(format(fullIngest.perSecond)) bars")
print("  trades through ingest into candles:             \(format(tradeIngest.perSecond)) trades")
print("  trades emitted by a plugin (emit_event) into ingest: \(format(emitIngest.perSecond)) trades")
print("  book events through the Binance rebuild:        \(format(bookRebuild.perSecond)) events (\(tape.count) per round, 0 breaks)")
print("  ratio candles+indicators / target 5 million bars/s: \(ratio(candlesAndIndicators.perSecond / 5e6))")
print("  ratio full ingest / target 5 million bars/s:        \(ratio(fullIngest.perSecond / 5e6))")
print("  ratio full ingest / indicators only:                \(ratio(fullIngest.perSecond / indicatorsOnly.perSecond))")
print(String(format: "  heap allocations per event after warm-up: bars %.4f, trades %.4f, emitted trades %.4f, book events %.4f (target 0)",
             fullIngest.allocationsPerEvent, tradeIngest.allocationsPerEvent, emitIngest.allocationsPerEvent, bookRebuild.allocationsPerEvent))
// The counts reached the Prometheus registry: the real backend was measured.
let exposition = HostMetrics.exposition()
for line in ["alphaplus_market_events_total{venue=\"ftx\",kind=\"candle\"} \(totalBars)",
             "alphaplus_market_events_total{venue=\"bench\",kind=\"trade\"} \(tradeCount)",
             "alphaplus_events_emitted_total{tenant=\"bench\",plugin=\"bench.feed\",instance=\"feed\",kind=\"trade\"} \(tradeCount)",
             "alphaplus_plugin_bench_trades_total{tenant=\"bench\",plugin=\"bench.feed\",instance=\"feed\"} \(tradeCount).0"] {
    precondition(exposition.contains(line + "\n"), "/metrics lacks \(line)")
}
print("  metrics: Prometheus registry (\(exposition.split(separator: "\n").count) lines of /metrics), counts checked")
// The counter itself counts: one array is one allocation.
let probe = measure(1) { sink += Double([Int](repeating: 1, count: 3 + Int(sink.sign == .minus ? 1 : 0)).count) }
print(probe.allocationsPerEvent >= 1 ? "  allocation counter self-check: ok" : "  allocation counter self-check: FAILED (counts nothing)")
if sink == 42 { print("") }  // keeps the results alive
