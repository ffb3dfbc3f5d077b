import Foundation
import GRDB
import Trading

/// The durable store: one SQLite file in WAL mode holding every risk
/// decision, signal (with its votes) and outcome (with its legs), each
/// logged in the hash-chained audit log in the same transaction.
///
/// Concurrency: the only state is immutable (`path`, `clock`) and a GRDB
/// `DatabasePool`, which is itself thread-safe: writes are serialized on
/// its single writer connection, each in one transaction, and reads run in
/// parallel on reader connections, each seeing a committed snapshot (WAL).
/// So the store can be shared by any number of threads and tasks, and the
/// compiler checks that (`Sendable`, not `@unchecked`).
public final class HostStore: StrategyJournal, Sendable {
    /// The database file.
    public let path: String
    let pool: DatabasePool
    /// ns since the epoch, stamped on audit rows (`at_ns`).
    let clock: @Sendable () -> Int64

    /// Opens the store at `path`, creating the file and its folder if
    /// missing, and brings its schema to the current version.
    ///
    /// Throws when the file is not a SQLite database, cannot be opened or
    /// written, or was written by a newer build (a schema version this build
    /// does not know).
    public init(path: String, clock: @escaping @Sendable () -> Int64) throws(StoreError) {
        self.path = path
        self.clock = clock
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(store: path, message: "cannot create its folder \(folder): \(error.localizedDescription)")
        }
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        // Another process (a backup, `audit verify`) may hold the write lock
        // briefly. (GRDB gives its WAL readers, which rarely wait, 10 s.)
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // WAL with NORMAL: a commit is durable once the WAL is synced at
            // a checkpoint; a power loss can lose the last transactions but
            // never corrupts the file.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            let migrator = Schema.migrator
            let unknown = try pool.read { db in
                try migrator.appliedIdentifiers(db).subtracting(migrator.migrations).sorted()
            }
            guard unknown.isEmpty else {
                throw StoreError(store: path, message: "has schema migrations this build does not know (\(unknown.joined(separator: ", "))): "
                    + "it was written by a newer alphaplus; run that version or a newer one")
            }
            try migrator.migrate(pool)
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError(store: path, message: "cannot open: \(error.message ?? "\(error.resultCode)")")
        } catch {
            throw StoreError(store: path, message: "cannot open: \(error)")
        }
    }

    public func record(_ decision: RiskDecision) throws {
        try append(AuditRecord(decision)) { db, seq in
            try db.execute(sql: """
                INSERT INTO risk_decisions (tenant, venue, symbol, timeframe_s, side, confidence, accepted, rejection,
                                            detail, signal_id, at_ns, audit_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [decision.tenant, decision.venue, decision.symbol, decision.timeframeSeconds,
                                 decision.side.rawValue, decision.confidence, decision.accepted, decision.rejection?.rawValue,
                                 decision.detail, decision.signalID, decision.atNs, seq])
        }
    }

    public func record(_ signal: Signal) throws {
        try append(AuditRecord(signal)) { db, seq in
            try db.execute(sql: """
                INSERT INTO signals (id, tenant, venue, symbol, timeframe_s, side, entry, stop, targets, scale_out, quantity,
                                     confidence, high_confidence, created_at_ns, expires_at_ns, audit_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [signal.id, signal.tenant, signal.venue, signal.symbol, signal.timeframeSeconds,
                                 signal.side.rawValue, signal.entry, signal.stop, CanonicalJSON.numbers(signal.targets).text,
                                 CanonicalJSON.numbers(signal.scaleOut).text, signal.quantity, signal.confidence,
                                 signal.highConfidence, signal.createdAtNs, signal.expiresAtNs, seq])
            for (position, vote) in signal.votes.enumerated() {
                try db.execute(sql: """
                    INSERT INTO votes (signal_id, position, head, plugin, status, direction, confidence, calibrated_confidence,
                                       weight, rationale, error)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [signal.id, position, vote.head, vote.plugin, vote.status.rawValue, vote.direction.rawValue,
                                     vote.confidence, vote.calibratedConfidence, vote.weight, vote.rationale, vote.error])
            }
        }
    }

    public func record(_ outcome: PositionOutcome) throws {
        let record = AuditRecord(outcome)
        if let index = outcome.legs.firstIndex(where: { $0.signalID != outcome.signalID }) {
            throw StoreError(store: path, record: record.name,
                             message: "legs[\(index)].signal_id is '\(outcome.legs[index].signalID)', not the outcome's")
        }
        try append(record) { db, seq in
            try db.execute(sql: """
                INSERT INTO outcomes (signal_id, tenant, symbol, side, entry_ns, entry_price, quantity, final_reason,
                                      closed_at_ns, pnl, fees, mae, mfe, audit_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [outcome.signalID, outcome.tenant, outcome.symbol, outcome.side.rawValue, outcome.entryNs,
                                 outcome.entryPrice, outcome.quantity, outcome.finalReason.rawValue, outcome.closedAtNs,
                                 outcome.pnl, outcome.fees, outcome.maxAdverseExcursion, outcome.maxFavourableExcursion, seq])
            for (position, leg) in outcome.legs.enumerated() {
                try db.execute(sql: """
                    INSERT INTO trade_legs (signal_id, position, symbol, side, entry_ns, entry_price, exit_ns, exit_price,
                                            quantity, fees, pnl, reason, target)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [leg.signalID, position, leg.symbol, leg.side.rawValue, leg.entryNs, leg.entryPrice,
                                     leg.exitNs, leg.exitPrice, leg.quantity, leg.fees, leg.pnl, leg.reason.rawValue, leg.target])
            }
        }
    }

    /// Writes a record's rows (`insertRows`, given the audit seq they are
    /// logged under) and its audit row in one transaction: on any error
    /// nothing of it is kept.
    private func append(_ record: AuditRecord, insertRows: (Database, Int64) throws -> Void) throws(StoreError) {
        if let problem = record.problem { throw StoreError(store: path, record: record.name, message: problem) }
        let payload = record.content.text
        do {
            try pool.write { db in
                let head = try Row.fetchOne(db, sql: "SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
                guard let head, let lastSeq = head["last_seq"] as Int64?, let lastHash = head["last_hash"] as String? else {
                    throw StoreError(store: path, record: record.name, message: "the audit_head row is missing: the store was tampered with")
                }
                let seq = lastSeq + 1
                try insertRows(db, seq)
                let atNs = clock()
                let hash = AuditChain.hash(prevHash: lastHash, seq: seq, atNs: atNs, kind: record.kind.rawValue,
                                           subject: record.subject, payload: payload)
                try db.execute(sql: """
                    INSERT INTO audit_log (seq, at_ns, kind, subject, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)
                    """, arguments: [seq, atNs, record.kind.rawValue, record.subject, payload, lastHash, hash])
            }
        } catch let error as StoreError {
            throw error
        } catch let error as DatabaseError {
            throw StoreError(store: path, record: record.name, message: Self.reason(error, record))
        } catch {
            throw StoreError(store: path, record: record.name, message: "\(error)")
        }
    }

    /// SQLite's refusal in the record's terms.
    private static func reason(_ error: DatabaseError, _ record: AuditRecord) -> String {
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_PRIMARYKEY:
            return "it is already stored"
        case .SQLITE_CONSTRAINT_FOREIGNKEY where record.kind == .outcome:
            return "its signal is not stored (record the signal first)"
        default:
            return error.message ?? "SQLite error \(error.resultCode)"
        }
    }
}
