import CAlphaPlus
import Foundation
import HostConfig
import Logging
import MarketData
import PluginRuntime
import SharedTestData
import Store
import Strategy
import Trading
import Tenancy
import Timekeeping
import XCTest

/// The tenant host with the bundled plugins on a simulated market in real
/// time: shared connectors, and reloads that touch only what changed while
/// events flow.
final class TenantHostTests: XCTestCase {
    private var folder: URL!
    private var services: HostServices!
    private var market: MarketPipeline!
    private var strategies: TenantStrategies!
    private var host: TenantHost!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tenant-host-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let services = HostServices()
        let registry = PluginRegistry(services: services)
        for product in ["ap-exchange-sim", "ap-head-technical", "ap-head-rules"] {
            try registry.load(try AlphaPlusCLI.bundledPlugin(product))
        }
        let strategies = TenantStrategies()
        let clock = WallClock()
        let market = MarketPipeline(clock: clock.nowNs) { frame in
            strategies.onFrame(frame)
        }
        services.setEventSink { _, event in market.ingest(event) }
        let store = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: clock.nowNs)
        host = TenantHost(services: services, registry: registry, store: store, strategies: strategies, halt: GlobalHalt(),
                          logger: Logger(label: "test.tenancy"), clock: clock)
        self.services = services
        self.market = market
        self.strategies = strategies
    }

    /// The tenant's strategy receiving frames now.
    private func strategy(_ tenant: String) -> TenantStrategy? { strategies.all.first { $0.tenant == tenant } }

    override func tearDown() {
        host?.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }

    /// A tenant on the shared simulated market (BTC-USDT and ETH-USDT at
    /// `rate` events per second, after 15 minutes of history emitted as
    /// fast as it goes: frames from the start); `symbols` it subscribes, `rule` is its
    /// rules head's one rule, `minAgree` its consensus.
    private func tenant(_ id: String, symbols: [String] = ["BTC-USDT"], rule: String = "rsi_14 < 30 -> long 0.8", minAgree: Int = 1,
                        rate: Int = 20) throws -> TenantConfig {
        let subscriptions = symbols.map { "{ symbol: \($0), streams: [trades, quotes] }" }.joined(separator: ", ")
        let text = """
            id: \(id)
            strategy:
              symbols: [\(symbols.joined(separator: ", "))]
              timeframes: [60]
              heads: [{ instance: technical }, { instance: rules }]
              consensus: { min_agree: \(minAgree) }
            instances:
              - { id: technical, plugin: com.alphaplus.head-technical }
              - { id: rules, plugin: com.alphaplus.head-rules, settings: { rules: ["\(rule)"] } }
              - id: market
                plugin: com.alphaplus.exchange-sim
                settings:
                  seed: 11
                  mode: realtime
                  events_per_second: \(rate)
                  history_seconds: 900
                  symbols:
                    - { symbol: BTC-USDT, start_price: "65000.00", tick_size: "0.01", lot_size: "0.0001" }
                    - { symbol: ETH-USDT, start_price: "3200.00", tick_size: "0.01", lot_size: "0.001" }
                subscribe: [\(subscriptions)]
            """
        let file = folder.appendingPathComponent("\(id).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return try TenantConfig.load(file.path)
    }

    private func instance(_ tenant: String, _ id: String) -> HostedInstance? {
        guard case .created(let instance) = host.running.first(where: { $0.config.id == tenant })?.instances[id] else { return nil }
        return instance
    }

    private var eventsEmitted: Int {
        Int(services.metrics.filter { $0.key.name == "events_emitted" }.map(\.value).reduce(0, +))
    }

    private var eventsProcessed: Int {
        market.acceptedEvents + IngestRejection.allCases.map { market.rejections($0) }.reduce(0, +)
    }

    func testATenantOnSymbolsAlreadySubscribedOpensNothingNew() throws {
        try host.start([try tenant("alpha", symbols: ["BTC-USDT", "ETH-USDT"])])
        let before = host.connectorStatistics
        XCTAssertEqual(before.connectors, 1)
        XCTAssertEqual(before.symbols, 2)
        XCTAssertEqual(before.subscribeCalls, 2)

        let outcome = host.reload([try tenant("alpha", symbols: ["BTC-USDT", "ETH-USDT"]), try tenant("beta", symbols: ["ETH-USDT"])])
        XCTAssertEqual(outcome.changes, ["tenant beta added (3 instances)"])
        let after = host.connectorStatistics
        XCTAssertEqual(after.connectors, 1, "beta's market instance is alpha's connector")
        XCTAssertEqual(after.subscribeCalls, 2, "ETH-USDT was subscribed already: no call")
        XCTAssertTrue(instance("alpha", "market") === instance("beta", "market"))
        XCTAssertEqual(instance("alpha", "market")?.tenantID, ConnectorPool.tenantID)

        // When alpha goes, beta still needs ETH-USDT: only BTC-USDT is unsubscribed, the connector stays.
        _ = host.reload([try tenant("beta", symbols: ["ETH-USDT"])])
        XCTAssertEqual(host.connectorStatistics.connectors, 1)
        XCTAssertEqual(host.connectorStatistics.symbols, 1)
        XCTAssertEqual(host.connectorStatistics.unsubscribeCalls, 1)
        XCTAssertEqual(host.connectorStatistics.subscribeCalls, 2)
        XCTAssertNotNil(instance("beta", "market"))
        // Other settings are another connector.
        _ = host.reload([try tenant("beta", symbols: ["ETH-USDT"]), try tenant("gamma", rate: 10)])
        XCTAssertEqual(host.connectorStatistics.connectors, 2)
    }

    func testReloadingOneTenantWhileEventsFlowLosesNoneAndLeavesTheOtherAlone() throws {
        try host.start([try tenant("alpha"), try tenant("beta")])
        let alphaHeads = (instance("alpha", "technical"), instance("alpha", "rules"))
        let alphaStrategy = try XCTUnwrap(strategy("alpha"))
        Thread.sleep(forTimeInterval: 0.5)
        var reloads = 0
        for round in 0..<8 {
            let rule = round % 2 == 0 ? "rsi_14 < 25 -> long 0.8" : "rsi_14 < 30 -> long 0.8"
            let outcome = host.reload([try tenant("alpha"), try tenant("beta", rule: rule, minAgree: 1 + round % 2)])
            XCTAssertEqual(outcome.changes, ["tenant beta: recreated: rules; strategy rebuilt"])
            reloads += 1
            Thread.sleep(forTimeInterval: 0.25)
        }
        XCTAssertEqual(reloads, 8)
        // Alpha was not touched: the same head instances and the same strategy, still evaluating.
        XCTAssertTrue(instance("alpha", "technical") === alphaHeads.0)
        XCTAssertTrue(instance("alpha", "rules") === alphaHeads.1)
        XCTAssertTrue(strategy("alpha") === alphaStrategy)
        XCTAssertFalse(strategy("beta") === nil)

        host.shutdown()  // connectors destroyed: nothing is emitted from here on
        let emitted = eventsEmitted, processed = eventsProcessed
        print("reload: \(reloads) reloads of beta while \(emitted) events flowed; \(processed) processed, "
              + "alpha evaluated \(strategies.withStrategies { _ in alphaStrategy.counters.framesEvaluated }) frames")
        XCTAssertGreaterThan(emitted, 2_000)
        XCTAssertEqual(emitted, processed, "events in = events processed")
        // Every one-minute frame (only BTC-USDT is subscribed) reached alpha, reloads of beta or not.
        let frames = market.frameCounts.first(where: { $0.timeframeSeconds == 60 }).map(\.frames) ?? 0
        XCTAssertGreaterThan(frames, 0)
        XCTAssertEqual(strategies.withStrategies { _ in alphaStrategy.counters.framesEvaluated }, frames)
    }

    func testRemovingATenantLeavesTheOthersRunning() throws {
        try host.start([try tenant("alpha"), try tenant("beta")])
        let alphaTechnical = try XCTUnwrap(instance("alpha", "technical"))
        let betaTechnical = try XCTUnwrap(instance("beta", "technical"))
        let outcome = host.reload([try tenant("alpha")])
        XCTAssertEqual(outcome.changes, ["tenant beta removed"])
        XCTAssertEqual(host.running.map(\.config.id), ["alpha"])
        XCTAssertEqual(betaTechnical.currentPhase, .destroyed)
        XCTAssertEqual(alphaTechnical.currentPhase, .started)
        XCTAssertTrue(instance("alpha", "technical") === alphaTechnical)
        XCTAssertNil(strategy("beta"))
        XCTAssertEqual(host.connectorStatistics.connectors, 1, "alpha still uses the connector")
        let accepted = market.acceptedEvents
        Thread.sleep(forTimeInterval: 0.3)
        XCTAssertGreaterThan(market.acceptedEvents, accepted, "the market keeps flowing for alpha")
    }

    func testAStrategyRebuiltByAReloadKeepsItsPaperBook() throws {
        try host.start([try tenant("alpha")])
        let before = try XCTUnwrap(strategy("alpha"))
        _ = host.reload([try tenant("alpha", minAgree: 2)])
        let after = try XCTUnwrap(strategy("alpha"))
        XCTAssertFalse(before === after)
        XCTAssertTrue(before.trader === after.trader, "the same costs and equity: the book carries over")
        XCTAssertEqual(after.settings.consensus.minAgree, 2)
    }
}
