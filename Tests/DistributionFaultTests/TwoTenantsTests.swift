import AlphaPlusJSON
import AlphaPlusSDK
import Distribution
import FakeChannelServers
import Foundation
import HostTesting
import HTTPClient
import SharedTestData
import Store
import Trading
import XCTest

/// Issue 7: two tenants in one host on the same synthetic market
/// (the demo's exchange-sim settings, seed and symbols) with different
/// heads, consensus, channels and tiers. Each gets the signals its own
/// configuration makes, delivered to its own destinations only, after its
/// own tier delays; each tenant's admin token reads only its own routes.
/// Both use the same instance ids (market, technical) and destination id
/// (signals), so nothing may be told apart by those alone. The host runs
/// in this process on a manual clock (`HostHarness`) that the fakes' clock
/// follows, so two minutes of market and the tiers' delays pass at once
/// and every time checked is exact.
final class TwoTenantsTests: XCTestCase {
    private var servers: [LoopbackServer] = []
    private var harness: HostHarness?
    private var variables: [String] = []
    private let client = HTTPClient()

    override func tearDown() {
        harness?.shutdown()
        servers.forEach { $0.stop() }
        client.shutdown()
        variables.forEach { unsetenv($0) }
    }

    /// What differs between the two tenants.
    private struct Tenant {
        let id: String
        let heads: [String]
        let highConfidence: Double
        /// Destination id → (tier, delay in seconds).
        let destinations: [String: (tier: String, delay: Int64)]
    }

    /// Both signal on every fresh candle (`promptSignals`: the rules head's last rule always holds and
    /// outvotes the others, one head at 35% is enough), so that signals come at the start and at every
    /// minute's close; alpha has the sentiment head (on the demo's headlines) too, beta calls a signal
    /// high-confidence from 60% (alpha: the default 85%). The free tiers' delays are longer than a
    /// history signal's head start is likely to be, so that a live one is held back.
    private let minConfidence = 0.35
    private let alpha = Tenant(id: "alpha", heads: ["technical", "orderflow", "sentiment", "rules"], highConfidence: 0.85,
                               destinations: ["signals": ("premium", 0), "later": ("free", 20)])
    private let beta = Tenant(id: "beta", heads: ["orderflow", "technical", "rules"], highConfidence: 0.6,
                              destinations: ["signals": ("basic", 2), "later": ("free", 25)])
    private let betaChats: [String: Int64] = ["signals": -1002000000001, "later": -1002000000002]

    func testTwoTenantsOnOneMarketGetTheirOwnSignalsAndDeliveries() throws {
        let wallStart = Date()
        let fakeClock = FakeClock(manualSeconds: Double(t0) / 1e9)
        let discord = FakeDiscord(clock: fakeClock)
        let webhooks = ["signals": discord.createWebhook(), "later": discord.createWebhook()]
        let telegram = FakeTelegram(token: "7300000021:AAHtwoTenants_\(UUID().uuidString.prefix(8))", clock: fakeClock)
        for chat in betaChats.values { telegram.addChat(chat, type: .supergroup) }
        for fake in [discord, telegram] as [any FakePlatform] { servers.append(try LoopbackServer(fake)) }
        let alphaFile = try tenantFile(alpha, channels: """
              - id: discord
                plugin: com.alphaplus.channel-discord
                secrets:
                  webhook_signals: ${env:ALPHA_WEBHOOK_SIGNALS}
                  webhook_later: ${env:ALPHA_WEBHOOK_LATER}
            """, destinations: """
                - { id: signals, channel: discord, tier: premium, target: { webhook: signals } }
                - { id: later, channel: discord, tier: free, target: { webhook: later } }
            """)
        let betaFile = try tenantFile(beta, channels: """
              - id: telegram
                plugin: com.alphaplus.channel-telegram
                settings: { bot_username: two_tenants_bot }
                secrets: { bot_token: "${env:BETA_BOT_TOKEN}" }
            """, destinations: """
                - { id: signals, channel: telegram, tier: basic, target: { chat_id: \(betaChats["signals"]!) } }
                - { id: later, channel: telegram, tier: free, target: { chat_id: \(betaChats["later"]!) } }
            """)
        let tokens = ["alpha": "alpha-\(UUID().uuidString)", "beta": "beta-\(UUID().uuidString)"]
        let environment = ["TWO_OPERATOR_TOKEN": "operator-\(UUID().uuidString)", "ALPHA_ADMIN_TOKEN": tokens["alpha"]!,
                           "BETA_ADMIN_TOKEN": tokens["beta"]!, "ALPHA_WEBHOOK_SIGNALS": webhooks["signals"]!.url,
                           "ALPHA_WEBHOOK_LATER": webhooks["later"]!.url, "BETA_BOT_TOKEN": telegram.token]
        for (name, value) in environment { setenv(name, value, 1) }
        variables = Array(environment.keys)

        let harness = try HostHarness(hostConfig: """
            network:
              endpoint_overrides:
                "https://discord.com": "\(servers[0].baseURL)"
                "https://api.telegram.org": "\(servers[1].baseURL)"
            http:
              listen: 127.0.0.1:0
              admin_token: ${env:TWO_OPERATOR_TOKEN}
            """, tenants: ["alpha": alphaFile, "beta": betaFile], startNs: t0)
        self.harness = harness
        harness.followers.append { ns in fakeClock.advance(by: Double(ns) / 1e9 - fakeClock.now) }
        let startedNs = t0
        try harness.start()
        let base = "http://127.0.0.1:\(try XCTUnwrap(harness.host.httpPort))"
        let store = harness.store
        // Two minutes of market: signals from the history's last candles at the start and at each minute's close
        // after it; the free tiers' copies (20 s and 25 s) of the live ones come due within it.
        harness.advance(bySeconds: 120)
        let delivered = try [alpha, beta].allSatisfy { tenant in
            let rows = try store.outboxEntries(tenant: tenant.id).filter { $0.state == .delivered }
            return Set(rows.map(\.destination)) == Set(tenant.destinations.keys)
                && rows.contains { $0.notBeforeNs > startedNs + second && tenant.destinations[$0.destination]?.delay ?? 0 > 0 }
        }

        // Each token reads its own tenant, not the other's.
        for (tenant, token) in tokens {
            for (other, expected) in [(tenant, 200), (tenant == "alpha" ? "beta" : "alpha", 403)] {
                for route in ["", "/signals", "/outbox", "/instances", "/subscribers"] {
                    XCTAssertEqual(try get(base + "/admin/v1/tenants/\(other)\(route)", token: token).status, expected,
                                   "\(tenant)'s token on /admin/v1/tenants/\(other)\(route)")
                }
            }
            let listed = try JSONValue(parsing: try get(base + "/admin/v1/tenants", token: token).text)
            XCTAssertEqual(listed.jsonText.contains(#""beta""#), tenant == "beta", "\(tenant)'s token lists \(listed.jsonText)")
            XCTAssertEqual(listed.jsonText.contains(#""alpha""#), tenant == "alpha", "\(tenant)'s token lists \(listed.jsonText)")
        }
        var served: [String: Int] = [:]
        for tenant in [alpha, beta] {
            let page = try JSONValue(parsing: try get(base + "/admin/v1/tenants/\(tenant.id)/signals?limit=500", token: environment["TWO_OPERATOR_TOKEN"]!).text)
            if case .array(let items)? = page["signals"] { served[tenant.id] = items.count }
        }
        let report = harness.shutdown()
        XCTAssertTrue(report.abandoned.isEmpty && report.finishedInTime, "\(report)")
        let states = try [alpha, beta].flatMap { try store.outboxEntries(tenant: $0.id).map { "\($0.tenant)/\($0.destination) \($0.state.rawValue)" } }
        XCTAssertTrue(delivered, "not every destination of both tenants got a signal, or none was held by its tier, within 120 s: \(states)")

        var signalsOf: [String: [Signal]] = [:]
        for tenant in [alpha, beta] {
            let signals = try store.signals(tenant: tenant.id, limit: 500).items
            signalsOf[tenant.id] = signals
            XCTAssertFalse(signals.isEmpty, "\(tenant.id) made no signal")
            XCTAssertEqual(served[tenant.id], signals.count, "the admin API's signals of \(tenant.id)")
            for signal in signals {
                XCTAssertEqual(signal.tenant, tenant.id)
                XCTAssertEqual(signal.votes.map(\.head), tenant.heads, "\(signal.id): the votes are \(tenant.id)'s heads")
                XCTAssertGreaterThanOrEqual(signal.confidence, minConfidence, "\(signal.id): \(tenant.id)'s consensus")
                XCTAssertEqual(signal.highConfidence, signal.confidence >= tenant.highConfidence, "\(signal.id): \(tenant.id)'s high confidence")
            }
            // Its rows: only its destinations, each due its own tier's delay after the signal.
            let rows = try store.outboxEntries(tenant: tenant.id).filter { $0.kind == .signal }
            for row in rows {
                let destination = try XCTUnwrap(tenant.destinations[row.destination], "\(tenant.id) has a row for \(row.destination)")
                let signal = try XCTUnwrap(signals.first { $0.id == row.subject }, "\(row.subject) is not \(tenant.id)'s")
                XCTAssertEqual(row.tier, destination.tier)
                XCTAssertEqual(row.notBeforeNs, signal.createdAtNs + destination.delay * second, "\(row.idempotencyKey)")
            }
        }
        // The same market, other heads and policy: other signals (each tenant's votes and high-confidence flag, above).
        let alphaSignals = signalsOf["alpha"] ?? [], betaSignals = signalsOf["beta"] ?? []
        XCTAssertTrue(Set(alphaSignals.map(\.id)).isDisjoint(with: betaSignals.map(\.id)))

        // On the fakes: alpha's texts on alpha's webhooks only, beta's in beta's chats only, none early.
        let alphaRows = try store.outboxEntries(tenant: "alpha"), betaRows = try store.outboxEntries(tenant: "beta")
        var held = 0
        for message in discord.messages {
            let destination = try XCTUnwrap(webhooks.first { $0.value.id == message.webhookID }?.key, "a message on an unknown webhook")
            let row = alphaRows.first { $0.destination == destination && $0.text == message.shownText }
            XCTAssertNotNil(row, "\(destination) got a text that is not alpha's: \(message.shownText)")
            if let row {
                XCTAssertGreaterThanOrEqual(message.time, Double(row.notBeforeNs) / 1e9, "\(row.idempotencyKey) came early")
                if row.notBeforeNs > startedNs + second, row.tier == "free" { held += 1 }
            }
        }
        for message in telegram.messages {
            let destination = try XCTUnwrap(betaChats.first { $0.value == message.chatID }?.key, "a message in chat \(message.chatID)")
            let row = betaRows.first { $0.destination == destination && $0.text == message.text }
            XCTAssertNotNil(row, "\(destination) got a text that is not beta's: \(message.text)")
            if let row {
                XCTAssertGreaterThanOrEqual(message.time, Double(row.notBeforeNs) / 1e9, "\(row.idempotencyKey) came early")
                if row.notBeforeNs > startedNs + second, row.tier == "free" { held += 1 }
            }
        }
        // As many messages on each destination as its tenant's rows delivered there (a stop may cut one short after sending).
        for (tenant, rows, count) in [("alpha", alphaRows, { (id: String) in discord.messages(webhookID: webhooks[id]!.id).count }),
                                      ("beta", betaRows, { (id: String) in telegram.messages(in: self.betaChats[id]!).count })] {
            for destination in ["signals", "later"] {
                let mine = rows.filter { $0.destination == destination }
                let delivered = mine.filter { $0.state == .delivered }.count
                let interrupted = mine.filter { $0.state == .pending && $0.attempts > 0 }.count
                XCTAssertTrue((delivered...delivered + interrupted).contains(count(destination)),
                              "\(tenant)/\(destination): \(count(destination)) messages for \(delivered) delivered rows")
            }
        }
        XCTAssertGreaterThan(held, 0, "no delivery was held back by its tier's delay: the fakes' times checked nothing")
        XCTAssertFalse(discord.messages.isEmpty)
        XCTAssertFalse(telegram.messages.isEmpty)
        print("two tenants: alpha \(alphaSignals.count) signals (\(alphaSignals.map { "\($0.symbol) \($0.side)" }.joined(separator: ", "))), "
              + "beta \(betaSignals.count) (\(betaSignals.map { "\($0.symbol) \($0.side)" }.joined(separator: ", "))); "
              + "discord \(discord.messages.count) messages, telegram \(telegram.messages.count), \(held) of them held by their tier's delay; "
              + "two minutes of market in " + String(format: "%.1f s", Date().timeIntervalSince(wallStart)))
    }

    /// The text of `tenants/<id>.yaml`: the demo's market, news and heads' settings, the tenant's heads, consensus,
    /// channel and tiers.
    private func tenantFile(_ tenant: Tenant, channels: String, destinations: String) throws -> String {
        let demoFile = try String(contentsOf: repository.appendingPathComponent("config/tenants/demo.yaml"), encoding: .utf8)
        XCTAssertEqual(demoFile.components(separatedBy: ruleThatAlwaysHolds.0).count, 2, "the demo's last rule changed")
        let demo = demoFile.replacingOccurrences(of: ruleThatAlwaysHolds.0, with: ruleThatAlwaysHolds.1)
            .replacingOccurrences(of: shortHistory.0, with: shortHistory.1)
        // The demo's instances of heads and market, as they are there (the market's seed and symbols included), but
        // for the rules head's last rule.
        let instances = ["technical", "orderflow", "sentiment", "rules", "news", "market"].filter { tenant.heads.contains($0) || ["news", "market"].contains($0) }.map { id -> String in
            let start = demo.range(of: "  - id: \(id)\n")!.lowerBound
            let rest = demo[start...].dropFirst(4)
            let end = rest.firstRange(of: #/\n  (- id|#)/#)?.lowerBound ?? rest.endIndex
            return String(demo[start..<end])
        }
        let tiers = tenant.destinations.values.map { "\($0.tier): \($0.delay)" }.sorted().joined(separator: ", ")
        let text = """
            id: \(tenant.id)
            admin_token: ${env:\(tenant.id.uppercased())_ADMIN_TOKEN}
            strategy:
              symbols: [BTC-USDT, ETH-USDT]
              timeframes: [60]
              initial_equity: 10000
              consensus: { min_agree: 1, min_confidence: \(minConfidence), high_confidence: \(tenant.highConfidence) }
              \(promptRisk)
              heads:
            \(tenant.heads.map { "    - { instance: \($0)\($0 == "rules" ? ", weight: \(promptRulesWeight)" : "") }" }.joined(separator: "\n"))
            instances:
            \(instances.joined(separator: "\n"))
            \(channels)
            distribution:
              tiers: { \(tiers) }
              destinations:
            \(destinations)
              daily_summary: { enabled: false }

            """
        return text
    }

    private func get(_ url: String, token: String) throws -> (status: Int, text: String) {
        try client.answer(HTTPRequest(method: "GET", url: url, headers: [HTTPHeader("Authorization", "Bearer \(token)")], timeoutMs: 10_000))
    }
}
