import AlphaPlusJSON
import ChannelTwitter
import Distribution
import FakeChannelServers
import Foundation
import HostConfig
import HostTesting
import SharedTestData
import Store
import Trading
import XCTest

/// The demo tenant (config/tenants/demo.yaml): its signals reach the
/// Discord, Telegram and X fakes through the three channel plugins, the
/// host in this process on a manual clock the fakes' clock follows; run by
/// `alphaplus run` without secrets, it runs dry.
final class DemoDistributionTests: XCTestCase {
    private var folder: URL!
    private var servers: [LoopbackServer] = []
    private var hosts: [HostProcess] = []
    private var harness: HostHarness?
    private var variables: [String] = []

    /// The demo's secrets, as `scripts/run` reads them from the environment.
    private static let secretVariables = ["DEMO_DISCORD_WEBHOOK_SIGNALS", "DEMO_TELEGRAM_BOT_TOKEN", "DEMO_X_CONSUMER_KEY",
                                          "DEMO_X_CONSUMER_SECRET", "DEMO_X_ACCESS_TOKEN", "DEMO_X_ACCESS_TOKEN_SECRET",
                                          "DEMO_TELEGRAM_WEBHOOK_SECRET", "DEMO_TELEGRAM_LINK_SECRET", "DEMO_STRIPE_SIGNING_SECRET"]
    /// The demo's destinations and their channel instances.
    private static let channels = ["discord-premium": "discord", "telegram-basic": "telegram", "telegram-free": "telegram", "x-free": "twitter"]
    /// The tier delays of the test's copy (see `demoCopy`).
    private static let delays: [String: Int64] = ["premium": 0, "basic": 10 * second, "free": 20 * second]

    override func setUpWithError() throws {
        folder = try temporaryFolder("fault-demo")
    }

    override func tearDown() {
        harness?.shutdown()
        variables.forEach { unsetenv($0) }
        hosts.forEach { $0.end() }
        servers.forEach { $0.stop() }
        try? FileManager.default.removeItem(at: folder)
    }

    func testDemoSignalsReachTheThreeFakesByTier() throws {
        let fakeClock = FakeClock(manualSeconds: Double(t0) / 1e9)
        let discord = FakeDiscord(clock: fakeClock)
        let telegram = FakeTelegram(token: "7300000003:AAHdemoTestToken_\(UUID().uuidString.prefix(8))", clock: fakeClock)
        let account = OAuth1Credentials(consumerKey: "demo-ck-\(UUID().uuidString)", consumerSecret: "demo-cs-\(UUID().uuidString)",
                                        accessToken: "demo-at-\(UUID().uuidString)", accessTokenSecret: "demo-ats-\(UUID().uuidString)")
        let x = FakeX(clock: fakeClock, accounts: [account])
        for fake in [discord, telegram, x] as [any FakePlatform] { servers.append(try LoopbackServer(fake)) }
        let webhook = discord.createWebhook()
        // The demo's chats: its group (-1001000000001) and its public channel.
        telegram.addChat(-1001000000001, type: .supergroup)
        telegram.addChat(-1001000000002, type: .channel, username: "alphaplus_demo_free")

        let tenant = try demoText(promptSignals + [shortHistory,
            ("  tiers: { premium: 0, basic: 60, free: 300 }",
             "  tiers: { premium: 0, basic: 10, free: 20 }   # test only: basic and free (X's) go out within the run"),
        ])
        let secrets = [webhook.url, telegram.token, account.consumerKey, account.consumerSecret, account.accessToken, account.accessTokenSecret,
                       "tg-hook-\(UUID().uuidString)", "tg-link-\(UUID().uuidString)", "whsec_demo\(UUID().uuidString.prefix(8))"]
        for (variable, value) in zip(Self.secretVariables, secrets) { setenv(variable, value, 1) }
        variables = Self.secretVariables
        let harness = try HostHarness(hostConfig: """
            log_level: debug
            network:
              endpoint_overrides:
                "https://discord.com": "\(servers[0].baseURL)"
                "https://api.telegram.org": "\(servers[1].baseURL)"
                "https://api.x.com": "\(servers[2].baseURL)"
            """, tenants: ["demo": tenant], startNs: t0)
        self.harness = harness
        harness.followers.append { ns in fakeClock.advance(by: Double(ns) / 1e9 - fakeClock.now) }
        let settings = try XCTUnwrap(TenantConfig.load(harness.folder.appendingPathComponent("tenants/demo.yaml").path).distribution)
        let store = harness.store
        try harness.start()

        // Two minutes of market: signals at the start (the history's last candles) and at each minute's close;
        // their basic (10 s) and free (20 s) copies come due within it, and a Telegram chat takes one a second.
        harness.advance(bySeconds: 120)
        let caughtUpNs = harness.clock.nowNs()
        let rowsAtTheEnd = try store.outboxEntries(tenant: "demo")
        let delivered = Set(rowsAtTheEnd.filter { $0.kind == .signal && $0.state == .delivered }.map(\.destination))
        let report = harness.shutdown()
        XCTAssertTrue(report.abandoned.isEmpty && report.finishedInTime, "the host did not stop cleanly: \(report)")
        let states = try store.outboxEntries(tenant: "demo").map { "\($0.destination) \($0.kind) \($0.state)" }
        XCTAssertEqual(delivered, Set(Self.channels.keys), "not every destination got a signal within 120 s: \(states)")
        XCTAssertFalse(rowsAtTheEnd.contains { [.pending, .sending].contains($0.state) && $0.notBeforeNs <= caughtUpNs - 3 * second },
                       "a delivery due 3 s before the end was not sent: \(states)")

        let output = harness.logs.text
        for (origin, server) in zip(["https://discord.com", "https://api.telegram.org", "https://api.x.com"], servers) {
            XCTAssertTrue(output.contains("endpoint override: requests to \(origin) go to \(server.baseURL)"), origin)
        }
        for (variable, value) in zip(Self.secretVariables, secrets) {
            XCTAssertFalse(output.contains(value), "the value of \(variable) is in the host's output")
        }
        XCTAssertFalse(output.contains(webhook.token), "the webhook's token is in the host's output")
        XCTAssertFalse(output.contains("refused for plugin"), "a request was refused")

        let signals = try store.signals(tenant: "demo", limit: 500).items
        let rows = try store.outboxEntries(tenant: "demo")
        XCTAssertFalse(signals.isEmpty)
        XCTAssertEqual(rows.filter { [.sending, .dryRun].contains($0.state) }.map(\.idempotencyKey), [])
        // Every signal, every destination: the tier's text, due at the signal's time + the tier's delay.
        for signal in signals {
            let fields = MessageFields(signal: signal)
            for (destination, _) in Self.channels {
                let entry = try XCTUnwrap(rows.first { $0.destination == destination && $0.kind == .signal && $0.subject == signal.id },
                                          "\(signal.id) has no row for \(destination)")
                XCTAssertEqual(entry.text, settings.template(tier: entry.tier, kind: .signal).render(fields))
                XCTAssertEqual(entry.notBeforeNs, signal.createdAtNs + Self.delays[entry.tier]!, "\(entry.idempotencyKey): not_before")
                if entry.state == .pending {
                    // Waiting out its tier's delay (or, just due, its chat's pace) when the host stopped.
                    XCTAssertGreaterThan(entry.notBeforeNs, caughtUpNs - 3 * second, "\(entry.idempotencyKey) was due and not sent")
                }
            }
            try checkPremiumEmbed(signal, rows: rows, discord: discord, webhookID: webhook.id)
            let side = signal.side.rawValue.uppercased()
            for entry in rows where entry.subject == signal.id && entry.kind == .signal {
                switch entry.tier {
                case "basic":
                    XCTAssertEqual(entry.text, "\(side) \(signal.symbol)\nEntry \(fields["entry"])\nConfidence \(fields["confidence"])")
                case "free":
                    XCTAssertEqual(entry.text, "\(side) \(signal.symbol), \(fields["time"])")
                default:
                    XCTAssertTrue(entry.text.contains("\nStop \(fields["stop"])\nTargets \(fields["targets"])"), entry.text)
                }
            }
        }
        // Each delivered row is on its fake once; nothing else is there.
        try checkOnce("discord-premium", rows, shown: discord.messages(webhookID: webhook.id).map(\.shownText))
        try checkOnce("telegram-basic", rows, shown: telegram.messages(in: -1001000000001).map(\.text))
        try checkOnce("telegram-free", rows, shown: telegram.messages(in: -1001000000002).map(\.text))
        try checkOnce("x-free", rows, shown: x.accepted.map(\.text))
        XCTAssertEqual(discord.messages.count, discord.messages(webhookID: webhook.id).count)
        XCTAssertEqual(telegram.messages.count, telegram.messages(in: -1001000000001).count + telegram.messages(in: -1001000000002).count)
        for tweet in x.accepted {
            XCTAssertLessThanOrEqual(TwitterText.weightedLength(tweet.text), 280, tweet.text)
        }
        // Nothing is dead: X refuses a Tweet that repeats an earlier one, and
        // the free tier's text carries the signal's time so that none does.
        for entry in rows where entry.state == .dead {
            XCTFail("\(entry.idempotencyKey) to \(entry.destination) is dead: \(entry.lastError)")
        }
        let firstSignal = Double(signals.map(\.createdAtNs).min()! - t0) / 1e9
        print("demo: \(signals.count) signals (the first of a candle closed at start \(String(format: "%+.0f", firstSignal)) s) in "
              + "120 s of market; outbox \(Dictionary(grouping: rows, by: { "\($0.destination) \($0.state.rawValue)" }).mapValues(\.count).sorted { $0.key < $1.key }); "
              + "fakes: discord \(discord.messages.count), telegram \(telegram.messages.count), x \(x.accepted.count)")
    }

    /// The premium Discord message of `signal`: one embed titled "LONG BTC-USDT 1m"
    /// whose Entry, Stop and Targets fields are the signal's prices.
    private func checkPremiumEmbed(_ signal: Signal, rows: [OutboxEntry], discord: FakeDiscord, webhookID: String) throws {
        let entry = try XCTUnwrap(rows.first { $0.destination == "discord-premium" && $0.subject == signal.id && $0.kind == .signal })
        XCTAssertEqual(entry.state, .delivered, "\(signal.id) did not reach Discord")
        let message = try XCTUnwrap(discord.messages(webhookID: webhookID).first { $0.shownText == entry.text }, "\(signal.id) is not on Discord")
        let embed = try XCTUnwrap(message.embeds.first)
        XCTAssertEqual(embed["title"], .string("\(signal.side.rawValue.uppercased()) \(signal.symbol) 1m"))
        var fields: [String: String] = [:]
        if case .array(let items)? = embed["fields"] {
            for item in items {
                if case .string(let name)? = item["name"], case .string(let value)? = item["value"] { fields[name] = value }
            }
        }
        func near(_ text: String?, _ value: Double) -> Bool {
            guard let text, let shown = Double(text) else { return false }
            return abs(shown - value) <= abs(value) * 1e-7  // shown to 8 significant digits
        }
        XCTAssertTrue(near(fields["Entry"], signal.entry), "Entry \(fields["Entry"] ?? "missing") for \(signal.entry)")
        XCTAssertTrue(near(fields["Stop"], signal.stop), "Stop \(fields["Stop"] ?? "missing") for \(signal.stop)")
        let targets = (fields["Targets"] ?? "").components(separatedBy: " / ")
        XCTAssertEqual(targets.count, signal.targets.count, "Targets \(fields["Targets"] ?? "missing")")
        for (shown, target) in zip(targets, signal.targets) { XCTAssertTrue(near(shown, target), "target \(shown) for \(target)") }
        XCTAssertNotNil(fields["Confidence"])
    }

    /// `shown` (what the fake holds for `destination`, in order) has each
    /// delivered row's text once; a row the stop interrupted (pending after
    /// an attempt) may be there once or not; nothing else is.
    private func checkOnce(_ destination: String, _ rows: [OutboxEntry], shown: [String]) throws {
        let mine = rows.filter { $0.destination == destination }
        var expected: [String: (delivered: Int, interrupted: Int)] = [:]
        for entry in mine {
            if entry.state == .delivered { expected[entry.text, default: (0, 0)].delivered += 1 }
            if entry.state == .pending, entry.attempts > 0 { expected[entry.text, default: (0, 0)].interrupted += 1 }
        }
        for (text, count) in Dictionary(grouping: shown, by: { $0 }).mapValues(\.count) {
            let allowed = expected[text] ?? (0, 0)
            XCTAssertTrue((allowed.delivered...(allowed.delivered + allowed.interrupted)).contains(count),
                          "\(destination): '\(text)' arrived \(count) times for \(allowed.delivered) delivered rows")
        }
        for (text, allowed) in expected where allowed.delivered > 0 {
            XCTAssertTrue(shown.contains(text), "\(destination): a delivered row's '\(text)' is not on the fake")
        }
    }

    func testDemoWithoutSecretsRunsDry() throws {
        let config = try writeHostConfig(in: folder, overrides: [:])
        _ = try demoCopy(in: folder, [])
        let host = try HostProcess(["run", "--config", config.path, "--duration", "4"], removing: Self.secretVariables, in: folder)
        hosts.append(host)
        XCTAssertEqual(host.wait(timeout: 60), 0, host.err.suffix(3000).description)
        let log = host.err
        let unset: [(instance: String, secrets: [String: String])] = [
            ("discord", ["webhook_signals": "DEMO_DISCORD_WEBHOOK_SIGNALS"]),
            ("telegram", ["bot_token": "DEMO_TELEGRAM_BOT_TOKEN", "webhook_secret": "DEMO_TELEGRAM_WEBHOOK_SECRET",
                          "link_secret": "DEMO_TELEGRAM_LINK_SECRET"]),
            ("stripe", ["signing_secret": "DEMO_STRIPE_SIGNING_SECRET"]),
            ("twitter", ["consumer_key": "DEMO_X_CONSUMER_KEY", "consumer_secret": "DEMO_X_CONSUMER_SECRET",
                         "access_token": "DEMO_X_ACCESS_TOKEN", "access_token_secret": "DEMO_X_ACCESS_TOKEN_SECRET"]),
        ]
        for (instance, secrets) in unset {
            let line = log.split(separator: "\n").first { $0.contains("tenant demo, instance \(instance): secret ") } ?? ""
            XCTAssertTrue(line.hasSuffix("the instance is not created and runs dry (dry_run_without_secrets): its deliveries are shown, not sent"),
                          "\(instance) is not reported as running dry: \(line)")
            for (name, variable) in secrets {
                XCTAssertTrue(line.contains("secret '\(name)' is not set (${env:\(variable)} is unset or empty)"), "\(instance), \(name): \(line)")
            }
        }
        for (destination, tier) in [("discord-premium", "premium"), ("telegram-basic", "basic"), ("telegram-free", "free"), ("x-free", "free")] {
            XCTAssertTrue(log.contains("outbox: tenant demo, destination \(destination) (channel \(Self.channels[destination]!), tier \(tier)): dry run: its deliveries are shown here, not sent"),
                          "\(destination) is not reported as a dry run")
        }
        // With the demo's own consensus a signal in 4 s is rare; any that
        // came is shown where it would go, and recorded as a dry run.
        let rows = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: { 0 }).outboxEntries(tenant: "demo")
        XCTAssertTrue(rows.allSatisfy { $0.state == .dryRun || $0.state == .pending }, "\(rows.map { "\($0.idempotencyKey) \($0.state)" })")
        for entry in rows where entry.state == .dryRun {
            let line = entry.text.components(separatedBy: "\n")[0]
            XCTAssertTrue(log.contains("would deliver: tenant demo, destination \(entry.destination), channel \(Self.channels[entry.destination]!), tier \(entry.tier), \(entry.kind.rawValue): \(line)"),
                          "no 'would deliver' line for \(entry.idempotencyKey)")
        }
        print("demo without secrets: \(rows.count) deliveries, \(rows.filter { $0.state == .dryRun }.count) shown as dry runs")
    }
}
