import Distribution
import FakeChannelServers
import Foundation
import Store
import XCTest

/// A platform answering 429 for a minute, through the real plugins, the
/// host's curl client and a fake on loopback, on manual clocks.
///
/// Discord's and Telegram's waits are relative (`retry_after` seconds): the
/// plugin turns them into `retry_after_ms` without reading any clock, and
/// the distributor adds them to its own clock, here the manual one that the
/// fakes' clock follows; so "a minute" takes no minute and the times below
/// are exact. (X's wait is an absolute `x-rate-limit-reset` that the plugin
/// subtracts from `context.nowNs`, the host's wall clock: a manual clock
/// would make it wrong, so X is not tested this way.)
final class RetryAfterTests: XCTestCase {
    private var servers: [LoopbackServer] = []
    private var host: InProcessHost?
    private let fakeClock = FakeClock(manualSeconds: Double(t0) / 1e9)
    private let t0Seconds = Double(t0) / 1e9

    override func tearDown() {
        host?.close()
        servers.forEach { $0.stop() }
    }

    private func serve(_ fake: any FakePlatform, as origin: String) throws -> InProcessHost {
        let server = try LoopbackServer(fake)
        servers.append(server)
        let host = try InProcessHost(fakeClock: fakeClock, overrides: [origin: server])
        self.host = host
        return host
    }

    func testDiscordRetryAfterAMinuteIsWaitedExactlyAndNothingIsLost() throws {
        let discord = FakeDiscord(clock: fakeClock)
        let host = try serve(discord, as: "https://discord.com")
        let webhook = discord.createWebhook()
        discord.rateLimit(until: t0Seconds + 60)
        let channel = try host.channel("ap-channel-discord", id: "discord", tenant: "acme", secrets: ["webhook_signals": webhook.url])
        _ = try host.start(tenant: "acme", settings: distribution([("hook", "discord", #"{"webhook":"signals"}"#)]),
                           channels: ["discord": channel], rows: (1...7).map { row("acme", "hook", "s\($0)", "message \($0)") })

        // The first attempt got the 429 with Discord's retry_after 60.0 in
        // the body (and Retry-After: 60): waited exactly, from the 429 on.
        XCTAssertEqual(discord.requestCount, 1)
        let first = try XCTUnwrap(host.store.outboxEntries().first)
        XCTAssertEqual(first.state, .pending)
        XCTAssertEqual(first.attempts, 1)
        XCTAssertEqual(first.nextAttemptNs, t0 + 60 * second, "retried exactly 60 s after the 429")
        XCTAssertTrue(first.lastError.contains("Discord rate limit (429, scope shared): retry_after 60.0 s"), first.lastError)
        XCTAssertFalse(first.lastError.contains(webhook.token), "the webhook's token is never in a reason")

        for ns in [t0 + 1 * second, t0 + 30 * second, t0 + 59_999_000_000] {
            host.advance(toNs: ns)
            XCTAssertEqual(discord.requestCount, 1, "no request before the retry time (clock at t0 + \(Double(ns - t0) / 1e9) s)")
        }
        host.advance(toNs: t0 + 60 * second)
        // At the retry time: the first five (the webhook's 5 per 2 s) at once.
        XCTAssertEqual(discord.messages.map(\.shownText), (1...5).map { "message \($0)" })
        host.advance(toNs: t0 + 62 * second)

        XCTAssertEqual(discord.messages.map(\.shownText), (1...7).map { "message \($0)" }, "every message once, in order")
        XCTAssertEqual(discord.messages.map(\.time), Array(repeating: t0Seconds + 60, count: 5) + [t0Seconds + 62, t0Seconds + 62],
                       "right at the retry time, then as the webhook's bucket allows")
        XCTAssertEqual(discord.requestCount, 8, "one 429 and seven deliveries: no other request")
        XCTAssertEqual(try host.store.outboxEntries().map(\.state), Array(repeating: .delivered, count: 7))
    }

    func testTelegramRetryAfterAMinuteIsWaitedExactlyAndOrderIsKept() throws {
        let telegram = FakeTelegram(token: "7300000001:AAHfaultTestToken_0123456789abcdef", clock: fakeClock)
        let host = try serve(telegram, as: "https://api.telegram.org")
        telegram.addChat(-1001000000001, type: .supergroup)
        telegram.floodWait(until: t0Seconds + 60)
        let channel = try host.channel("ap-channel-telegram", id: "telegram", tenant: "acme", secrets: ["bot_token": telegram.token])
        _ = try host.start(tenant: "acme", settings: distribution([("group", "telegram", #"{"chat_id":-1001000000001}"#)]),
                           channels: ["telegram": channel], rows: (1...4).map { row("acme", "group", "s\($0)", "message \($0)") })

        XCTAssertEqual(telegram.requestCount, 1)
        let first = try XCTUnwrap(host.store.outboxEntries().first)
        XCTAssertEqual(first.nextAttemptNs, t0 + 60 * second, "parameters.retry_after 60, waited exactly")
        XCTAssertTrue(first.lastError.contains("Telegram flood control (429): Too Many Requests: retry after 60"), first.lastError)
        XCTAssertFalse(first.lastError.contains(telegram.token), "the bot token is never in a reason")

        host.advance(toNs: t0 + 30 * second)
        host.advance(toNs: t0 + 59_999_000_000)
        XCTAssertEqual(telegram.requestCount, 1, "no request before the retry time")
        for step in Int64(60)...63 { host.advance(toNs: t0 + step * second) }

        let messages = telegram.messages(in: -1001000000001)
        XCTAssertEqual(messages.map(\.text), (1...4).map { "message \($0)" }, "every message once, in order")
        XCTAssertEqual(messages.map(\.time), (60...63).map { t0Seconds + Double($0) },
                       "right at the retry time, then the chat's one a second")
        XCTAssertEqual(telegram.requestCount, 5, "one 429 and four deliveries: no other request")
        XCTAssertEqual(try host.store.outboxEntries().map(\.state), Array(repeating: .delivered, count: 4))
    }
}
