import AlphaPlusSDK
import CAlphaPlus

/// The test host's subscribers: the same rules as the real host's, in
/// memory, for one tenant per TestHost. Tiers and the unpaid tier are set
/// on the TestHost.
public struct TestSubscriptions {
    struct Record {
        var id: String
        var paidTier = ""
        var status = "none"
        var periodEndNs: Int64 = 0
        var graceUntilNs: Int64 = 0
        var asOfNs: Int64 = 0
        var automatic = false
        var identities: [SubscriberIdentity] = []
    }

    static let statuses: Set<String> = ["none", "incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"]

    var records: [String: Record] = [:]
    /// Every change, in words ("linked telegram_chat 42", "update … applied").
    public private(set) var history: [String] = []

    func owner(of identity: SubscriberIdentity) -> String? { records.values.first { $0.identities.contains(identity) }?.id }

    func view(_ record: Record, nowNs: Int64, unpaidTier: String) -> Subscriber {
        let paying = !record.paidTier.isEmpty
            && (record.status == "active" || record.status == "trialing" || (record.status == "past_due" && nowNs < record.graceUntilNs))
        return Subscriber(id: record.id, tier: paying ? record.paidTier : unpaidTier, paidTier: record.paidTier, status: record.status,
                          periodEndNs: record.periodEndNs, graceUntilNs: record.graceUntilNs, identities: record.identities)
    }

    static func valid(_ identity: SubscriberIdentity) -> Bool {
        identity.kind.utf8.count <= 32 && identity.kind.wholeMatch(of: #/[a-z0-9_]+/#) != nil
            && (1...128).contains(identity.value.utf8.count) && identity.value.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }

    static func validID(_ id: String) -> Bool { (1...200).contains(id.utf8.count) && id.wholeMatch(of: #/[A-Za-z0-9_-]+/#) != nil }

    mutating func automatic(for identity: SubscriberIdentity) -> String {
        let id = identity.kind + "-" + String(identity.value.map { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") ? $0 : "_" })
        if records[id] == nil { records[id] = Record(id: id, automatic: true) }
        records[id]!.identities.append(identity)
        history.append("linked \(identity) to \(id)")
        return id
    }

    mutating func link(_ identity: SubscriberIdentity, to subscriber: String?) -> String {
        let current = owner(of: identity)
        guard let subscriber else { return current ?? automatic(for: identity) }
        if current == subscriber { return subscriber }
        var target = records[subscriber] ?? Record(id: subscriber)
        if let current, var old = records[current] {
            old.identities.removeAll { $0 == identity }
            if old.automatic {
                target.identities += old.identities
                if old.asOfNs > target.asOfNs {
                    (target.paidTier, target.status, target.periodEndNs, target.graceUntilNs, target.asOfNs) =
                        (old.paidTier, old.status, old.periodEndNs, old.graceUntilNs, old.asOfNs)
                }
                records[current] = nil
                history.append("merged \(current) into \(subscriber)")
            } else {
                records[current] = old
            }
        }
        target.identities.append(identity)
        records[subscriber] = target
        history.append("linked \(identity) to \(subscriber)")
        return subscriber
    }

    mutating func unlink(_ identity: SubscriberIdentity) -> Bool {
        guard let current = owner(of: identity) else { return false }
        records[current]!.identities.removeAll { $0 == identity }
        history.append("unlinked \(identity) from \(current)")
        return true
    }

    mutating func update(_ change: SubscriptionChange) -> Bool {
        let id = owner(of: change.identity) ?? automatic(for: change.identity)
        var record = records[id]!
        guard change.asOfNs >= record.asOfNs else {
            history.append("ignored an older change for \(id) (\(change.reference))")
            return false
        }
        if let tier = change.tier { record.paidTier = tier }
        if let status = change.status { record.status = status }
        if let periodEnd = change.periodEndNs { record.periodEndNs = periodEnd }
        record.graceUntilNs = change.graceUntilNs
        record.asOfNs = change.asOfNs
        records[id] = record
        history.append("\(id): tier \(record.paidTier), status \(record.status) (\(change.reference))")
        return true
    }
}

extension TestHost {
    /// The subscriber with this id, as a plugin would see it now.
    public func subscriber(id: String) -> Subscriber? {
        subscriptions.records[id].map { subscriptions.view($0, nowNs: nowNs, unpaidTier: unpaidTier) }
    }

    /// The subscriber linked to `identity`, as a plugin would see it now.
    public func subscriber(for identity: SubscriberIdentity) -> Subscriber? {
        subscriptions.owner(of: identity).flatMap { subscriber(id: $0) }
    }

    /// Every subscriber, by id.
    public var allSubscribers: [Subscriber] {
        subscriptions.records.keys.sorted().compactMap { subscriber(id: $0) }
    }

    /// Applies a change as a plugin's `updateSubscription` would (a payment
    /// platform's event): false when it is older than the last applied.
    /// Throws `invalidArgument` for an unknown tier or status.
    @discardableResult
    public func updateSubscription(_ change: SubscriptionChange) throws -> Bool {
        guard TestSubscriptions.valid(change.identity), change.tier.map(subscriptionTiers.contains) ?? true,
              change.status.map(TestSubscriptions.statuses.contains) ?? true else {
            throw PluginError.invalidArgument("the subscription change for \(change.identity) names an unknown tier or status")
        }
        return subscriptions.update(change)
    }

    static func subscriptionServices(_ api: inout ap_host_api) {
        func permitted(_ ctx: OpaquePointer?) -> TestContext? {
            let context = TestContext.from(ctx)
            guard !context.instance.isEmpty, context.services.contains(.subscriptions) else { return nil }
            return context
        }
        func identity(_ kind: ap_str, _ value: ap_str) -> SubscriberIdentity? {
            let identity = SubscriberIdentity(kind: kind.string, value: value.string)
            return TestSubscriptions.valid(identity) ? identity : nil
        }
        api.subscriber_link = { ctx, subscriber, kind, value, _, fn, user in
            guard let context = permitted(ctx) else { return ap_status(AP_ERR_PERMISSION_DENIED) }
            if let refusal = context.host.subscriptionServicesRefusal { return refusal }
            guard let identity = identity(kind, value),
                  subscriber.len == 0 || TestSubscriptions.validID(subscriber.string) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            let host = context.host
            let id = host.subscriptions.link(identity, to: subscriber.len == 0 ? nil : subscriber.string)
            if let fn { host.subscriber(id: id)!.withCInfo { fn(user, $0) } }
            return ap_status(AP_OK)
        }
        api.subscriber_unlink = { ctx, kind, value, _ in
            guard let context = permitted(ctx) else { return ap_status(AP_ERR_PERMISSION_DENIED) }
            if let refusal = context.host.subscriptionServicesRefusal { return refusal }
            guard let identity = identity(kind, value) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            return context.host.subscriptions.unlink(identity) ? ap_status(AP_OK) : ap_status(AP_ERR_NOT_FOUND)
        }
        api.subscription_update = { ctx, raw, applied in
            guard let context = permitted(ctx) else { return ap_status(AP_ERR_PERMISSION_DENIED) }
            if let refusal = context.host.subscriptionServicesRefusal { return refusal }
            guard let done = try? context.host.updateSubscription(SubscriptionChange.from(raw!)) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            applied?.pointee = done ? 1 : 0
            return ap_status(AP_OK)
        }
        api.subscriber_get = { ctx, kind, value, fn, user in
            guard let context = permitted(ctx) else { return ap_status(AP_ERR_PERMISSION_DENIED) }
            if let refusal = context.host.subscriptionServicesRefusal { return refusal }
            guard let identity = identity(kind, value) else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
            guard let subscriber = context.host.subscriber(for: identity) else { return ap_status(AP_ERR_NOT_FOUND) }
            subscriber.withCInfo { fn?(user, $0) }
            return ap_status(AP_OK)
        }
    }
}
