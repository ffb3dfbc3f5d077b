import AlphaPlusSDK
import Foundation
import Store
import Subscriptions
import XCTest
@testable import Distribution

/// Subscribers' linked chats are destinations of their own, each with the
/// tier the subscriber receives when the message is made.
final class SubscriberDeliveryTests: XCTestCase {
    private let chats = SubscriberChannel(channel: "chat", identityKind: "telegram_chat", targetKey: "chat_id")
    private let policy = SubscriptionPolicy(tiers: ["premium", "basic", "free"], unpaidTier: "free")

    private func subscriberSettings() -> DistributionSettings {
        var settings = settings([])
        settings.subscribers = SubscriberDeliverySettings(unpaidTier: "free", channels: [chats])
        return settings
    }

    /// Links `chat` to `subscriber` and applies `update` (if any) to it.
    private func subscribe(_ store: HostStore, _ subscriber: String, chat: Int64, tier: String? = nil,
                           status: SubscriptionStatus? = nil, graceUntilNs: Int64 = 0, asOfNs: Int64 = t0 - 3600 * second) throws {
        let identity = try Subscriptions.SubscriberIdentity(kind: "telegram_chat", value: String(chat))
        try store.withSubscriptionTransaction(tenant: "t") { transaction in
            _ = try transaction.link(identity, to: subscriber, atNs: t0, source: "test", reference: "")
            if tier != nil || status != nil {
                _ = try transaction.update(SubscriptionUpdate(identity: identity, tier: tier, status: status, graceUntilNs: graceUntilNs,
                                                              asOfNs: asOfNs), policy: policy, atNs: t0, source: "test")
            }
        }
    }

    func testOnlyAPayingLinkedChatGetsItsPaidTierAtOnceAndTheOthersWaitTheFreeDelay() throws {
        let harness = try Harness()
        try subscribe(harness.store, "alice", chat: 11, tier: "premium", status: .active)
        try subscribe(harness.store, "bob", chat: 22)  // linked, never paid
        try subscribe(harness.store, "carol", chat: 33, tier: "premium", status: .canceled)
        try subscribe(harness.store, "dave", chat: 44, tier: "premium", status: .pastDue, graceUntilNs: t0 + 3600 * second)
        try subscribe(harness.store, "erin", chat: 55, tier: "premium", status: .pastDue, graceUntilNs: t0 - 1)
        try subscribe(harness.store, "frank", chat: 66, tier: "basic", status: .trialing)
        let distributor = try harness.distributor(subscriberSettings())

        distributor.submit(makeSignal(1))
        harness.run(distributor, untilNs: t0 + 300 * second - 1)
        XCTAssertEqual(Set(harness.script.sent.map(\.target)), [#"{"chat_id": 11}"#, #"{"chat_id": 44}"#, #"{"chat_id": 66}"#],
                       "premium (active, past due within its grace) and basic (trialing) before 300 s; nobody else")
        XCTAssertEqual(harness.script.sent.first { $0.target == #"{"chat_id": 66}"# }?.atNs, t0 + 60 * second)
        harness.run(distributor, untilNs: t0 + 301 * second)
        let byTarget = Dictionary(uniqueKeysWithValues: harness.script.sent.map { ($0.target, $0) })
        XCTAssertEqual(byTarget.count, 6, "one message per linked chat")
        for (chat, atNs, tier) in [(11, t0, "premium"), (44, t0, "premium"), (66, t0 + 60 * second, "basic"),
                                   (22, t0 + 300 * second, "free"), (33, t0 + 300 * second, "free"), (55, t0 + 300 * second, "free")] {
            let sent = try XCTUnwrap(byTarget["{\"chat_id\": \(chat)}"], "chat \(chat)")
            XCTAssertEqual(sent.atNs, atNs, "chat \(chat)")
            XCTAssertEqual(sent.tier, tier, "chat \(chat)")
        }
    }

    func testAnUpgradeCountsFromTheNextSignalAndAStoppedChatGetsNothingNew() throws {
        let harness = try Harness()
        try subscribe(harness.store, "bob", chat: 22)
        try subscribe(harness.store, "zoe", chat: 77)
        let distributor = try harness.distributor(subscriberSettings())
        distributor.submit(makeSignal(1))
        XCTAssertTrue(distributor.settle())
        XCTAssertTrue(harness.script.sent.isEmpty, "both free: nothing at once")

        try subscribe(harness.store, "bob", chat: 22, tier: "premium", status: .active, asOfNs: t0)
        _ = try harness.store.withSubscriptionTransaction(tenant: "t") {
            try $0.unlink(Subscriptions.SubscriberIdentity(kind: "telegram_chat", value: "77"), atNs: t0, source: "test", reference: "/stop")
        }
        harness.clock.set(toNs: t0 + 10 * second)
        distributor.submit(makeSignal(2, atNs: t0 + 10 * second))
        XCTAssertTrue(distributor.settle())
        XCTAssertEqual(harness.script.sent.map(\.target), [#"{"chat_id": 22}"#], "the upgraded chat gets signal 2 at once")
        XCTAssertTrue(harness.script.sent[0].key.hasSuffix(makeSignal(2, atNs: t0 + 10 * second).id))

        harness.run(distributor, untilNs: t0 + 400 * second)
        let toStopped = harness.script.sent.filter { $0.target == #"{"chat_id": 77}"# }
        XCTAssertEqual(toStopped.count, 1, "the stopped chat gets only what was queued before /stop")
        XCTAssertTrue(toStopped[0].key.hasSuffix(makeSignal(1).id))
        XCTAssertEqual(harness.script.sent.filter { $0.target == #"{"chat_id": 22}"# }.count, 2)
    }

    func testATenantWithoutSubscriberSettingsSendsToNoSubscriber() throws {
        let harness = try Harness()
        try subscribe(harness.store, "alice", chat: 11, tier: "premium", status: .active)
        let distributor = try harness.distributor(settings([("vip", "premium", #"{"chat_id":1}"#)]))
        distributor.submit(makeSignal(1))
        harness.run(distributor, untilNs: t0 + 400 * second)
        XCTAssertEqual(harness.script.sent.map(\.target), [#"{"chat_id":1}"#])
    }
}
