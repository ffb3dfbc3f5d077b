import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// A webhook plugin that changes subscribers as its requests say:
/// /link/<subscriber>/<chat>, /own/<chat>, /pay/<chat>/<tier>/<asOf>, /unlink/<chat>, /get/<chat>.
final class Subscribing: WebhookPlugin {
    struct Configuration: Decodable {}
    static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test-subscribing", name: "Subscribing", version: "1.0.0", services: [.subscriptions])
    }

    let context: PluginContext
    init(configuration: Configuration, context: PluginContext) throws { self.context = context }

    func handle(_ request: WebhookRequest) throws -> WebhookResponse {
        let parts = request.path.split(separator: "/").map(String.init)
        let chat = SubscriberIdentity.telegramChat(Int64(parts.last!) ?? 0)
        switch parts[0] {
        case "link": return WebhookResponse(text: try context.linkSubscriber(parts[1], to: chat).id)
        case "own": return WebhookResponse(text: try context.linkSubscriber(nil, to: chat).id)
        case "pay":
            let chat = SubscriberIdentity.telegramChat(Int64(parts[1])!)
            let applied = try context.updateSubscription(SubscriptionChange(identity: chat, tier: parts[2], status: "active",
                                                                            asOfNs: Int64(parts[3])!, reference: "evt"))
            return WebhookResponse(text: applied ? "applied" : "ignored")
        case "unlink": return WebhookResponse(text: try context.unlinkSubscriber(chat) ? "unlinked" : "not linked")
        default:
            let subscriber = try context.subscriber(for: chat)
            return WebhookResponse(text: subscriber.map { "\($0.id) \($0.tier) \($0.status)" } ?? "none")
        }
    }
}

/// The same plugin without the subscriptions permission.
final class Unpermitted: WebhookPlugin {
    struct Configuration: Decodable {}
    static var descriptor: PluginDescriptor { PluginDescriptor(id: "com.alphaplus.test-unpermitted", name: "Unpermitted", version: "1.0.0") }
    let context: PluginContext
    init(configuration: Configuration, context: PluginContext) throws { self.context = context }
    func handle(_ request: WebhookRequest) throws -> WebhookResponse {
        WebhookResponse(text: try context.linkSubscriber(nil, to: .telegramChat(1)).id)
    }
}

final class SubscriptionServicesTests: XCTestCase {
    private func text(_ instance: TestInstance, _ path: String) throws -> String {
        String(decoding: try instance.handle(WebhookRequest(method: "POST", path: path)).body, as: UTF8.self)
    }

    func testLinkPayReadAndUnlinkThroughTheTestHost() throws {
        let host = TestHost()
        let instance = try host.load(Subscribing.self).create()
        XCTAssertEqual(try text(instance, "/own/42"), "telegram_chat-42", "an identity alone gets its own subscriber")
        XCTAssertEqual(try text(instance, "/get/42"), "telegram_chat-42 free none")
        XCTAssertEqual(try text(instance, "/pay/42/premium/10"), "applied")
        XCTAssertEqual(try text(instance, "/pay/42/basic/5"), "ignored", "older than the last applied")
        XCTAssertEqual(try text(instance, "/link/u_42/42"), "u_42", "the automatic subscriber merges into the named one")
        XCTAssertEqual(try text(instance, "/get/42"), "u_42 premium active")
        XCTAssertEqual(host.allSubscribers.map(\.id), ["u_42"])
        XCTAssertEqual(try text(instance, "/unlink/42"), "unlinked")
        XCTAssertEqual(try text(instance, "/unlink/42"), "not linked")
        XCTAssertEqual(try text(instance, "/get/42"), "none")
        XCTAssertEqual(host.subscriber(id: "u_42")?.tier, "premium", "the subscriber keeps its subscription")
    }

    func testAnUnknownTierIsRefusedAndAPluginWithoutThePermissionGetsNothing() throws {
        let host = TestHost()
        let instance = try host.load(Subscribing.self).create()
        XCTAssertThrowsError(try instance.handle(WebhookRequest(method: "POST", path: "/pay/42/gold/1"))) {
            XCTAssertEqual(($0 as? PluginError)?.status, ap_status(AP_ERR_INVALID_ARGUMENT), "the host's status reaches the plugin")
        }
        XCTAssertEqual(host.subscriber(for: .telegramChat(42))?.paidTier, nil)
        let unpermitted = try host.load(Unpermitted.self).create()
        XCTAssertThrowsError(try unpermitted.handle(WebhookRequest(method: "POST", path: "/"))) { error in
            XCTAssertTrue("\(error)".contains("the host refused to link telegram_chat 1"), "\(error)")
        }
        XCTAssertTrue(host.allSubscribers.isEmpty)
    }

    func testTheTestHostChangesPlansAndCanRefuseEveryService() throws {
        let host = TestHost()
        let instance = try host.load(Subscribing.self).create()
        XCTAssertEqual(try text(instance, "/own/42"), "telegram_chat-42")
        XCTAssertTrue(try host.updateSubscription(SubscriptionChange(identity: .telegramChat(42), tier: "basic", status: "trialing", asOfNs: 10)))
        XCTAssertFalse(try host.updateSubscription(SubscriptionChange(identity: .telegramChat(42), tier: "premium", asOfNs: 5)), "older")
        XCTAssertThrowsError(try host.updateSubscription(SubscriptionChange(identity: .telegramChat(42), status: "lapsed", asOfNs: 20))) {
            XCTAssertEqual(($0 as? PluginError)?.status, ap_status(AP_ERR_INVALID_ARGUMENT))
        }
        XCTAssertEqual(try text(instance, "/get/42"), "telegram_chat-42 basic trialing")

        host.subscriptionServicesRefusal = ap_status(AP_ERR_UNAVAILABLE)
        let before = (host.allSubscribers, host.subscriptions.history)
        for path in ["/own/43", "/link/u_1/42", "/pay/42/premium/30", "/unlink/42", "/get/42"] {
            XCTAssertThrowsError(try instance.handle(WebhookRequest(method: "POST", path: path)), path) {
                XCTAssertEqual(($0 as? PluginError)?.status, ap_status(AP_ERR_UNAVAILABLE), path)
            }
        }
        XCTAssertEqual(host.allSubscribers, before.0)
        XCTAssertEqual(host.subscriptions.history, before.1)
        host.subscriptionServicesRefusal = nil
        XCTAssertEqual(try text(instance, "/get/42"), "telegram_chat-42 basic trialing")
    }
}
