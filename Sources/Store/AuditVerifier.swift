import AlphaPlusFeeds
import GRDB

/// One thing wrong with a store's audit log or with its data against the log.
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// A row's content no longer hashes to its stored hash.
        case rowEdited = "row_edited"
        /// A row's stored hash was changed (the next row still links to its content).
        case hashEdited = "hash_edited"
        /// A row's prev_hash does not link to the row before it.
        case chainBroken = "chain_broken"
        /// Rows are missing from the middle (a gap in seq).
        case rowsDeleted = "rows_deleted"
        /// Rows are missing from the end (the anchor counts more).
        case lastRowsDeleted = "last_rows_deleted"
        /// `audit_head` does not describe the log's end.
        case anchorEdited = "anchor_edited"
        /// A record's table rows differ from its audit payload.
        case recordEdited = "record_edited"
        /// A logged record is missing from its table.
        case recordDeleted = "record_deleted"
        /// A table row that no audit row logged.
        case recordUnlogged = "record_unlogged"
    }

    public var kind: Kind
    /// The audit row concerned, when there is one (the first missing one for deletions).
    public var seq: Int64?
    /// "row 17 (signal demo:…)", "rows 5-7", "audit_head", "signals row demo:…".
    public var location: String
    public var detail: String

    public var description: String { "\(location): \(detail)" }
}

/// The result of `AuditVerifier.verify()`.
public struct AuditReport: Sendable {
    /// Audit rows read.
    public var rows: Int
    /// The last row's stored hash (nil for an empty log): note it somewhere
    /// else, and a later rewrite of the whole log shows.
    public var headHash: String?
    /// Every problem found, in log order, then the data tables'.
    public var problems: [AuditProblem]

    public var isIntact: Bool { problems.isEmpty }
}

/// Checks a store's audit log end to end and its data tables against it:
/// every row's hash, the links between rows, the seq numbers, the anchor
/// (`audit_head`), and that every signal (with its votes), risk decision
/// and outcome (with its legs) still is what was logged. All on one
/// snapshot, so a verification running beside the host sees one state.
public struct AuditVerifier {
    public let store: HostStore

    public init(store: HostStore) {
        self.store = store
    }

    public func verify() throws(StoreError) -> AuditReport {
        try store.read { db in
            var chain = ChainCheck()
            let rows = try Row.fetchCursor(db, sql: "SELECT seq, at_ns, kind, subject, payload, prev_hash, hash FROM audit_log ORDER BY seq")
            while let row = try rows.next() { chain.read(row) }
            let anchor = try Row.fetchOne(db, sql: "SELECT count, last_seq, last_hash FROM audit_head WHERE id = 1")
            chain.finish(anchor: anchor)
            var problems = chain.problems
            for kind in AuditRecord.Kind.allCases {
                problems += try DataCheck(db: db, kind: kind, logged: chain.logged[kind] ?? [:], untrusted: chain.untrusted).problems()
            }
            return AuditReport(rows: chain.rowCount, headHash: chain.held?.storedHash, problems: problems)
        }
    }
}

/// Walks the log in seq order. A row's own hash problem is classified once
/// the next row (or, for the last, the anchor) is known: if what follows
/// links to the row's recomputed hash, only its hash column was edited.
private struct ChainCheck {
    struct Link {
        var seq: Int64
        var name: String
        var prevHash: String
        var storedHash: String
        var recomputedHash: String
    }

    var problems: [AuditProblem] = []
    var rowCount = 0
    /// The last row read, awaiting its classification.
    var held: Link?
    /// Rows missing in the middle of the log.
    var missingRows: Int64 = 0
    /// Each kind's logged records: seq -> subject.
    var logged: [AuditRecord.Kind: [Int64: String]] = [:]
    /// Rows whose content was edited: their payload proves nothing.
    var untrusted: Set<Int64> = []

    mutating func read(_ row: Row) {
        rowCount += 1
        let seq: Int64 = row["seq"]
        let kindText = String.fromDatabaseValue(row["kind"]) ?? ""
        let subject = String.fromDatabaseValue(row["subject"]) ?? ""
        let payload = String.fromDatabaseValue(row["payload"]) ?? ""
        let prevHash = String.fromDatabaseValue(row["prev_hash"]) ?? ""
        // A non-integer at_ns cannot have been hashed: it reads as an edit.
        let recomputedHash = Int64.fromDatabaseValue(row["at_ns"]).map {
            AuditChain.hash(prevHash: prevHash, seq: seq, atNs: $0, kind: kindText, subject: subject, payload: payload)
        } ?? ""
        let link = Link(seq: seq, name: "\(kindText) \(subject)", prevHash: prevHash,
                        storedHash: String.fromDatabaseValue(row["hash"]) ?? "", recomputedHash: recomputedHash)
        if let kind = AuditRecord.Kind(rawValue: kindText) {
            logged[kind, default: [:]][seq] = subject
        } else {
            add(.rowEdited, link, "unknown kind '\(kindText)': the row was edited")
        }

        if let previous = held {
            classify(previous, followedBy: link.seq == previous.seq + 1 ? link.prevHash : nil)
            if link.seq != previous.seq + 1 {
                missing(from: previous.seq + 1, to: link.seq - 1)
            } else if link.prevHash != previous.storedHash && link.prevHash != previous.recomputedHash {
                add(.chainBroken, link, "prev_hash does not match row \(previous.seq)'s hash: "
                    + "row \(previous.seq) was replaced with a recomputed hash, or this prev_hash was edited")
            }
        } else if link.seq != 1 {
            missing(from: 1, to: link.seq - 1)
        } else if link.prevHash != AuditChain.genesisHash {
            add(.chainBroken, link, "prev_hash of the first row is not 64 zeros: the row was edited")
        }
        held = link
    }

    /// The end: the last row against the anchor.
    mutating func finish(anchor: Row?) {
        guard let anchor, let count = Int64.fromDatabaseValue(anchor["count"]),
              let lastSeq = Int64.fromDatabaseValue(anchor["last_seq"]),
              let lastHash = String.fromDatabaseValue(anchor["last_hash"]) else {
            problems.append(AuditProblem(kind: .anchorEdited, seq: nil, location: "audit_head",
                                         detail: "the anchor row is missing or unreadable: it was edited"))
            return
        }
        let endSeq = held?.seq ?? 0
        if let last = held { classify(last, followedBy: lastSeq == last.seq ? lastHash : nil) }
        if lastSeq > endSeq {
            problems.append(AuditProblem(
                kind: .lastRowsDeleted, seq: endSeq + 1, location: endSeq + 1 == lastSeq ? "row \(lastSeq)" : "rows \(endSeq + 1)-\(lastSeq)",
                detail: "missing from the end of the log (audit_head says it ends at row \(lastSeq)): deleted"))
            return
        }
        // The anchor's hash may be the last row's stored hash or, when only
        // that hash was edited (reported above), its recomputed one.
        let linksToEnd = held.map { lastHash == $0.storedHash || lastHash == $0.recomputedHash } ?? (lastHash == AuditChain.genesisHash)
        if lastSeq != endSeq || count != Int64(rowCount) + missingRows || !linksToEnd {
            problems.append(AuditProblem(
                kind: .anchorEdited, seq: nil, location: "audit_head",
                detail: "says \(count) rows ending at row \(lastSeq) with hash \(lastHash), but the log has \(Int64(rowCount) + missingRows) "
                    + "ending at row \(endSeq): it was edited"))
        }
    }

    /// A row whose recomputed hash differs from its stored one; `followerPrevHash`
    /// is what the next row (or the anchor) says its hash is.
    private mutating func classify(_ link: Link, followedBy followerPrevHash: String?) {
        guard link.recomputedHash != link.storedHash else { return }
        if followerPrevHash == link.recomputedHash {
            add(.hashEdited, link, "hash mismatch: its hash was edited (the content still links to the next row)")
        } else {
            untrusted.insert(link.seq)
            add(.rowEdited, link, "hash mismatch: the row was edited")
        }
    }

    private mutating func missing(from first: Int64, to last: Int64) {
        missingRows += last - first + 1
        problems.append(AuditProblem(kind: .rowsDeleted, seq: first, location: first == last ? "row \(first)" : "rows \(first)-\(last)",
                                     detail: "missing from the log: deleted"))
    }

    private mutating func add(_ kind: AuditProblem.Kind, _ link: Link, _ detail: String) {
        problems.append(AuditProblem(kind: kind, seq: link.seq, location: "row \(link.seq) (\(link.name))", detail: detail))
    }
}

/// One kind's table rows against the payloads that logged them: each row is
/// rebuilt into its record, written as canonical JSON and compared byte
/// for byte.
private struct DataCheck {
    let db: Database
    let kind: AuditRecord.Kind
    /// seq -> subject of this kind's audit rows.
    let logged: [Int64: String]
    let untrusted: Set<Int64>

    var table: String {
        switch kind {
        case .riskDecision: "risk_decisions"
        case .signal: "signals"
        case .outcome: "outcomes"
        }
    }

    /// The table's row keys, for naming a row.
    var key: String { kind == .outcome ? "signal_id" : "id" }

    func problems() throws -> [AuditProblem] {
        var problems: [AuditProblem] = []
        var found: Set<Int64> = []
        let rows = try Row.fetchCursor(db, sql: "SELECT * FROM \(table) ORDER BY audit_seq")
        while let row = try rows.next() {
            let rowName = "\(table) row \(String.fromDatabaseValue(row[key]) ?? (row[key] as DatabaseValue).description)"
            guard let seq = Int64.fromDatabaseValue(row["audit_seq"]), let subject = logged[seq] else {
                problems.append(AuditProblem(kind: .recordUnlogged, seq: nil, location: rowName,
                                             detail: "no \(kind.rawValue) row of the audit log logged it (audit_seq \(row["audit_seq"] as DatabaseValue)): "
                                                + "it was written behind the log's back"))
                continue
            }
            found.insert(seq)
            if untrusted.contains(seq) { continue }
            let location = "row \(seq) (\(kind.rawValue) \(subject))"
            let payload = try String.fetchOne(db, sql: "SELECT payload FROM audit_log WHERE seq = ?", arguments: [seq]) ?? ""
            let content: CanonicalJSON
            do {
                content = try record(row)
            } catch {
                problems.append(AuditProblem(kind: .recordEdited, seq: seq, location: location,
                                             detail: "the stored \(kind.rawValue) cannot be read (\(error)): it was edited"))
                continue
            }
            if content.text != payload {
                problems.append(AuditProblem(kind: .recordEdited, seq: seq, location: location,
                                             detail: "the stored \(kind.rawValue) differs from what was logged"
                                                + " (\(Self.differingFields(content, payload))): it was edited since"))
            }
        }
        for (seq, subject) in logged.sorted(by: { $0.key < $1.key }) where !found.contains(seq) {
            problems.append(AuditProblem(kind: .recordDeleted, seq: seq, location: "row \(seq) (\(kind.rawValue) \(subject))",
                                         detail: "no longer in \(table): it was deleted"))
        }
        return problems
    }

    private func record(_ row: Row) throws -> CanonicalJSON {
        switch kind {
        case .riskDecision: try RecordRows.riskDecision(row).canonical
        case .signal: try RecordRows.signal(row, votes: RecordRows.votes(db, of: row["id"] as DatabaseValue)).canonical
        case .outcome: try RecordRows.outcome(row, legs: RecordRows.legs(db, of: row["signal_id"] as DatabaseValue)).canonical
        }
    }

    /// The top-level fields whose text differs ("entry, votes").
    static func differingFields(_ content: CanonicalJSON, _ payload: String) -> String {
        guard case .object(let members) = content, let logged = topLevelMembers(payload) else { return "payload unreadable" }
        let differing = Set(members.keys).union(logged.keys).sorted().filter { members[$0]?.text != logged[$0] }
        return "fields " + differing.joined(separator: ", ")
    }

    /// A JSON object's members as the text of each value.
    private static func topLevelMembers(_ json: String) -> [String: String]? {
        let bytes = Array(json.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            var members: [String: String] = [:]
            do {
                var fields = try scanner.beginObject()
                while let key = try scanner.nextKey(&fields) {
                    let start = scanner.offset
                    try scanner.skipValue()
                    members[String(decoding: key, as: UTF8.self)] = String(decoding: buffer[start..<scanner.offset], as: UTF8.self)
                }
            } catch {
                return nil
            }
            return members
        }
    }
}
