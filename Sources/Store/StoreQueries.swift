import GRDB
import Trading

/// One page of a newest-first listing; pass `next` as `before` for the
/// following page. `next` is nil after a short page; a full page may be
/// followed by an empty one.
public struct Page<Item: Sendable, Cursor: Sendable>: Sendable {
    public var items: [Item]
    public var next: Cursor?
}

/// Where a page of signals or outcomes ended: its last item's time and id.
/// Items strictly older (time, then id) come next.
public struct TimeCursor: Sendable, Equatable {
    public var ns: Int64
    public var id: String

    public init(ns: Int64, id: String) {
        self.ns = ns
        self.id = id
    }
}

/// What the store holds for one tenant.
public struct TenantCounts: Sendable, Equatable {
    public var tenant: String
    public var signals: Int
    public var riskDecisions: Int
    /// Risk decisions that refused a consensus.
    public var rejections: Int
    public var outcomes: Int

    public init(tenant: String, signals: Int, riskDecisions: Int, rejections: Int, outcomes: Int) {
        self.tenant = tenant
        self.signals = signals
        self.riskDecisions = riskDecisions
        self.rejections = rejections
        self.outcomes = outcomes
    }
}

/// The connection settings in force, as SQLite reports them.
public struct StoreSettings: Sendable, Equatable {
    /// "wal".
    public var journalMode: String
    /// 1 = NORMAL.
    public var synchronous: Int
    public var foreignKeys: Bool
    public var busyTimeoutMs: Int
    /// `PRAGMA user_version`: the schema version.
    public var schemaVersion: Int
    /// The GRDB migrations applied, in order ("v1").
    public var migrations: [String]
}

extension HostStore {
    /// The schema version this build writes.
    public static var schemaVersion: Int { Schema.version }

    /// The writer connection's settings (the one that waits for locks).
    public func settings() throws -> StoreSettings {
        try mappingErrors { try pool.writeWithoutTransaction { db in
            StoreSettings(
                journalMode: try String.fetchOne(db, sql: "PRAGMA journal_mode") ?? "",
                synchronous: try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1,
                foreignKeys: try Bool.fetchOne(db, sql: "PRAGMA foreign_keys") ?? false,
                busyTimeoutMs: try Int.fetchOne(db, sql: "PRAGMA busy_timeout") ?? 0,
                schemaVersion: try Int.fetchOne(db, sql: "PRAGMA user_version") ?? 0,
                migrations: try Schema.migrator.appliedMigrations(db))
        } }
    }

    /// A tenant's signals with their votes, newest first (by creation time, then id).
    public func signals(tenant: String, limit: Int = 50, before: TimeCursor? = nil) throws -> Page<Signal, TimeCursor> {
        try checkLimit(limit)
        return try read { db in
            var filter = Filter()
            filter.add("tenant = ?", tenant)
            if let before { filter.add("(created_at_ns, id) < (?, ?)", before.ns, before.id) }
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM signals \(filter.sql) ORDER BY created_at_ns DESC, id DESC LIMIT ?",
                                        arguments: filter.arguments + [limit])
            let signals = try rows.map { try RecordRows.signal($0, votes: try RecordRows.votes(db, of: $0["id"] as DatabaseValue)) }
            return Page(items: signals, next: signals.count == limit ? signals.last.map { TimeCursor(ns: $0.createdAtNs, id: $0.id) } : nil)
        }
    }

    /// One signal with its votes, or nil when no signal has this id.
    public func signal(id: String) throws -> Signal? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM signals WHERE id = ?", arguments: [id])
                .map { try RecordRows.signal($0, votes: try RecordRows.votes(db, of: id)) }
        }
    }

    /// Risk decisions, newest first, of one tenant or of all; `before` is
    /// the previous page's `next`.
    public func riskDecisions(tenant: String? = nil, limit: Int = 50, before: Int64? = nil) throws -> Page<RiskDecision, Int64> {
        try checkLimit(limit)
        return try read { db in
            var filter = Filter()
            if let tenant { filter.add("tenant = ?", tenant) }
            if let before { filter.add("id < ?", before) }
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM risk_decisions \(filter.sql) ORDER BY id DESC LIMIT ?",
                                        arguments: filter.arguments + [limit])
            let decisions = try rows.map(RecordRows.riskDecision)
            return Page(items: decisions, next: rows.count == limit ? rows.last.map { $0["id"] as Int64 } : nil)
        }
    }

    /// A tenant's outcomes with their legs, newest first (by close time, then signal id).
    public func outcomes(tenant: String, limit: Int = 50, before: TimeCursor? = nil) throws -> Page<PositionOutcome, TimeCursor> {
        try checkLimit(limit)
        return try read { db in
            var filter = Filter()
            filter.add("tenant = ?", tenant)
            if let before { filter.add("(closed_at_ns, signal_id) < (?, ?)", before.ns, before.id) }
            let rows = try Row.fetchAll(db, sql: "SELECT * FROM outcomes \(filter.sql) ORDER BY closed_at_ns DESC, signal_id DESC LIMIT ?",
                                        arguments: filter.arguments + [limit])
            let outcomes = try rows.map { try RecordRows.outcome($0, legs: try RecordRows.legs(db, of: $0["signal_id"] as DatabaseValue)) }
            return Page(items: outcomes, next: outcomes.count == limit
                ? outcomes.last.map { TimeCursor(ns: $0.closedAtNs, id: $0.signalID) } : nil)
        }
    }

    /// The outcome of a signal with its legs, or nil while it is open (or unknown).
    public func outcome(signalID: String) throws -> PositionOutcome? {
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM outcomes WHERE signal_id = ?", arguments: [signalID])
                .map { try RecordRows.outcome($0, legs: try RecordRows.legs(db, of: signalID)) }
        }
    }

    /// Every tenant with anything stored, by tenant id.
    public func countsByTenant() throws -> [TenantCounts] {
        try read { db in
            try Row.fetchAll(db, sql: """
                WITH tenants AS (SELECT tenant FROM signals UNION SELECT tenant FROM risk_decisions UNION SELECT tenant FROM outcomes)
                SELECT tenant,
                       (SELECT count(*) FROM signals s WHERE s.tenant = t.tenant) AS signals,
                       (SELECT count(*) FROM risk_decisions r WHERE r.tenant = t.tenant) AS risk_decisions,
                       (SELECT count(*) FROM risk_decisions r WHERE r.tenant = t.tenant AND NOT r.accepted) AS rejections,
                       (SELECT count(*) FROM outcomes o WHERE o.tenant = t.tenant) AS outcomes
                FROM tenants t ORDER BY tenant
                """).map {
                TenantCounts(tenant: $0["tenant"], signals: $0["signals"], riskDecisions: $0["risk_decisions"],
                             rejections: $0["rejections"], outcomes: $0["outcomes"])
            }
        }
    }

    func checkLimit(_ limit: Int) throws(StoreError) {
        guard limit > 0 else { throw StoreError(store: path, message: "a page's limit must be at least 1, not \(limit)") }
    }

    /// Runs `body` on a committed snapshot.
    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        try mappingErrors { try pool.read(body) }
    }

    /// Runs `body` in one write transaction.
    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        try mappingErrors { try pool.write(body) }
    }

    /// SQLite and decoding errors as a `StoreError` naming the store.
    private func mappingErrors<T>(_ access: () throws -> T) throws(StoreError) -> T {
        do {
            return try access()
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError(store: path, message: error.message ?? "SQLite error \(error.resultCode)")
        } catch let error as UnreadableRow {
            throw StoreError(store: path, message: "\(error): the row was not written by alphaplus")
        } catch {
            throw StoreError(store: path, message: "\(error)")
        }
    }
}

/// A WHERE clause built from the conditions that apply, so that each
/// query's plan can use its index (an `? IS NULL OR …` condition defeats it).
private struct Filter {
    private var conditions: [String] = []
    private(set) var arguments: StatementArguments = []

    mutating func add(_ condition: String, _ values: any DatabaseValueConvertible...) {
        conditions.append(condition)
        arguments += StatementArguments(values)
    }

    var sql: String { conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ") }
}
