import AlphaPlusHost
import FakeChannelServers
import Foundation
import HostTesting
import Store
import Trading
import XCTest

/// The host as a library, driven in process on a manual clock: minutes of
/// market, candles and tier delays pass at once, and every time is exact.
final class HostApplicationTests: XCTestCase {
    private let second: Int64 = 1_000_000_000
    private var servers: [LoopbackServer] = []

    override func tearDown() {
        servers.forEach { $0.stop() }
    }

    /// `acme`: the simulated market (half an hour of history, enough for the
    /// stop's ATR(14), then 20
    /// events a second), a rules head that is long on every candle, and a
    /// Discord channel with a premium (at once) and a free (after 120 s)
    /// destination.
    private func acme(webhookVariable: String) -> String {
        """
        id: acme
        strategy:
          symbols: [BTC-USDT]
          timeframes: [60]
          heads: [{ instance: rules }]
          consensus: { min_agree: 1, min_confidence: 0.5, head_deadline_ms: 5000 }   # real time: never the reason a vote is missing
          risk: { max_open_positions: 100, max_open_per_symbol: 50, max_consecutive_losses: 100, cooldown_s: 0 }
        instances:
          - { id: rules, plugin: com.alphaplus.head-rules, settings: { rules: ["close > 0 -> long 0.9"] } }
          - id: market
            plugin: com.alphaplus.exchange-sim
            settings:
              seed: 3
              mode: realtime
              events_per_second: 20
              history_seconds: 1800
              symbols: [{ symbol: BTC-USDT, start_price: "65000.00", tick_size: "0.01", lot_size: "0.0001" }]
            subscribe: [{ symbol: BTC-USDT, streams: [trades, quotes] }]
          - id: discord
            plugin: com.alphaplus.channel-discord
            secrets: { webhook_signals: "${env:\(webhookVariable)}" }
        distribution:
          tiers: { premium: 0, free: 120 }
          destinations:
            - { id: now, channel: discord, tier: premium, target: { webhook: signals } }
            - { id: later, channel: discord, tier: free, target: { webhook: signals } }
          daily_summary: { enabled: false }
        """
    }

    func testMinutesOfMarketAndTierDelaysPassAtOnceOnAManualClock() throws {
        let startNs: Int64 = 1_795_248_000_000_000_000  // 2026-11-21T08:00:00Z
        let fakeClock = FakeClock(manualSeconds: Double(startNs) / 1e9)
        let discord = FakeDiscord(clock: fakeClock)
        let server = try LoopbackServer(discord)
        servers.append(server)
        let webhook = discord.createWebhook()
        let variable = "HARNESS_WEBHOOK_\(UUID().uuidString.prefix(8))"
        setenv(variable, webhook.url, 1)
        defer { unsetenv(variable) }
        let harness = try HostHarness(hostConfig: """
            network:
              endpoint_overrides:
                "https://discord.com": "\(server.baseURL)"
            """, tenants: ["acme": acme(webhookVariable: variable)], startNs: startNs)
        harness.followers.append { ns in fakeClock.advance(by: Double(ns) / 1e9 - fakeClock.now) }
        try harness.start()
        let wallStart = Date()
        harness.advance(bySeconds: 300)
        let wallSeconds = Date().timeIntervalSince(wallStart)
        let report = harness.shutdown()
        XCTAssertTrue(report.abandoned.isEmpty, "\(report)")

        let nowNs = harness.clock.nowNs()
        XCTAssertEqual(nowNs, startNs + 300 * second)
        let signals = try harness.store.signals(tenant: "acme", limit: 100).items
        // The history's last three candles (fresh at the start) and each live minute's candle, closed by the first
        // event after its end: a signal each, stamped with its candle's close on the manual clock.
        XCTAssertEqual(signals.map { ($0.createdAtNs - startNs) / second }.sorted(), [-120, -60, 0, 60, 120, 180, 240])
        let live = signals.filter { $0.createdAtNs > startNs }
        let rows = try harness.store.outboxEntries(tenant: "acme").filter { $0.kind == .signal }
        let messages = discord.messages(webhookID: webhook.id)
        for signal in live {
            let now = try XCTUnwrap(rows.first { $0.destination == "now" && $0.subject == signal.id })
            let later = try XCTUnwrap(rows.first { $0.destination == "later" && $0.subject == signal.id })
            XCTAssertEqual(now.state, .delivered)
            XCTAssertEqual(later.notBeforeNs, signal.createdAtNs + 120 * second)
            XCTAssertEqual(later.state, later.notBeforeNs <= nowNs ? .delivered : .pending, later.idempotencyKey)
            // On the fake (whose clock follows the host's): premium as the candle closed, free exactly when due.
            let premium = try XCTUnwrap(messages.first { $0.shownText == now.text })
            XCTAssertTrue((Double(signal.createdAtNs) / 1e9..<Double(signal.createdAtNs + second) / 1e9).contains(premium.time),
                          "premium: at the first event after the candle's close, \(premium.time - Double(signal.createdAtNs) / 1e9) s")
            if later.state == .delivered {
                let free = try XCTUnwrap(messages.first { $0.shownText == later.text })
                XCTAssertEqual(free.time, Double(later.notBeforeNs) / 1e9, accuracy: 1e-6)
            }
        }
        print("host harness: 300 s of market (\(harness.host.market.acceptedEvents) events, \(signals.count) signals, "
              + "\(messages.count) messages) in \(String(format: "%.2f", wallSeconds)) s")
    }
}
