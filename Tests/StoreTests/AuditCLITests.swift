import Foundation
import GRDB
import SharedTestData
import Store
import XCTest

/// `alphaplus audit verify` as an operator runs it.
final class AuditCLITests: XCTestCase {
    func testACleanStoreVerifiesWithItsHeadAndExitsZero() throws {
        let store = try makeStore(self)
        _ = try Sample.history(into: store)
        let head = try XCTUnwrap(try AuditVerifier(store: store).verify().headHash)

        let result = try AlphaPlusCLI.run(["audit", "verify", "--store", store.path])
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertEqual(result.out, "audit log: 6 rows, chain intact, head \(head)\n")
    }

    func testATamperedStoreListsEveryProblemAndExitsOne() throws {
        let store = try makeStore(self)
        let (first, _) = try Sample.history(into: store)
        try rawConnection(store).write { db in
            try dropAuditTriggers(db)
            try db.execute(sql: "UPDATE audit_log SET payload = replace(payload, '\"side\":\"short\"', '\"side\":\"long\"') WHERE seq = 2")
            try db.execute(sql: "UPDATE outcomes SET pnl = 1000")
        }
        let result = try AlphaPlusCLI.run(["audit", "verify", "--store", store.path])
        XCTAssertEqual(result.status, 1, result.err)
        XCTAssertEqual(result.out.split(separator: "\n"), [
            "row 2 (signal \(first.id)): hash mismatch: the row was edited",
            "row 6 (outcome \(first.id)): the stored outcome differs from what was logged (fields pnl): it was edited since",
            "audit log: 6 rows, 2 problems",
        ])
    }

    func testTheStoreComesFromTheConfigurationRelativeToIt() throws {
        let folder = NSTemporaryDirectory() + "alphaplus-config-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder + "/config", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "store:\n  path: ../state/signals.sqlite\n".write(toFile: folder + "/config/alphaplus.yaml", atomically: true, encoding: .utf8)

        let missing = try AlphaPlusCLI.run(["audit", "verify"], in: folder)
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("no store at \(folder)/state/signals.sqlite"), missing.err)

        let store = try HostStore(path: folder + "/state/signals.sqlite", clock: { 42 })
        try store.record(Sample.signal(minute: 0))
        let result = try AlphaPlusCLI.run(["audit", "verify", "--config", "config/alphaplus.yaml"], in: folder)
        XCTAssertEqual(result.status, 0, result.err)
        XCTAssertTrue(result.out.hasPrefix("audit log: 1 row, chain intact, head "), result.out)

        try "store:\n  paht: x.sqlite\n".write(toFile: folder + "/config/alphaplus.yaml", atomically: true, encoding: .utf8)
        let misspelt = try AlphaPlusCLI.run(["audit", "verify"], in: folder)
        XCTAssertNotEqual(misspelt.status, 0)
        XCTAssertTrue(misspelt.err.contains("config/alphaplus.yaml:2:3: unknown key 'paht' (did you mean 'path'?)"), misspelt.err)
    }
}
