// Full-path backtest throughput, measured in one run: bars → candles →
// indicators → frame → four head plugins (loaded with dlopen, called
// through the C contract) → consensus → risk → paper outcomes, exactly as
// `alphaplus backtest` runs them.
//
//     swift build -c release && swift run -c release StrategyBench [generated-bars]
//
// Prints bars per second on the 45,031-bar FTX BTC-PERP file of
// ../shared/data and on a generated series (1,000,000 bars by default),
// their ratio to the target (1 million bars/s on one core), heap
// allocations per bar after warm-up, and the process's peak memory.
// Metrics are recorded as in `alphaplus run`: swift-metrics bootstrapped to
// the Prometheus registry.
import AllocationCounter
import AlphaPlusFeeds
import AlphaPlusJSON
import AlphaPlusSDK
import Backtesting
import BenchSupport
import CAlphaPlus
import Foundation
import HostMetrics
import Logging
import PluginRuntime
import Strategy
import Trading
import Timekeeping

HostMetrics.bootstrap()

let generatedCount = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1_000_000 : 1_000_000
let target = 1_000_000.0

// The four bundled heads, built by `swift build -c release` next to this binary.
let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
// The data's time, moved by each run's bars (as in `alphaplus backtest`).
let clock = ManualClock(startNs: 0)
let services = HostServices(clock: clock)
let registry = PluginRegistry(services: services)
let headConfigs: [(instance: String, product: String, config: String)] = [
    ("technical", "ap-head-technical", "{}"),
    ("orderflow", "ap-head-orderflow", "{}"),
    ("sentiment", "ap-head-sentiment", "{}"),
    ("rules", "ap-head-rules", #"{"rules": ["rsi_14 < 35 and close > ema_50 -> long 0.8", "rsi_14 > 65 and close < ema_50 -> short 0.8", "macd_hist_12_26_9 > 0 and adx_14 > 20 -> long 0.7", "macd_hist_12_26_9 < 0 and adx_14 > 20 -> short 0.7"]}"#),
]

func makeStrategy() throws -> TenantStrategy {
    let heads = try headConfigs.map { head -> TenantStrategy.Head in
        let path = products.appendingPathComponent("lib\(head.product).so").path
        let plugin = try registry.plugin(id: "com.alphaplus.\(head.product.dropFirst(3))") ?? registry.load(path)
        let instance = try HostedInstance(plugin: plugin, tenantID: "bench", instanceID: head.instance,
                                          config: try JSONValue(parsing: head.config), services: services)
        return TenantStrategy.Head(spec: HeadSpec(instance: head.instance), pluginID: plugin.id, instance: instance)
    }
    var settings = StrategySettings(heads: heads.map(\.spec))
    settings.consensus.minAgree = 2
    settings.consensus.minConfidence = 0.6
    return try TenantStrategy(tenant: "bench", settings: settings, heads: heads, journal: nil, halt: GlobalHalt(),
                              invocation: .direct, logger: Logger(label: "bench"))
}

/// Runs every bar through a fresh strategy; bars per second, allocations per bar after the first 1,000.
/// Returns its counters (to check /metrics against).
func run(_ name: String, _ bars: [Candle], symbol: String) throws -> TenantStrategy.Counters {
    let strategy = try makeStrategy()
    let runner = BacktestRunner(strategy: strategy, clock: clock)
    let warmup = min(1_000, bars.count / 10)
    for bar in bars[..<warmup] { runner.feedBar(venue: "bench", symbol: symbol, bar) }
    let allocationsBefore = ap_allocation_count()
    let start = monotonicNs()
    for bar in bars[warmup...] { runner.feedBar(venue: "bench", symbol: symbol, bar) }
    runner.finish()
    let seconds = Double(monotonicNs() - start) / 1e9
    let measured = bars.count - warmup
    let perSecond = Double(measured) / seconds
    let allocations = Double(ap_allocation_count() - allocationsBefore) / Double(measured)
    let c = strategy.counters
    print(String(format: "%@: %d bars, %.2f million bars/s = %.2fx the target; %.3f allocations/bar; %d frames evaluated, %d signals, %d positions closed",
                 name, measured, perSecond / 1e6, perSecond / target, allocations, c.framesEvaluated, c.signals, c.positionsClosed))
    return c
}

do {
    var counters: [TenantStrategy.Counters] = []
    let dataRoot = ProcessInfo.processInfo.environment["ALPHAPLUS_SHARED_DATA"]
        ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared/data").path
    let barsFile = dataRoot + "/nautilus_trader/btc-perp-20211231-20220201_1m.csv"
    if FileManager.default.fileExists(atPath: barsFile) {
        var bars: [Candle] = []
        try FeedReader(path: barsFile).read { event, _ in
            if case .candle(_, let candle, _) = event { bars.append(candle) }
        }
        counters.append(try run("FTX BTC-PERP 1m (nautilus)", bars, symbol: "BTC-PERP"))
    } else {
        print("skipped the FTX file: \(barsFile) is not here (the shared market data sits in ../shared/data beside the checkout)")
    }

    // A generated 1m series: a random walk with volatility clusters, seeded.
    var state: UInt64 = 42
    func uniform() -> Double {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return Double(state >> 11) / Double(1 << 53)
    }
    var bars: [Candle] = []
    bars.reserveCapacity(generatedCount)
    var price = 30_000.0, volatility = 0.001
    let startNs: Int64 = 1_640_995_200_000_000_000
    for index in 0..<generatedCount {
        volatility = 0.0002 + 0.9 * volatility + 0.08 * abs(uniform() - 0.5) * 0.004
        let open = price
        let close = open * (1 + (uniform() - 0.5) * 2 * volatility)
        let high = max(open, close) * (1 + uniform() * volatility)
        let low = min(open, close) * (1 - uniform() * volatility)
        bars.append(Candle(openTimeNs: startNs + Int64(index) * 60_000_000_000, intervalSeconds: 60, open: open, high: high,
                           low: low, close: close, volume: 5 + 20 * uniform()))
        price = close
    }
    counters.append(try run("generated 1m series", bars, symbol: "GEN-USD"))
    let totalSignals = counters.reduce(0) { $0 + $1.signals }, totalFrames = counters.reduce(0) { $0 + $1.framesEvaluated }
    // The counts reached the Prometheus registry: the real backend was measured.
    let exposition = HostMetrics.exposition()
    let signalsInMetrics = exposition.split(separator: "\n").filter { $0.hasPrefix("alphaplus_signals_total{tenant=\"bench\"") }
        .compactMap { Int($0.split(separator: " ").last!) }.reduce(0, +)
    precondition(signalsInMetrics == totalSignals, "/metrics counts \(signalsInMetrics) signals, the strategies \(totalSignals)")
    precondition(exposition.contains("alphaplus_head_call_duration_seconds_count{tenant=\"bench\",plugin=\"com.alphaplus.head-rules\",instance=\"rules\"} \(totalFrames)\n"),
                 "/metrics lacks the rules head's \(totalFrames) call durations")
    print("metrics: Prometheus registry (\(exposition.split(separator: "\n").count) lines of /metrics), counts checked")
    print(String(format: "peak memory: %.0f MiB", peakMemoryMiB()))
} catch {
    print("StrategyBench: \(error)")
    exit(1)
}
