import Foundation
import GRDB
import Subscriptions

/// Tenants' subscribers, durable: each link, unlink or update is one write
/// transaction (the record, its identities and a history line together).
extension HostStore: SubscriptionStorage {
    public func withSubscriptionTransaction<R>(tenant: String, _ body: (any SubscriptionTransaction) throws -> R) throws -> R {
        do {
            return try pool.write { db in try body(SubscriberTransaction(db: db, tenant: tenant)) }
        } catch let error as SubscriptionError {
            throw error  // the caller's argument, not the store
        } catch let error as DatabaseError {
            throw StoreError(store: path, message: error.message ?? "SQLite error \(error.resultCode)")
        }
    }

    public func subscribers(tenant: String) throws -> [SubscriberRecord] {
        try read { db in
            let identities = try Row.fetchAll(db, sql: "SELECT kind, value, subscriber FROM subscriber_identities WHERE tenant = ? ORDER BY kind, value",
                                              arguments: [tenant])
            let byOwner = Dictionary(grouping: identities, by: { $0["subscriber"] as String })
            return try Row.fetchAll(db, sql: "SELECT * FROM subscribers WHERE tenant = ? ORDER BY id", arguments: [tenant]).map { row in
                SubscriberTransaction.record(row, identities: (byOwner[row["id"]] ?? []).map {
                    SubscriberIdentity(stored: $0["kind"], value: $0["value"])
                })
            }
        }
    }

    public func history(tenant: String, subscriber: String) throws -> [SubscriptionHistoryEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM subscription_history WHERE tenant = ? AND subscriber = ? ORDER BY seq",
                             arguments: [tenant, subscriber]).map(Self.historyEntry)
        }
    }

    /// Every subscriber's history in one read (the admin API's list), by
    /// subscriber, each oldest first.
    public func histories(tenant: String) throws -> [String: [SubscriptionHistoryEntry]] {
        try read { db in
            Dictionary(grouping: try Row.fetchAll(db, sql: "SELECT * FROM subscription_history WHERE tenant = ? ORDER BY seq",
                                                  arguments: [tenant]).map(Self.historyEntry), by: \.subscriber)
        }
    }

    private static func historyEntry(_ row: Row) -> SubscriptionHistoryEntry {
        SubscriptionHistoryEntry(subscriber: row["subscriber"], atNs: row["at_ns"], change: row["change"], source: row["source"],
                                 reference: row["reference"])
    }
}

private struct SubscriberTransaction: SubscriptionTransaction {
    let db: Database
    let tenant: String

    static func record(_ row: Row, identities: [SubscriberIdentity]) -> SubscriberRecord {
        // A status this build does not know reads as none: the subscriber then receives the unpaid tier.
        SubscriberRecord(tenant: row["tenant"], id: row["id"], paidTier: row["paid_tier"],
                         status: SubscriptionStatus(rawValue: row["status"]) ?? .none, periodEndNs: row["period_end_ns"],
                         graceUntilNs: row["grace_until_ns"], asOfNs: row["as_of_ns"], automatic: row["automatic"],
                         identities: identities, createdNs: row["created_ns"], updatedNs: row["updated_ns"])
    }

    func subscriber(id: String) throws -> SubscriberRecord? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT * FROM subscribers WHERE tenant = ? AND id = ?"),
                                         arguments: [tenant, id]) else { return nil }
        let identities = try Row.fetchAll(db.cachedStatement(sql: "SELECT kind, value FROM subscriber_identities WHERE tenant = ? AND subscriber = ? ORDER BY kind, value"),
                                          arguments: [tenant, id]).map { SubscriberIdentity(stored: $0["kind"], value: $0["value"]) }
        return Self.record(row, identities: identities)
    }

    func owner(of identity: SubscriberIdentity) throws -> String? {
        try String.fetchOne(db.cachedStatement(sql: "SELECT subscriber FROM subscriber_identities WHERE tenant = ? AND kind = ? AND value = ?"),
                            arguments: [tenant, identity.kind, identity.value])
    }

    func save(_ record: SubscriberRecord) throws {
        try db.cachedStatement(sql: """
            INSERT INTO subscribers (tenant, id, paid_tier, status, period_end_ns, grace_until_ns, as_of_ns, automatic, created_ns, updated_ns)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (tenant, id) DO UPDATE SET paid_tier = excluded.paid_tier, status = excluded.status,
                period_end_ns = excluded.period_end_ns, grace_until_ns = excluded.grace_until_ns, as_of_ns = excluded.as_of_ns,
                automatic = excluded.automatic, updated_ns = excluded.updated_ns
            """).execute(arguments: [tenant, record.id, record.paidTier, record.status.rawValue, record.periodEndNs, record.graceUntilNs,
                                     record.asOfNs, record.automatic, record.createdNs, record.updatedNs])
        try db.cachedStatement(sql: "DELETE FROM subscriber_identities WHERE tenant = ? AND subscriber = ?").execute(arguments: [tenant, record.id])
        for identity in record.identities {
            try db.cachedStatement(sql: """
                INSERT INTO subscriber_identities (tenant, kind, value, subscriber) VALUES (?, ?, ?, ?)
                ON CONFLICT (tenant, kind, value) DO UPDATE SET subscriber = excluded.subscriber
                """).execute(arguments: [tenant, identity.kind, identity.value, record.id])
        }
    }

    func delete(subscriber id: String) throws {
        try db.execute(sql: "DELETE FROM subscribers WHERE tenant = ? AND id = ?", arguments: [tenant, id])
    }

    func append(_ entry: SubscriptionHistoryEntry) throws {
        try db.cachedStatement(sql: "INSERT INTO subscription_history (tenant, subscriber, at_ns, change, source, reference) VALUES (?, ?, ?, ?, ?, ?)")
            .execute(arguments: [tenant, entry.subscriber, entry.atNs, entry.change, entry.source, entry.reference])
    }

    func moveHistory(from: String, to: String) throws {
        try db.execute(sql: "UPDATE subscription_history SET subscriber = ? WHERE tenant = ? AND subscriber = ?", arguments: [to, tenant, from])
    }
}
