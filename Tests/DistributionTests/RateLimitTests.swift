import AlphaPlusSDK
import Foundation
import PluginRuntime
import Store
import XCTest
@testable import Distribution

final class RateLimitTests: XCTestCase {
    /// Telegram's documented limits: about 30 a second per bot, 1 a second
    /// per chat, 20 a minute per group (negative chat ids).
    private func telegramLimits(_ target: String) -> [RateLimit] {
        let chat = target.replacingOccurrences(of: #"{"chat_id":"#, with: "").replacingOccurrences(of: "}", with: "")
        var limits = [RateLimit(bucket: "bot", capacity: 30, windowMs: 1000), RateLimit(bucket: "chat:\(chat)", capacity: 1, windowMs: 1000)]
        if chat.hasPrefix("-") { limits.append(RateLimit(bucket: "group:\(chat)", capacity: 20, windowMs: 60_000)) }
        return limits
    }

    /// Every window of every bucket, anywhere: for sends sorted by time,
    /// the one `capacity` places later is at least a window later.
    private func assertNoBucketExceeded(_ sent: [Sent], limits: (String) -> [RateLimit], file: StaticString = #filePath, line: UInt = #line) {
        var times: [String: [Int64]] = [:]
        var capacity: [String: (Int, Int64)] = [:]
        for send in sent {
            for limit in limits(send.target) {
                times[limit.bucket, default: []].append(send.atNs)
                capacity[limit.bucket] = (limit.capacity, Int64(limit.windowMs) * 1_000_000)
            }
        }
        for (bucket, unsorted) in times {
            let sorted = unsorted.sorted()
            let (cap, window) = capacity[bucket]!
            for index in sorted.indices where index + cap < sorted.count {
                XCTAssertGreaterThanOrEqual(sorted[index + cap] - sorted[index], window,
                                            "bucket \(bucket): \(cap + 1) sends within \(window) ns from \(sorted[index])", file: file, line: line)
            }
        }
    }

    func testNoBucketIsEverExceededAndSendsGoAsSoonAsTheyMay() throws {
        let harness = try Harness()
        harness.script.limits = telegramLimits
        // 40 chats (10 of them groups) × 3 signals: 120 deliveries.
        let chats = (1...40).map { $0 <= 10 ? -$0 : $0 }
        let distributor = try harness.distributor(settings(chats.map { ("c\($0 < 0 ? "g\(-$0)" : "\($0)")", "premium", #"{"chat_id":\#($0)}"#) }))
        for n in 1...3 { distributor.submit(makeSignal(n)) }
        harness.run(distributor, untilNs: t0 + 120 * second)
        XCTAssertEqual(try harness.rows(state: .delivered).count, 120)
        let sent = harness.script.sent
        XCTAssertEqual(sent.count, 120)
        assertNoBucketExceeded(sent, limits: telegramLimits)
        // The bot's 30 a second is the bottleneck: all of it at once, then
        // within two seconds of the 4 s the limits allow at best.
        let perSecond = Dictionary(grouping: sent) { ($0.atNs - t0) / second }.mapValues(\.count)
        XCTAssertEqual(perSecond[0], 30)
        XCTAssertEqual(perSecond[1], 30)
        XCTAssertLessThanOrEqual(perSecond.keys.max() ?? 99, 5)
        XCTAssertTrue(sent.allSatisfy { ($0.atNs - t0) % second == 0 }, "each send when a window opened, not later")
        XCTAssertEqual(harness.script.limitQueries.count, 40, "asked once per destination")
    }

    func testABucketNamedByTwoDestinationsIsShared() throws {
        let harness = try Harness()
        // Each chat alone may take 10 a second; the bot they share only 2.
        let limits: (String) -> [RateLimit] = { target in
            [RateLimit(bucket: "bot", capacity: 2, windowMs: 1000), RateLimit(bucket: "chat:\(target)", capacity: 10, windowMs: 1000)]
        }
        harness.script.limits = limits
        let distributor = try harness.distributor(settings([("a", "premium", #"{"chat_id":1}"#), ("b", "premium", #"{"chat_id":2}"#)]))
        for n in 1...4 { distributor.submit(makeSignal(n)) }
        harness.run(distributor, untilNs: t0 + 30 * second)
        let sent = harness.script.sent
        XCTAssertEqual(sent.count, 8)
        assertNoBucketExceeded(sent, limits: limits)
        XCTAssertEqual(sent.map { ($0.atNs - t0) / second }, [0, 0, 1, 1, 2, 2, 3, 3])
        XCTAssertEqual(Set(sent.prefix(2).map(\.target)).count, 2, "the shared budget is shared, not taken by one")
    }

    func testAPauseFromThePlatformHoldsTheDestination() throws {
        let harness = try Harness()
        // Discord: this message went through, but the bucket is empty for 1.5 s.
        harness.script.decide = { _, n in .answer(DeliveryResult(.delivered, externalID: "m\(n)", pauseDestinationMs: 1500)) }
        let distributor = try harness.distributor(settings([("a", "premium", #"{"webhook":"w"}"#), ("b", "premium", #"{"webhook":"v"}"#)]))
        for n in 1...3 { distributor.submit(makeSignal(n)) }
        harness.run(distributor, untilNs: t0 + 10 * second)
        let times = harness.script.sent.filter { $0.target.contains("\"w\"") }.map(\.atNs)
        XCTAssertEqual(times, [t0, t0 + 1_500_000_000, t0 + 3_000_000_000])
    }

    func testAMovedTargetIsStoredAndUsedForTheResendAndAfter() throws {
        let harness = try Harness()
        harness.script.limits = telegramLimits
        // Telegram: "group chat was upgraded to a supergroup chat", migrate_to_chat_id.
        harness.script.decide = { delivery, n in
            delivery.targetJSON == #"{"chat_id":-5}"#
                ? .answer(DeliveryResult(.retry, reason: "400: group chat was upgraded", updatedTargetJSON: #"{"chat_id":-1005}"#))
                : .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        let config = settings([("group", "premium", #"{"chat_id":-5}"#)])
        let distributor = try harness.distributor(config)
        distributor.submit(makeSignal(1))
        distributor.submit(makeSignal(2))
        harness.run(distributor, untilNs: t0 + 10 * second)
        let sent = harness.script.sent
        XCTAssertEqual(sent.map(\.target), [#"{"chat_id":-5}"#, #"{"chat_id":-1005}"#, #"{"chat_id":-1005}"#])
        XCTAssertEqual(sent.map(\.key), ["t/group/signal/\(makeSignal(1).id)", "t/group/signal/\(makeSignal(1).id)",
                                         "t/group/signal/\(makeSignal(2).id)"])
        XCTAssertEqual(sent[1].atNs, t0, "re-sent to the new chat at once")
        XCTAssertEqual(harness.script.limitQueries, [#"{"chat_id":-5}"#, #"{"chat_id":-1005}"#], "asked again for the new target")
        let stored = try XCTUnwrap(harness.store.outboxDestinations().first)
        XCTAssertEqual(stored.targetJSON, #"{"chat_id":-1005}"#)
        XCTAssertEqual(stored.configuredTargetJSON, #"{"chat_id":-5}"#)

        // After a restart with the same configuration the moved target stays;
        // a new configured target replaces it.
        distributor.stop()
        try harness.reopenStore()
        let restarted = try harness.distributor(config)
        restarted.submit(makeSignal(3))
        XCTAssertTrue(restarted.settle())
        XCTAssertEqual(harness.script.sent.last?.target, #"{"chat_id":-1005}"#)
        restarted.stop()
        let reconfigured = try harness.distributor(settings([("group", "premium", #"{"chat_id":-7}"#)]))
        reconfigured.submit(makeSignal(4))
        XCTAssertTrue(reconfigured.settle())
        XCTAssertEqual(harness.script.sent.last?.target, #"{"chat_id":-7}"#)
    }

    func testATargetTheChannelRefusesDisablesItsDestination() throws {
        let harness = try Harness()
        harness.script.limits = { target in
            if target.contains("bad") { throw PluginError.invalidConfig("target needs chat_id") }
            return []
        }
        let distributor = try harness.distributor(settings([("bad", "premium", #"{"chat":"bad"}"#), ("ops", "premium", #"{"chat_id":1}"#)],
                                                           alertsTo: ["ops"]))
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.map(\.kind), ["signal", "alert"])
        let bad = try XCTUnwrap(harness.store.outboxDestinations().first { $0.id == "bad" })
        XCTAssertFalse(bad.enabled)
        XCTAssertTrue(bad.disabledReason.contains("its channel refuses its target"), bad.disabledReason)
        XCTAssertTrue(bad.disabledReason.contains("target needs chat_id"), bad.disabledReason)
        XCTAssertEqual(try harness.rows(state: .pending).map(\.destination), ["bad"])
    }

    func testSlidingWindowsAllowExactlyCapacityPerWindow() {
        var windows = RateWindows()
        let limits = [RateLimit(bucket: "b", capacity: 3, windowMs: 1000)]
        for ms in [0, 100, 200] as [Int64] {
            XCTAssertEqual(windows.earliestSend(limits, now: ms * 1_000_000), ms * 1_000_000)
            windows.record(limits, at: ms * 1_000_000)
        }
        XCTAssertEqual(windows.earliestSend(limits, now: 300_000_000), 1_000_000_000, "the fourth when the first leaves the window")
        windows.record(limits, at: 1_000_000_000)
        XCTAssertEqual(windows.earliestSend(limits, now: 1_000_000_000), 1_100_000_000)
        XCTAssertEqual(windows.earliestSend([RateLimit(bucket: "other", capacity: 1, windowMs: 1)], now: 5), 5)
    }
}
