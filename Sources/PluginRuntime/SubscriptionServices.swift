import struct AlphaPlusSDK.Subscriber
import struct AlphaPlusSDK.SubscriptionChange
import CAlphaPlus
import Foundation
import Subscriptions

/// The contract's subscription services (ABI 1.2): each acts on the calling
/// instance's tenant only, needs AP_PERMISSION_SUBSCRIPTIONS in the plugin's
/// descriptor, and records who made the change in the subscriber's history.
extension HostServices {
    /// Where subscribers are kept and each tenant's tiers. `run` passes the
    /// store and the tenants with a `distribution.subscribers` section.
    public func setSubscriptions(_ storage: SubscriptionStorage, policies: [String: SubscriptionPolicy]) {
        subscriptionStorage = storage
        subscriptionPolicies = policies
    }

    func linkSubscriber(_ subscriber: String, _ kind: String, _ value: String, _ reference: String, _ fn: ap_subscriber_fn?,
                        _ user: UnsafeMutableRawPointer?, _ context: HostContext) -> ap_status {
        subscriptionCall("subscriber_link", context) { storage, policy in
            let identity = try SubscriberIdentity(kind: kind, value: value)
            let record = try storage.withSubscriptionTransaction(tenant: context.tenantID) {
                try $0.link(identity, to: subscriber.isEmpty ? nil : subscriber, atNs: clock.nowNs(), source: context.source, reference: reference)
            }
            if let fn { lend(record, policy) { fn(user, $0) } }
            return ap_status(AP_OK)
        }
    }

    func unlinkSubscriber(_ kind: String, _ value: String, _ reference: String, _ context: HostContext) -> ap_status {
        subscriptionCall("subscriber_unlink", context) { storage, _ in
            let identity = try SubscriberIdentity(kind: kind, value: value)
            let unlinked = try storage.withSubscriptionTransaction(tenant: context.tenantID) {
                try $0.unlink(identity, atNs: clock.nowNs(), source: context.source, reference: reference)
            }
            return unlinked ? ap_status(AP_OK) : ap_status(AP_ERR_NOT_FOUND)
        }
    }

    func updateSubscription(_ raw: UnsafePointer<ap_subscription_update>, _ applied: UnsafeMutablePointer<UInt32>?,
                            _ context: HostContext) -> ap_status {
        subscriptionCall("subscription_update", context) { storage, policy in
            guard Int(raw.pointee.struct_size) >= ABI.subscriptionUpdateSize else {
                throw SubscriptionError("struct_size \(raw.pointee.struct_size) is smaller than ap_subscription_update's \(ABI.subscriptionUpdateSize)")
            }
            let change = SubscriptionChange.from(raw)
            let update = SubscriptionUpdate(identity: try SubscriberIdentity(kind: change.identity.kind, value: change.identity.value),
                                            tier: change.tier, status: try change.status.map { try SubscriptionStatus(parsing: $0) },
                                            periodEndNs: change.periodEndNs, graceUntilNs: change.graceUntilNs, asOfNs: change.asOfNs,
                                            reference: change.reference)
            let outcome = try storage.withSubscriptionTransaction(tenant: context.tenantID) {
                try $0.update(update, policy: policy, atNs: clock.nowNs(), source: context.source)
            }
            if !outcome.applied {
                context.logger.notice("subscription change for \(update.identity) ignored: as of \(update.asOfNs), older than the last applied to subscriber \(outcome.subscriber.id) (\(outcome.subscriber.asOfNs))\(update.reference.isEmpty ? "" : "; \(update.reference)")")
            }
            applied?.pointee = outcome.applied ? 1 : 0
            return ap_status(AP_OK)
        }
    }

    func getSubscriber(_ kind: String, _ value: String, _ fn: ap_subscriber_fn, _ user: UnsafeMutableRawPointer?,
                       _ context: HostContext) -> ap_status {
        subscriptionCall("subscriber_get", context) { storage, policy in
            let identity = try SubscriberIdentity(kind: kind, value: value)
            guard let record = try storage.withSubscriptionTransaction(tenant: context.tenantID, { try $0.subscriber(for: identity) }) else {
                return ap_status(AP_ERR_NOT_FOUND)
            }
            lend(record, policy) { fn(user, $0) }
            return ap_status(AP_OK)
        }
    }

    /// Checks the caller may use the service, then runs it: a malformed
    /// argument is AP_ERR_INVALID_ARGUMENT, a store failure
    /// AP_ERR_UNAVAILABLE, each with one log line naming the plugin's
    /// tenant and instance.
    private func subscriptionCall(_ service: String, _ context: HostContext,
                                  _ body: (SubscriptionStorage, SubscriptionPolicy) throws -> ap_status) -> ap_status {
        guard context.isInstance else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
        guard context.servicePermissions & UInt64(AP_PERMISSION_SUBSCRIPTIONS.rawValue) != 0 else {
            context.logger.warning("\(service) refused: plugin \(context.pluginID) does not ask for the subscriptions permission in its descriptor")
            return ap_status(AP_ERR_PERMISSION_DENIED)
        }
        guard let storage = subscriptionStorage, let policy = subscriptionPolicies[context.tenantID] else {
            context.logger.warning("\(service) refused: tenant \(context.tenantID) has no distribution.subscribers section")
            return ap_status(AP_ERR_UNAVAILABLE)
        }
        do {
            return try body(storage, policy)
        } catch let error as SubscriptionError {
            context.logger.warning("\(service) refused: \(error)")
            return ap_status(AP_ERR_INVALID_ARGUMENT)
        } catch {
            context.logger.error("\(service) failed: the store: \(error)")
            return ap_status(AP_ERR_UNAVAILABLE)
        }
    }

    private func lend(_ record: SubscriberRecord, _ policy: SubscriptionPolicy, _ body: (UnsafePointer<ap_subscriber_info>) -> Void) {
        Subscriber(id: record.id, tier: record.tier(atNs: clock.nowNs(), unpaidTier: policy.unpaidTier), paidTier: record.paidTier,
                   status: record.status.rawValue, periodEndNs: record.periodEndNs, graceUntilNs: record.graceUntilNs,
                   identities: record.identities.map { .init(kind: $0.kind, value: $0.value) })
            .withCInfo(body)
    }
}

extension HostContext {
    /// Who made a change, as the subscriber's history shows it.
    var source: String { "\(pluginID)/\(instanceID)" }
}
