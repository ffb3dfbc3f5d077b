import Foundation
import HostConfig
import Metrics
import MetricsTestKit
import Trading
import SharedTestData
import XCTest
@testable import Distribution

/// The host's `quotas:`: a tenant's deliveries per minute (the distributor
/// holds the rest back, loses none), and the section's strict parsing.
final class QuotaTests: XCTestCase {
    private let minute: Int64 = 60 * second

    func testDeliveriesOverTheTenantsQuotaWaitForTheWindowAndAllGoOut() throws {
        let metrics = TestMetrics()
        let harness = try Harness()
        let destinations = (1...12).map { ("d\($0)", "premium", #"{"chat":\#($0)}"#) }
        let distributor = try withMetricsFactory(metrics) {
            try harness.distributor(settings(destinations), quotas: ["t": TenantQuota(deliveriesPerMinute: 5)])
        }
        // One signal to 12 destinations: 12 deliveries due at once.
        distributor.submit(makeSignal(1))
        harness.run(distributor, untilNs: t0 + 10 * minute)
        let sent = harness.script.sent.map(\.atNs).sorted()
        XCTAssertEqual(sent.count, 12)
        XCTAssertEqual(try harness.rows(state: .delivered).count, 12)
        XCTAssertEqual(Set(harness.script.sent.map(\.key)).count, 12, "each delivery once")
        XCTAssertEqual(distributor.counters.dead + distributor.counters.retried, 0, "waiting is not failing")
        // Five in any 60 s, each as soon as the window frees.
        for index in sent.indices where index + 5 < sent.count {
            XCTAssertGreaterThanOrEqual(sent[index + 5] - sent[index], minute)
        }
        XCTAssertEqual(sent.map { ($0 - t0) / minute }, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2])
        XCTAssertTrue(sent.allSatisfy { ($0 - t0) % minute == 0 })
        XCTAssertEqual(try metrics.expectCounter("alphaplus_quota_deferred_total", [("tenant", "t")]).totalValue, 7,
                       "each delivery that found the quota used counted once")
        XCTAssertEqual(distributor.queue.sync { distributor.quotas.deferredCount }, 7)
    }

    func testAnotherTenantsQuotaHoldsNothingBack() throws {
        let harness = try Harness()
        let distributor = try harness.distributor(settings([("a", "premium", #"{"chat":"a"}"#)]),
                                                  quotas: ["other": TenantQuota(deliveriesPerMinute: 1)])
        for n in 1...3 { distributor.submit(makeSignal(n)) }
        harness.run(distributor, untilNs: t0 + second)
        XCTAssertEqual(harness.script.sent.map(\.atNs), [t0, t0, t0])
    }

    func testADeferredDeliveryThatEndsAsADryRunIsNoLongerHeld() throws {
        let harness = try Harness()
        let destinations = ["a", "b", "c"].map { ($0, "premium", #"{"chat":"\#($0)"}"#) }
        let quota = TenantQuota(deliveriesPerMinute: 1)
        let distributor = try harness.distributor(settings(destinations), quotas: ["t": quota])
        distributor.submit(makeSignal(1))
        harness.run(distributor, untilNs: t0 + second)
        XCTAssertEqual(harness.script.sent.count, 1)
        XCTAssertEqual(distributor.queue.sync { distributor.quotas.waiting }, 2)
        // A reload leaves the channel without its secret: the two waiting deliveries are recorded as dry runs.
        try distributor.reconfigure(tenant: "t", settings: settings(destinations), quota: quota,
                                    endpoints: [ChannelAddress(tenant: "t", instance: "chat"): .dryRun(plugin: "test.scripted-channel")])
        harness.run(distributor, untilNs: t0 + 2 * second)
        XCTAssertEqual(try harness.rows(state: .dryRun).count, 2)
        XCTAssertEqual(distributor.queue.sync { distributor.quotas.waiting }, 0, "nothing is held for deliveries that left")
        XCTAssertEqual(distributor.queue.sync { distributor.quotas.deferredCount }, 2, "each still counted once")
    }

    // MARK: - The host configuration's section

    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("quotas-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    func testDefaultsAndATenantsOverrides() throws {
        XCTAssertEqual(try HostConfigFiles.load("log_level: info\n").quotas.quota(tenant: "demo"), .unlimited, "no section, no limits")
        let quotas = try HostConfigFiles.load("""
            quotas:
              default: { symbols: 20, deliveries_per_minute: 600, plugin_call_ms: 250 }
              tenants:
                demo: { deliveries_per_minute: 1200 }
                acme: { plugin_call_ms: 2.5 }
            """).quotas
        XCTAssertEqual(quotas.quota(tenant: "other"), TenantQuota(symbols: 20, deliveriesPerMinute: 600, pluginCallNs: 250_000_000))
        XCTAssertEqual(quotas.quota(tenant: "demo"), TenantQuota(symbols: 20, deliveriesPerMinute: 1200, pluginCallNs: 250_000_000))
        XCTAssertEqual(quotas.quota(tenant: "acme").pluginCallNs, 2_500_000)
        XCTAssertEqual(quotas.quotas(tenants: ["demo", "other"]).mapValues(\.deliveriesPerMinute), ["demo": 1200, "other": 600])
        XCTAssertEqual(quotas.unknownTenants(["demo", "acme"]).count, 0)
        let unknown = quotas.unknownTenants(["demo"]).map(\.description)
        XCTAssertEqual(unknown.count, 1)
        XCTAssertTrue(unknown[0].hasSuffix(".yaml:5:5: quotas.tenants: 'acme' is not a tenant; tenants: demo"), unknown[0])
    }

    func testBadInputNamesTheKeyTheLineAndWhatIsWrong() {
        XCTAssertEqual(HostConfigFiles.failure("quotas:\n  defaults: {}\n"),
                       "2:3: unknown key 'defaults' (did you mean 'default'?); allowed: default, tenants")
        XCTAssertEqual(HostConfigFiles.failure("quotas:\n  default: { symbol: 20 }\n"),
                       "2:14: quotas.default: unknown key 'symbol' (did you mean 'symbols'?); allowed: symbols, deliveries_per_minute, plugin_call_ms")
        XCTAssertEqual(HostConfigFiles.failure("quotas:\n  default:\n    deliveries_per_minute: lots\n"),
                       "3:28: quotas.default.deliveries_per_minute: expected a number")
        XCTAssertEqual(HostConfigFiles.failure("quotas:\n  default:\n    symbols: -3\n"),
                       "3:14: quotas.default.symbols: expected a whole number from 1 to 100000, got -3.0")
        XCTAssertEqual(HostConfigFiles.failure("quotas:\n  tenants:\n    demo: { plugin_call_ms: -5 }\n"),
                       "3:29: quotas.tenants.demo.plugin_call_ms: -5.0 is outside 0.001…600000.0")
        XCTAssertEqual(HostConfigFiles.failure("quotas:\n  tenants: [demo]\n"), "2:12: expected a mapping")
        XCTAssertEqual(HostConfigFiles.failure("quotas:\n  tenants:\n    demo: 5\n"),
                       "3:11: quotas.tenants.demo: expected a mapping of symbols, deliveries_per_minute, plugin_call_ms")
    }

    func testATenantOverItsSymbolQuotaIsRefusedNamingFileQuotaAndCount() throws {
        let tenantFile = folder.appendingPathComponent("acme.yaml")
        try Data("""
            id: acme
            instances:
              - id: feed
                plugin: com.alphaplus.exchange-sim
                subscribe:
                  - { symbol: BTC-USDT }
                  - { symbol: SOL-USDT }
              - id: technical
                plugin: com.alphaplus.head-technical
            strategy:
              symbols: [BTC-USDT, ETH-USDT]
              heads: [{ instance: technical }]
              consensus: { min_agree: 1 }
            """.utf8).write(to: tenantFile)
        let tenant = try TenantConfig.load(tenantFile.path)
        let quotas = try HostConfigFiles.load("quotas:\n  default: { symbols: 3 }\n  tenants: { acme: { symbols: 2 } }\n").quotas
        XCTAssertEqual(quotas.symbolQuotaProblem(tenant)?.description,
                       "\(tenantFile.path): tenant acme names 3 symbols (strategy.symbols and subscriptions together), over its quota of 2 (quotas in the host configuration)")
        XCTAssertNil(try HostConfigFiles.load("quotas:\n  default: { symbols: 3 }\n").quotas.symbolQuotaProblem(tenant), "BTC-USDT counts once")
        XCTAssertNil(try HostConfigFiles.load("log_level: info\n").quotas.symbolQuotaProblem(tenant))
    }
}
