import AlphaPlusSDK
import Foundation
import PluginRuntime
import Store
import Trading
import XCTest
@testable import Distribution
import Timekeeping

final class OutboxDispatchTests: XCTestCase {
    func testTiersWaitTheirDelaysOnTheClock() throws {
        let harness = try Harness()
        let distributor = try harness.distributor(settings([
            ("vip", "premium", #"{"chat_id":1}"#), ("std", "basic", #"{"chat_id":2}"#), ("pub", "free", #"{"chat_id":3}"#),
        ]))
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.map(\.target), [#"{"chat_id":1}"#], "premium at once, nothing else yet")
        harness.clock.set(toNs: t0 + 60 * second - 1)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.count, 1, "basic not a nanosecond before 60 s")
        harness.clock.set(toNs: t0 + 60 * second)
        XCTAssertTrue(distributor.settle())
        harness.clock.set(toNs: t0 + 300 * second - 1)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.map(\.target), [#"{"chat_id":1}"#, #"{"chat_id":2}"#])
        harness.clock.set(toNs: t0 + 300 * second)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.map(\.atNs), [t0, t0 + 60 * second, t0 + 300 * second])
        XCTAssertEqual(harness.script.sent.map(\.tier), ["premium", "basic", "free"])
        XCTAssertEqual(try harness.rows(state: .delivered).count, 3)
        XCTAssertEqual(try harness.rows(state: .delivered).map(\.externalID).sorted(), ["m1", "m2", "m3"])
    }

    func testOutcomesFollowTheirSignalInOrderPerDestination() throws {
        let harness = try Harness()
        var failedOnce = false
        // The first signal fails once: everything behind it waits for it.
        harness.script.decide = { delivery, n in
            if delivery.idempotencyKey.hasSuffix(makeSignal(1).id), !failedOnce {
                failedOnce = true
                return .answer(DeliveryResult(.retry, retryAfterMs: 2000, reason: "busy"))
            }
            return .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        let distributor = try harness.distributor(settings([("a", "basic", #"{"chat_id":1}"#)]))
        distributor.submit(makeSignal(1))
        distributor.submit(makeSignal(2, atNs: t0 + second))
        let leg = TradeLeg(signalID: makeSignal(1).id, symbol: "BTC-USDT", side: .long, entryNs: t0, entryPrice: 65012.34,
                           exitNs: t0 + 2 * second, exitPrice: 65100.25, quantity: 0.125, fees: 0.01, pnl: 10.98,
                           reason: .takeProfit, target: 1)
        distributor.submit(leg, tenant: "t")
        harness.run(distributor, untilNs: t0 + 120 * second)
        let keys = harness.script.sent.map(\.key)
        XCTAssertEqual(keys, [
            "t/a/signal/\(makeSignal(1).id)", "t/a/signal/\(makeSignal(1).id)",
            "t/a/signal/\(makeSignal(2, atNs: t0 + second).id)", "t/a/outcome/\(makeSignal(1).id)/target1",
        ])
        XCTAssertEqual(harness.script.sent.map(\.atNs), [t0 + 60 * second, t0 + 62 * second, t0 + 62 * second, t0 + 62 * second],
                       "the retry 2 s later; the others queued behind it, then at once")
        XCTAssertTrue(harness.script.sent[3].text.hasPrefix("Target 1 hit: LONG BTC-USDT"), harness.script.sent[3].text)
    }

    func testEnqueueingTheSameEventAgainAddsNothing() throws {
        let harness = try Harness()
        let destinations = settings([("a", "premium", #"{"chat_id":1}"#), ("b", "free", #"{"chat_id":2}"#)])
        let distributor = try harness.distributor(destinations)
        distributor.submit(makeSignal(1))
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(try harness.rows().count, 2)
        distributor.stop()
        // After a restart the producer may see the same signal again.
        try harness.reopenStore()
        let again = try harness.distributor(destinations)
        again.submit(makeSignal(1))
        XCTAssertTrue(again.settle())
        XCTAssertEqual(try harness.rows().count, 2)
        XCTAssertEqual(again.counters.enqueued, 0)
        XCTAssertEqual(harness.script.sent.count, 1, "premium once; free still waits")
        let direct = NewDelivery(tenant: "t", destination: "a", tier: "premium", kind: .signal, subject: makeSignal(1).id,
                                 text: "x", payloadJSON: "{}", notBeforeNs: t0)
        XCTAssertEqual(try harness.store.enqueue([direct], atNs: t0), [], "the idempotency key is unique in the store")
    }

    func testARowAnotherProcessTookIsLeftToIt() throws {
        let harness = try Harness()
        let distributor = try harness.distributor(settings([("a", "basic", #"{"chat_id":1}"#)]))
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        let row = try XCTUnwrap(harness.rows(state: .pending).first)
        XCTAssertTrue(try harness.store.markSending(id: row.id, attempt: 1, atNs: t0))
        XCTAssertFalse(try harness.store.markSending(id: row.id, attempt: 1, atNs: t0), "a row goes to sending once")
        harness.clock.set(toNs: t0 + 60 * second)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.count, 0)
        XCTAssertTrue(harness.logs.contains("is no longer pending in the store"), harness.logs.messages.joined(separator: "\n"))
    }

    func testARestartResendsWhatWasNotConfirmedAndNothingThatWas() throws {
        let harness = try Harness()
        // Signals 1-3 are confirmed; signal 4 reaches the platform but its
        // answer never comes back before the "crash".
        harness.script.decide = { delivery, n in
            delivery.idempotencyKey.hasSuffix(makeSignal(4).id) && delivery.attempt == 1
                ? .silence : .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        let config = settings([("a", "premium", #"{"chat_id":1}"#)])
        let first = try harness.distributor(config)
        for n in 1...5 { first.submit(makeSignal(n, atNs: t0 + Int64(n))) }
        harness.clock.set(toNs: t0 + 10)
        harness.waitForSends(4)
        harness.settle(first, inFlight: 1)  // signal 4 in flight: 5 waits behind it
        XCTAssertEqual(try harness.rows(state: .sending).map(\.subject), [makeSignal(4, atNs: t0 + 4).id])
        first.stop()

        try harness.reopenStore()
        let second = try harness.distributor(config)
        XCTAssertTrue(second.settle())
        let keys = harness.script.sent.map(\.key)
        XCTAssertEqual(keys.count, 6)
        XCTAssertEqual(Array(keys[4...]), [4, 5].map { "t/a/signal/\(makeSignal($0, atNs: t0 + Int64($0)).id)" },
                       "only the unconfirmed one again, then the one behind it")
        XCTAssertEqual(harness.script.sent[4].attempt, 2, "the interrupted attempt counts")
        XCTAssertEqual(Set(keys).count, 5, "each of the five arrived; one of them twice")
        XCTAssertEqual(try harness.rows(state: .delivered).count, 5)
        XCTAssertTrue(harness.logs.contains("1 deliveries were being sent when the host stopped"), harness.logs.messages.joined(separator: "\n"))
    }

    func testRetryAfterIsHonouredExactlyNotStretched() throws {
        let harness = try Harness()
        // A platform answering "429, retry after 60 s" for a minute.
        let clock = harness.clock
        harness.script.decide = { _, n in
            clock.nowNs() < t0 + 60 * second
                ? .answer(DeliveryResult(.retry, retryAfterMs: 60_000 - (clock.nowNs() - t0) / 1_000_000, reason: "429"))
                : .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        let distributor = try harness.distributor(settings([("a", "premium", #"{"chat_id":1}"#)], maxAttempts: 2,
                                                           backoff: BackoffPolicy(initialNs: 3600 * second, maxNs: 3600 * second)))
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(try harness.rows(state: .pending).first?.nextAttemptNs, t0 + 60 * second)
        harness.clock.set(toNs: t0 + 60 * second - 1)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.count, 1, "no earlier than told")
        harness.clock.set(toNs: t0 + 60 * second)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.map(\.atNs), [t0, t0 + 60 * second], "exactly when told, not the hour of backoff")
        XCTAssertEqual(try harness.rows(state: .delivered).count, 1, "nothing lost")
    }

    func testBackoffWaitsAJitteredExponentialWithinItsBounds() throws {
        let harness = try Harness()
        harness.script.decide = { _, _ in .answer(DeliveryResult(.retry, reason: "HTTP 503")) }
        let policy = BackoffPolicy(initialNs: 2 * second, maxNs: 20 * second, jitter: .full)
        let distributor = try harness.distributor(settings([("a", "premium", #"{"chat_id":1}"#)], maxAttempts: 7, backoff: policy))
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        var waits: [Int64] = []
        for failures in 1...6 {
            let row = try XCTUnwrap(harness.rows(state: .pending).first)
            let now = harness.clock.nowNs()
            let wait = row.nextAttemptNs - now
            XCTAssertTrue((0...policy.capNs(afterFailures: failures)).contains(wait), "wait \(wait) after \(failures) failures")
            waits.append(wait)
            if wait > 0 {
                harness.clock.set(toNs: row.nextAttemptNs - 1)
                XCTAssertTrue(distributor.settle())
                XCTAssertEqual(harness.script.sent.count, failures, "not before the wait")
            }
            harness.clock.set(toNs: row.nextAttemptNs)
            XCTAssertTrue(distributor.settle())
            XCTAssertEqual(harness.script.sent.last?.atNs, row.nextAttemptNs)
        }
        XCTAssertEqual([2, 4, 8, 16, 20, 20].map { $0 * second }, (1...6).map(policy.capNs(afterFailures:)))
        XCTAssertGreaterThan(Set(waits).count, 3, "jittered, not a fixed schedule: \(waits)")
        XCTAssertEqual(try harness.rows(state: .dead).count, 1)

        // Over many draws: uniform in [0, cap].
        var random = SeededRandom(seed: 1)
        let draws = (0..<4000).map { _ in policy.delayNs(afterFailures: 3, using: &random) }
        XCTAssertTrue(draws.allSatisfy { (0...8 * second).contains($0) })
        let mean = Double(draws.reduce(0, +)) / Double(draws.count)
        XCTAssertEqual(mean / Double(4 * second), 1, accuracy: 0.05)
        XCTAssertEqual(BackoffPolicy(initialNs: 2 * second, maxNs: 20 * second, jitter: .none).delayNs(afterFailures: 2, using: &random),
                       4 * second)
    }

    func testAfterMaxAttemptsTheDeliveryIsDeadWithItsReason() throws {
        let harness = try Harness()
        harness.script.decide = { _, _ in .answer(DeliveryResult(.retry, reason: "HTTP 502 Bad Gateway")) }
        let distributor = try harness.distributor(settings([("a", "premium", #"{"chat_id":1}"#)], maxAttempts: 3,
                                                           backoff: BackoffPolicy(initialNs: second, maxNs: second, jitter: .none)))
        distributor.submit(makeSignal(1))
        distributor.submit(makeSignal(2))
        harness.run(distributor, untilNs: t0 + 60 * second)
        let dead = try harness.rows(state: .dead)
        XCTAssertEqual(dead.count, 2)
        XCTAssertEqual(dead.map(\.attempts), [3, 3])
        XCTAssertEqual(dead[0].lastError, "gave up after 3 attempts; the last: HTTP 502 Bad Gateway")
        XCTAssertEqual(harness.script.sent.map(\.atNs), [t0, t0 + second, t0 + 2 * second, t0 + 2 * second, t0 + 3 * second, t0 + 4 * second])
        XCTAssertEqual(distributor.counters.dead, 2)
    }

    func testAPermanentFailureIsDeadAtOnceAndTheNextGoesOn() throws {
        let harness = try Harness()
        harness.script.decide = { delivery, n in
            delivery.idempotencyKey.hasSuffix(makeSignal(1).id)
                ? .answer(DeliveryResult(.permanentFailure, reason: "403: You are not allowed to create a Tweet with duplicate content."))
                : .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        let distributor = try harness.distributor(settings([("a", "premium", #"{"chat_id":1}"#)]))
        distributor.submit(makeSignal(1))
        distributor.submit(makeSignal(2))
        XCTAssertTrue(distributor.settle())
        let dead = try harness.rows(state: .dead)
        XCTAssertEqual(dead.map(\.subject), [makeSignal(1).id])
        XCTAssertEqual(dead.first?.attempts, 1)
        XCTAssertEqual(dead.first?.lastError, "403: You are not allowed to create a Tweet with duplicate content.")
        XCTAssertEqual(try harness.rows(state: .delivered).map(\.subject), [makeSignal(2).id])
    }

    func testAnErrorFromDeliverIsAPermanentFailureWithItsMessage() throws {
        let harness = try Harness()
        harness.script.decide = { _, _ in .refuse("target has no chat_id") }
        let distributor = try harness.distributor(settings([("a", "premium", #"{"chat":1}"#)]))
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        let dead = try XCTUnwrap(harness.rows(state: .dead).first)
        XCTAssertTrue(dead.lastError.hasPrefix("deliver failed (status \(AP_ERR_INVALID_CONFIG))"), dead.lastError)
        XCTAssertTrue(dead.lastError.contains("target has no chat_id"), dead.lastError)
    }

    func testAGoneDestinationIsDisabledAlertedAndKeepsItsRows() throws {
        let harness = try Harness()
        var gone = true
        harness.script.decide = { delivery, n in
            delivery.targetJSON.contains("404") && gone
                ? .answer(DeliveryResult(.destinationGone, reason: "404 Unknown Webhook (10015)"))
                : .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        let distributor = try harness.distributor(settings([("hook", "premium", #"{"webhook":"404"}"#), ("ops", "premium", #"{"chat_id":9}"#)],
                                                           alertsTo: ["ops", "hook"]))
        for n in 1...3 { distributor.submit(makeSignal(n)) }
        XCTAssertTrue(distributor.settle())
        let hookRows = try harness.store.outboxEntries(tenant: "t").filter { $0.destination == "hook" }
        XCTAssertEqual(hookRows.map(\.state), [.dead, .pending, .pending], "the others are kept, not lost")
        XCTAssertEqual(hookRows[0].lastError, "404 Unknown Webhook (10015)")
        let destination = try XCTUnwrap(harness.store.outboxDestinations().first { $0.id == "hook" })
        XCTAssertFalse(destination.enabled)
        XCTAssertEqual(destination.disabledReason, "404 Unknown Webhook (10015)")
        XCTAssertEqual(destination.disabledAtNs, t0)
        let alerts = harness.script.sent.filter { $0.kind == "alert" }
        XCTAssertEqual(alerts.map(\.target), [#"{"chat_id":9}"#], "to alerts_to, not to the gone destination itself")
        XCTAssertTrue(alerts[0].text.contains("destination hook (channel chat) is disabled: 404 Unknown Webhook (10015)"), alerts[0].text)
        XCTAssertTrue(harness.logs.contains("ALERT tenant t: destination hook"), harness.logs.messages.joined(separator: "\n"))
        XCTAssertEqual(distributor.counters.destinationsDisabled, 1)
        XCTAssertEqual(distributor.counters.alertsRaised, 1)
        XCTAssertEqual(harness.script.sent.filter { $0.target.contains("404") }.count, 1, "nothing more to a gone destination")

        // Disabled survives a restart; enabling sends what waited.
        distributor.stop()
        try harness.reopenStore()
        let restarted = try harness.distributor(settings([("hook", "premium", #"{"webhook":"404"}"#), ("ops", "premium", #"{"chat_id":9}"#)],
                                                         alertsTo: ["ops"]))
        XCTAssertTrue(restarted.settle())
        XCTAssertEqual(harness.script.sent.filter { $0.target.contains("404") }.count, 1)
        gone = false
        XCTAssertTrue(try harness.store.enableDestination(tenant: "t", id: "hook", atNs: t0))
        restarted.refreshNow()
        XCTAssertTrue(restarted.settle())
        XCTAssertEqual(harness.script.sent.filter { $0.target.contains("404") }.map(\.key),
                       ["t/hook/signal/\(makeSignal(1).id)"] + [2, 3].map { "t/hook/signal/\(makeSignal($0).id)" })
    }

    func testAFailingOrSilentDestinationDoesNotDelayTheOthers() throws {
        let harness = try Harness()
        harness.script.decide = { delivery, n in
            if delivery.targetJSON.contains("silent") { return .silence }
            if delivery.targetJSON.contains("failing") { return .answer(DeliveryResult(.retry, retryAfterMs: 30_000, reason: "503")) }
            return .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        var destinations: [(id: String, tier: String, target: String)] = [("silent", "premium", #"{"chat":"silent"}"#),
                                                                          ("failing", "premium", #"{"chat":"failing"}"#)]
        destinations += (1...5).map { ("ok\($0)", "premium", #"{"chat":"ok\#($0)"}"#) }
        let distributor = try harness.distributor(settings(destinations))
        for n in 1...3 { distributor.submit(makeSignal(n)) }
        harness.waitForSends(17)
        harness.settle(distributor, inFlight: 1)
        let delivered = try harness.rows(state: .delivered)
        XCTAssertEqual(delivered.count, 15, "every healthy destination got all three at once")
        XCTAssertTrue(harness.script.sent.filter { $0.target.contains("ok") }.allSatisfy { $0.atNs == t0 })
        XCTAssertEqual(try harness.rows(state: .sending).map(\.destination), ["silent"])
        XCTAssertEqual(harness.script.sent.filter { $0.target.contains("failing") }.count, 1)
    }

    func testADryRunChannelShowsItsDeliveriesAndSendsNothing() throws {
        let harness = try Harness()
        let distributor = try harness.distributor(
            settings([("vip", "premium", #"{"chat_id":1}"#), ("pub", "free", #"{"chat_id":"@x"}"#)]),
            endpoints: [ChannelAddress(tenant: "t", instance: "chat"): .dryRun(plugin: "test.scripted-channel")])
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(try harness.rows(state: .dryRun).map(\.destination), ["vip"])
        XCTAssertTrue(harness.logs.contains("would deliver: tenant t, destination vip, channel chat, tier premium, signal: LONG BTC-USDT 1m"),
                      harness.logs.messages.joined(separator: "\n"))
        harness.clock.set(toNs: t0 + 300 * second)
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(try harness.rows(state: .dryRun).count, 2, "free after its delay, also only shown")
        XCTAssertTrue(harness.logs.contains("would deliver: tenant t, destination pub, channel chat, tier free, signal: LONG BTC-USDT"))
        XCTAssertEqual(harness.script.sent.count, 0)
        XCTAssertEqual(distributor.counters.dryRun, 2)
    }

    func testDrainWaitsForRetriesAndLeavesWhatIsNotDue() throws {
        let harness = try Harness()
        harness.script.decide = { delivery, n in
            delivery.attempt == 1 ? .answer(DeliveryResult(.retry, reason: "503")) : .answer(DeliveryResult(.delivered, externalID: "m\(n)"))
        }
        let wall = WallClock()
        let distributor = Distributor(
            tenants: [TenantDistribution(tenant: "t", settings: settings([("vip", "premium", #"{"chat_id":1}"#), ("pub", "free", #"{"chat_id":2}"#)],
                                                                         backoff: BackoffPolicy(initialNs: 300_000_000, maxNs: 300_000_000, jitter: .none)))],
            outbox: harness.store, endpoints: [ChannelAddress(tenant: "t", instance: "chat"): .live(try harness.channel())], clock: wall,
            options: DistributorOptions(dailySummaries: false), logger: harness.logger)
        try distributor.start()
        defer { distributor.stop() }
        distributor.submit(makeSignal(1, atNs: wall.nowNs()))
        let started = Date()
        let report = distributor.drain(timeout: 10)
        XCTAssertGreaterThanOrEqual(Date().timeIntervalSince(started), 0.29, "it waited for the retry")
        XCTAssertTrue(report.finished)
        XCTAssertEqual(report.delivered, 1)
        XCTAssertEqual(report.future, 1, "the free tier's is not due for 300 s")
        XCTAssertEqual(report.due, 0)
        XCTAssertEqual(harness.script.sent.map(\.attempt), [1, 2])
    }

    func testAChannelThatIsNotRunningLeavesItsDeliveriesPending() throws {
        let harness = try Harness()
        let distributor = try harness.distributor(
            settings([("vip", "premium", #"{"chat_id":1}"#)]),
            endpoints: [ChannelAddress(tenant: "t", instance: "chat"): .unavailable(reason: "no loaded plugin 'x'")])
        distributor.submit(makeSignal(1))
        let report = distributor.drain(timeout: 5)
        XCTAssertTrue(report.finished)
        XCTAssertEqual(report.held, ["channel t/chat is not running: no loaded plugin 'x'": 1])
        XCTAssertEqual(try harness.rows(state: .pending).count, 1)
    }
}
