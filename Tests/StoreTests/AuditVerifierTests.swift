import Crypto
import Foundation
import GRDB
import Store
import Trading
import XCTest

/// The audit chain as docs/OPERATIONS.md documents it, and each way of
/// tampering with a store that the verifier must name. The tampering runs
/// as an attacker with file access would: the append-only triggers dropped
/// first.
final class AuditVerifierTests: XCTestCase {
    let first = Sample.signal(minute: 1), second = Sample.signal(minute: 2)

    func testAnUntouchedStoreVerifiesCleanWithItsHead() throws {
        let empty = try AuditVerifier(store: try makeStore(self)).verify()
        XCTAssertEqual(empty.rows, 0)
        XCTAssertNil(empty.headHash)
        XCTAssertTrue(empty.isIntact)

        let store = try makeStore(self)
        _ = try Sample.history(into: store)
        let report = try AuditVerifier(store: store).verify()
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.rows, 6)
        let last = try rawConnection(store).read { try String.fetchOne($0, sql: "SELECT hash FROM audit_log WHERE seq = 6") }
        XCTAssertEqual(report.headHash, last)
    }

    func testPayloadsAreCanonicalJSONAndHashesChainAsDocumented() throws {
        let store = try makeStore(self)
        _ = try Sample.history(into: store)
        let rows = try rawConnection(store).read { try Row.fetchAll($0, sql: "SELECT * FROM audit_log ORDER BY seq") }
        XCTAssertEqual(rows.map { $0["kind"] as String }, ["risk_decision", "signal", "risk_decision", "risk_decision", "signal", "outcome"])
        XCTAssertEqual(rows[0]["subject"] as String, first.id)
        XCTAssertEqual(rows[0]["payload"] as String, """
            {"accepted":true,"at_ns":1700000060000000017,"confidence":0.7123456789012345,"detail":"kelly 0.031, size 0.0001234",\
            "rejection":null,"side":"short","signal_id":"demo:binance:BTC-USDT:60:1700000060000","symbol":"BTC-USDT",\
            "tenant":"demo","timeframe_s":60,"venue":"binance"}
            """)
        let vote = try XCTUnwrap((rows[1]["payload"] as String).firstRange(of: #"{"calibrated_confidence""#))
        XCTAssertTrue((rows[1]["payload"] as String)[vote.lowerBound...].hasPrefix("""
            {"calibrated_confidence":0.75,"confidence":0.8,"direction":"long","error":"",\
            "head":"technical","plugin":"com.alphaplus.example.momentum-swift",\
            "rationale":"ema 12 > ema 26, \\"quoted\\"\\u000anext line","status":"ok","weight":2}
            """), rows[1]["payload"] as String)
        XCTAssertTrue((rows[1]["payload"] as String).contains(#""stop":0.30000000000000004,"symbol":"BTC-USDT","targets":[65100.5,1e-300,5e-324]"#))

        var previous = String(repeating: "0", count: 64)
        for row in rows {
            let input = "\(previous)\n\(row["seq"] as Int64)\n\(row["at_ns"] as Int64)\n\(row["kind"] as String)\n"
                + "\(row["subject"] as String)\n\(row["payload"] as String)"
            let expected = sha256Hex(input)
            XCTAssertEqual(row["prev_hash"] as String, previous)
            XCTAssertEqual(row["hash"] as String, expected)
            previous = expected
        }
        XCTAssertEqual(try rawConnection(store).read { try Row.fetchOne($0, sql: "SELECT count, last_seq, last_hash FROM audit_head") },
                       ["count": 6, "last_seq": 6, "last_hash": previous])
    }

    func testAnEditedPayloadIsARowEdit() throws {
        let problems = try problems(after: #"UPDATE audit_log SET payload = replace(payload, '"side":"short"', '"side":"long"') WHERE seq = 2"#)
        XCTAssertEqual(problems.map(\.description), ["row 2 (signal \(first.id)): hash mismatch: the row was edited"])
        XCTAssertEqual(problems.map(\.kind), [.rowEdited])
    }

    func testAnEditedHashIsNamedAsSuch() throws {
        let problems = try problems(after: "UPDATE audit_log SET hash = '\(String(repeating: "f", count: 64))' WHERE seq IN (4, 6)")
        XCTAssertEqual(problems.map(\.kind), [.hashEdited, .hashEdited])
        XCTAssertEqual(problems.map(\.location), ["row 4 (risk_decision \(second.id))", "row 6 (outcome \(first.id))"])
        XCTAssertTrue(problems[0].detail.hasPrefix("hash mismatch: its hash was edited"), problems[0].detail)
    }

    func testARowReplacedWithARecomputedHashBreaksTheNextLink() throws {
        let store = try makeStore(self)
        _ = try Sample.history(into: store)
        try rawConnection(store).write { db in
            try dropAuditTriggers(db)
            let row = try XCTUnwrap(try Row.fetchOne(db, sql: "SELECT * FROM audit_log WHERE seq = 2"))
            let payload = (row["payload"] as String).replacingOccurrences(of: #""side":"short""#, with: #""side":"long""#)
            let input = "\(row["prev_hash"] as String)\n2\n\(row["at_ns"] as Int64)\nsignal\n\(first.id)\n\(payload)"
            try db.execute(sql: "UPDATE audit_log SET payload = ?, hash = ? WHERE seq = 2", arguments: [payload, sha256Hex(input)])
        }
        let problems = try AuditVerifier(store: store).verify().problems
        XCTAssertEqual(problems.map(\.kind), [.chainBroken, .recordEdited])
        XCTAssertEqual(problems.map(\.seq), [3, 2])
        XCTAssertTrue(problems[1].description.hasSuffix("the stored signal differs from what was logged (fields side): it was edited since"),
                      problems[1].description)
    }

    func testADeletedMiddleRowIsAGap() throws {
        let problems = try problems(after: "DELETE FROM audit_log WHERE seq = 3")
        XCTAssertEqual(problems.map(\.description), [
            "row 3: missing from the log: deleted",
            "risk_decisions row 2: no risk_decision row of the audit log logged it (audit_seq 3): it was written behind the log's back",
        ])
    }

    func testDeletedLastRowsShowAgainstTheAnchor() throws {
        let problems = try problems(after: "DELETE FROM audit_log WHERE seq >= 5")
        XCTAssertEqual(problems.map(\.kind), [.lastRowsDeleted, .recordUnlogged, .recordUnlogged])
        XCTAssertEqual(problems[0].description, "rows 5-6: missing from the end of the log (audit_head says it ends at row 6): deleted")
        XCTAssertEqual(problems[1].location, "signals row \(second.id)")
        XCTAssertEqual(problems[2].location, "outcomes row \(first.id)")
    }

    func testAnEditedSignalRowIsNamedWithItsField() throws {
        let problems = try problems(after: "UPDATE signals SET entry = entry + 1 WHERE id = '\(first.id)'")
        XCTAssertEqual(problems.map(\.description), [
            "row 2 (signal \(first.id)): the stored signal differs from what was logged (fields entry): it was edited since",
        ])
    }

    func testADeletedVoteRowShowsInItsSignal() throws {
        let problems = try problems(after: "DELETE FROM votes WHERE signal_id = '\(second.id)' AND position = 1")
        XCTAssertEqual(problems.map(\.description), [
            "row 5 (signal \(second.id)): the stored signal differs from what was logged (fields votes): it was edited since",
        ])
    }

    func testAnEditedOutcomeAndLegAreNamed() throws {
        let problems = try problems(after: "UPDATE outcomes SET pnl = 1000",
                                    "UPDATE trade_legs SET exit_price = exit_price * 2 WHERE position = 0")
        XCTAssertEqual(problems.map(\.description), [
            "row 6 (outcome \(first.id)): the stored outcome differs from what was logged (fields legs, pnl): it was edited since",
        ])
    }

    func testADeletedRecordAndAnUnreadableColumnAreNamed() throws {
        let problems = try problems(after: "DELETE FROM risk_decisions WHERE id = 1", "UPDATE signals SET side = 'sideways' WHERE id = '\(second.id)'")
        XCTAssertEqual(problems.map(\.description), [
            "row 1 (risk_decision \(first.id)): no longer in risk_decisions: it was deleted",
            "row 5 (signal \(second.id)): the stored signal cannot be read (signals row \(second.id): column side holds \"sideways\", "
                + "not one of long, short): it was edited",
        ])
    }

    func testEveryProblemIsListedNotJustTheFirst() throws {
        let problems = try problems(after:
            #"UPDATE audit_log SET payload = replace(payload, '"side":"short"', '"side":"long"') WHERE seq = 2"#,
            "DELETE FROM audit_log WHERE seq = 6",
            "DELETE FROM votes WHERE signal_id = '\(second.id)' AND position = 0",
            "UPDATE risk_decisions SET confidence = 0.99 WHERE id = 3")
        XCTAssertEqual(problems.map(\.kind), [.rowEdited, .lastRowsDeleted, .recordEdited, .recordEdited, .recordUnlogged])
        XCTAssertEqual(problems.map(\.seq), [2, 6, 4, 5, nil])
    }

    /// The hash as the documentation defines it, computed independently of the store.
    private func sha256Hex(_ input: String) -> String {
        SHA256.hash(data: Array(input.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// The problems the verifier finds after `statements` ran on a store
    /// holding `Sample.history`.
    private func problems(after statements: String...) throws -> [AuditProblem] {
        let store = try makeStore(self)
        _ = try Sample.history(into: store)
        XCTAssertTrue(try AuditVerifier(store: store).verify().isIntact)
        try rawConnection(store).write { db in
            try dropAuditTriggers(db)
            for sql in statements { try db.execute(sql: sql) }
        }
        return try AuditVerifier(store: store).verify().problems
    }
}
