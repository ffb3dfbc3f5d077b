import Distribution
import GRDB

/// One destination's deliveries by state, for `alphaplus outbox status`.
public struct OutboxDestinationStatus: Sendable, Equatable {
    public var destination: OutboxDestination
    /// Rows per state (states without rows are absent).
    public var counts: [OutboxState: Int]
    /// The oldest pending row's not_before (ns), nil when none is pending.
    public var oldestPendingNs: Int64?
}

/// The outbox's durable side: every call is one transaction. The
/// statements run once per row or per attempt (insert, sending, the
/// completion's lookup, delivered) are prepared once per connection
/// (`cachedStatement`): compiling them each time cost more than running
/// them (DistributionBench).
extension HostStore: OutboxStorage {
    public func enqueue(_ deliveries: [NewDelivery], atNs: Int64) throws -> [OutboxEntry] {
        try write { db in
            var added: [OutboxEntry] = []
            for delivery in deliveries {
                if let entry = try Self.insert(delivery, db, atNs: atNs) { added.append(entry) }
            }
            return added
        }
    }

    public func registerDestinations(_ destinations: [DestinationRegistration], atNs: Int64) throws -> [OutboxDestination] {
        try write { db in
            for destination in destinations {
                let configured = try String.fetchOne(db, sql: "SELECT configured_target_json FROM outbox_destinations WHERE tenant = ? AND id = ?",
                                                     arguments: [destination.tenant, destination.id])
                if configured == nil {
                    try db.execute(sql: """
                        INSERT INTO outbox_destinations (tenant, id, channel, tier, target_json, configured_target_json, enabled,
                                                         disabled_reason, disabled_at_ns, updated_at_ns)
                        VALUES (?, ?, ?, ?, ?, ?, 1, '', 0, ?)
                        """, arguments: [destination.tenant, destination.id, destination.channel, destination.tier,
                                         destination.targetJSON, destination.targetJSON, atNs])
                } else if configured != destination.targetJSON {
                    // The operator changed the target: it replaces one the platform moved.
                    try db.execute(sql: """
                        UPDATE outbox_destinations SET channel = ?, tier = ?, target_json = ?, configured_target_json = ?, updated_at_ns = ?
                        WHERE tenant = ? AND id = ?
                        """, arguments: [destination.channel, destination.tier, destination.targetJSON, destination.targetJSON, atNs,
                                         destination.tenant, destination.id])
                } else {
                    try db.execute(sql: "UPDATE outbox_destinations SET channel = ?, tier = ? WHERE tenant = ? AND id = ?",
                                   arguments: [destination.channel, destination.tier, destination.tenant, destination.id])
                }
            }
            return try Self.destinations(db, tenant: nil)
        }
    }

    public func requeueInterrupted(atNs: Int64) throws -> Int {
        try write { db in
            try db.execute(sql: "UPDATE outbox SET state = 'pending', updated_at_ns = ? WHERE state = 'sending'", arguments: [atNs])
            return db.changesCount
        }
    }

    public func pendingDeliveries() throws -> [OutboxEntry] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE state = 'pending' ORDER BY not_before_ns, id").map(Self.entry)
        }
    }

    public func outboxDestinations() throws -> [OutboxDestination] {
        try read { db in try Self.destinations(db, tenant: nil) }
    }

    public func markSending(id: Int64, attempt: Int, atNs: Int64) throws -> Bool {
        try write { db in
            try db.cachedStatement(sql: "UPDATE outbox SET state = 'sending', attempts = ?, updated_at_ns = ? WHERE id = ? AND state = 'pending'")
                .execute(arguments: [attempt, atNs, id])
            return db.changesCount == 1
        }
    }

    public func complete(id: Int64, _ completion: OutboxCompletion, updatedTargetJSON: String?, atNs: Int64) throws -> [OutboxEntry] {
        try write { db in
            guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT tenant, destination FROM outbox WHERE id = ?"), arguments: [id]) else {
                throw StoreError(store: path, message: "outbox row \(id) does not exist")
            }
            let tenant: String = row["tenant"], destination: String = row["destination"]
            var added: [OutboxEntry] = []
            switch completion {
            case .delivered(let externalID):
                try db.cachedStatement(sql: "UPDATE outbox SET state = 'delivered', external_id = ?, last_error = '', updated_at_ns = ? WHERE id = ?")
                    .execute(arguments: [externalID, atNs, id])
            case .retry(let next, let error):
                try db.execute(sql: "UPDATE outbox SET state = 'pending', next_attempt_ns = ?, last_error = ?, updated_at_ns = ? WHERE id = ?",
                               arguments: [next, error, atNs, id])
            case .dead(let reason):
                try db.execute(sql: "UPDATE outbox SET state = 'dead', last_error = ?, updated_at_ns = ? WHERE id = ?",
                               arguments: [reason, atNs, id])
            case .dryRun:
                try db.execute(sql: "UPDATE outbox SET state = 'dry_run', updated_at_ns = ? WHERE id = ?", arguments: [atNs, id])
            case .destinationGone(let reason, let alerts):
                try db.execute(sql: "UPDATE outbox SET state = 'dead', last_error = ?, updated_at_ns = ? WHERE id = ?",
                               arguments: [reason, atNs, id])
                added = try Self.disable(db, tenant: tenant, id: destination, reason: reason, alerts: alerts, atNs: atNs)
            }
            if let updatedTargetJSON {
                try db.execute(sql: "UPDATE outbox_destinations SET target_json = ?, updated_at_ns = ? WHERE tenant = ? AND id = ?",
                               arguments: [updatedTargetJSON, atNs, tenant, destination])
            }
            return added
        }
    }

    public func disableDestination(tenant: String, id: String, reason: String, alerts: [NewDelivery], atNs: Int64) throws -> [OutboxEntry] {
        try write { db in try Self.disable(db, tenant: tenant, id: id, reason: reason, alerts: alerts, atNs: atNs) }
    }

    public func dailyActivity(tenant: String, fromNs: Int64, toNs: Int64) throws -> DailyActivity {
        try read { db in
            let signals = try Int.fetchOne(db, sql: "SELECT count(*) FROM signals WHERE tenant = ? AND created_at_ns >= ? AND created_at_ns < ?",
                                           arguments: [tenant, fromNs, toNs]) ?? 0
            let closed = try Row.fetchOne(db, sql: """
                SELECT count(*) AS trades, coalesce(sum(pnl > 0), 0) AS wins, coalesce(sum(pnl), 0.0) AS pnl
                FROM outcomes WHERE tenant = ? AND closed_at_ns >= ? AND closed_at_ns < ?
                """, arguments: [tenant, fromNs, toNs])!
            return DailyActivity(signals: signals, closedTrades: closed["trades"], wins: closed["wins"], pnl: closed["pnl"])
        }
    }

    // MARK: - For the operator

    /// Every destination (of one tenant or all) with its rows by state.
    public func outboxStatus(tenant: String? = nil) throws -> [OutboxDestinationStatus] {
        try read { db in
            try Self.destinations(db, tenant: tenant).map { destination in
                var counts: [OutboxState: Int] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM outbox WHERE tenant = ? AND destination = ? GROUP BY state",
                                            arguments: [destination.tenant, destination.id]) {
                    let state = try ColumnReader(row: row, name: "outbox").value("state", OutboxState.self)
                    counts[state] = row["n"]
                }
                let oldest = try Int64.fetchOne(db, sql: "SELECT min(not_before_ns) FROM outbox WHERE tenant = ? AND destination = ? AND state = 'pending'",
                                                arguments: [destination.tenant, destination.id])
                return OutboxDestinationStatus(destination: destination, counts: counts, oldestPendingNs: oldest)
            }
        }
    }

    /// Outbox rows by id, of one tenant or all, in one state or all.
    public func outboxEntries(tenant: String? = nil, state: OutboxState? = nil) throws -> [OutboxEntry] {
        try read { db in
            var conditions: [String] = [], arguments: StatementArguments = []
            if let tenant { conditions.append("tenant = ?"); arguments += [tenant] }
            if let state { conditions.append("state = ?"); arguments += [state.rawValue] }
            let filter = conditions.isEmpty ? "" : "WHERE " + conditions.joined(separator: " AND ")
            return try Row.fetchAll(db, sql: "SELECT * FROM outbox \(filter) ORDER BY id", arguments: arguments).map(Self.entry)
        }
    }

    /// A tenant's dead letters, the most recently given up on first (by
    /// update time, then id), at most `limit`.
    public func deadLetters(tenant: String, limit: Int) throws -> [OutboxEntry] {
        try checkLimit(limit)
        return try read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM outbox WHERE tenant = ? AND state = 'dead' ORDER BY updated_at_ns DESC, id DESC LIMIT ?",
                             arguments: [tenant, limit]).map(Self.entry)
        }
    }

    /// A dead letter back to pending with its attempts reset; the running
    /// host picks it up at its next refresh. Throws when row `id` is not dead.
    public func retryDeadLetter(id: Int64, atNs: Int64) throws {
        try write { db in
            guard let state = try String.fetchOne(db, sql: "SELECT state FROM outbox WHERE id = ?", arguments: [id]) else {
                throw StoreError(store: path, message: "outbox row \(id) does not exist")
            }
            guard state == OutboxState.dead.rawValue else {
                throw StoreError(store: path, message: "outbox row \(id) is \(state), not dead: only dead letters are retried")
            }
            try Self.revive(db, where: "id = ?", [id], atNs: atNs)
        }
    }

    /// Every dead letter (of one tenant or all) back to pending; returns how many.
    public func retryDeadLetters(tenant: String? = nil, atNs: Int64) throws -> Int {
        try write { db in
            tenant == nil ? try Self.revive(db, where: "state = 'dead'", [], atNs: atNs)
                : try Self.revive(db, where: "state = 'dead' AND tenant = ?", [tenant], atNs: atNs)
        }
    }

    /// Enables a disabled destination; its pending rows go out again.
    /// Throws when the tenant has no such destination; false when it was enabled.
    @discardableResult
    public func enableDestination(tenant: String, id: String, atNs: Int64) throws -> Bool {
        try write { db in
            guard let enabled = try Bool.fetchOne(db, sql: "SELECT enabled FROM outbox_destinations WHERE tenant = ? AND id = ?",
                                                  arguments: [tenant, id]) else {
                let known = try String.fetchAll(db, sql: "SELECT id FROM outbox_destinations WHERE tenant = ? ORDER BY id", arguments: [tenant])
                throw StoreError(store: path, message: "tenant \(tenant) has no destination '\(id)' in the outbox"
                    + (known.isEmpty ? " (it has none)" : " (it has \(known.joined(separator: ", ")))"))
            }
            guard !enabled else { return false }
            try db.execute(sql: """
                UPDATE outbox_destinations SET enabled = 1, disabled_reason = '', disabled_at_ns = 0, updated_at_ns = ?
                WHERE tenant = ? AND id = ?
                """, arguments: [atNs, tenant, id])
            return true
        }
    }

    // MARK: - Rows

    private static func insert(_ delivery: NewDelivery, _ db: Database, atNs: Int64) throws -> OutboxEntry? {
        try db.cachedStatement(sql: """
            INSERT INTO outbox (idempotency_key, tenant, destination, tier, kind, subject, text, payload, not_before_ns, state,
                                attempts, next_attempt_ns, last_error, external_id, created_at_ns, updated_at_ns)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, '', '', ?, ?)
            ON CONFLICT (idempotency_key) DO NOTHING
            """).execute(arguments: [delivery.idempotencyKey, delivery.tenant, delivery.destination, delivery.tier, delivery.kind.rawValue,
                                     delivery.subject, delivery.text, delivery.payloadJSON, delivery.notBeforeNs, delivery.notBeforeNs,
                                     atNs, atNs])
        guard db.changesCount == 1 else { return nil }
        return OutboxEntry(id: db.lastInsertedRowID, idempotencyKey: delivery.idempotencyKey, tenant: delivery.tenant,
                           destination: delivery.destination, tier: delivery.tier, kind: delivery.kind, subject: delivery.subject,
                           text: delivery.text, payloadJSON: delivery.payloadJSON, notBeforeNs: delivery.notBeforeNs, state: .pending,
                           attempts: 0, nextAttemptNs: delivery.notBeforeNs, lastError: "", externalID: "", createdNs: atNs, updatedNs: atNs)
    }

    private static func disable(_ db: Database, tenant: String, id: String, reason: String, alerts: [NewDelivery],
                                atNs: Int64) throws -> [OutboxEntry] {
        try db.execute(sql: """
            UPDATE outbox_destinations SET enabled = 0, disabled_reason = ?, disabled_at_ns = ?, updated_at_ns = ?
            WHERE tenant = ? AND id = ?
            """, arguments: [reason, atNs, atNs, tenant, id])
        return try alerts.compactMap { try insert($0, db, atNs: atNs) }
    }

    @discardableResult
    private static func revive(_ db: Database, where condition: String, _ arguments: StatementArguments, atNs: Int64) throws -> Int {
        try db.execute(sql: """
            UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_ns = max(not_before_ns, ?), updated_at_ns = ?
            WHERE \(condition)
            """, arguments: [atNs, atNs] + arguments)
        return db.changesCount
    }

    private static func destinations(_ db: Database, tenant: String?) throws -> [OutboxDestination] {
        let rows = tenant == nil
            ? try Row.fetchAll(db, sql: "SELECT * FROM outbox_destinations ORDER BY tenant, id")
            : try Row.fetchAll(db, sql: "SELECT * FROM outbox_destinations WHERE tenant = ? ORDER BY id", arguments: [tenant])
        return try rows.map { row in
            let column = ColumnReader(row: row, name: "outbox_destinations row \(row["tenant"] as DatabaseValue)/\(row["id"] as DatabaseValue)")
            return OutboxDestination(tenant: try column.string("tenant"), id: try column.string("id"), channel: try column.string("channel"),
                                     tier: try column.string("tier"), targetJSON: try column.string("target_json"),
                                     configuredTargetJSON: try column.string("configured_target_json"), enabled: try column.bool("enabled"),
                                     disabledReason: try column.string("disabled_reason"), disabledAtNs: try column.int64("disabled_at_ns"))
        }
    }

    private static func entry(_ row: Row) throws -> OutboxEntry {
        let column = ColumnReader(row: row, name: "outbox row \(row["id"] as DatabaseValue)")
        return OutboxEntry(id: try column.int64("id"), idempotencyKey: try column.string("idempotency_key"),
                           tenant: try column.string("tenant"), destination: try column.string("destination"),
                           tier: try column.string("tier"), kind: try column.value("kind", MessageKind.self),
                           subject: try column.string("subject"), text: try column.string("text"),
                           payloadJSON: try column.string("payload"), notBeforeNs: try column.int64("not_before_ns"),
                           state: try column.value("state", OutboxState.self), attempts: Int(try column.int64("attempts")),
                           nextAttemptNs: try column.int64("next_attempt_ns"), lastError: try column.string("last_error"),
                           externalID: try column.string("external_id"), createdNs: try column.int64("created_at_ns"),
                           updatedNs: try column.int64("updated_at_ns"))
    }
}
