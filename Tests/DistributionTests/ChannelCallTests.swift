import AlphaPlusSDK
import Dispatch
import Foundation
import Logging
import PluginRuntime
import XCTest
@testable import Distribution

/// What the raw channel's deliver does this time: it gets `done` and its
/// context and returns a status. Set by each test (they run one at a time).
nonisolated(unsafe) private var rawDeliver: (ap_delivery_done_fn, UnsafeMutableRawPointer?) -> ap_status = { _, _ in ap_status(AP_OK) }

nonisolated(unsafe) private var rawChannel = ap_channel_v1(
    struct_size: UInt32(MemoryLayout<ap_channel_v1>.size),
    deliver: { _, _, done, doneContext, _ in rawDeliver(done!, doneContext) })

/// The scripted channel's plugin table with `ap.channel.v1` replaced by
/// `rawChannel`: a plugin written against the header, free to break the
/// contract (done twice, done late) in ways the SDK would not let it.
nonisolated(unsafe) private let rawChannelAPI: UnsafePointer<ap_plugin_api> = {
    let original = PluginExport.entry(ScriptedChannel.self)
    let size = MemoryLayout<ap_plugin_api>.stride + MemoryLayout<UnsafeRawPointer>.size
    let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<ap_plugin_api>.alignment)
    copy.copyMemory(from: original, byteCount: size)
    let table = copy.assumingMemoryBound(to: ap_plugin_api.self)
    table.pointee.get_capability = { _, id in
        let original = PluginExport.entry(ScriptedChannel.self)
        if id.ptr != nil, String(decoding: UnsafeRawBufferPointer(start: id.ptr, count: id.len), as: UTF8.self) == AP_CAPABILITY_CHANNEL_V1 {
            return UnsafeRawPointer(withUnsafePointer(to: &rawChannel) { $0 })
        }
        return original.pointee.get_capability(original, id)
    }
    return UnsafePointer(table)
}()

/// A result the raw channel reports; `size` as a plugin built against an
/// older header would set it.
private func report(_ outcome: ap_delivery_outcome, externalID: StaticString = "", pauseMs: Int64 = 0,
                    size: Int = MemoryLayout<ap_delivery_result>.size) -> ap_delivery_result {
    ap_delivery_result(struct_size: UInt32(size), outcome: UInt32(outcome.rawValue), retry_after_ms: 0,
                       external_id: ap_str(ptr: UnsafeRawPointer(externalID.utf8Start).assumingMemoryBound(to: CChar.self),
                                           len: externalID.utf8CodeUnitCount),
                       reason: ap_str(ptr: nil, len: 0), updated_target_json: ap_str(ptr: nil, len: 0), pause_destination_ms: pauseMs)
}

final class ChannelCallTests: XCTestCase {
    private func instance(_ harness: Harness) throws -> HostedInstance {
        let plugin = try PluginLoader(services: harness.services).load(linked: rawChannelAPI, name: "raw-channel")
        return try HostedInstance(plugin: plugin, tenantID: "t", instanceID: "raw",
                                                config: .object(["script": .string(harness.script.name)]), services: harness.services)
    }

    private let delivery = Delivery(idempotencyKey: "t/a/signal/s1", attempt: 1, targetJSON: "{}", kind: "signal", tier: "premium",
                                           text: "LONG BTC-USDT", payloadJSON: "{}")

    /// Delivers once and waits for the report.
    private func deliver(_ channel: HostedInstance, deadline: Duration = .seconds(5)) -> ChannelReport? {
        let done = DispatchSemaphore(value: 0)
        let box = ReportBox()
        channel.deliver(delivery, deadline: deadline) { report in
            box.add(report)
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success else { return nil }
        return box.reports.first
    }

    func testDoneCalledTwiceKeepsTheFirstAndLogsTheSecond() throws {
        let harness = try Harness()
        let channel = try instance(harness)
        defer { channel.destroy() }
        rawDeliver = { done, context in
            var first = report(AP_DELIVERY_DELIVERED, externalID: "m1")
            done(context, &first)
            var second = report(AP_DELIVERY_PERMANENT_FAILURE)
            done(context, &second)
            return ap_status(AP_OK)
        }
        let result = try XCTUnwrap(deliver(channel))
        XCTAssertEqual(result, ChannelReport(.delivered, externalID: "m1"))
        _ = channel.currentPhase  // runs on the executor: the deliver call (and its second done) is over
        XCTAssertTrue(harness.logs.contains("delivery t/a/signal/s1: done was called again after the delivery was completed: ignored"),
                      harness.logs.messages.joined(separator: "\n"))
        let ignored = harness.services.metrics.first { $0.key.name == "delivery_done_ignored" && $0.key.instance == "raw" }
        XCTAssertEqual(ignored?.value, 1)
    }

    func testAPluginThatNeverCallsDoneFailsTheAttemptAtTheDeadlineAndALateDoneIsIgnored() throws {
        let harness = try Harness()
        let channel = try instance(harness)
        defer { channel.destroy() }
        let kept = ContextBox()
        rawDeliver = { done, context in
            kept.keep(done, context)
            return ap_status(AP_OK)
        }
        let started = Date()
        let result = try XCTUnwrap(deliver(channel, deadline: .milliseconds(200)))
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.19)
        XCTAssertEqual(result.outcome, .retry)
        XCTAssertTrue(result.timedOut)
        XCTAssertEqual(result.reason, "the plugin did not complete the delivery within 0.2 s")
        // The plugin answers at last: nothing happens but a log line.
        kept.call(report(AP_DELIVERY_DELIVERED))
        XCTAssertTrue(harness.logs.contains("delivery t/a/signal/s1: done was called again after the delivery was given up on after its deadline: ignored"),
                      harness.logs.messages.joined(separator: "\n"))
    }

    func testAnOlderPluginsResultHasNoPause() throws {
        let harness = try Harness()
        let channel = try instance(harness)
        defer { channel.destroy() }
        let olderSize = MemoryLayout<ap_delivery_result>.offset(of: \ap_delivery_result.pause_destination_ms)!
        rawDeliver = { done, context in
            var result = report(AP_DELIVERY_DELIVERED, pauseMs: 5000, size: olderSize)
            done(context, &result)
            return ap_status(AP_OK)
        }
        XCTAssertEqual(deliver(channel)?.pauseDestinationMs, 0, "a field beyond struct_size is not read")
        rawDeliver = { done, context in
            var result = report(AP_DELIVERY_DELIVERED, pauseMs: 5000)
            done(context, &result)
            return ap_status(AP_OK)
        }
        XCTAssertEqual(deliver(channel)?.pauseDestinationMs, 5000)
        rawDeliver = { done, context in
            var result = report(ap_delivery_outcome(rawValue: 9))
            done(context, &result)
            return ap_status(AP_OK)
        }
        let unknown = try XCTUnwrap(deliver(channel))
        XCTAssertEqual(unknown.outcome, .permanentFailure)
        XCTAssertTrue(unknown.reason.contains("outcome 9 is not one of"), unknown.reason)
    }

    func testASilentDeliveryIsRetriedByTheDistributorAfterTheDeadline() throws {
        let harness = try Harness()
        harness.script.decide = { delivery, n in
            delivery.attempt == 1 ? .silence : .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        let policy = BackoffPolicy(initialNs: 10 * second, maxNs: 10 * second, jitter: .none)
        let distributor = try harness.distributor(settings([("a", "premium", #"{"chat_id":1}"#)], backoff: policy),
                                                  options: DistributorOptions(deliveryDeadline: .milliseconds(200), randomSeed: 7))
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle(), "settles once the deadline turned the attempt into a retry")
        let row = try XCTUnwrap(harness.rows(state: .pending).first)
        XCTAssertEqual(row.attempts, 1)
        XCTAssertEqual(row.lastError, "the plugin did not complete the delivery within 0.2 s")
        XCTAssertEqual(row.nextAttemptNs, t0 + 10 * second)
        harness.clock.set(toNs: t0 + 10 * second)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(try harness.rows(state: .delivered).map(\.attempts), [2])
    }

    func testTheRateLimitsCapabilityIsLoadedAndRead() throws {
        let harness = try Harness()
        harness.script.limits = { target in [RateLimit(bucket: "chat:\(target)", capacity: 1, windowMs: 1000)] }
        let channel = try harness.channel()
        XCTAssertTrue(channel.plugin.capabilities.contains(AP_CAPABILITY_RATE_LIMITS_V1))
        XCTAssertEqual(try channel.rateLimits(forTarget: "42"), [RateLimit(bucket: "chat:42", capacity: 1, windowMs: 1000)])
        harness.script.limits = { _ in [RateLimit(bucket: "bot", capacity: 0, windowMs: 1000)] }
        XCTAssertThrowsError(try channel.rateLimits(forTarget: "42")) { error in
            XCTAssertTrue("\(error)".contains("a limit needs a bucket name, a capacity ≥ 1 and a window ≥ 1 ms"), "\(error)")
        }
        harness.script.limits = { _ in throw PluginError.invalidConfig("no chat_id") }
        XCTAssertThrowsError(try channel.rateLimits(forTarget: "{}")) { error in
            XCTAssertTrue("\(error)".contains("limits_for_target failed (status \(AP_ERR_INVALID_CONFIG)): no chat_id"), "\(error)")
        }
    }
}

final class ReportBox: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [ChannelReport] = []
    func add(_ report: ChannelReport) { lock.withLock { list.append(report) } }
    var reports: [ChannelReport] { lock.withLock { list } }
}

/// Keeps a delivery's done and context to call later.
final class ContextBox: @unchecked Sendable {
    private var done: ap_delivery_done_fn?
    private var context: UnsafeMutableRawPointer?
    func keep(_ done: ap_delivery_done_fn, _ context: UnsafeMutableRawPointer?) {
        self.done = done
        self.context = context
    }
    func call(_ result: ap_delivery_result) {
        var result = result
        done?(context, &result)
    }
}
