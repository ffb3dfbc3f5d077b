import FakeChannelServers
import Foundation
import SharedTestData
import Store
import XCTest

/// A clean stop (SIGTERM) lets the delivery in flight finish and records
/// it, so that the next start sends nothing a second time.
final class CleanStopTests: XCTestCase {
    private var folder: URL!
    private var servers: [LoopbackServer] = []
    private var hosts: [HostProcess] = []

    override func setUpWithError() throws {
        folder = try temporaryFolder("clean-stop")
    }

    override func tearDown() {
        hosts.forEach { $0.end() }
        servers.forEach { $0.stop() }
        try? FileManager.default.removeItem(at: folder)
    }

    func testAStopDuringADeliveryLetsItFinishAndTheNextStartSendsNothingTwice() throws {
        let discord = FakeDiscord()
        // Each request is held open for two seconds before it is answered.
        let server = try LoopbackServer(discord, responseDelay: 2)
        servers.append(server)
        let webhook = discord.createWebhook()
        let config = try writeHostConfig(in: folder, overrides: ["https://discord.com": server])
        _ = try demoCopy(in: folder, promptSignals)
        // Only Discord's secret: the demo's other channels run dry.
        let environment = ["DEMO_DISCORD_WEBHOOK_SIGNALS": webhook.url]
        let others = ["DEMO_TELEGRAM_BOT_TOKEN", "DEMO_X_CONSUMER_KEY", "DEMO_X_CONSUMER_SECRET", "DEMO_X_ACCESS_TOKEN",
                      "DEMO_X_ACCESS_TOKEN_SECRET", "DEMO_TELEGRAM_WEBHOOK_SECRET", "DEMO_TELEGRAM_LINK_SECRET", "DEMO_STRIPE_SIGNING_SECRET"]
        let host = try HostProcess(["run", "--config", config.path], environment: environment, removing: others, in: folder)
        hosts.append(host)
        XCTAssertTrue(eventually(timeout: 60) { server.requestCount >= 1 || !host.process.isRunning }, "no delivery started: \(host.err.suffix(3000))")
        host.send(SIGTERM)  // while the fake holds the first request open
        XCTAssertEqual(host.wait(timeout: 15), 0, "alphaplus run did not stop cleanly: \(host.err.suffix(3000))")

        let store = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: { 0 })
        let rows = try store.outboxEntries(tenant: "demo").filter { $0.destination == "discord-premium" }
        XCTAssertEqual(rows.filter { $0.state == .sending }.map(\.idempotencyKey), [], "left sending")
        XCTAssertEqual(rows.filter { $0.state == .pending && $0.attempts > 0 }.map(\.idempotencyKey), [], "interrupted: would go out again")
        let delivered = rows.filter { $0.state == .delivered }
        XCTAssertGreaterThanOrEqual(delivered.count, 1, "the delivery in flight at SIGTERM finished")
        XCTAssertEqual(discord.messages(webhookID: webhook.id).map(\.shownText).sorted(), delivered.map(\.text).sorted())

        // The next start sends what is still due, and nothing twice: every row went out at most once, in one attempt.
        let drain = try HostProcess(["outbox", "drain", "--config", config.path, "--timeout", "30"], environment: environment,
                                    removing: others, in: folder)
        hosts.append(drain)
        XCTAssertEqual(drain.wait(timeout: 60), 0, drain.out + drain.err.suffix(3000))
        let after = try store.outboxEntries(tenant: "demo").filter { $0.destination == "discord-premium" }
        for row in delivered {
            let now = try XCTUnwrap(after.first { $0.idempotencyKey == row.idempotencyKey })
            XCTAssertEqual(now.state, .delivered)
            XCTAssertEqual(now.attempts, 1, "\(row.idempotencyKey) was sent again")
        }
        let deliveredAfter = after.filter { $0.state == .delivered }
        XCTAssertTrue(deliveredAfter.allSatisfy { $0.attempts == 1 }, after.map { "\($0.idempotencyKey) \($0.state) \($0.attempts)" }.description)
        XCTAssertEqual(discord.messages(webhookID: webhook.id).count, deliveredAfter.count, "one message per delivered row, none twice")
    }
}
