import CAlphaPlus

/// A subscriber's identity on a platform, e.g. `telegram_chat` "42" or
/// `stripe_customer` "cus_NffrFeUfNV2Hib". The kind is `[a-z0-9_]{1,32}`, the
/// value 1–128 bytes of printable ASCII; the host refuses anything else.
public struct SubscriberIdentity: Hashable, Sendable, CustomStringConvertible {
    public var kind: String
    public var value: String

    public init(kind: String, value: String) {
        self.kind = kind
        self.value = value
    }

    public static func telegramChat(_ chatID: Int64) -> SubscriberIdentity { .init(kind: "telegram_chat", value: String(chatID)) }
    public static func stripeCustomer(_ customerID: String) -> SubscriberIdentity { .init(kind: "stripe_customer", value: customerID) }

    public var description: String { "\(kind) \(value)" }
}

/// A tenant's subscriber as the host keeps it (`ap_subscriber_info`).
public struct Subscriber: Sendable, Equatable {
    public var id: String
    /// The tier the subscriber receives now.
    public var tier: String
    /// The tier of the subscription; "" when there is none.
    public var paidTier: String
    /// Stripe's subscription status ("active", "past_due", …), or "none".
    public var status: String
    /// The end of the paid period, ns since the epoch; 0 when unknown.
    public var periodEndNs: Int64
    /// While past due, the paid tier is kept until then; 0: no grace.
    public var graceUntilNs: Int64
    public var identities: [SubscriberIdentity]

    public init(id: String, tier: String, paidTier: String = "", status: String = "none", periodEndNs: Int64 = 0,
                graceUntilNs: Int64 = 0, identities: [SubscriberIdentity] = []) {
        self.id = id
        self.tier = tier
        self.paidTier = paidTier
        self.status = status
        self.periodEndNs = periodEndNs
        self.graceUntilNs = graceUntilNs
        self.identities = identities
    }

    init(_ raw: UnsafePointer<ap_subscriber_info>) {
        let info = raw.pointee
        let identities = info.identities.map { pointer in
            UnsafeBufferPointer(start: pointer, count: info.identity_count).map { SubscriberIdentity(kind: $0.kind.string, value: $0.value.string) }
        } ?? []
        self.init(id: info.subscriber.string, tier: info.tier.string, paidTier: info.paid_tier.string, status: info.status.string,
                  periodEndNs: info.period_end_ns, graceUntilNs: info.grace_until_ns, identities: identities)
    }

    /// Reads the C struct a host lent (hosts' tests).
    public static func from(_ raw: UnsafePointer<ap_subscriber_info>) -> Subscriber { Subscriber(raw) }

    /// Lends the subscriber as its C struct (hosts and test hosts).
    public func withCInfo<R>(_ body: (UnsafePointer<ap_subscriber_info>) throws -> R) rethrows -> R {
        let texts = [id, tier, paidTier, status] + identities.flatMap { [$0.kind, $0.value] }
        return try withAPStrs(texts) { s in
            let raw = stride(from: 4, to: s.count, by: 2).map { ap_subscriber_identity(kind: s[$0], value: s[$0 + 1]) }
            return try raw.withUnsafeBufferPointer { identities in
                var info = ap_subscriber_info(struct_size: UInt32(MemoryLayout<ap_subscriber_info>.size), subscriber: s[0], tier: s[1],
                                              paid_tier: s[2], status: s[3], period_end_ns: periodEndNs, grace_until_ns: graceUntilNs,
                                              identities: identities.baseAddress, identity_count: identities.count)
                return try body(&info)
            }
        }
    }
}

/// A change to the subscription of the subscriber linked to `identity`
/// (`ap_subscription_update`).
public struct SubscriptionChange: Sendable, Equatable {
    public var identity: SubscriberIdentity
    /// The paid tier, one of the tenant's tiers; nil keeps it.
    public var tier: String?
    /// Stripe's status names; nil keeps it.
    public var status: String?
    /// nil keeps it.
    public var periodEndNs: Int64?
    /// Replaces the grace (0: none).
    public var graceUntilNs: Int64
    /// When it happened at the source; the host ignores a change older than
    /// the last one it applied to the subscriber.
    public var asOfNs: Int64
    /// Kept in the subscriber's history (an event id).
    public var reference: String

    public init(identity: SubscriberIdentity, tier: String? = nil, status: String? = nil, periodEndNs: Int64? = nil,
                graceUntilNs: Int64 = 0, asOfNs: Int64, reference: String = "") {
        self.identity = identity
        self.tier = tier
        self.status = status
        self.periodEndNs = periodEndNs
        self.graceUntilNs = graceUntilNs
        self.asOfNs = asOfNs
        self.reference = reference
    }

    init(_ raw: UnsafePointer<ap_subscription_update>) {
        let update = raw.pointee
        self.init(identity: SubscriberIdentity(kind: update.identity_kind.string, value: update.identity_value.string),
                  tier: update.tier.len > 0 ? update.tier.string : nil, status: update.status.len > 0 ? update.status.string : nil,
                  periodEndNs: update.period_end_ns != 0 ? update.period_end_ns : nil, graceUntilNs: update.grace_until_ns,
                  asOfNs: update.as_of_ns, reference: update.reference.string)
    }

    /// Reads the C struct a plugin passed (hosts and test hosts).
    public static func from(_ raw: UnsafePointer<ap_subscription_update>) -> SubscriptionChange { SubscriptionChange(raw) }

    func withCUpdate<R>(_ body: (UnsafePointer<ap_subscription_update>) throws -> R) rethrows -> R {
        try withAPStrs([identity.kind, identity.value, tier ?? "", status ?? "", reference]) { s in
            var update = ap_subscription_update(struct_size: UInt32(MemoryLayout<ap_subscription_update>.size), identity_kind: s[0],
                                                identity_value: s[1], tier: s[2], status: s[3], period_end_ns: periodEndNs ?? 0,
                                                grace_until_ns: graceUntilNs, as_of_ns: asOfNs, reference: s[4])
            return try body(&update)
        }
    }
}

/// Host services a plugin asks for in its descriptor (`ap_permissions.services`).
public struct ServicePermissions: OptionSet, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Link identities to subscribers and change their subscriptions.
    public static let subscriptions = ServicePermissions(rawValue: UInt64(AP_PERMISSION_SUBSCRIPTIONS.rawValue))
}

extension PluginContext {
    private func subscriptionService<F>(_ field: KeyPath<ap_host_api, F?>, _ name: String) throws -> F {
        let end = MemoryLayout<ap_host_api>.offset(of: \.subscriber_get)! + MemoryLayout<UnsafeRawPointer>.size
        guard Int(api.pointee.struct_size) >= end, let service = api.pointee[keyPath: field] else {
            throw PluginError.unsupported("this host offers no subscription services (\(name); they came with plugin ABI 1.2)")
        }
        return service
    }

    /// Links `identity` to the subscriber `id` (created if new); nil links it
    /// to its own subscriber (the one it has, or a new one named after it).
    /// Returns the subscriber after the change. Needs `.subscriptions`.
    @discardableResult
    public func linkSubscriber(_ id: String?, to identity: SubscriberIdentity, reference: String = "") throws -> Subscriber {
        let link = try subscriptionService(\.subscriber_link, "subscriber_link")
        var result: Subscriber?
        let status = withAPStrs([id ?? "", identity.kind, identity.value, reference]) { s in
            withUnsafeMutablePointer(to: &result) { box in
                link(raw, s[0], s[1], s[2], s[3], { user, info in
                    user!.assumingMemoryBound(to: Subscriber?.self).pointee = Subscriber(info!)
                }, box)
            }
        }
        guard status == AP_OK, let result else {
            throw PluginError(status: status, "the host refused to link \(identity) to \(id.map { "subscriber \($0)" } ?? "its subscriber") (status \(status))")
        }
        return result
    }

    /// Unlinks `identity` from its subscriber; false when it was not linked.
    @discardableResult
    public func unlinkSubscriber(_ identity: SubscriberIdentity, reference: String = "") throws -> Bool {
        let unlink = try subscriptionService(\.subscriber_unlink, "subscriber_unlink")
        let status = withAPStrs([identity.kind, identity.value, reference]) { s in unlink(raw, s[0], s[1], s[2]) }
        if status == AP_ERR_NOT_FOUND { return false }
        guard status == AP_OK else { throw PluginError(status: status, "the host refused to unlink \(identity) (status \(status))") }
        return true
    }

    /// Applies a change; false when the host ignored it as older than the
    /// last change applied to that subscriber.
    @discardableResult
    public func updateSubscription(_ change: SubscriptionChange) throws -> Bool {
        let update = try subscriptionService(\.subscription_update, "subscription_update")
        var applied: UInt32 = 0
        let status = change.withCUpdate { update(raw, $0, &applied) }
        guard status == AP_OK else {
            throw PluginError(status: status, "the host refused a subscription change for \(change.identity) (status \(status))")
        }
        return applied == 1
    }

    /// The subscriber linked to `identity`, nil if none.
    public func subscriber(for identity: SubscriberIdentity) throws -> Subscriber? {
        let get = try subscriptionService(\.subscriber_get, "subscriber_get")
        var result: Subscriber?
        let status = withAPStrs([identity.kind, identity.value]) { s in
            withUnsafeMutablePointer(to: &result) { box in
                get(raw, s[0], s[1], { user, info in
                    user!.assumingMemoryBound(to: Subscriber?.self).pointee = Subscriber(info!)
                }, box)
            }
        }
        if status == AP_ERR_NOT_FOUND { return nil }
        guard status == AP_OK else { throw PluginError(status: status, "the host refused to look up \(identity) (status \(status))") }
        return result
    }
}
