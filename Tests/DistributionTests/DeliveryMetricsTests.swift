import AlphaPlusSDK
import Metrics
import MetricsTestKit
import PluginRuntime
import XCTest
@testable import Distribution

/// What the distributor and the channel calls count in swift-metrics:
/// attempts' ends by tenant, channel plugin, instance and outcome, and each
/// delivery's duration.
final class DeliveryMetricsTests: XCTestCase {
    private let metrics = TestMetrics()

    private func deliveries(_ outcome: String, plugin: String = "test.scripted-channel") throws -> Int64 {
        try metrics.expectCounter("alphaplus_deliveries_total", [("tenant", "t"), ("plugin", plugin), ("instance", "chat"),
                                                                 ("outcome", outcome)]).totalValue
    }

    func testDeliveriesAreCountedByOutcomeWithTheirChannelAndDuration() throws {
        let harness = try withMetricsFactory(metrics) { try Harness() }
        harness.script.decide = { delivery, n in
            if delivery.targetJSON.contains("refused") { return .answer(DeliveryResult(.permanentFailure, reason: "400 chat not found")) }
            if delivery.targetJSON.contains("busy"), delivery.attempt == 1 {
                return .answer(DeliveryResult(.retry, retryAfterMs: 1_000, reason: "429"))
            }
            return .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        let distributor = try withMetricsFactory(metrics) {
            try harness.distributor(settings([("ok", "premium", #"{"chat":"ok"}"#), ("busy", "premium", #"{"chat":"busy"}"#),
                                              ("refused", "premium", #"{"chat":"refused"}"#)]))
        }
        distributor.submit(makeSignal(1))
        harness.run(distributor, untilNs: t0 + 2 * second)
        XCTAssertEqual(harness.script.sent.count, 4)
        XCTAssertEqual(try deliveries("delivered"), 2)
        XCTAssertEqual(try deliveries("retried"), 1)
        XCTAssertEqual(try deliveries("dead"), 1)
        XCTAssertEqual(try deliveries("dry_run"), 0)
        let counters = distributor.counters
        XCTAssertEqual([counters.delivered, counters.retried, counters.dead].map(Int64.init),
                       try ["delivered", "retried", "dead"].map { try deliveries($0) })
        let durations = try metrics.expectTimer("alphaplus_channel_delivery_duration_seconds",
                                                [("tenant", "t"), ("plugin", "test.scripted-channel"), ("instance", "chat")])
        XCTAssertEqual(durations.values.count, 4, "one per attempt")
        XCTAssertTrue(durations.values.allSatisfy { $0 > 0 })
    }

    func testADryRunChannelsDeliveriesAreCountedUnderItsPlugin() throws {
        let harness = try Harness()
        let distributor = try withMetricsFactory(metrics) {
            try harness.distributor(settings([("vip", "premium", #"{"chat_id":1}"#)]),
                                    endpoints: [ChannelAddress(tenant: "t", instance: "chat"): .dryRun(plugin: "com.alphaplus.channel-telegram")])
        }
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(try deliveries("dry_run", plugin: "com.alphaplus.channel-telegram"), 1)
        XCTAssertEqual(try deliveries("delivered", plugin: "com.alphaplus.channel-telegram"), 0)
    }
}
