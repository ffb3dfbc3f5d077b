import Foundation
import GRDB
import Store
import Trading
import XCTest

final class HostStoreTests: XCTestCase {
    func testOpensInWALWithNormalSyncForeignKeysAndABusyTimeout() throws {
        let store = try makeStore(self)
        let settings = try store.settings()
        XCTAssertEqual(settings.journalMode, "wal")
        XCTAssertEqual(settings.synchronous, 1, "NORMAL")
        XCTAssertTrue(settings.foreignKeys)
        XCTAssertEqual(settings.busyTimeoutMs, 5000)
        // WAL is a property of the file: any other connection sees it.
        let mode = try rawConnection(store).read { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        XCTAssertEqual(mode, "wal")
    }

    func testMigratesOnceAndReopeningChangesNothing() throws {
        let store = try makeStore(self)
        XCTAssertEqual(try store.settings().migrations, ["v1", "v2", "v3", "v4"])
        XCTAssertEqual(try store.settings().schemaVersion, HostStore.schemaVersion)
        let (first, _) = try Sample.history(into: store)
        let schema = { try rawConnection(store).read { try String.fetchAll($0, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name") } }
        let before = try schema()

        let reopened = try HostStore(path: store.path, clock: { 0 })
        XCTAssertEqual(try reopened.settings().migrations, ["v1", "v2", "v3", "v4"])
        XCTAssertEqual(try rawConnection(store).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM grdb_migrations") }, 4)
        XCTAssertEqual(try schema(), before)
        XCTAssertEqual(try reopened.signal(id: first.id), first)
    }

    func testRefusesAStoreWrittenByANewerBuild() throws {
        let store = try makeStore(self)
        try rawConnection(store).write { try $0.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('v5')") }
        XCTAssertThrowsError(try HostStore(path: store.path, clock: { 0 })) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(store.path), text)
            XCTAssertTrue(text.contains("(v5)") && text.contains("newer alphaplus"), text)
        }
    }

    func testRefusesAFileThatIsNotADatabase() throws {
        let path = NSTemporaryDirectory() + "not-a-store-\(UUID().uuidString).sqlite"
        try "plain text, not SQLite".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        XCTAssertThrowsError(try HostStore(path: path, clock: { 0 })) { error in
            XCTAssertTrue("\(error)".hasPrefix("\(path): cannot open:"), "\(error)")
        }
    }

    func testEveryRecordReadsBackExactly() throws {
        let store = try makeStore(self)
        let (first, second) = try Sample.history(into: store)

        for signal in [first, second] {
            let stored = try XCTUnwrap(try store.signal(id: signal.id))
            XCTAssertEqual(stored, signal)
            // Equal as doubles is not enough: the same bits.
            XCTAssertEqual(stored.entry.bitPattern, signal.entry.bitPattern)
            XCTAssertEqual(stored.stop.bitPattern, (0.1 + 0.2).bitPattern)
            XCTAssertEqual(stored.targets.map(\.bitPattern), signal.targets.map(\.bitPattern))
            XCTAssertEqual(stored.confidence.bitPattern, signal.confidence.bitPattern)
            XCTAssertEqual(stored.votes.map(\.calibratedConfidence.bitPattern), signal.votes.map(\.calibratedConfidence.bitPattern))
        }
        let outcome = try XCTUnwrap(try store.outcome(signalID: first.id))
        XCTAssertEqual(outcome, Sample.outcome(for: first))
        XCTAssertEqual(outcome.legs.map(\.pnl.bitPattern), Sample.outcome(for: first).legs.map(\.pnl.bitPattern))
        XCTAssertNil(try store.outcome(signalID: second.id), "still open")
        XCTAssertNil(try store.signal(id: "demo:nope"))

        let decisions = try store.riskDecisions().items
        XCTAssertEqual(decisions, [Sample.decision(for: second),
                                   Sample.decision(for: Sample.signal(minute: 2, symbol: "ETH-USDT"), rejection: .maxOpenPositions),
                                   Sample.decision(for: first)])
        XCTAssertTrue(try AuditVerifier(store: store).verify().isIntact)
    }

    func testNegativeZeroReadsBackAsZeroAndVerifiesClean() throws {
        let store = try makeStore(self)
        var signal = Sample.signal(minute: 1)
        signal.votes[1].confidence = -0.0
        try store.record(signal)
        XCTAssertEqual(try store.signal(id: signal.id)?.votes[1].confidence, 0)
        XCTAssertTrue(try AuditVerifier(store: store).verify().isIntact)
    }

    func testPagesAreNewestFirstPerTenantAndCoverEverythingOnce() throws {
        let store = try makeStore(self)
        for minute in 0..<7 { try store.record(Sample.signal(minute: minute)) }
        for minute in 0..<2 { try store.record(Sample.signal(tenant: "other", minute: minute)) }
        // Two signals at the same time: the id breaks the tie.
        try store.record(Sample.signal(minute: 3, symbol: "ETH-USDT"))

        var ids: [String] = [], cursor: TimeCursor?, pages = 0
        repeat {
            let page = try store.signals(tenant: "demo", limit: 3, before: cursor)
            XCTAssertLessThanOrEqual(page.items.count, 3)
            ids += page.items.map(\.id)
            XCTAssertTrue(page.items.allSatisfy { $0.votes.count == 3 })
            cursor = page.next
            pages += 1
        } while cursor != nil && pages < 10
        let expected = ((0..<7).map { Sample.signal(minute: $0) } + [Sample.signal(minute: 3, symbol: "ETH-USDT")])
            .sorted { ($0.createdAtNs, $0.id) > ($1.createdAtNs, $1.id) }.map(\.id)
        XCTAssertEqual(ids, expected)
        XCTAssertEqual(pages, 3)
        XCTAssertEqual(try store.signals(tenant: "other").items.map(\.tenant), ["other", "other"])
        XCTAssertEqual(try store.signals(tenant: "nobody").items, [])
        XCTAssertThrowsError(try store.signals(tenant: "demo", limit: 0)) {
            XCTAssertEqual("\($0)", "\(store.path): a page's limit must be at least 1, not 0")
        }

        for minute in 0..<5 { try store.record(Sample.decision(for: Sample.signal(minute: minute), rejection: minute == 4 ? .cooldown : nil)) }
        try store.record(Sample.decision(for: Sample.signal(tenant: "other", minute: 9)))
        let firstPage = try store.riskDecisions(tenant: "demo", limit: 3)
        XCTAssertEqual(firstPage.items.map(\.signalID), [4, 3, 2].map { Sample.signal(minute: $0).id })
        let secondPage = try store.riskDecisions(tenant: "demo", limit: 3, before: firstPage.next)
        XCTAssertEqual(secondPage.items.map(\.signalID), [1, 0].map { Sample.signal(minute: $0).id })
        XCTAssertNil(secondPage.next)
        XCTAssertEqual(try store.riskDecisions(limit: 1).items.map(\.tenant), ["other"], "all tenants, newest first")

        for minute in [0, 2, 1] { try store.record(Sample.outcome(for: Sample.signal(minute: minute))) }
        let outcomes = try store.outcomes(tenant: "demo", limit: 2)
        XCTAssertEqual(outcomes.items.map(\.signalID), [2, 1].map { Sample.signal(minute: $0).id })
        XCTAssertEqual(try store.outcomes(tenant: "demo", limit: 2, before: outcomes.next).items.map(\.signalID), [Sample.signal(minute: 0).id])

        XCTAssertEqual(try store.countsByTenant(), [
            TenantCounts(tenant: "demo", signals: 8, riskDecisions: 5, rejections: 1, outcomes: 3),
            TenantCounts(tenant: "other", signals: 2, riskDecisions: 1, rejections: 0, outcomes: 0),
        ])
    }

    func testAuditLogRefusesUpdateAndDeleteFromPlainSQL() throws {
        let store = try makeStore(self)
        _ = try Sample.history(into: store)
        let database = try rawConnection(store)
        for sql in ["UPDATE audit_log SET payload = '{}' WHERE seq = 2", "DELETE FROM audit_log WHERE seq = 6"] {
            XCTAssertThrowsError(try database.write { try $0.execute(sql: sql) }, sql) { error in
                XCTAssertTrue((error as? DatabaseError)?.message?.contains("audit_log is append-only") == true, "\(error)")
            }
        }
        XCTAssertEqual(try database.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM audit_log") }, 6)
        XCTAssertTrue(try AuditVerifier(store: store).verify().isIntact)
    }

    func testAFailedWriteNamesTheRecordAndLeavesNothingBehind() throws {
        let store = try makeStore(self)
        let signal = Sample.signal(minute: 1)
        let rowCounts = {
            try rawConnection(store).read { db in
                try ["signals", "votes", "risk_decisions", "outcomes", "trade_legs", "audit_log"].map {
                    try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)")!
                }
            }
        }

        // An outcome whose signal was never stored: refused by the foreign key.
        assertRefused(try store.record(Sample.outcome(for: signal)), "\(store.path): cannot record outcome \(signal.id): its signal is not stored")
        XCTAssertEqual(try rowCounts(), [0, 0, 0, 0, 0, 0])

        // A failure after the signal and votes rows were inserted (the audit
        // row is refused): the transaction takes them back.
        try rawConnection(store).write {
            try $0.execute(sql: "CREATE TRIGGER disk_full BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        }
        assertRefused(try store.record(signal), "\(store.path): cannot record signal \(signal.id): disk full")
        XCTAssertEqual(try rowCounts(), [0, 0, 0, 0, 0, 0])
        try rawConnection(store).write { try $0.execute(sql: "DROP TRIGGER disk_full") }

        try store.record(signal)
        let stored = try rowCounts()
        XCTAssertEqual(stored, [1, 3, 0, 0, 0, 1])
        assertRefused(try store.record(signal), "cannot record signal \(signal.id): it is already stored")

        var unfinished = signal
        unfinished.id += "-nan"
        unfinished.votes[1].calibratedConfidence = .nan
        assertRefused(try store.record(unfinished), "cannot record signal \(unfinished.id): votes[1].calibrated_confidence is not a finite number")
        var badLeg = Sample.outcome(for: signal)
        badLeg.legs[1].signalID = "demo:other"
        assertRefused(try store.record(badLeg), "cannot record outcome \(signal.id): legs[1].signal_id is 'demo:other', not the outcome's")
        var controlID = Sample.decision(for: signal)
        controlID.signalID = "demo:\nforged"
        assertRefused(try store.record(controlID), "the id contains a control character")
        XCTAssertEqual(try rowCounts(), stored)
        XCTAssertTrue(try AuditVerifier(store: store).verify().isIntact)
    }

    func testReadersSeeConsistentSnapshotsWhileAWriterWrites() throws {
        let store = try makeStore(self)
        let signals = 150
        let writerDone = DispatchSemaphore(value: 0)
        let failures = Failures()
        DispatchQueue.global().async {
            defer { writerDone.signal() }
            do {
                for minute in 0..<signals {
                    let signal = Sample.signal(minute: minute)
                    try store.record(Sample.decision(for: signal))
                    try store.record(signal)
                }
            } catch { failures.add("writer: \(error)") }
        }
        // Each reader's snapshot holds whole records only: the log and the
        // tables agree, and the row count never goes back.
        DispatchQueue.concurrentPerform(iterations: 2) { reader in
            var lastRows = 0, reads = 0
            repeat {
                do {
                    let report = try AuditVerifier(store: store).verify()
                    if !report.isIntact { failures.add("reader \(reader): \(report.problems)") }
                    if report.rows < lastRows { failures.add("reader \(reader): \(report.rows) rows after \(lastRows)") }
                    lastRows = report.rows
                    _ = try store.signals(tenant: "demo", limit: 5)
                    reads += 1
                } catch { failures.add("reader \(reader): \(error)") }
            } while lastRows < 2 * signals && failures.isEmpty
            if reads == 0 { failures.add("reader \(reader) never read") }
        }
        writerDone.wait()
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(try store.countsByTenant().first?.signals, signals)
    }

    func testAWriteGoesThroughWhileAReaderHoldsItsSnapshot() throws {
        let store = try makeStore(self)
        try store.record(Sample.signal(minute: 0))
        // Under a rollback journal this write would wait for the reader and
        // fail after the busy timeout; under WAL it commits at once and the
        // reader keeps its snapshot.
        try rawConnection(store).read { db in
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM signals"), 1)
            try store.record(Sample.signal(minute: 1))
            XCTAssertEqual(try Int.fetchOne(db, sql: "SELECT count(*) FROM signals"), 1)
        }
        XCTAssertEqual(try store.countsByTenant().first?.signals, 2)
    }

    private func assertRefused(_ write: @autoclosure () throws -> Void, _ message: String, line: UInt = #line) {
        XCTAssertThrowsError(try write(), line: line) { error in
            XCTAssertTrue(error is StoreError, "\(error)", line: line)
            XCTAssertTrue("\(error)".contains(message), "\(error)", line: line)
        }
    }
}

/// Problems collected across threads.
final class Failures: @unchecked Sendable {
    private let lock = NSLock()
    private var list: [String] = []

    func add(_ failure: String) { lock.withLock { list.append(failure) } }
    var all: [String] { lock.withLock { list } }
    var isEmpty: Bool { all.isEmpty }
}
