import AlphaPlusSDK
import CAlphaPlus
import Foundation
import Logging
import Metrics
import MetricsTestKit
@testable import PluginRuntime
import XCTest

/// What the services table counts in swift-metrics: plugins' own metrics
/// (metric_record) labelled tenant, plugin and instance, emitted and
/// refused events by kind, outbound HTTP by outcome.
final class PluginMetricsTests: XCTestCase {
    private let metrics = TestMetrics()
    private let log = CapturedLog()
    private lazy var services = withMetricsFactory(metrics) { HostServices(logger: Logger(label: "test") { [log] _ in log }) }
    private var instances: [HostedInstance] = []
    nonisolated(unsafe) private static var fixtures = 0

    override func tearDown() { instances.forEach { $0.destroy() } }

    private func instance(tenant: String, id: String = "i", hosts: [String] = ["example.com"]) throws -> HostedInstance {
        Self.fixtures += 1
        let name = "metrics-fixture-\(Self.fixtures)"
        let path = try PluginFixtures.build(name, defines: ["FIX_ID=\"com.test.metrics\"",
                                                           "FIX_HOSTS=" + hosts.map { "STR(\"\($0)\")" }.joined(separator: ",")])
        let plugin = try PluginRegistry(services: services).load(path)
        let created = try HostedInstance(plugin: plugin, tenantID: tenant, instanceID: id, config: .object([:]), services: services)
        instances.append(created)
        return created
    }

    private func record(_ instance: HostedInstance, _ kind: ap_metric_kind, _ name: String, _ value: Double) {
        PluginRuntime.withAPStr(name) { services.api.pointee.metric_record(instance.context.opaque, kind, $0, value) }
    }

    private var warnings: [String] { log.lines.filter { $0.level >= .warning }.map(\.message) }

    private func labels(_ tenant: String, _ id: String = "i") -> [(String, String)] {
        [("tenant", tenant), ("plugin", "com.test.metrics"), ("instance", id)]
    }

    func testAPluginsMetricsAreLabelledWithItsTenantPluginAndInstance() throws {
        let acme = try instance(tenant: "acme")
        let globex = try instance(tenant: "globex")
        record(acme, AP_METRIC_COUNTER, "orders", 2)
        record(acme, AP_METRIC_COUNTER, "orders", 3)
        record(globex, AP_METRIC_COUNTER, "orders", 7)
        record(acme, AP_METRIC_GAUGE, "queue_depth", 9)
        record(acme, AP_METRIC_GAUGE, "queue_depth", 4)
        record(acme, AP_METRIC_HISTOGRAM, "fill_ms", 12.5)
        record(acme, AP_METRIC_COUNTER, "retries_total", 1)

        XCTAssertEqual(try metrics.expectCounter("alphaplus_plugin_orders_total", labels("acme")).totalValue, 5)
        XCTAssertEqual(try metrics.expectCounter("alphaplus_plugin_orders_total", labels("globex")).totalValue, 7)
        XCTAssertEqual(try metrics.expectGauge("alphaplus_plugin_queue_depth", labels("acme")).lastValue, 4)
        XCTAssertEqual(try metrics.expectRecorder("alphaplus_plugin_fill_ms", labels("acme")).values, [12.5])
        XCTAssertEqual(try metrics.expectCounter("alphaplus_plugin_retries_total", labels("acme")).totalValue, 1,
                       "a counter already named _total keeps its name")
        // The in-memory totals stay as they were.
        let orders = services.metrics.filter { $0.key.name == "orders" }
        XCTAssertEqual(orders.first { $0.key.tenant == "acme" }?.value, 5)
        XCTAssertEqual(orders.first { $0.key.tenant == "globex" }?.value, 7)
        XCTAssertEqual(services.metrics.first { $0.key.name == "queue_depth" }?.value, 4)
        XCTAssertEqual(warnings, [])
    }

    func testBadRecordsAreRefusedNamingTheMetricAndTheProblem() throws {
        let acme = try instance(tenant: "acme")
        let globex = try instance(tenant: "globex")
        record(acme, AP_METRIC_COUNTER, "orders", 2)
        record(acme, AP_METRIC_GAUGE, "orders", 5)
        record(acme, AP_METRIC_COUNTER, "orders", -1)
        record(acme, AP_METRIC_COUNTER, "orders", .infinity)
        record(acme, AP_METRIC_GAUGE, "load", .nan)
        record(acme, AP_METRIC_GAUGE, "load", 0.5)
        record(globex, AP_METRIC_HISTOGRAM, "load", 3)
        record(acme, AP_METRIC_COUNTER, "Bad-Name", 1)
        record(acme, ap_metric_kind(rawValue: 7), "odd", 1)

        XCTAssertEqual(try metrics.expectCounter("alphaplus_plugin_orders_total", labels("acme")).totalValue, 2)
        XCTAssertEqual(services.metrics.first { $0.key.name == "orders" }?.value, 2)
        XCTAssertEqual(try metrics.expectGauge("alphaplus_plugin_load", labels("acme")).values, [0.5])
        XCTAssertThrowsError(try metrics.expectRecorder("alphaplus_plugin_load", labels("globex")), "another kind of the same name")
        XCTAssertEqual(warnings, [
            "metric 'orders' refused: it was recorded as a counter, not a gauge (one name, one kind)",
            "metric 'orders' refused: the value -1.0 is not a finite increment ≥ 0",
            "metric 'orders' refused: the value inf is not a finite increment ≥ 0",
            "metric 'load' refused: the value nan is not finite",
            "metric 'load' refused: alphaplus_plugin_load is a gauge (first recorded by plugin com.test.metrics), not a histogram",
            "metric name 'Bad-Name' refused: use [a-z0-9_]+",
            "metric 'odd' refused: kind 7 is not 0 (counter), 1 (gauge) or 2 (histogram)",
        ])
    }

    func testEmittedAndRefusedEventsAreCountedPerInstanceAndKind() throws {
        let feed = try instance(tenant: "acme", id: "feed")
        services.setEventSink { _, _ in }
        let events: [MarketEvent] = [
            .trade(EventSource(venue: "sim", symbol: "BTC-USDT", exchangeTimeNs: 1), price: ExactDecimal("10")!, size: ExactDecimal("1")!,
                   aggressor: .buy, tradeID: "", sequence: 0),
            .quote(EventSource(venue: "sim", symbol: "BTC-USDT", exchangeTimeNs: 2), bidPrice: ExactDecimal("9")!, bidSize: ExactDecimal("1")!,
                   askPrice: ExactDecimal("11")!, askSize: ExactDecimal("1")!, sequence: 0),
            .bookSnapshot(EventSource(venue: "sim", symbol: "BTC-USDT", exchangeTimeNs: 3), bids: [], asks: [], sequence: 1, depth: 10,
                          checksumKind: 0, checksum: 0),
            .bookDelta(EventSource(venue: "sim", symbol: "BTC-USDT", exchangeTimeNs: 4), bids: [], asks: [], firstSequence: 2,
                       lastSequence: 2, prevSequence: 0, depth: 10, checksumKind: 0, checksum: 0),
            .news(EventSource(venue: "wire", symbol: "", exchangeTimeNs: 5), id: "n", source: "s", headline: "h", body: "", url: "",
                  symbols: []),
            .trade(EventSource(venue: "sim", symbol: "", exchangeTimeNs: 6), price: ExactDecimal("10")!, size: ExactDecimal("1")!,
                   aggressor: .buy, tradeID: "", sequence: 0),  // no symbol: refused
        ]
        for event in events { _ = event.withCEvent { services.api.pointee.emit_event(feed.context.opaque, $0) } }
        func emitted(_ kind: String) throws -> Int64 {
            try metrics.expectCounter("alphaplus_events_emitted_total", labels("acme", "feed") + [("kind", kind)]).totalValue
        }
        XCTAssertEqual(try ["trade", "quote", "book", "news"].map(emitted), [1, 1, 2, 1])
        XCTAssertThrowsError(try emitted("candle"), "no candle was emitted: no series")
        XCTAssertEqual(try metrics.expectCounter("alphaplus_events_refused_total", labels("acme", "feed")).totalValue, 1)
    }

    func testOutboundHTTPIsCountedByOutcome() throws {
        let alerts = try instance(tenant: "acme", id: "alerts", hosts: ["api.example.com"])
        let request = HTTPRequest(method: "GET", url: "https://evil.example/steal")
        var id: UInt64 = 0
        let status = request.withCRequest { raw in
            services.api.pointee.http_request!(alerts.context.opaque, raw, { _, _, _ in }, nil, &id)
        }
        XCTAssertEqual(status, ap_status(AP_ERR_PERMISSION_DENIED))
        XCTAssertEqual(try metrics.expectCounter("alphaplus_http_requests_total", labels("acme", "alerts") + [("outcome", "refused")]).totalValue, 1)
    }
}
