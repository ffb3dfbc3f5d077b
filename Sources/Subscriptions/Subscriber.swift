/// A subscriber's identity on a platform: a Telegram chat, a Stripe customer.
public struct SubscriberIdentity: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// `[a-z0-9_]{1,32}`, e.g. "telegram_chat", "stripe_customer".
    public let kind: String
    /// 1–128 bytes of printable ASCII, e.g. "-100123", "cus_NffrFeUfNV2Hib".
    public let value: String

    /// Checks both parts; the error names the one at fault.
    public init(kind: String, value: String) throws(SubscriptionError) {
        guard kind.utf8.count <= 32, kind.wholeMatch(of: #/[a-z0-9_]+/#) != nil else {
            throw SubscriptionError("identity kind '\(kind.prefix(40))' is not 1-32 characters of a-z, 0-9 and '_'")
        }
        guard (1...128).contains(value.utf8.count), value.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw SubscriptionError("\(kind) identity value is not 1-128 bytes of printable ASCII without spaces")
        }
        self.kind = kind
        self.value = value
    }

    /// An identity read back from the store, valid when it was written.
    public init(stored kind: String, value: String) {
        self.kind = kind
        self.value = value
    }

    public var description: String { "\(kind) \(value)" }

    public static func < (a: SubscriberIdentity, b: SubscriberIdentity) -> Bool { (a.kind, a.value) < (b.kind, b.value) }
}

/// A subscription's status, as Stripe names them, plus `none` (never paid).
public enum SubscriptionStatus: String, Sendable, CaseIterable {
    case none, incomplete, trialing, active, paused, canceled, unpaid
    case incompleteExpired = "incomplete_expired"
    case pastDue = "past_due"

    public init(parsing text: String) throws(SubscriptionError) {
        guard let status = SubscriptionStatus(rawValue: text) else {
            throw SubscriptionError("status '\(text.prefix(40))' is not one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self = status
    }
}

/// What a tenant's subscribers may be given: the tiers that exist, and the
/// one a subscriber receives without a paid subscription.
public struct SubscriptionPolicy: Sendable, Equatable {
    public var tiers: Set<String>
    public var unpaidTier: String

    public init(tiers: Set<String>, unpaidTier: String) {
        self.tiers = tiers
        self.unpaidTier = unpaidTier
    }
}

/// One subscriber of one tenant.
public struct SubscriberRecord: Sendable, Equatable {
    public var tenant: String
    public var id: String
    /// The tier of the subscription; "" when there has been none.
    public var paidTier: String
    public var status: SubscriptionStatus
    /// The end of the paid period; 0 when unknown.
    public var periodEndNs: Int64
    /// While `past_due`, the paid tier is kept until then; 0: no grace.
    public var graceUntilNs: Int64
    /// The source time of the last change applied (a Stripe event's `created`).
    public var asOfNs: Int64
    /// Made by the host for an identity alone ("<kind>-<value>"); merged
    /// into a named subscriber when the identity is linked to one.
    public var automatic: Bool
    public var identities: [SubscriberIdentity]
    public var createdNs: Int64
    public var updatedNs: Int64

    public init(tenant: String, id: String, paidTier: String = "", status: SubscriptionStatus = .none, periodEndNs: Int64 = 0,
                graceUntilNs: Int64 = 0, asOfNs: Int64 = 0, automatic: Bool = false, identities: [SubscriberIdentity] = [],
                createdNs: Int64, updatedNs: Int64) {
        self.tenant = tenant
        self.id = id
        self.paidTier = paidTier
        self.status = status
        self.periodEndNs = periodEndNs
        self.graceUntilNs = graceUntilNs
        self.asOfNs = asOfNs
        self.automatic = automatic
        self.identities = identities
        self.createdNs = createdNs
        self.updatedNs = updatedNs
    }

    /// Whether the subscriber has paid for `paidTier` at `atNs`: active or
    /// trialing, or past due within its grace.
    public func isPaying(atNs: Int64) -> Bool {
        guard !paidTier.isEmpty else { return false }
        switch status {
        case .active, .trialing: return true
        case .pastDue: return atNs < graceUntilNs
        default: return false
        }
    }

    /// The tier the subscriber receives at `atNs`.
    public func tier(atNs: Int64, unpaidTier: String) -> String { isPaying(atNs: atNs) ? paidTier : unpaidTier }

    /// The identities of one kind.
    public func identities(of kind: String) -> [SubscriberIdentity] { identities.filter { $0.kind == kind } }
}

/// A change to a subscription, applied to the subscriber linked to `identity`.
public struct SubscriptionUpdate: Sendable, Equatable {
    public var identity: SubscriberIdentity
    /// The paid tier; nil keeps it.
    public var tier: String?
    /// nil keeps it.
    public var status: SubscriptionStatus?
    /// nil keeps it.
    public var periodEndNs: Int64?
    /// Replaces the grace (0: none).
    public var graceUntilNs: Int64
    /// The source time of the change; older than the last applied: ignored.
    public var asOfNs: Int64
    public var reference: String

    public init(identity: SubscriberIdentity, tier: String? = nil, status: SubscriptionStatus? = nil, periodEndNs: Int64? = nil,
                graceUntilNs: Int64 = 0, asOfNs: Int64, reference: String = "") {
        self.identity = identity
        self.tier = tier
        self.status = status
        self.periodEndNs = periodEndNs
        self.graceUntilNs = graceUntilNs
        self.asOfNs = asOfNs
        self.reference = reference
    }
}

/// One line of a subscriber's history.
public struct SubscriptionHistoryEntry: Sendable, Equatable {
    public var subscriber: String
    public var atNs: Int64
    /// What happened, in words: "linked telegram_chat 42", "tier premium, status active, …".
    public var change: String
    /// Who did it: "<plugin id>/<instance>" or "operator".
    public var source: String
    /// The source's reference (a Stripe event id), "" when none.
    public var reference: String

    public init(subscriber: String, atNs: Int64, change: String, source: String, reference: String) {
        self.subscriber = subscriber
        self.atNs = atNs
        self.change = change
        self.source = source
        self.reference = reference
    }
}

public struct SubscriptionError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Subscriber ids: 1–200 bytes of A-Z a-z 0-9 '_' '-' (what Stripe Checkout
/// accepts as client_reference_id).
public enum SubscriberID {
    public static func check(_ id: String) throws(SubscriptionError) {
        guard (1...200).contains(id.utf8.count), id.wholeMatch(of: #/[A-Za-z0-9_-]+/#) != nil else {
            throw SubscriptionError("subscriber id '\(id.prefix(40))' is not 1-200 characters of A-Z, a-z, 0-9, '_' and '-'")
        }
    }

    /// The id of the subscriber the host makes for an identity alone.
    public static func automatic(for identity: SubscriberIdentity) -> String {
        let value = String(decoding: identity.value.utf8.map { byte -> UInt8 in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "_"), UInt8(ascii: "-"): byte
            default: UInt8(ascii: "_")
            }
        }, as: UTF8.self)
        return String("\(identity.kind)-\(value)".prefix(200))
    }
}
