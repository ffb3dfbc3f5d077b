import AlphaPlusJSON
import AlphaPlusSDK
import Distribution
import FakeChannelServers
import Foundation
import HTTPClient
import Ingress
import PluginRuntime
import SharedTestData
import Store
import Trading
import Subscriptions
import XCTest

/// Issue 6's "done when" on the simulated clock, in one process put
/// together as `alphaplus run` does: Stripe and Telegram webhooks through
/// the ingress (real HTTP) to the bundled plugins (the `.so` files), the
/// subscribers in the store, the distributor on a manual clock, and
/// Telegram's fake following it. A signed Stripe event makes a subscriber
/// premium; the next signal reaches its chat at once, and a free chat's
/// copy arrives 300 simulated seconds later.
final class SubscriptionClockTests: XCTestCase {
    private var servers: [LoopbackServer] = []
    private var host: InProcessHost?
    private var ingress: IngressServer?
    private let client = HTTPClient()
    private let fakeClock = FakeClock(manualSeconds: Double(t0) / 1e9)
    private let signingSecret = "whsec_clock_\(UUID().uuidString.prefix(12))"
    private let webhookSecret = "tg-hook-\(UUID().uuidString)"
    private let linkSecret = "link-\(UUID().uuidString)"

    override func tearDown() {
        ingress?.stop()
        host?.close()
        servers.forEach { $0.stop() }
        client.shutdown()
    }

    func testAStripeEventMakesAChatPremiumAndTheFreeChatWaits300SimulatedSeconds() throws {
        let telegram = FakeTelegram(token: "7300000011:AAHclockTestToken_\(UUID().uuidString.prefix(8))", clock: fakeClock)
        let server = try LoopbackServer(telegram)
        servers.append(server)
        let premiumChat: Int64 = 7_000_001, freeChat: Int64 = 7_000_002
        for chat in [premiumChat, freeChat] { telegram.addChat(chat, type: .private) }
        let host = try InProcessHost(fakeClock: fakeClock, overrides: ["https://api.telegram.org": server])
        self.host = host
        host.services.setSubscriptions(host.store, policies: ["demo": SubscriptionPolicy(tiers: ["premium", "basic", "free"], unpaidTier: "free")])
        let bot = try host.channel("ap-channel-telegram", id: "telegram", tenant: "demo",
                                   secrets: ["bot_token": telegram.token, "webhook_secret": webhookSecret, "link_secret": linkSecret])
        let stripePlugin = try host.registry.load(try AlphaPlusCLI.bundledPlugin("ap-webhook-stripe"))
        let stripe = try HostedInstance(plugin: stripePlugin, tenantID: "demo", instanceID: "stripe",
                                                      config: .object(["prices": .object(["price_1DemoPremium": .string("premium")])]),
                                                      secrets: ["signing_secret": signingSecret], services: host.services)
        defer { stripe.destroy() }
        let ingress = IngressServer(
            settings: IngressSettings(host: "127.0.0.1", port: 0),
            catalog: IngressCatalog(tenants: [IngressTenant(id: "demo", instances: [
                IngressInstance(id: "telegram", pluginID: bot.plugin.id, state: .running(bot)),
                IngressInstance(id: "stripe", pluginID: stripePlugin.id, state: .running(stripe)),
            ], unpaidTier: "free")], plugins: [stripePlugin, bot.plugin]),
            store: host.store, readiness: Readiness(waitingFor: []))
        try ingress.start()
        self.ingress = ingress
        let base = "http://127.0.0.1:\(ingress.port)"

        // The chats say /start (the premium one through the website's deep link), then Stripe says u_paid paid.
        XCTAssertEqual(try post(base + "/hooks/demo/telegram", update(1, chat: freeChat, text: "/start"), telegramHeaders).status, 200)
        XCTAssertEqual(try post(base + "/hooks/demo/telegram", update(2, chat: premiumChat, text: "/start \(linkToken("u_paid"))"),
                                telegramHeaders).status, 200)
        for (id, type, object) in [("evt_checkout", "checkout.session.completed",
                                    #"{"id":"cs_1","object":"checkout.session","mode":"subscription","client_reference_id":"u_paid","customer":"cus_clock","subscription":"sub_1","payment_status":"paid"}"#),
                                   ("evt_created", "customer.subscription.created",
                                    #"{"id":"sub_1","object":"subscription","customer":"cus_clock","status":"active","current_period_end":\#(Int(t0 / second) + 30 * 86_400),"items":{"object":"list","data":[{"id":"si_1","price":{"id":"price_1DemoPremium"}}]}}"#)] {
            let body = Array(#"{"id":"\#(id)","object":"event","created":\#(Int(Date().timeIntervalSince1970)),"livemode":false,"type":"\#(type)","data":{"object":\#(object)}}"#.utf8)
            let answer = try post(base + "/hooks/demo/stripe", body, ["Stripe-Signature": signature(body)])
            XCTAssertEqual(answer.status, 200, answer.text)
        }
        let subscribers = try host.store.subscribers(tenant: "demo")
        XCTAssertEqual(subscribers.map(\.id).sorted(), ["telegram_chat-\(freeChat)", "u_paid"])
        XCTAssertEqual(subscribers.first { $0.id == "u_paid" }?.tier(atNs: t0, unpaidTier: "free"), "premium")

        var settings = DistributionSettings(dailySummary: DailySummarySettings(enabled: false))
        settings.subscribers = SubscriberDeliverySettings(unpaidTier: "free", channels: [
            SubscriberChannel(channel: "telegram", identityKind: "telegram_chat", targetKey: "chat_id"),
        ])
        let distributor = try host.start(tenant: "demo", settings: settings, channels: ["telegram": bot], rows: [], subscribers: true)
        let signal = Signal(id: "demo:sim:BTC-USDT:60:\(t0 / 1_000_000)", tenant: "demo", venue: "sim", symbol: "BTC-USDT", timeframeSeconds: 60,
                            side: .long, entry: 65012.34, stop: 64890.5, targets: [65100.25, 65200], scaleOut: [0.5, 1], quantity: 0.25,
                            confidence: 0.81, highConfidence: false, votes: [], createdAtNs: t0, expiresAtNs: 0)
        distributor.submit(signal)
        host.advance(toNs: t0)
        XCTAssertEqual(telegram.messages(in: premiumChat).count, 1, "the premium chat has the signal at once")
        XCTAssertTrue(telegram.messages(in: premiumChat).first?.text.contains("Stop 64890.5") ?? false, "\(telegram.messages(in: premiumChat))")
        XCTAssertEqual(telegram.messages(in: freeChat).count, 0)
        host.advance(toNs: t0 + 299 * second)
        XCTAssertEqual(telegram.messages(in: freeChat).count, 0, "nothing for the free chat before 300 s")
        host.advance(toNs: t0 + 300 * second)
        let free = telegram.messages(in: freeChat)
        XCTAssertEqual(free.count, 1, "the free chat has it at 300 s")
        XCTAssertEqual(free.first?.text, "LONG BTC-USDT, \(MessageFields(signal: signal)["time"])")
        let rows = try host.store.outboxEntries(tenant: "demo")
        XCTAssertEqual(Set(rows.map { "\($0.destination) \($0.tier) \($0.state.rawValue) +\(($0.updatedNs - t0) / second)s" }),
                       ["telegram:telegram_chat:\(premiumChat) premium delivered +0s", "telegram:telegram_chat:\(freeChat) free delivered +300s"])
        print("clock: u_paid's chat got the signal at t0 + 0 s (premium), the free chat at t0 + 300 s on the manual clock")
    }

    // MARK: Requests

    private var telegramHeaders: [String: String] { ["X-Telegram-Bot-Api-Secret-Token": webhookSecret, "Content-Type": "application/json"] }

    private func signature(_ body: [UInt8]) -> String {
        WebhookRequests.stripeSignature(body, secret: signingSecret, at: Int(Date().timeIntervalSince1970))
    }

    private func linkToken(_ subscriber: String) -> String { WebhookRequests.linkToken(subscriber, secret: linkSecret) }

    private func update(_ id: Int, chat: Int64, text: String) -> [UInt8] {
        WebhookRequests.telegramUpdate(800_000 + id, chat: chat, text: text, date: Int(t0 / second))
    }

    private func post(_ url: String, _ body: [UInt8], _ headers: [String: String]) throws -> (status: Int, text: String) {
        try client.post(url, body, headers)
    }
}
