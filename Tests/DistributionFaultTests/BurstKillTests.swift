import Distribution
import FakeChannelServers
import Foundation
import HostConfig
import SharedTestData
import Store
import XCTest

/// SIGKILL during a burst of 1,000 deliveries, then restarts: every
/// message arrives, and none twice except the ones in flight at the kill
/// (at most one per destination), as docs/OPERATIONS.md explains.
final class BurstKillTests: XCTestCase {
    private var folder: URL!
    private var server: LoopbackServer?
    private var hosts: [HostProcess] = []

    override func setUpWithError() throws {
        folder = try temporaryFolder("fault-burst")
    }

    override func tearDown() {
        hosts.forEach { $0.end() }
        server?.stop()
        try? FileManager.default.removeItem(at: folder)
    }

    func testKilledDrainLosesNothingAndRepeatsAtMostTheDeliveriesInFlight() throws {
        // 25 webhooks of 40 messages: Discord's 50 per second per address
        // paces the burst (each webhook alone may do 5 per 2 s), so the
        // 1,000 take about 20 s within the plugin's declared limits.
        let messageCount = 1000, webhookCount = 25
        let discord = FakeDiscord()
        let server = try LoopbackServer(discord)
        self.server = server
        let webhooks = (0..<webhookCount).map { _ in discord.createWebhook() }
        let names = (0..<webhookCount).map { String(format: "w%02d", $0) }
        let config = try writeHostConfig(in: folder, overrides: ["https://discord.com": server])
        let tenantFile = folder.appendingPathComponent("tenants/burst.yaml")
        try """
            id: burst
            instances:
              - id: discord
                plugin: com.alphaplus.channel-discord
                secrets:
            \(names.map { "      webhook_\($0): ${env:BURST_WEBHOOK_\($0.uppercased())}" }.joined(separator: "\n"))
            distribution:
              destinations:
            \(names.map { "    - { id: d-\($0), channel: discord, tier: premium, target: { webhook: \($0) } }" }.joined(separator: "\n"))
              daily_summary: { enabled: false }
            """.write(to: tenantFile, atomically: true, encoding: .utf8)
        let environment = Dictionary(uniqueKeysWithValues: zip(names, webhooks).map { ("BURST_WEBHOOK_\($0.uppercased())", $1.url) })

        // The burst, in the outbox before the host starts: message n to
        // webhook n mod 25, its number in its text.
        let tenant = try TenantConfig.load(tenantFile.path)
        let destinations = try XCTUnwrap(tenant.distribution).destinations
        let store = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: { Int64(Date().timeIntervalSince1970 * 1e9) })
        let now = Int64(Date().timeIntervalSince1970 * 1e9)
        _ = try store.registerDestinations(destinations.map {
            DestinationRegistration(tenant: "burst", id: $0.id, channel: $0.channel, tier: $0.tier, targetJSON: $0.targetJSON)
        }, atNs: now)
        let rows = (0..<messageCount).map { n in
            NewDelivery(tenant: "burst", destination: "d-\(names[n % webhookCount])", tier: "premium", kind: .signal, subject: "m\(n)",
                        text: "burst message #\(n)", payloadJSON: "{}", notBeforeNs: now - second)
        }
        XCTAssertEqual(try store.enqueue(rows, atNs: now).count, messageCount)

        let started = Date()
        let first = try HostProcess(["outbox", "drain", "--config", config.path, "--timeout", "120"], environment: environment, in: folder)
        hosts.append(first)
        let aThird = messageCount / 3
        XCTAssertTrue(eventually(timeout: 60, interval: 0.005) { discord.messages.count >= aThird || !first.process.isRunning },
                      "the fake did not get a third of the burst within 60 s")
        first.send(SIGKILL)
        XCTAssertEqual(first.wait(timeout: 10), SIGKILL)
        XCTAssertEqual(first.process.terminationReason, .uncaughtSignal, "killed, not exited: \(first.err.suffix(2000))")
        let arrivedAtKill = discord.messages.count
        XCTAssertLessThan(arrivedAtKill, messageCount, "killed during the burst, not after it")
        XCTAssertTrue(first.err.contains("endpoint override: requests to https://discord.com go to \(server.baseURL)"), first.err)

        // What the killed host left in flight, read before anything restarts.
        let inFlight = try store.outboxEntries(state: .sending)
        let inFlightPerDestination = Dictionary(grouping: inFlight, by: \.destination)
        XCTAssertTrue(inFlightPerDestination.values.allSatisfy { $0.count == 1 }, "at most one delivery in flight per destination")

        // Restarted until it exits 0 (1: its --timeout came first).
        var restarts: [HostProcess] = []
        var status: Int32?
        while status != 0, restarts.count < 3 {
            let restart = try HostProcess(["outbox", "drain", "--config", config.path, "--timeout", "60"], environment: environment, in: folder)
            hosts.append(restart)
            restarts.append(restart)
            status = restart.wait(timeout: 90)
            guard status != nil else { return XCTFail("drain did not end within 90 s: \(restart.err.suffix(3000))") }
        }
        XCTAssertEqual(status, 0, restarts.map { $0.out + $0.err.suffix(3000) }.joined(separator: "\n"))
        if !inFlight.isEmpty {
            XCTAssertTrue(restarts[0].err.contains("outbox: \(inFlight.count) deliveries were being sent when the host stopped; they are sent again"),
                          restarts[0].err.suffix(3000).description)
        }

        // Every message arrived; twice only if it was in flight at the kill.
        var arrivals: [Int: Int] = [:]
        for message in discord.messages {
            let text = message.shownText
            guard text.hasPrefix("burst message #"), let n = Int(text.dropFirst("burst message #".count)) else {
                return XCTFail("unexpected message on the fake: \(text)")
            }
            arrivals[n, default: 0] += 1
        }
        XCTAssertEqual(Set(arrivals.keys), Set(0..<messageCount), "every message arrived")
        let duplicates = arrivals.filter { $0.value > 1 }
        XCTAssertTrue(duplicates.values.allSatisfy { $0 == 2 }, "no message more than twice: \(duplicates)")
        let inFlightSubjects = Set(inFlight.map(\.subject))
        XCTAssertTrue(duplicates.keys.allSatisfy { inFlightSubjects.contains("m\($0)") },
                      "only deliveries in flight at the kill came twice: \(duplicates.keys.sorted()) vs \(inFlightSubjects.sorted())")
        let entries = try store.outboxEntries()
        XCTAssertEqual(entries.count, messageCount)
        XCTAssertEqual(entries.filter { $0.state != .delivered }.map(\.idempotencyKey), [], "every row delivered")
        // The platform confirmed each row's message: its id is the message's.
        let messageIDs = Set(discord.messages.map(\.id))
        XCTAssertTrue(entries.allSatisfy { messageIDs.contains($0.externalID) }, "every row holds the id of a message the fake accepted")

        print("""
            burst: \(messageCount) deliveries to \(webhookCount) webhooks; killed (SIGKILL) after \(arrivedAtKill) had arrived, \
            \(inFlight.count) in flight at the kill; \(restarts.count) restart(s); \(arrivals.count) distinct messages arrived, \
            \(discord.messages.count) in all, \(duplicates.count) duplicate(s); \(String(format: "%.1f", Date().timeIntervalSince(started))) s
            """)
    }
}
