import AlphaPlusJSON
import AlphaPlusSDK
import Distribution
import Foundation
import HostMetrics
import Logging
import MarketData
import Metrics
@testable import PluginRuntime
import Store
import Strategy
import Trading
import XCTest
import Timekeeping

/// A head that always votes its configured direction (long unless
/// `{"flat": true}`) and counts its evaluations itself (metric_record
/// through the SDK).
final class SteadyHead: HeadPlugin {
    struct Configuration: Decodable { var flat: Bool? }
    static let descriptor = PluginDescriptor(id: "test.steady-head", name: "Steady head", version: "1.0.0", configSchema: #"{"type": "object"}"#)
    private let context: PluginContext
    private let vote: Vote

    init(configuration: Configuration, context: PluginContext) throws {
        self.context = context
        vote = configuration.flat == true ? .flat : Vote(.long, confidence: 0.9)
    }

    func evaluate(_ frame: FeatureFrame) throws -> Vote {
        context.count("evaluations")
        return vote
    }
}

/// A channel whose every delivery arrives.
final class DeliveringChannel: ChannelPlugin {
    struct Configuration: Decodable {}
    static let descriptor = PluginDescriptor(id: "test.delivering-channel", name: "Delivering channel", version: "1.0.0",
                                             configSchema: #"{"type": "object"}"#)

    init(configuration: Configuration, context: PluginContext) throws {}

    func deliver(_ delivery: Delivery, completion: DeliveryCompletion) throws {
        completion(DeliveryResult(.delivered, externalID: "m1"))
    }
}

/// The live path wired as `alphaplus run` wires it, recording into a
/// registry of its own: an instance emits candles through the services
/// table, the market pipeline makes frames, the tenant's strategy asks
/// three heads and makes signals, the distributor delivers them. Made
/// inside `withMetricsFactory`, its metrics go to that factory.
final class LivePath {
    static let startNs: Int64 = 1_700_000_040 * 1_000_000_000 / 60_000_000_000 * 60_000_000_000
    let services: HostServices
    let feed: HostedInstance
    let strategy: TenantStrategy
    let market: MarketPipeline
    let distributor: Distributor
    /// The market's clock, apart from the distributor's: moving it runs no
    /// distributor wake-up.
    let marketClock = MarketClock()
    let clock = ManualClock(startNs: LivePath.startNs)
    private let folder: URL
    private var instances: [HostedInstance] = []

    /// `flatHeads`: the heads never agree, so no signal is made.
    init(flatHeads: Bool = false) throws {
        let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
        let services = HostServices(logger: quiet)
        let loader = PluginLoader(services: services)
        let heads = try loader.load(linked: PluginExport.entry(SteadyHead.self), name: "steady-head")
        let channels = try loader.load(linked: PluginExport.entry(DeliveringChannel.self), name: "delivering-channel")
        func instance(_ plugin: LoadedPlugin, _ id: String, _ config: JSONValue = .object([:])) throws -> HostedInstance {
            try HostedInstance(plugin: plugin, tenantID: "acme", instanceID: id, config: config, services: services)
        }
        let feed = try instance(heads, "feed")  // any instance may call emit_event
        let headInstances = try (0..<3).map { try instance(heads, "h\($0)", .object(["flat": .bool(flatHeads)])) }
        let channel = try instance(channels, "chat")
        let specs = headInstances.map { HeadSpec(instance: $0.instanceID) }
        let strategy = try TenantStrategy(tenant: "acme", settings: StrategySettings(heads: specs),
                                          heads: zip(specs, headInstances).map { TenantStrategy.Head(spec: $0, pluginID: $1.pluginID, instance: $1) },
                                          journal: nil, halt: GlobalHalt(), invocation: .direct, logger: quiet)
        let marketClock = marketClock
        let market = MarketPipeline(clock: { marketClock.nowNs }) { strategy.onFrame($0) }
        services.setEventSink { _, event in market.ingest(event) }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let store = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: { LivePath.startNs })
        let settings = DistributionSettings(destinations: [DestinationSettings(id: "vip", channel: "chat", tier: "premium", targetJSON: "{}")],
                                            dailySummary: DailySummarySettings(enabled: false))
        let distributor = Distributor(tenants: [TenantDistribution(tenant: "acme", settings: settings)], outbox: store,
                                      endpoints: [ChannelAddress(tenant: "acme", instance: "chat"): .live(channel)], clock: clock, logger: quiet)
        try distributor.start()
        strategy.onSignal = { distributor.submit($0) }
        self.services = services
        self.feed = feed
        self.strategy = strategy
        self.market = market
        self.distributor = distributor
        instances = [feed, channel] + headInstances
    }

    deinit {
        distributor.stop()
        instances.forEach { $0.destroy() }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Emits one closed 1m bar per minute from the start, through the
    /// services table as the feed instance, with the clock at its close.
    func emitBars(_ count: Int) {
        for minute in 0..<Int64(count) {
            let openNs = Self.startNs + minute * 60_000_000_000
            marketClock.nowNs = openNs + 60_000_000_000
            clock.set(toNs: openNs + 60_000_000_000)
            let close = 100 + Double(minute % 3)
            let bar = MarketEvent.candle(EventSource(venue: "sim", symbol: "BTC-USDT", exchangeTimeNs: openNs),
                                         Candle(openTimeNs: openNs, intervalSeconds: 60, open: 100, high: close + 1, low: 99, close: close,
                                                volume: 5), closed: true)
            let status = bar.withCEvent { services.api.pointee.emit_event(feed.context.opaque, $0) }
            XCTAssertEqual(status, ap_status(AP_OK))
        }
        XCTAssertTrue(distributor.settle())
    }
}

final class MarketClock: @unchecked Sendable {
    var nowNs = LivePath.startNs
}

final class ExpositionTests: XCTestCase {
    func testTheLivePathsMetricsReadAsPrometheusTextWithTheirLabels() throws {
        let host = HostMetrics()
        let path = try withMetricsFactory(host.factory) { try LivePath() }
        path.emitBars(20)
        let text = try PrometheusText(host.exposition())
        func value(_ name: String, _ labels: [String: String]) -> Double? { text.value(name, labels) }
        func head(_ id: String, _ extra: [String: String] = [:]) -> [String: String] {
            ["tenant": "acme", "plugin": "test.steady-head", "instance": id].merging(extra) { $1 }
        }

        XCTAssertEqual(value("alphaplus_events_emitted_total", head("feed", ["kind": "candle"])), 20)
        XCTAssertEqual(value("alphaplus_market_events_total", ["venue": "sim", "kind": "candle"]), 20)
        XCTAssertEqual(value("alphaplus_feature_frames_total", ["venue": "sim", "symbol": "BTC-USDT", "timeframe": "1m"]), 20)
        let fiveMinute = try XCTUnwrap(path.market.frameCounts.first { $0.timeframeSeconds == 300 }).frames
        XCTAssertGreaterThan(fiveMinute, 0)
        XCTAssertEqual(value("alphaplus_feature_frames_total", ["venue": "sim", "symbol": "BTC-USDT", "timeframe": "5m"]), Double(fiveMinute))
        for id in ["h0", "h1", "h2"] {
            XCTAssertEqual(value("alphaplus_head_votes_total", head(id, ["outcome": "voted"])), 20, id)
            XCTAssertEqual(value("alphaplus_head_votes_total", head(id, ["outcome": "timeout"])), 0, id)
            XCTAssertEqual(value("alphaplus_head_call_duration_seconds_count", head(id)), 20, id)
            XCTAssertEqual(value("alphaplus_plugin_evaluations_total", head(id)), 20, "the head's own counter, labelled with its tenant")
            XCTAssertEqual(value("alphaplus_instance_quarantined", head(id)), 0, id)
            XCTAssertEqual(value("alphaplus_instance_quarantines_total", head(id)), 0, id)
        }
        // Until ATR has 14 bars no stop can be placed; then two positions,
        // the most one symbol may hold; every later frame is refused.
        let signals = try XCTUnwrap(value("alphaplus_signals_total", ["tenant": "acme", "direction": "long"]))
        XCTAssertEqual(signals, Double(path.strategy.counters.signals))
        XCTAssertEqual(signals, 2)
        let noATR = try XCTUnwrap(value("alphaplus_risk_refusals_total", ["tenant": "acme", "reason": "no_atr"]))
        let perSymbol = try XCTUnwrap(value("alphaplus_risk_refusals_total", ["tenant": "acme", "reason": "max_open_per_symbol"]))
        XCTAssertGreaterThan(noATR, 0)
        XCTAssertGreaterThan(perSymbol, 0)
        XCTAssertEqual(noATR + perSymbol + signals, 20, "every frame reached a consensus")
        let chat = ["tenant": "acme", "plugin": "test.delivering-channel", "instance": "chat"]
        XCTAssertEqual(value("alphaplus_deliveries_total", chat.merging(["outcome": "delivered"]) { $1 }), 2)
        XCTAssertEqual(value("alphaplus_deliveries_total", chat.merging(["outcome": "dead"]) { $1 }), 0)
        XCTAssertEqual(value("alphaplus_channel_delivery_duration_seconds_count", chat), 2)

        // Each family is typed and described as the catalogue says.
        let recorded = HostMetrics.catalogue.filter { text.families[$0.name] != nil }
        XCTAssertEqual(Set(recorded.map(\.name)), [
            "alphaplus_events_emitted_total", "alphaplus_market_events_total", "alphaplus_feature_frames_total",
            "alphaplus_head_votes_total", "alphaplus_head_call_duration_seconds", "alphaplus_signals_total",
            "alphaplus_risk_refusals_total", "alphaplus_deliveries_total", "alphaplus_channel_delivery_duration_seconds",
            "alphaplus_instance_quarantined", "alphaplus_instance_quarantines_total",
        ])
        for descriptor in recorded {
            XCTAssertEqual(text.families[descriptor.name]?.type, descriptor.kind.rawValue, descriptor.name)
            XCTAssertEqual(text.families[descriptor.name]?.help, descriptor.help, descriptor.name)
        }
        XCTAssertEqual(text.families["alphaplus_plugin_evaluations_total"]?.type, "counter")
        XCTAssertEqual(text.families["alphaplus_plugin_evaluations_total"]?.help,
                       "A plugin's own metric (metric_record), by tenant, plugin and instance.")
        XCTAssertTrue(text.families.keys.allSatisfy { $0.hasPrefix("alphaplus_") }, "\(text.families.keys.sorted())")
        XCTAssertTrue(text.samples.allSatisfy { $0.value.isFinite && $0.value >= 0 })
    }

    func testHeadCallDurationsFallIntoSecondBuckets() throws {
        let host = HostMetrics()
        let timer = StrategyMetrics.headCallDuration.timer("acme", "test.steady-head", "h0", factory: host.factory)
        timer.recordNanoseconds(3_000)  // 3 µs
        timer.recordNanoseconds(7_000_000)  // 7 ms
        let text = try PrometheusText(host.exposition())
        let labels = ["tenant": "acme", "plugin": "test.steady-head", "instance": "h0"]
        func bucket(_ le: String) -> Double? { text.value("alphaplus_head_call_duration_seconds_bucket", labels.merging(["le": le]) { $1 }) }
        XCTAssertEqual(bucket("0.000001"), 0)
        XCTAssertEqual(bucket("0.000005"), 1)
        XCTAssertEqual(bucket("0.005"), 1)
        XCTAssertEqual(bucket("0.01"), 2)
        XCTAssertEqual(bucket("+Inf"), 2)
        XCTAssertEqual(try XCTUnwrap(text.value("alphaplus_head_call_duration_seconds_sum", labels)), 0.007003, accuracy: 1e-12)
    }

    func testOneNameCannotBecomeASecondKindInTheRegistry() throws {
        let host = HostMetrics()
        let counter = Counter(label: "alphaplus_test_total", dimensions: [("tenant", "acme")], factory: host.factory)
        let gauge = Gauge(label: "alphaplus_test_total", dimensions: [("tenant", "acme")], factory: host.factory)
        counter.increment(by: 3)
        gauge.record(99)
        let text = try PrometheusText(host.exposition())
        XCTAssertEqual(text.families["alphaplus_test_total"]?.type, "counter")
        XCTAssertEqual(text.value("alphaplus_test_total", ["tenant": "acme"]), 3, "the gauge records nothing")
    }

    func testTheReaderRefusesWhatIsNotTheFormat() {
        let broken = [
            "alphaplus_x_total 1",  // no TYPE
            "# TYPE alphaplus_x_total counter\nalphaplus_x_total{tenant=\"acme} 1",  // unclosed value
            "# TYPE alphaplus_x_total counter\nalphaplus_x_total{tenant=acme} 1",  // unquoted value
            "# TYPE alphaplus_x_total counter\nalphaplus_x_total{tenant=\"a\"} one",  // not a number
            "# TYPE alphaplus_x_total counter\n# TYPE alphaplus_x_total gauge",  // two types
            "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1",  // not cumulative
            "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1",  // no +Inf
        ]
        for text in broken { XCTAssertThrowsError(try PrometheusText(text), text) }
        XCTAssertNoThrow(try PrometheusText("# HELP a_total What a counts.\n# TYPE a_total counter\na_total{l=\"x\\\"y\"} 2"))
    }
}
