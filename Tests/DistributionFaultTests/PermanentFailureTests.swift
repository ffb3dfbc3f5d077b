import AlphaPlusJSON
import AlphaPlusSDK
import Distribution
import FakeChannelServers
import Foundation
import SharedTestData
import Store
import XCTest

/// Destinations failing for good beside healthy ones, over real HTTP: the
/// failures are dead letters with the platform's reason, a deleted Discord
/// webhook disables its destination with an alert, and every other
/// delivery goes out exactly when its own limits allow.
final class PermanentFailureTests: XCTestCase {
    private var servers: [LoopbackServer] = []
    private var host: InProcessHost?

    override func tearDown() {
        host?.close()
        servers.forEach { $0.stop() }
    }

    /// Telegram's answer to markup it cannot parse. The plugin escapes
    /// every text exactly (cross-checked with python-telegram-bot), so
    /// nothing it sends provokes it: this stand-in answers it for the
    /// messages that say "unparsable" and hands the rest to the fake.
    private static func refusingUnparsable(_ telegram: FakeTelegram) -> ScriptedPlatform {
        ScriptedPlatform { request in
            guard case .string(let text)? = (try? JSONValue(parsing: request.body))?["text"], text.contains("unparsable") else {
                return telegram.handle(request)
            }
            let body = #"{"ok":false,"error_code":400,"description":"Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 8"}"#
            return HTTPResponse(status: 400, headers: [HTTPHeader("Content-Type", "application/json")], body: Array(body.utf8))
        }
    }

    func testDeletedWebhookAndRefusedMessageAreDeadWhileOthersGoOutOnTime() throws {
        let fakeClock = FakeClock(manualSeconds: Double(t0) / 1e9)
        let t0Seconds = Double(t0) / 1e9
        let discord = FakeDiscord(clock: fakeClock)
        let telegram = FakeTelegram(token: "7300000002:AAHfaultTestToken_permanent_0123456", clock: fakeClock)
        for server in [try LoopbackServer(discord), try LoopbackServer(Self.refusingUnparsable(telegram))] { servers.append(server) }
        let host = try InProcessHost(fakeClock: fakeClock, overrides: ["https://discord.com": servers[0], "https://api.telegram.org": servers[1]])
        self.host = host

        let healthyHook = discord.createWebhook(), deletedHook = discord.createWebhook()
        discord.deleteWebhook(id: deletedHook.id)
        telegram.addChat(-1001000000001, type: .supergroup)  // healthy
        telegram.addChat(-1001000000002, type: .supergroup)  // one message refused
        telegram.addChat(42, type: .private)                 // the operator, for alerts
        let discordChannel = try host.channel("ap-channel-discord", id: "discord", tenant: "acme",
                                              secrets: ["webhook_live": healthyHook.url, "webhook_gone": deletedHook.url])
        let telegramChannel = try host.channel("ap-channel-telegram", id: "telegram", tenant: "acme", secrets: ["bot_token": telegram.token])
        let settings = distribution([
            ("discord-live", "discord", #"{"webhook":"live"}"#), ("discord-gone", "discord", #"{"webhook":"gone"}"#),
            ("telegram-live", "telegram", #"{"chat_id":-1001000000001}"#), ("telegram-strict", "telegram", #"{"chat_id":-1001000000002}"#),
            ("ops", "telegram", #"{"chat_id":42}"#),
        ], alertsTo: ["ops"])
        var rows: [NewDelivery] = []
        for n in 1...3 {
            for destination in ["discord-gone", "discord-live", "telegram-strict", "telegram-live"] {
                let text = destination == "telegram-strict" && n == 1 ? "signal 1, unparsable" : "signal \(n) for \(destination)"
                rows.append(row("acme", destination, "s\(n)", text))
            }
        }
        let distributor = try host.start(tenant: "acme", settings: settings, channels: ["discord": discordChannel, "telegram": telegramChannel],
                                         rows: rows)
        host.advance(toNs: t0 + 1 * second)
        host.advance(toNs: t0 + 2 * second)

        // The healthy destinations, exactly when their limits allow: the
        // webhook's three at once (5 per 2 s), the chat's one a second.
        XCTAssertEqual(discord.messages(webhookID: healthyHook.id).map(\.shownText), (1...3).map { "signal \($0) for discord-live" })
        XCTAssertEqual(discord.messages(webhookID: healthyHook.id).map(\.time), [t0Seconds, t0Seconds, t0Seconds])
        XCTAssertEqual(telegram.messages(in: -1001000000001).map(\.text), (1...3).map { "signal \($0) for telegram-live" })
        XCTAssertEqual(telegram.messages(in: -1001000000001).map(\.time), [t0Seconds, t0Seconds + 1, t0Seconds + 2])
        // After the refused message, the same chat goes on a second later.
        XCTAssertEqual(telegram.messages(in: -1001000000002).map(\.text), (2...3).map { "signal \($0) for telegram-strict" })
        XCTAssertEqual(telegram.messages(in: -1001000000002).map(\.time), [t0Seconds + 1, t0Seconds + 2])

        // The deleted webhook: asked once, never again (Discord's rule for a 404).
        XCTAssertEqual(discord.messages(webhookID: deletedHook.id), [])
        XCTAssertEqual(discord.requestCount, 4, "three deliveries and the one 404")
        let webhookGone = "Discord answered 404 Unknown Webhook (code 10015): the webhook was deleted; set a new URL in secret webhook_gone"
        let unparsable = "Telegram refused the message (400): Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 8"
        let dead = try host.store.outboxEntries(state: .dead)
        XCTAssertEqual(dead.map(\.destination), ["discord-gone", "telegram-strict"])
        XCTAssertEqual(dead.map(\.lastError), [webhookGone, unparsable])
        XCTAssertEqual(dead.map(\.attempts), [1, 1], "a permanent failure is not retried")
        let gone = try XCTUnwrap(host.store.outboxDestinations().first { $0.id == "discord-gone" })
        XCTAssertFalse(gone.enabled)
        XCTAssertEqual(gone.disabledReason, webhookGone)
        XCTAssertEqual(try host.store.outboxEntries(state: .pending).map(\.idempotencyKey),
                       ["acme/discord-gone/signal/s2", "acme/discord-gone/signal/s3"], "the disabled destination's others wait")
        XCTAssertFalse(try host.store.outboxEntries().contains { $0.lastError.contains(deletedHook.token) }, "no webhook token in a reason")

        // The alert: a log line, a message to the operator at once, the counters.
        let alert = "destination discord-gone (channel discord) is disabled: \(webhookGone). Its pending deliveries wait; `alphaplus outbox enable acme discord-gone` sends them."
        XCTAssertTrue(host.logs.contains("ALERT tenant acme: \(alert)"), host.logs.messages.joined(separator: "\n"))
        XCTAssertEqual(telegram.messages(in: 42).map(\.text), ["Alert (acme): \(alert)"])
        XCTAssertEqual(telegram.messages(in: 42).map(\.time), [t0Seconds])
        let counters = distributor.counters
        XCTAssertEqual([counters.delivered, counters.dead, counters.destinationsDisabled, counters.alertsRaised, counters.retried], [9, 2, 1, 1, 0])

        // What the operator sees.
        distributor.stop()
        let status = try AlphaPlusCLI.run(["outbox", "status", "--store", host.store.path])
        XCTAssertEqual(status.status, 0, status.err)
        XCTAssertEqual(status.out, """
            acme/discord-gone (channel discord, tier premium): pending 2, dead 1; oldest pending due 2026-11-21T08:00:00.000Z; DISABLED since 2026-11-21T08:00:00.000Z: \(webhookGone)
            acme/discord-live (channel discord, tier premium): delivered 3
            acme/ops (channel telegram, tier premium): delivered 1
            acme/telegram-live (channel telegram, tier premium): delivered 3
            acme/telegram-strict (channel telegram, tier premium): delivered 2, dead 1

            """)
        let deadLetters = try AlphaPlusCLI.run(["outbox", "dead", "--store", host.store.path])
        XCTAssertEqual(deadLetters.status, 0, deadLetters.err)
        XCTAssertEqual(deadLetters.out, """
            \(dead[0].id) acme/discord-gone signal s1: 1 attempt, dead since 2026-11-21T08:00:00.000Z: \(webhookGone)
            \(dead[1].id) acme/telegram-strict signal s1: 1 attempt, dead since 2026-11-21T08:00:00.000Z: \(unparsable)
            2 dead letters

            """)
    }
}
