import Foundation

/// Where the host keeps tenants' subscribers (the store in `run`; process
/// memory in tests). Every call is one atomic change of one tenant.
public protocol SubscriptionStorage: AnyObject, Sendable {
    /// Runs `body` in one transaction (all or nothing).
    func withSubscriptionTransaction<R>(tenant: String, _ body: (any SubscriptionTransaction) throws -> R) throws -> R
    /// Every subscriber of the tenant, by id.
    func subscribers(tenant: String) throws -> [SubscriberRecord]
    /// A subscriber's history, oldest first.
    func history(tenant: String, subscriber: String) throws -> [SubscriptionHistoryEntry]
}

/// The primitive reads and writes of one tenant's subscribers inside one
/// transaction; the rules (`link`, `unlink`, `update`) are written once on
/// top of them.
public protocol SubscriptionTransaction {
    var tenant: String { get }
    func subscriber(id: String) throws -> SubscriberRecord?
    func owner(of identity: SubscriberIdentity) throws -> String?
    /// Inserts or replaces the record; its identities become exactly these
    /// (each taken from any other subscriber that had it).
    func save(_ record: SubscriberRecord) throws
    func delete(subscriber id: String) throws
    func append(_ entry: SubscriptionHistoryEntry) throws
    /// Moves one subscriber's history to another (a merge).
    func moveHistory(from: String, to: String) throws
}

extension SubscriptionTransaction {
    public func subscriber(for identity: SubscriberIdentity) throws -> SubscriberRecord? {
        try owner(of: identity).flatMap { try subscriber(id: $0) }
    }

    /// Links `identity` to `subscriberID` (nil: the identity's own
    /// subscriber, made if none) and returns the subscriber after the change.
    /// An identity linked elsewhere moves; a subscriber made for an identity
    /// alone merges into the named one, which keeps the newer subscription.
    public func link(_ identity: SubscriberIdentity, to subscriberID: String?, atNs: Int64, source: String,
                     reference: String) throws -> SubscriberRecord {
        if let subscriberID { try SubscriberID.check(subscriberID) }
        let current = try subscriber(for: identity)
        guard let subscriberID else {
            if let current { return current }
            return try makeAutomatic(for: identity, atNs: atNs, source: source, reference: reference)
        }
        if let current, current.id == subscriberID { return current }
        var target = try subscriber(id: subscriberID)
            ?? SubscriberRecord(tenant: tenant, id: subscriberID, createdNs: atNs, updatedNs: atNs)
        target.updatedNs = atNs
        if var current {
            current.identities.removeAll { $0 == identity }
            current.updatedNs = atNs
            if current.automatic {
                target.identities += current.identities
                if current.asOfNs > target.asOfNs { target.adoptSubscription(of: current) }
                try delete(subscriber: current.id)
                try moveHistory(from: current.id, to: target.id)
                try append(entry(target.id, atNs, "merged \(current.id) into \(target.id)", source, reference))
            } else {
                try save(current)
                try append(entry(current.id, atNs, "unlinked \(identity): linked to \(target.id)", source, reference))
            }
        }
        target.identities.append(identity)
        target.identities.sort()
        try save(target)
        try append(entry(target.id, atNs, "linked \(identity)", source, reference))
        return target
    }

    /// Unlinks `identity`; false when it was not linked.
    public func unlink(_ identity: SubscriberIdentity, atNs: Int64, source: String, reference: String) throws -> Bool {
        guard var current = try subscriber(for: identity) else { return false }
        current.identities.removeAll { $0 == identity }
        current.updatedNs = atNs
        try save(current)
        try append(entry(current.id, atNs, "unlinked \(identity)", source, reference))
        return true
    }

    /// Applies `update` to the identity's subscriber (made if none) unless
    /// it is older than the last change applied; returns whether it was
    /// applied and the subscriber after it. Both are recorded in the history.
    public func update(_ update: SubscriptionUpdate, policy: SubscriptionPolicy, atNs: Int64,
                       source: String) throws -> (applied: Bool, subscriber: SubscriberRecord) {
        if let tier = update.tier, !policy.tiers.contains(tier) {
            throw SubscriptionError("tier '\(tier.prefix(40))' is not one of the tenant's tiers (\(policy.tiers.sorted().joined(separator: ", ")))")
        }
        var record = try subscriber(for: update.identity)
            ?? makeAutomatic(for: update.identity, atNs: atNs, source: source, reference: update.reference)
        let described = describe(update)
        guard update.asOfNs >= record.asOfNs else {
            try append(entry(record.id, atNs, "ignored, older than the last change applied (as of \(iso(record.asOfNs))): \(described)",
                             source, update.reference))
            return (false, record)
        }
        if let tier = update.tier { record.paidTier = tier }
        if let status = update.status { record.status = status }
        if let periodEnd = update.periodEndNs { record.periodEndNs = periodEnd }
        record.graceUntilNs = update.graceUntilNs
        record.asOfNs = update.asOfNs
        record.updatedNs = atNs
        try save(record)
        try append(entry(record.id, atNs, described, source, update.reference))
        return (true, record)
    }

    private func makeAutomatic(for identity: SubscriberIdentity, atNs: Int64, source: String,
                               reference: String) throws -> SubscriberRecord {
        let id = SubscriberID.automatic(for: identity)
        var record = try subscriber(id: id)
            ?? SubscriberRecord(tenant: tenant, id: id, automatic: true, createdNs: atNs, updatedNs: atNs)
        record.identities = (record.identities + [identity]).sorted()
        record.updatedNs = atNs
        try save(record)
        try append(entry(id, atNs, "linked \(identity)", source, reference))
        return record
    }

    private func entry(_ subscriber: String, _ atNs: Int64, _ change: String, _ source: String,
                       _ reference: String) -> SubscriptionHistoryEntry {
        SubscriptionHistoryEntry(subscriber: subscriber, atNs: atNs, change: change, source: source, reference: reference)
    }

    private func describe(_ update: SubscriptionUpdate) -> String {
        var parts: [String] = []
        if let tier = update.tier { parts.append("tier \(tier)") }
        if let status = update.status { parts.append("status \(status.rawValue)") }
        if let periodEnd = update.periodEndNs { parts.append("period end \(iso(periodEnd))") }
        if update.graceUntilNs > 0 { parts.append("grace until \(iso(update.graceUntilNs))") }
        parts.append("as of \(iso(update.asOfNs))")
        return parts.joined(separator: ", ")
    }
}

extension SubscriberRecord {
    mutating func adoptSubscription(of other: SubscriberRecord) {
        paidTier = other.paidTier
        status = other.status
        periodEndNs = other.periodEndNs
        graceUntilNs = other.graceUntilNs
        asOfNs = other.asOfNs
    }
}

/// UTC ISO 8601 to the second, "2026-11-21T09:30:00Z"; "-" for 0.
func iso(_ ns: Int64) -> String {
    guard ns != 0 else { return "-" }
    var seconds = time_t(ns / 1_000_000_000)
    var parts = tm()
    gmtime_r(&seconds, &parts)
    return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                  parts.tm_hour, parts.tm_min, parts.tm_sec)
}

/// Subscribers kept in process memory (tests; a host without a store).
// @unchecked: records and histories are guarded by `lock`.
public final class InMemorySubscriptionStorage: SubscriptionStorage, @unchecked Sendable {
    private let lock = NSLock()
    private var records: [String: [String: SubscriberRecord]] = [:]
    private var histories: [String: [SubscriptionHistoryEntry]] = [:]

    public init() {}

    public func withSubscriptionTransaction<R>(tenant: String, _ body: (any SubscriptionTransaction) throws -> R) throws -> R {
        try lock.withLock {
            let transaction = Transaction(tenant: tenant, records: records[tenant] ?? [:], history: histories[tenant] ?? [])
            let result = try body(transaction)
            records[tenant] = transaction.records
            histories[tenant] = transaction.history
            return result
        }
    }

    public func subscribers(tenant: String) -> [SubscriberRecord] {
        lock.withLock { (records[tenant] ?? [:]).values.sorted { $0.id < $1.id } }
    }

    public func history(tenant: String, subscriber: String) -> [SubscriptionHistoryEntry] {
        lock.withLock { (histories[tenant] ?? []).filter { $0.subscriber == subscriber } }
    }

    /// Changes are made on copies and kept only when the body returns.
    private final class Transaction: SubscriptionTransaction {
        let tenant: String
        var records: [String: SubscriberRecord]
        var history: [SubscriptionHistoryEntry]

        init(tenant: String, records: [String: SubscriberRecord], history: [SubscriptionHistoryEntry]) {
            self.tenant = tenant
            self.records = records
            self.history = history
        }

        func subscriber(id: String) -> SubscriberRecord? { records[id] }
        func owner(of identity: SubscriberIdentity) -> String? { records.values.first { $0.identities.contains(identity) }?.id }

        func save(_ record: SubscriberRecord) {
            for (id, other) in records where id != record.id && other.identities.contains(where: record.identities.contains) {
                records[id]!.identities.removeAll(where: record.identities.contains)
            }
            records[record.id] = record
        }

        func delete(subscriber id: String) { records[id] = nil }
        func append(_ entry: SubscriptionHistoryEntry) { history.append(entry) }

        func moveHistory(from: String, to: String) {
            for index in history.indices where history[index].subscriber == from { history[index].subscriber = to }
        }
    }
}
