import Distribution
import Foundation
import SharedTestData
import Store
import XCTest

/// The outbox commands, run as the operator runs them.
final class OutboxCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("outbox-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("plugins"), withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private var storePath: String { folder.appendingPathComponent("store.sqlite").path }

    private func delivery(_ destination: String, _ subject: String, notBeforeNs: Int64, tier: String = "premium") -> NewDelivery {
        NewDelivery(tenant: "acme", destination: destination, tier: tier, kind: .signal, subject: subject, text: "LONG BTC-USDT\nEntry 1",
                    payloadJSON: "{}", notBeforeNs: notBeforeNs)
    }

    /// A store with a delivered, a dead, a pending row and a disabled destination.
    private func preparedStore() throws -> HostStore {
        let store = try HostStore(path: storePath, clock: { t0 })
        _ = try store.registerDestinations([
            DestinationRegistration(tenant: "acme", id: "vip", channel: "tg", tier: "premium", targetJSON: #"{"chat_id":1}"#),
            DestinationRegistration(tenant: "acme", id: "hook", channel: "discord", tier: "premium", targetJSON: #"{"webhook":"w"}"#),
        ], atNs: t0)
        let rows = try store.enqueue([delivery("vip", "s1", notBeforeNs: t0), delivery("vip", "s2", notBeforeNs: t0),
                                      delivery("vip", "s3", notBeforeNs: t0 + second), delivery("hook", "s1", notBeforeNs: t0),
                                      delivery("hook", "s2", notBeforeNs: t0)], atNs: t0)
        XCTAssertTrue(try store.markSending(id: rows[0].id, attempt: 1, atNs: t0))
        _ = try store.complete(id: rows[0].id, .delivered(externalID: "m1"), updatedTargetJSON: nil, atNs: t0)
        XCTAssertTrue(try store.markSending(id: rows[1].id, attempt: 1, atNs: t0))
        _ = try store.complete(id: rows[1].id, .dead(reason: "400: message is too long"), updatedTargetJSON: nil, atNs: t0)
        XCTAssertTrue(try store.markSending(id: rows[3].id, attempt: 1, atNs: t0))
        _ = try store.complete(id: rows[3].id, .destinationGone(reason: "404 Unknown Webhook", alerts: []), updatedTargetJSON: nil, atNs: t0)
        return store
    }

    func testStatusDeadRetryAndEnable() throws {
        let store = try preparedStore()
        let status = try AlphaPlusCLI.run(["outbox", "status", "--store", storePath])
        XCTAssertEqual(status.status, 0, status.err)
        XCTAssertEqual(status.out, """
            acme/hook (channel discord, tier premium): pending 1, dead 1; oldest pending due 2026-11-21T08:00:00.000Z; DISABLED since 2026-11-21T08:00:00.000Z: 404 Unknown Webhook
            acme/vip (channel tg, tier premium): pending 1, delivered 1, dead 1; oldest pending due 2026-11-21T08:00:01.000Z

            """)
        let other = try AlphaPlusCLI.run(["outbox", "status", "--store", storePath, "--tenant", "nobody"])
        XCTAssertEqual(other.out, "outbox: no destinations for tenant nobody\n")

        let dead = try AlphaPlusCLI.run(["outbox", "dead", "--store", storePath])
        XCTAssertEqual(dead.status, 0, dead.err)
        XCTAssertEqual(dead.out, """
            2 acme/vip signal s2: 1 attempt, dead since 2026-11-21T08:00:00.000Z: 400: message is too long
            4 acme/hook signal s1: 1 attempt, dead since 2026-11-21T08:00:00.000Z: 404 Unknown Webhook
            2 dead letters

            """)

        let notDead = try AlphaPlusCLI.run(["outbox", "retry", "1", "--store", storePath])
        XCTAssertNotEqual(notDead.status, 0)
        XCTAssertTrue(notDead.err.contains("outbox row 1 is delivered, not dead: only dead letters are retried"), notDead.err)
        let neither = try AlphaPlusCLI.run(["outbox", "retry", "--store", storePath])
        XCTAssertNotEqual(neither.status, 0)
        XCTAssertTrue(neither.err.contains("give a dead letter's id or --all-dead"), neither.err)
        let one = try AlphaPlusCLI.run(["outbox", "retry", "2", "--store", storePath])
        XCTAssertEqual(one.out, "dead letter 2 is pending again\n", one.err)
        let revived = try XCTUnwrap(store.outboxEntries(state: .pending).first { $0.id == 2 })
        XCTAssertEqual(revived.attempts, 0)
        let all = try AlphaPlusCLI.run(["outbox", "retry", "--all-dead", "--store", storePath])
        XCTAssertEqual(all.out, "1 dead letter is pending again\n", all.err)
        XCTAssertEqual(try store.outboxEntries(state: .dead), [])

        let unknown = try AlphaPlusCLI.run(["outbox", "enable", "acme", "hooks", "--store", storePath])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.err.contains("tenant acme has no destination 'hooks' in the outbox (it has hook, vip)"), unknown.err)
        let enabled = try AlphaPlusCLI.run(["outbox", "enable", "acme", "hook", "--store", storePath])
        XCTAssertEqual(enabled.out, "destination acme/hook is enabled\n", enabled.err)
        XCTAssertTrue(try store.outboxDestinations().allSatisfy(\.enabled))
        let again = try AlphaPlusCLI.run(["outbox", "enable", "acme", "hook", "--store", storePath])
        XCTAssertEqual(again.out, "destination acme/hook was enabled already\n")

        let missing = try AlphaPlusCLI.run(["outbox", "status", "--store", folder.appendingPathComponent("none.sqlite").path])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("no store at"), missing.err)
    }

    func testDrainShowsDryRunsAndReportsWhatIsLeft() throws {
        let config = folder.appendingPathComponent("alphaplus.yaml")
        try """
            plugins: { folders: [plugins] }
            tenants_folder: tenants
            store: { path: store.sqlite }
            log_level: notice
            """.write(to: config, atomically: true, encoding: .utf8)
        setenv("OUTBOX_CLI_TEST_SET", "a-value", 1)
        unsetenv("OUTBOX_CLI_TEST_UNSET")
        try """
            id: acme
            instances:
              - id: tg
                plugin: com.alphaplus.channel-telegram
                dry_run_without_secrets: true
                secrets: { bot_token: "${env:OUTBOX_CLI_TEST_UNSET}" }
              - id: missing
                plugin: com.example.missing
                secrets: { key: "${env:OUTBOX_CLI_TEST_SET}" }
            distribution:
              destinations:
                - { id: vip, channel: tg, tier: premium, target: { chat_id: 1 } }
                - { id: pub, channel: tg, tier: free, target: { chat_id: 2 } }
                - { id: other, channel: missing, tier: premium, target: {} }
              daily_summary: { enabled: false }
            """.write(to: folder.appendingPathComponent("tenants/acme.yaml"), atomically: true, encoding: .utf8)
        let store = try HostStore(path: storePath, clock: { t0 })
        _ = try store.registerDestinations([
            DestinationRegistration(tenant: "acme", id: "vip", channel: "tg", tier: "premium", targetJSON: #"{"chat_id":1}"#),
            DestinationRegistration(tenant: "acme", id: "pub", channel: "tg", tier: "free", targetJSON: #"{"chat_id":2}"#),
            DestinationRegistration(tenant: "acme", id: "other", channel: "missing", tier: "premium", targetJSON: "{}"),
        ], atNs: t0)
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        _ = try store.enqueue([delivery("vip", "s1", notBeforeNs: now - second), delivery("vip", "s2", notBeforeNs: now - second),
                               delivery("pub", "s1", notBeforeNs: now + 300 * second, tier: "free"),
                               delivery("other", "s1", notBeforeNs: now - second)], atNs: now)

        let drain = try AlphaPlusCLI.run(["outbox", "drain", "--config", config.path, "--timeout", "20"])
        XCTAssertEqual(drain.status, 0, drain.err)
        let lines = drain.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 3, drain.out)
        XCTAssertEqual(lines[0], "outbox drain: 0 delivered, 0 dead letters, 2 dry run")
        XCTAssertTrue(lines[1].hasPrefix("not due yet: 1 (the earliest at "), lines[1])
        XCTAssertEqual(lines[2], "held: 1 (channel acme/missing is not running: no loaded plugin 'com.example.missing')")
        XCTAssertTrue(drain.err.contains("would deliver: tenant acme, destination vip, channel tg, tier premium, signal: LONG BTC-USDT"), drain.err)
        XCTAssertTrue(drain.err.contains("secret 'bot_token' is not set (${env:OUTBOX_CLI_TEST_UNSET} is unset or empty)"), drain.err)
        XCTAssertFalse(drain.err.contains("a-value"), "a secret's value is never logged")
        XCTAssertEqual(try store.outboxEntries(state: .dryRun).map(\.subject), ["s1", "s2"])
        XCTAssertEqual(try store.outboxEntries(state: .pending).map(\.destination), ["pub", "other"])
    }
}
