import AlphaPlusJSON
import AlphaPlusSDK
import Distribution
import FakeChannelServers
import Foundation
import HTTPClient
import SharedTestData
import Store
import Trading
import XCTest

/// Issue 6's "done when", on `alphaplus run`: a signed Stripe event sent to
/// the running host makes a subscriber premium, and the next demo signal
/// reaches that subscriber's Telegram chat at once, while a free chat's copy
/// waits the free tier's 300 s. Forged and malformed requests to the same
/// host change nothing.
final class SubscriptionEndToEndTests: XCTestCase {
    private var folder: URL!
    private var servers: [LoopbackServer] = []
    private var hosts: [HostProcess] = []
    private let client = HTTPClient()

    override func setUpWithError() throws { folder = try temporaryFolder("e2e-subscriptions") }

    override func tearDown() {
        hosts.forEach { $0.end() }
        servers.forEach { $0.stop() }
        client.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }

    private let signingSecret = "whsec_e2e_\(UUID().uuidString.replacingOccurrences(of: "-", with: ""))"
    private let webhookSecret = "tg-hook-\(UUID().uuidString)"
    private let linkSecret = "link-\(UUID().uuidString)"
    private let adminToken = "admin-\(UUID().uuidString)"
    private let premiumChat: Int64 = 5_000_001
    private let freeChat: Int64 = 5_000_002

    func testASignedStripeEventMakesAChatPremiumAndTheNextSignalReachesItAtOnce() throws {
        let telegram = FakeTelegram(token: "7300000009:AAHe2eTestToken_\(UUID().uuidString.prefix(8))")
        servers.append(try LoopbackServer(telegram))
        for chat in [premiumChat, freeChat] { telegram.addChat(chat, type: .private) }
        telegram.addChat(-1001000000001, type: .supergroup)
        telegram.addChat(-1001000000002, type: .channel, username: "alphaplus_demo_free")

        let config = try writeHostConfig(in: folder, overrides: ["https://api.telegram.org": servers[0]], adminToken: "${env:E2E_ADMIN_TOKEN}")
        _ = try demoCopy(in: folder, promptSignals)
        let environment = ["DEMO_TELEGRAM_BOT_TOKEN": telegram.token, "DEMO_TELEGRAM_WEBHOOK_SECRET": webhookSecret,
                           "DEMO_TELEGRAM_LINK_SECRET": linkSecret, "DEMO_STRIPE_SIGNING_SECRET": signingSecret,
                           "E2E_ADMIN_TOKEN": adminToken]
        let host = try HostProcess(["run", "--config", config.path, "--duration", "260"], environment: environment, in: folder)
        hosts.append(host)
        let base = try XCTUnwrap(listeningBase(of: host), "the host did not listen: \(host.err.suffix(2000))")
        let store = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: { 0 })

        // Bad input first: none of it may change anything.
        let body = try event("evt_forged", "customer.subscription.created", subscription(status: "active"))
        XCTAssertEqual(try post(base + "/hooks/demo/stripe", body, ["Stripe-Signature": "t=\(now()),v1=\(String(repeating: "0", count: 64))"]).status, 400)
        XCTAssertEqual(try post(base + "/hooks/demo/stripe", body, ["Stripe-Signature": signature(body, secret: "whsec_wrong")]).status, 400)
        XCTAssertEqual(try post(base + "/hooks/demo/stripe", body, ["Stripe-Signature": signature(body, at: now() - 301)]).status, 400)
        XCTAssertEqual(try post(base + "/hooks/demo/stripe", body, [:]).status, 400)
        XCTAssertEqual(try post(base + "/hooks/demo/stripe", body + [0x20], ["Stripe-Signature": signature(body)]).status, 400, "a tampered body")
        XCTAssertEqual(try post(base + "/hooks/demo/telegram", update(1, chat: premiumChat, text: "/start"),
                                ["X-Telegram-Bot-Api-Secret-Token": "wrong"]).status, 401)
        XCTAssertEqual(try post(base + "/hooks/nobody/stripe", body, ["Stripe-Signature": signature(body)]).status, 404)
        XCTAssertEqual(try post(base + "/hooks/demo/nothing", body, ["Stripe-Signature": signature(body)]).status, 404)
        XCTAssertEqual(try get(base + "/admin/v1/tenants/demo/subscribers", token: nil).status, 401)
        XCTAssertEqual(try get(base + "/admin/v1/tenants/demo/subscribers", token: "wrong").status, 401)
        XCTAssertEqual(try store.subscribers(tenant: "demo"), [], "a refused request changed a subscriber")

        // A free chat says /start; the paying customer's chat follows the deep link from the website.
        let freeAnswer = try post(base + "/hooks/demo/telegram", update(2, chat: freeChat, text: "/start"), telegramHeaders)
        XCTAssertEqual(freeAnswer.status, 200)
        XCTAssertTrue(freeAnswer.text.contains(#""chat_id":\#(freeChat)"#), freeAnswer.text)
        XCTAssertEqual(try post(base + "/hooks/demo/telegram", update(3, chat: premiumChat, text: "/start \(linkToken("u_paid"))"),
                                telegramHeaders).status, 200)
        // The checkout names u_paid; the subscription's price is the premium one.
        for (id, type, object) in [("evt_checkout", "checkout.session.completed", checkout()),
                                   ("evt_created", "customer.subscription.created", subscription(status: "active"))] {
            let body = try event(id, type, object)
            let answer = try post(base + "/hooks/demo/stripe", body, ["Stripe-Signature": signature(body)])
            XCTAssertEqual(answer.status, 200, answer.text)
        }
        let again = try event("evt_created", "customer.subscription.created", subscription(status: "active"))
        XCTAssertEqual(try post(base + "/hooks/demo/stripe", again, ["Stripe-Signature": signature(again)]).status, 200, "a duplicate")

        let listed = try get(base + "/admin/v1/tenants/demo/subscribers", token: adminToken)
        XCTAssertEqual(listed.status, 200, listed.text)
        let subscribers = try JSONValue(parsing: listed.text)
        guard case .array(let items)? = subscribers["subscribers"] else { return XCTFail("no subscribers in \(listed.text)") }
        let paid = try XCTUnwrap(items.first { $0["id"] == .string("u_paid") }, listed.text)
        XCTAssertEqual(paid["tier"], .string("premium"), listed.text)
        XCTAssertEqual(paid["status"], .string("active"), listed.text)
        let history = try store.history(tenant: "demo", subscriber: "u_paid")
        XCTAssertEqual(history.filter { $0.reference == "evt_created" }.count, 1, "the duplicate had no effect: \(history)")

        // The next signal after the change: premium at once to u_paid's chat, free 300 s later to the other.
        // (Signals are timed by their candle, so the first one fanned out to the premium chat as premium is "the next".)
        var premiumRow: OutboxEntry?
        XCTAssertTrue(try eventually(timeout: 180, interval: 0.5) {
            premiumRow = try store.outboxEntries(tenant: "demo").filter {
                $0.kind == .signal && $0.destination == "telegram:telegram_chat:\(premiumChat)" && $0.tier == "premium"
            }.min { $0.id < $1.id }
            return premiumRow != nil || !host.process.isRunning
        }, "no signal reached the premium chat's destination within 180 s")
        let premium = try XCTUnwrap(premiumRow, "no premium signal row: \(host.err.suffix(2000))")
        let next = try XCTUnwrap(try store.signals(tenant: "demo", limit: 500).items.first { $0.id == premium.subject })
        XCTAssertTrue(eventually(timeout: 15) { telegram.messages(in: self.premiumChat).contains { $0.text == premium.text } },
                      "the premium chat did not get the signal")
        let rows = try store.outboxEntries(tenant: "demo").filter { $0.subject == next.id && $0.kind == .signal }
        let premiumRow2 = try XCTUnwrap(rows.first { $0.destination == "telegram:telegram_chat:\(premiumChat)" }, "\(rows.map(\.destination))")
        let freeRow = try XCTUnwrap(rows.first { $0.destination == "telegram:telegram_chat:\(freeChat)" }, "\(rows.map(\.destination))")
        // The fake has the message a moment before the host records the platform's answer.
        XCTAssertTrue(try eventually(timeout: 15) {
            try store.outboxEntries(tenant: "demo").first { $0.id == premiumRow2.id }?.state == .delivered
        }, "the premium row was not recorded as delivered: \(premiumRow2.state)")
        XCTAssertEqual(premiumRow2.notBeforeNs, next.createdAtNs)
        XCTAssertEqual(freeRow.tier, "free")
        XCTAssertEqual(freeRow.notBeforeNs, next.createdAtNs + 300_000_000_000)
        XCTAssertFalse(telegram.messages(in: freeChat).contains { $0.text == freeRow.text }, "the free copy came early")
        host.send(SIGTERM)
        XCTAssertEqual(host.wait(timeout: 30), 0, host.err.suffix(2000).description)
        let output = host.out + host.err
        for secret in [signingSecret, webhookSecret, linkSecret, adminToken, telegram.token] {
            XCTAssertFalse(output.contains(secret), "a secret is in the host's output")
        }
        print("e2e: signal \(next.id): premium chat \(premiumChat) got it \(String(format: "%.1f", Double(premiumRow2.updatedNs - next.createdAtNs) / 1e9)) s after it was made; "
              + "the free chat's copy is due at +300 s (\(freeRow.state.rawValue)); subscriber u_paid: \(paid["tier"]?.jsonText ?? "?")")
    }

    // MARK: Requests

    private var telegramHeaders: [String: String] { ["X-Telegram-Bot-Api-Secret-Token": webhookSecret, "Content-Type": "application/json"] }

    private func now() -> Int { Int(Date().timeIntervalSince1970) }

    private func signature(_ body: [UInt8], at time: Int? = nil, secret: String? = nil) -> String {
        WebhookRequests.stripeSignature(body, secret: secret ?? signingSecret, at: time ?? now())
    }

    private func linkToken(_ subscriber: String) -> String { WebhookRequests.linkToken(subscriber, secret: linkSecret) }

    private func event(_ id: String, _ type: String, _ object: String) throws -> [UInt8] {
        Array(#"{"id":"\#(id)","object":"event","api_version":"2024-06-20","created":\#(now()),"livemode":false,"pending_webhooks":1,"type":"\#(type)","data":{"object":\#(object)}}"#.utf8)
    }

    private func checkout() -> String {
        #"{"id":"cs_e2e","object":"checkout.session","mode":"subscription","client_reference_id":"u_paid","customer":"cus_e2e","subscription":"sub_e2e","payment_status":"paid"}"#
    }

    private func subscription(status: String) -> String {
        #"{"id":"sub_e2e","object":"subscription","customer":"cus_e2e","status":"\#(status)","current_period_end":\#(now() + 30 * 86_400),"items":{"object":"list","data":[{"id":"si_e2e","price":{"id":"price_1DemoPremium"}}]}}"#
    }

    private func update(_ id: Int, chat: Int64, text: String) -> [UInt8] {
        WebhookRequests.telegramUpdate(900_000 + id, chat: chat, text: text, date: now())
    }

    private func post(_ url: String, _ body: [UInt8], _ headers: [String: String]) throws -> (status: Int, text: String) {
        try client.post(url, body, headers)
    }

    private func get(_ url: String, token: String?) throws -> (status: Int, text: String) {
        try client.answer(HTTPRequest(method: "GET", url: url, headers: token.map { [HTTPHeader("Authorization", "Bearer \($0)")] } ?? [],
                                      timeoutMs: 10_000))
    }
}
