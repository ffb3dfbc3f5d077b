import struct AlphaPlusSDK.Subscriber
import func AlphaPlusSDK.withAPStrs
import CAlphaPlus
import Foundation
import Logging
@testable import PluginRuntime
import SharedTestData
import Store
import Subscriptions
import XCTest

/// The subscription rules, the same on the store and in memory.
final class SubscriptionRulesTests: XCTestCase {
    private let policy = SubscriptionPolicy(tiers: ["premium", "basic", "free"], unpaidTier: "free")
    private let hour: Int64 = 3_600_000_000_000

    private func storages() throws -> [(name: String, storage: SubscriptionStorage)] {
        [("memory", InMemorySubscriptionStorage()), ("store", try makeStore(self))]
    }

    private func chat(_ id: Int64) throws -> SubscriberIdentity { try SubscriberIdentity(kind: "telegram_chat", value: String(id)) }
    private func customer(_ id: String) throws -> SubscriberIdentity { try SubscriberIdentity(kind: "stripe_customer", value: id) }

    func testAnIdentityAloneGetsItsOwnSubscriberThatMergesIntoANamedOneKeepingTheNewerSubscription() throws {
        for (name, storage) in try storages() {
            // A subscription event before the checkout that names the subscriber.
            let early = try storage.withSubscriptionTransaction(tenant: "t") {
                try $0.update(SubscriptionUpdate(identity: customer("cus_1"), tier: "premium", status: .active, periodEndNs: 30 * 24 * hour,
                                                 asOfNs: 10 * hour, reference: "evt_sub"), policy: policy, atNs: 10 * hour, source: "stripe/s")
            }
            XCTAssertTrue(early.applied, name)
            XCTAssertEqual(early.subscriber.id, "stripe_customer-cus_1", name)
            XCTAssertTrue(early.subscriber.automatic, name)
            // The chat was linked to the named subscriber earlier.
            _ = try storage.withSubscriptionTransaction(tenant: "t") {
                try $0.link(chat(42), to: "u_42", atNs: 9 * hour, source: "telegram/t", reference: "")
            }
            let merged = try storage.withSubscriptionTransaction(tenant: "t") {
                try $0.link(customer("cus_1"), to: "u_42", atNs: 11 * hour, source: "stripe/s", reference: "evt_checkout")
            }
            XCTAssertEqual(merged.id, "u_42", name)
            XCTAssertEqual(merged.identities, [try customer("cus_1"), try chat(42)].sorted(), name)
            XCTAssertEqual(merged.paidTier, "premium", name)
            XCTAssertEqual(merged.status, .active, name)
            XCTAssertEqual(merged.tier(atNs: 12 * hour, unpaidTier: "free"), "premium", name)
            XCTAssertEqual(try storage.subscribers(tenant: "t").map(\.id), ["u_42"], "\(name): the automatic subscriber is gone")
            let history = try storage.history(tenant: "t", subscriber: "u_42").map(\.change)
            XCTAssertEqual(history, ["linked stripe_customer cus_1",
                                     "tier premium, status active, period end 1970-01-31T00:00:00Z, as of 1970-01-01T10:00:00Z",
                                     "linked telegram_chat 42", "merged stripe_customer-cus_1 into u_42", "linked stripe_customer cus_1"],
                           "\(name): in the order it happened, the automatic subscriber's lines included")
        }
    }

    func testALinkedIdentityMovesAndItsOldSubscriberKeepsTheRest() throws {
        for (name, storage) in try storages() {
            _ = try storage.withSubscriptionTransaction(tenant: "t") { t in
                _ = try t.link(chat(1), to: "a", atNs: 1, source: "s", reference: "")
                _ = try t.link(chat(2), to: "a", atNs: 2, source: "s", reference: "")
                return try t.update(SubscriptionUpdate(identity: chat(1), tier: "basic", status: .active, asOfNs: 3), policy: policy,
                                    atNs: 3, source: "s")
            }
            let moved = try storage.withSubscriptionTransaction(tenant: "t") { try $0.link(chat(2), to: "b", atNs: 4, source: "s", reference: "") }
            XCTAssertEqual(moved.identities, [try chat(2)], name)
            XCTAssertEqual(moved.status, .none, "\(name): a named subscriber is not merged, only the identity moves")
            let all = try storage.subscribers(tenant: "t")
            XCTAssertEqual(all.map(\.id), ["a", "b"], name)
            XCTAssertEqual(all[0].identities, [try chat(1)], name)
            XCTAssertEqual(all[0].paidTier, "basic", name)
            XCTAssertEqual(try storage.history(tenant: "t", subscriber: "a").last?.change, "unlinked telegram_chat 2: linked to b", name)
            XCTAssertTrue(try storage.withSubscriptionTransaction(tenant: "t") { try $0.unlink(chat(1), atNs: 5, source: "s", reference: "/stop") })
            XCTAssertFalse(try storage.withSubscriptionTransaction(tenant: "t") { try $0.unlink(chat(1), atNs: 6, source: "s", reference: "") })
            XCTAssertEqual(try storage.subscribers(tenant: "t")[0].identities, [], name)
        }
    }

    func testChangesDeliveredOutOfOrderEndInTheNewestState() throws {
        for (name, storage) in try storages() {
            let identity = try customer("cus_9")
            let created = SubscriptionUpdate(identity: identity, tier: "premium", status: .incomplete, asOfNs: 100, reference: "evt_created")
            let updated = SubscriptionUpdate(identity: identity, tier: "premium", status: .active, periodEndNs: 5000, asOfNs: 200, reference: "evt_updated")
            let deleted = SubscriptionUpdate(identity: identity, status: .canceled, asOfNs: 300, reference: "evt_deleted")
            var applied: [Bool] = []
            for update in [deleted, updated, created] {
                applied.append(try storage.withSubscriptionTransaction(tenant: "t") { try $0.update(update, policy: policy, atNs: 400, source: "s") }.applied)
            }
            XCTAssertEqual(applied, [true, false, false], name)
            let record = try XCTUnwrap(storage.subscribers(tenant: "t").first, name)
            XCTAssertEqual(record.status, .canceled, name)
            XCTAssertEqual(record.asOfNs, 300, name)
            XCTAssertEqual(record.tier(atNs: 400, unpaidTier: "free"), "free", name)
            let ignored = try storage.history(tenant: "t", subscriber: record.id).filter { $0.change.hasPrefix("ignored") }
            XCTAssertEqual(ignored.map(\.reference), ["evt_updated", "evt_created"], name)
        }
    }

    func testTheTierReceivedFollowsStatusAndGrace() {
        var record = SubscriberRecord(tenant: "t", id: "a", paidTier: "premium", status: .active, createdNs: 0, updatedNs: 0)
        XCTAssertEqual(record.tier(atNs: 5, unpaidTier: "free"), "premium")
        record.status = .trialing
        XCTAssertEqual(record.tier(atNs: 5, unpaidTier: "free"), "premium")
        record.status = .pastDue
        record.graceUntilNs = 10
        XCTAssertEqual(record.tier(atNs: 9, unpaidTier: "free"), "premium", "within the grace")
        XCTAssertEqual(record.tier(atNs: 10, unpaidTier: "free"), "free", "the grace is over")
        for status in [SubscriptionStatus.none, .incomplete, .incompleteExpired, .canceled, .unpaid, .paused] {
            record.status = status
            XCTAssertEqual(record.tier(atNs: 5, unpaidTier: "free"), "free", status.rawValue)
        }
        record = SubscriberRecord(tenant: "t", id: "a", paidTier: "", status: .active, createdNs: 0, updatedNs: 0)
        XCTAssertEqual(record.tier(atNs: 5, unpaidTier: "basic"), "basic", "active without a tier pays for nothing")
    }

    func testMalformedArgumentsAreRefusedByNameAndChangeNothing() throws {
        XCTAssertThrowsError(try SubscriberIdentity(kind: "Telegram", value: "1")) { XCTAssertTrue("\($0)".contains("identity kind 'Telegram'")) }
        XCTAssertThrowsError(try SubscriberIdentity(kind: "telegram_chat", value: "4 2")) { XCTAssertTrue("\($0)".contains("printable ASCII")) }
        XCTAssertThrowsError(try SubscriberIdentity(kind: "telegram_chat", value: String(repeating: "9", count: 129)))
        XCTAssertThrowsError(try SubscriptionStatus(parsing: "paid")) { XCTAssertTrue("\($0)".contains("status 'paid' is not one of")) }
        for (name, storage) in try storages() {
            XCTAssertThrowsError(try storage.withSubscriptionTransaction(tenant: "t") {
                try $0.link(chat(1), to: "u 1", atNs: 1, source: "s", reference: "")
            }) { XCTAssertTrue("\($0)".contains("subscriber id 'u 1'"), "\(name): \($0)") }
            XCTAssertThrowsError(try storage.withSubscriptionTransaction(tenant: "t") {
                try $0.update(SubscriptionUpdate(identity: chat(1), tier: "gold", asOfNs: 1), policy: policy, atNs: 1, source: "s")
            }) { XCTAssertTrue("\($0)".contains("tier 'gold' is not one of the tenant's tiers (basic, free, premium)"), "\(name): \($0)") }
            XCTAssertEqual(try storage.subscribers(tenant: "t"), [], name)
            XCTAssertEqual(try storage.history(tenant: "t", subscriber: "stripe_customer-1"), [], name)
        }
    }

    func testSubscribersAreKeptPerTenantAndSurviveAReopenedStore() throws {
        let store = try makeStore(self)
        _ = try store.withSubscriptionTransaction(tenant: "a") { try $0.link(chat(1), to: "u1", atNs: 1, source: "s", reference: "") }
        _ = try store.withSubscriptionTransaction(tenant: "b") { try $0.link(chat(1), to: "v1", atNs: 1, source: "s", reference: "") }
        let reopened = try HostStore(path: store.path, clock: { 0 })
        XCTAssertEqual(try reopened.subscribers(tenant: "a").map(\.id), ["u1"])
        XCTAssertEqual(try reopened.subscribers(tenant: "b").map(\.id), ["v1"], "the same chat is a different subscriber in each tenant")
        XCTAssertEqual(try reopened.subscribers(tenant: "c"), [])
    }
}

/// The contract's subscription services, as a plugin calls them.
final class SubscriptionServiceTests: XCTestCase {
    private func services(_ log: LogLines, policies: [String: SubscriptionPolicy]? = nil) throws -> (HostServices, HostStore) {
        let store = try makeStore(self)
        let services = HostServices(logger: Logger(label: "test") { _ in log }, state: store)
        services.setSubscriptions(store, policies: policies ?? ["t1": SubscriptionPolicy(tiers: ["premium", "free"], unpaidTier: "free"),
                                                               "t2": SubscriptionPolicy(tiers: ["premium", "free"], unpaidTier: "free")])
        return (services, store)
    }

    private func instance(_ services: HostServices, tenant: String = "t1", permitted: Bool = true) throws -> OpaquePointer {
        let context = try services.instanceContext(pluginID: "com.test.subs", pluginVersion: "1.0.0", tenantID: tenant, instanceID: "i1", secrets: [:], networkHosts: [],
                                                   servicePermissions: permitted ? UInt64(AP_PERMISSION_SUBSCRIPTIONS.rawValue) : 0)
        addTeardownBlock { services.release(context) }
        return context.opaque
    }

    private func link(_ services: HostServices, _ context: OpaquePointer, _ subscriber: String, _ kind: String,
                      _ value: String) -> (ap_status, Subscriber?) {
        final class Box { var subscriber: Subscriber? }
        let box = Box()
        let status = withAPStrs([subscriber, kind, value, "ref"]) { s in
            services.api.pointee.subscriber_link!(context, s[0], s[1], s[2], s[3], { user, info in
                Unmanaged<Box>.fromOpaque(user!).takeUnretainedValue().subscriber = Subscriber.from(info!)
            }, Unmanaged.passUnretained(box).toOpaque())
        }
        return (status, box.subscriber)
    }

    private func get(_ services: HostServices, _ context: OpaquePointer, _ kind: String, _ value: String) -> (ap_status, Subscriber?) {
        final class Box { var subscriber: Subscriber? }
        let box = Box()
        let status = withAPStrs([kind, value]) { s in
            services.api.pointee.subscriber_get!(context, s[0], s[1], { user, info in
                Unmanaged<Box>.fromOpaque(user!).takeUnretainedValue().subscriber = Subscriber.from(info!)
            }, Unmanaged.passUnretained(box).toOpaque())
        }
        return (status, box.subscriber)
    }

    private func update(_ services: HostServices, _ context: OpaquePointer, kind: String, value: String, tier: String, status: String,
                        asOfNs: Int64) -> (ap_status, UInt32) {
        var applied: UInt32 = 9
        let result = withAPStrs([kind, value, tier, status, "evt_1"]) { s in
            var update = ap_subscription_update(struct_size: UInt32(MemoryLayout<ap_subscription_update>.size), identity_kind: s[0],
                                                identity_value: s[1], tier: s[2], status: s[3], period_end_ns: 0, grace_until_ns: 0,
                                                as_of_ns: asOfNs, reference: s[4])
            return services.api.pointee.subscription_update!(context, &update, &applied)
        }
        return (result, applied)
    }

    func testAPermittedInstanceLinksUpdatesAndReadsItsTenantsSubscribers() throws {
        let log = LogLines()
        let (services, store) = try services(log)
        let context = try instance(services)
        let (linked, subscriber) = link(services, context, "u_1", "telegram_chat", "42")
        XCTAssertEqual(linked, ap_status(AP_OK))
        XCTAssertEqual(subscriber?.id, "u_1")
        XCTAssertEqual(subscriber?.tier, "free")
        XCTAssertEqual(update(services, context, kind: "telegram_chat", value: "42", tier: "premium", status: "active", asOfNs: 5).0, ap_status(AP_OK))
        XCTAssertEqual(update(services, context, kind: "telegram_chat", value: "42", tier: "premium", status: "active", asOfNs: 5).1, 1)
        XCTAssertEqual(update(services, context, kind: "telegram_chat", value: "42", tier: "free", status: "canceled", asOfNs: 4).1, 0,
                       "older than the last applied")
        let (found, read) = get(services, context, "telegram_chat", "42")
        XCTAssertEqual(found, ap_status(AP_OK))
        XCTAssertEqual(read?.tier, "premium")
        XCTAssertEqual(read?.status, "active")
        XCTAssertEqual(read?.identities.map(\.description), ["telegram_chat 42"])
        XCTAssertEqual(try store.history(tenant: "t1", subscriber: "u_1").map(\.source), Array(repeating: "com.test.subs/i1", count: 4))
        XCTAssertTrue(log.contains("ignored: as of 4, older than the last applied to subscriber u_1 (5)"), "\(log.messages)")
    }

    func testAnotherTenantsInstanceSeesNothing() throws {
        let (services, store) = try services(LogLines())
        XCTAssertEqual(link(services, try instance(services, tenant: "t1"), "u_1", "telegram_chat", "42").0, ap_status(AP_OK))
        let other = try instance(services, tenant: "t2")
        XCTAssertEqual(get(services, other, "telegram_chat", "42").0, ap_status(AP_ERR_NOT_FOUND))
        XCTAssertEqual(try store.subscribers(tenant: "t2"), [])
    }

    func testRefusalsAreNamedAndChangeNothing() throws {
        let log = LogLines()
        let (services, store) = try services(log, policies: ["t1": SubscriptionPolicy(tiers: ["premium", "free"], unpaidTier: "free")])
        let unpermitted = try instance(services, permitted: false)
        XCTAssertEqual(link(services, unpermitted, "u_1", "telegram_chat", "42").0, ap_status(AP_ERR_PERMISSION_DENIED))
        XCTAssertTrue(log.contains("subscriber_link refused: plugin com.test.subs does not ask for the subscriptions permission"), "\(log.messages)")
        let elsewhere = try instance(services, tenant: "t3")
        XCTAssertEqual(link(services, elsewhere, "u_1", "telegram_chat", "42").0, ap_status(AP_ERR_UNAVAILABLE))
        XCTAssertTrue(log.contains("tenant t3 has no distribution.subscribers section"), "\(log.messages)")
        let context = try instance(services)
        XCTAssertEqual(update(services, context, kind: "telegram_chat", value: "42", tier: "gold", status: "active", asOfNs: 1).0,
                       ap_status(AP_ERR_INVALID_ARGUMENT))
        XCTAssertTrue(log.contains("subscription_update refused: tier 'gold' is not one of the tenant's tiers (free, premium)"), "\(log.messages)")
        XCTAssertEqual(update(services, context, kind: "telegram_chat", value: "42", tier: "premium", status: "paid", asOfNs: 1).0,
                       ap_status(AP_ERR_INVALID_ARGUMENT))
        XCTAssertEqual(link(services, context, "u 1", "telegram_chat", "42").0, ap_status(AP_ERR_INVALID_ARGUMENT))
        XCTAssertEqual(link(services, context, "u_1", "Telegram", "42").0, ap_status(AP_ERR_INVALID_ARGUMENT))
        XCTAssertEqual(get(services, context, "telegram_chat", "42").0, ap_status(AP_ERR_NOT_FOUND))
        XCTAssertEqual(try store.subscribers(tenant: "t1"), [])
        XCTAssertEqual(try store.subscribers(tenant: "t3"), [])
    }
}
