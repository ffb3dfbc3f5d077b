import AlphaPlusJSON
import AlphaPlusSDKTesting
import ChannelTelegram
import XCTest

/// The Telegram plugin's webhook side: Telegram POSTs updates, the bot
/// answers its chats' commands by linking them to the tenant's subscribers
/// and replies with a sendMessage call in the webhook's answer.
final class TelegramWebhookTests: XCTestCase {
    static let webhookSecret = "tg_webhook-Secret_0123456789"
    static let linkSecret = "link-secret-for-tests-0123456789"
    static let config = #"{"bot_username": "AlphaSignalsBot", "checkout_url": "https://buy.stripe.com/test_5kA9Bc"}"#
    static let secrets = ["webhook_secret": webhookSecret, "link_secret": linkSecret]
    /// Computed with the Python snippet in docs/OPERATIONS.md (see
    /// crosscheck_link_token.py): cust_001's token, and web-5's, whose
    /// signature itself has a "-".
    static let custToken = "cust_001-lOCaLi46FaK_jsJCMeAv_w"
    static let webToken = "web-5-87c9Vl-s0Qq1f24kDumxqg"

    /// JSON text as the plugin writes it (the SDK's writer escapes a line break as \u000a).
    static let helpText = #"Commands:\u000a/start - receive this bot's messages\u000a/subscribe - a link to subscribe\u000a/status - your tier and subscription\u000a/stop - receive nothing more\u000a/help - this list"#

    private func bot(config: String = TelegramWebhookTests.config, secrets: [String: String] = TelegramWebhookTests.secrets) throws -> (host: TestHost, instance: TestInstance) {
        let host = TestHost(secrets: secrets)
        return (host, try host.load(TelegramChannel.self).create(config: config, tenant: "acme", instance: "telegram"))
    }

    /// A text message as Telegram sends it (channels.md §2).
    static func update(_ id: Int64, chat: Int64 = 42, type: String = "private", text: String) -> String {
        let name = type == "private" ? #""first_name":"A","username":"a""# : #""title":"Signals""#
        return #"{"update_id":\#(id),"message":{"message_id":\#(id),"from":{"id":7,"is_bot":false,"first_name":"A"},"chat":{"id":\#(chat),\#(name),"type":"\#(type)"},"date":1700000000,"text":\#(JSONValue.string(text).jsonText)}}"#
    }

    private func post(_ instance: TestInstance, _ body: String, token: String? = TelegramWebhookTests.webhookSecret, method: String = "POST") throws -> WebhookResponse {
        var headers = [(name: "Content-Type", value: "application/json")]
        if let token { headers.append((name: "X-Telegram-Bot-Api-Secret-Token", value: token)) }
        return try instance.handle(WebhookRequest(method: method, path: "", headers: headers, body: Array(body.utf8), requestID: "req-17"))
    }

    private func body(_ response: WebhookResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    private func assertReply(_ response: WebhookResponse, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 200, body(response), file: file, line: line)
        XCTAssertEqual(response.headers.map(\.name), ["Content-Type"], file: file, line: line)
        XCTAssertEqual(response.headers.first?.value, "application/json", file: file, line: line)
        XCTAssertEqual(body(response), expected, file: file, line: line)
    }

    private func assertNoReply(_ response: WebhookResponse, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(response.status, 200, file: file, line: line)
        XCTAssertEqual(body(response), "", file: file, line: line)
    }

    /// What a request must leave alone when it is refused.
    struct Snapshot: Equatable {
        var subscribers: [Subscriber]
        var history: [String]
        var state: [String: [UInt8]]
    }

    private func snapshot(_ host: TestHost, _ instance: TestInstance) -> Snapshot {
        Snapshot(subscribers: host.allSubscribers, history: host.subscriptions.history, state: host.state(of: instance))
    }

    func testDescriptorOffersTheWebhookAndAsksForSubscriptions() throws {
        let host = TestHost()
        let plugin = try host.load(TelegramChannel.self)
        XCTAssertEqual(Set(plugin.capabilities), ["ap.channel.v1", "ap.rate-limits.v1", "ap.webhook.v1"])
        XCTAssertEqual(plugin.services, [.subscriptions])
        XCTAssertNoThrow(try plugin.create(config: "{}"), "the channel's settings alone stay valid")
        XCTAssertNoThrow(try plugin.create(config: #"{"checkout_url": "https://buy.stripe.com/x?prefilled_email=a%40b.c"}"#))
        let refused: [(String, String)] = [
            (#"{"bot_username": "@AlphaSignalsBot"}"#, "bot_username"),
            (#"{"bot_username": "ab"}"#, "bot_username"),
            (#"{"checkout_url": "http://buy.stripe.com/x"}"#, "checkout_url"),
            (#"{"checkout_url": "https://buy.stripe.com/x#pay"}"#, "checkout_url': 'https://buy.stripe.com/x#pay' has a fragment"),
            (#"{"checkout_url": "https://buy.stripe.com/a b"}"#, "checkout_url': 'https://buy.stripe.com/a b' has white space"),
            (#"{"checkout_url": "https:///path"}"#, "is not an https URL with a host"),
        ]
        for (config, expected) in refused {
            XCTAssertThrowsError(try plugin.create(config: config), config) { error in
                XCTAssertEqual((error as? PluginError)?.status, ap_status(AP_ERR_INVALID_CONFIG), config)
                XCTAssertTrue("\(error)".contains(expected), "\(config): \(error)")
            }
        }
    }

    func testMissingOrWrongSecretTokenIsRefusedWith401() throws {
        let (host, instance) = try bot()
        let before = snapshot(host, instance)
        let start = Self.update(1, text: "/start")
        let attempts: [(String?, String)] = [(nil, "missing"), ("wrong", "wrong"), (Self.webhookSecret + "x", "wrong"), (String(Self.webhookSecret.dropLast()), "wrong"), ("", "wrong")]
        for (token, expected) in attempts {
            let response = try post(instance, start, token: token)
            XCTAssertEqual(response.status, 401, "token \(token ?? "nil")")
            XCTAssertEqual(body(response), #"{"error":"\#(expected) X-Telegram-Bot-Api-Secret-Token"}"#)
            XCTAssertEqual(host.logs.last?.message, "webhook request req-17: \(expected == "missing" ? "no X-Telegram-Bot-Api-Secret-Token header" : "wrong X-Telegram-Bot-Api-Secret-Token"); refused (401)")
        }
        XCTAssertEqual(snapshot(host, instance), before)
        XCTAssertFalse(host.logs.contains { $0.message.contains(Self.webhookSecret) }, "the secret is never logged")
    }

    func testWithoutAUsableWebhookSecretEveryRequestIs503() throws {
        let unusable: [([String: String], String)] = [([:], "secret webhook_secret is not configured"),
                                  (["webhook_secret": "has spaces in it"], "is not a secret_token setWebhook accepts"),
                                  (["webhook_secret": String(repeating: "a", count: 257)], "is not a secret_token setWebhook accepts")]
        for (secrets, logged) in unusable {
            let (host, instance) = try bot(secrets: secrets)
            let before = snapshot(host, instance)
            let requests: [(String?, String)] = [(secrets["webhook_secret"], "POST"), (nil, "POST"), (nil, "GET")]
            for (token, method) in requests {
                let response = try post(instance, Self.update(1, text: "/start"), token: token, method: method)
                XCTAssertEqual(response.status, 503)
                XCTAssertEqual(body(response), #"{"error":"the webhook is not configured"}"#)
                XCTAssertEqual(host.logs.last?.level, .error)
                XCTAssertTrue(host.logs.last?.message.hasPrefix("webhook request req-17: ") ?? false)
                XCTAssertTrue(host.logs.last?.message.contains(logged) ?? false, host.logs.last?.message ?? "")
            }
            XCTAssertEqual(snapshot(host, instance), before)
        }
    }

    func testOnlyPostIsAllowed() throws {
        let (host, instance) = try bot()
        let before = snapshot(host, instance)
        let response = try post(instance, Self.update(1, text: "/start"), method: "GET")
        XCTAssertEqual(response.status, 405)
        XCTAssertEqual(response.headers.first { $0.name == "Allow" }?.value, "POST")
        XCTAssertEqual(body(response), #"{"error":"method GET is not allowed: Telegram POSTs updates"}"#)
        XCTAssertEqual(snapshot(host, instance), before)
    }

    func testBodiesThatAreNotUpdatesAre400NamingTheField() throws {
        let (host, instance) = try bot()
        let before = snapshot(host, instance)
        let cases: [(String, String)] = [
            ("not json", "the body is not JSON: line 1, column 1: "),
            ("", "the body is not JSON"),
            ("[1]", "the body is not a JSON object (an update)"),
            (#"{"message": {"text": "/start", "chat": {"id": 42, "type": "private"}}}"#, "update_id is missing"),
            (#"{"update_id": "1", "message": {}}"#, #"update_id is not an integer: "1""#),
            (#"{"update_id": 1.5}"#, "update_id is not an integer: 1.5"),
            (#"{"update_id": 1e300}"#, "update_id is not an integer"),
            (#"{"update_id": 1, "message": 5}"#, "message is not an object"),
            (#"{"update_id": 1, "message": {"text": 5, "chat": {"id": 42, "type": "private"}}}"#, "message.text is not a string"),
            (#"{"update_id": 1, "message": {"text": "/start"}}"#, "message.chat is missing or not an object"),
            (#"{"update_id": 1, "message": {"text": "/start", "chat": {"type": "private"}}}"#, "message.chat.id is missing"),
            (#"{"update_id": 1, "message": {"text": "/start", "chat": {"id": "42", "type": "private"}}}"#, "message.chat.id is not an integer"),
            (#"{"update_id": 1, "message": {"text": "/start", "chat": {"id": 0, "type": "private"}}}"#, "message.chat.id is 0"),
            (#"{"update_id": 1, "message": {"text": "/start", "chat": {"id": 42}}}"#, "message.chat.type is missing or not a string"),
        ]
        let notUTF8 = Array(#"{"update_id": 1, "message": {"text": "/start "#.utf8) + [0xFF] + Array(#"", "chat": {"id": 42, "type": "private"}}}"#.utf8)
        let response = try instance.handle(WebhookRequest(method: "POST", path: "", headers: [("X-Telegram-Bot-Api-Secret-Token", Self.webhookSecret)],
                                                          body: notUTF8, requestID: "req-17"))
        XCTAssertEqual(response.status, 400)
        XCTAssertEqual(body(response), #"{"error":"the body is not JSON: it is not valid UTF-8"}"#)
        for (update, expected) in cases {
            let response = try post(instance, update)
            XCTAssertEqual(response.status, 400, update)
            guard case .string(let message)? = try JSONValue(parsing: response.body)["error"] else {
                XCTFail("\(update): no error in \(body(response))")
                continue
            }
            XCTAssertTrue(message.hasPrefix(expected), "\(update): \(message)")
            XCTAssertEqual(host.logs.last?.message, "webhook request req-17: not an update: \(message) (400)")
        }
        XCTAssertEqual(snapshot(host, instance), before)
    }

    func testUpdatesWithoutATextMessageAreIgnored() throws {
        let (host, instance) = try bot()
        let before = snapshot(host, instance)
        let updates = [
            #"{"update_id": 1, "edited_message": {"message_id": 1, "chat": {"id": 42, "type": "private"}, "text": "/start"}}"#,
            #"{"update_id": 2, "channel_post": {"message_id": 1, "chat": {"id": -1001, "type": "channel"}, "text": "/start"}}"#,
            #"{"update_id": 3, "callback_query": {"id": "9", "from": {"id": 42}, "data": "x"}}"#,
            #"{"update_id": 4, "message": {"message_id": 1, "chat": {"id": 42, "type": "private"}, "photo": []}}"#,
            #"{"update_id": 5, "message": {"message_id": 1, "text": null}}"#,
            #"{"update_id": 6}"#,
        ]
        for update in updates { assertNoReply(try post(instance, update)) }
        XCTAssertEqual(snapshot(host, instance), before)
    }

    func testStartLinksThePrivateChatAndWelcomesWithItsTier() throws {
        let (host, instance) = try bot()
        assertReply(try post(instance, Self.update(100_001, text: "/start")),
                    #"{"method":"sendMessage","chat_id":42,"text":"Welcome! This chat receives the free tier.\u000a\u000a\#(Self.helpText)"}"#)
        let subscriber = try XCTUnwrap(host.subscriber(for: .telegramChat(42)))
        XCTAssertEqual(subscriber.id, "telegram_chat-42")
        XCTAssertEqual(subscriber.identities, [.telegramChat(42)])
        XCTAssertEqual(host.subscriptions.history, ["linked telegram_chat 42 to telegram_chat-42"])
    }

    func testDuplicateUpdateIDHasOneEffect() throws {
        let (host, instance) = try bot()
        XCTAssertEqual(try post(instance, Self.update(7, text: "/start")).status, 200)
        let afterFirst = snapshot(host, instance)
        assertNoReply(try post(instance, Self.update(7, text: "/start")))
        // The same id again, even with another command: Telegram's redelivery of update 7.
        assertNoReply(try post(instance, Self.update(7, text: "/stop")))
        XCTAssertEqual(snapshot(host, instance), afterFirst)
        XCTAssertNotNil(host.subscriber(for: .telegramChat(42)), "the resent /stop did not unlink")
        XCTAssertEqual(host.subscriptions.history.count, 1)
        XCTAssertEqual(host.state(of: instance)["webhook:seen_update_ids"], [7, 0, 0, 0, 0, 0, 0, 0], "8 bytes per id, little-endian")
    }

    func testTheSeenWindowKeepsTheLast1000UpdatesThatLinkedOrUnlinked() throws {
        let (host, instance) = try bot()
        for id in Int64(1)...1001 { XCTAssertEqual(try post(instance, Self.update(id, text: "/stop")).status, 200) }
        let stored = try XCTUnwrap(host.state(of: instance)["webhook:seen_update_ids"])
        XCTAssertEqual(stored.count, 8000)
        XCTAssertEqual(Array(stored.prefix(8)), [2, 0, 0, 0, 0, 0, 0, 0], "the oldest, update 1, went out")
        XCTAssertEqual(Array(stored.suffix(8)), [0xE9, 0x03, 0, 0, 0, 0, 0, 0], "update 1001 is the newest")
        assertNoReply(try post(instance, Self.update(2, text: "/stop")))
        assertNoReply(try post(instance, Self.update(1001, text: "/stop")))
        // Update 1 is forgotten, so it is new although lower than the highest
        // (Telegram picks a new start for its ids after a quiet week).
        XCTAssertFalse(try post(instance, Self.update(1, text: "/stop")).body.isEmpty)
    }

    func testHelpUnknownCommandsAndPlainTextInAPrivateChatListTheCommands() throws {
        let (host, instance) = try bot()
        let help = #"{"method":"sendMessage","chat_id":42,"text":"\#(Self.helpText)"}"#
        for (id, text) in [(1, "/help"), (2, "/HELP"), (3, "/frobnicate now"), (4, "hello bot"), (5, "/help@SomeOtherBot")] {
            assertReply(try post(instance, Self.update(Int64(id), text: text)), help)
        }
        XCTAssertEqual(host.allSubscribers, [])
        XCTAssertEqual(host.state(of: instance), [:], "replies that change nothing are not remembered")
    }

    func testGroupCommandsAnsweredOnlyWhenAddressedToThisBot() throws {
        let (host, instance) = try bot()
        let group: Int64 = -1_001_234_567_890
        for (id, text) in [(1, "/start@OtherBot"), (2, "hello everyone"), (3, "/frobnicate"), (4, "/status@OtherBot"), (5, "/start@")] {
            assertNoReply(try post(instance, Self.update(Int64(id), chat: group, type: "supergroup", text: text)))
        }
        XCTAssertEqual(host.allSubscribers, [])
        assertReply(try post(instance, Self.update(6, chat: group, type: "supergroup", text: "/start@alphasignalsBOT")),
                    #"{"method":"sendMessage","chat_id":-1001234567890,"text":"Welcome! This chat receives the free tier.\u000a\u000a\#(Self.helpText)"}"#)
        XCTAssertEqual(host.subscriber(for: .telegramChat(group))?.id, "telegram_chat--1001234567890")
        assertReply(try post(instance, Self.update(7, chat: -555, type: "group", text: "/status")),
                    #"{"method":"sendMessage","chat_id":-555,"text":"This chat is not subscribed — /start to join."}"#)
        assertReply(try post(instance, Self.update(8, chat: -555, type: "group", text: "/frobnicate@AlphaSignalsBot")),
                    #"{"method":"sendMessage","chat_id":-555,"text":"\#(Self.helpText)"}"#)

        let (anonymousHost, anonymous) = try bot(config: "{}")
        assertNoReply(try post(anonymous, Self.update(1, chat: group, type: "supergroup", text: "/start@AlphaSignalsBot")))
        XCTAssertEqual(anonymousHost.allSubscribers, [], "without bot_username no named bot is this one")
    }

    func testDeepLinkLinksTheChatToTheSignedSubscriber() throws {
        let (host, instance) = try bot()
        let linked = #"{"method":"sendMessage","chat_id":42,"text":"Linked: this chat now receives your subscription's free tier. /status shows it."}"#
        assertReply(try post(instance, Self.update(1, text: "/start \(Self.custToken)")), linked)
        XCTAssertEqual(host.subscriber(for: .telegramChat(42))?.id, "cust_001")
        assertReply(try post(instance, Self.update(2, chat: 43, text: "/start \(Self.webToken)")), linked.replacingOccurrences(of: "42", with: "43"))
        XCTAssertEqual(host.subscriber(for: .telegramChat(43))?.id, "web-5", "a signature with a '-' is found by its length")
        XCTAssertEqual(host.subscriptions.history, ["linked telegram_chat 42 to cust_001", "linked telegram_chat 43 to web-5"])
    }

    func testTamperedUnsignedOrOverLongDeepLinksAreRefused() throws {
        let refusedReply = #"{"method":"sendMessage","chat_id":42,"text":"This link is not valid. Ask for a new one, or send /start to join without it."}"#
        let tampered = [
            "cust_001-lOCaLi46FaK_jsJCMeAv_x",  // one character of the signature
            "cust_002-lOCaLi46FaK_jsJCMeAv_w",  // another subscriber, cust_001's signature
            "cust_001",  // unsigned
            "cust_001-",
            "cust_001-lOCaLi46FaK_jsJCMeAv_",  // 21 characters of signature
            "cust_001lOCaLi46FaK_jsJCMeAv_w",  // no '-' before the signature
            "-lOCaLi46FaK_jsJCMeAv_w",  // no subscriber id
            String(repeating: "a", count: 42) + "-lOCaLi46FaK_jsJCMeAv_w",  // 65 characters
            "cust_001-lOCaLi46FaK_jsJCMeAv_w extra",
            "cust.001-lOCaLi46FaK_jsJCMeAv_w",
        ]
        let (host, instance) = try bot()
        let before = snapshot(host, instance)
        for (index, token) in tampered.enumerated() {
            assertReply(try post(instance, Self.update(Int64(index + 1), text: "/start \(token)")), refusedReply)
        }
        XCTAssertEqual(snapshot(host, instance), before)
        XCTAssertFalse(host.logs.contains { $0.message.contains("lOCaLi46") }, "tokens are not logged")

        for secrets in [["webhook_secret": Self.webhookSecret], ["webhook_secret": Self.webhookSecret, "link_secret": "short"]] {
            let (unsignedHost, unsigned) = try bot(secrets: secrets)
            let before = snapshot(unsignedHost, unsigned)
            assertReply(try post(unsigned, Self.update(1, text: "/start \(Self.custToken)")), refusedReply)
            XCTAssertEqual(snapshot(unsignedHost, unsigned), before)
            XCTAssertTrue(unsignedHost.logs.last?.message.contains("a deep link was refused: secret link_secret is") ?? false)
        }
    }

    func testSubscribeAnswersTheCheckoutLinkForTheChatsSubscriber() throws {
        let (host, instance) = try bot()
        assertReply(try post(instance, Self.update(1, text: "/subscribe")),
                    #"{"method":"sendMessage","chat_id":42,"text":"Subscribe here: https://buy.stripe.com/test_5kA9Bc?client_reference_id=telegram_chat-42\u000aOnce paid, /status shows your subscription."}"#)
        XCTAssertEqual(host.subscriber(for: .telegramChat(42))?.id, "telegram_chat-42", "linked to its own subscriber first")

        assertReply(try post(instance, Self.update(2, chat: 43, text: "/start \(Self.custToken)")),
                    #"{"method":"sendMessage","chat_id":43,"text":"Linked: this chat now receives your subscription's free tier. /status shows it."}"#)
        assertReply(try post(instance, Self.update(3, chat: 43, text: "/subscribe")),
                    #"{"method":"sendMessage","chat_id":43,"text":"Subscribe here: https://buy.stripe.com/test_5kA9Bc?client_reference_id=cust_001\u000aOnce paid, /status shows your subscription."}"#)

        let (_, withQuery) = try bot(config: #"{"checkout_url": "https://buy.stripe.com/test_5kA9Bc?prefilled_promo_code=WINTER"}"#)
        assertReply(try post(withQuery, Self.update(1, text: "/subscribe")),
                    #"{"method":"sendMessage","chat_id":42,"text":"Subscribe here: https://buy.stripe.com/test_5kA9Bc?prefilled_promo_code=WINTER&client_reference_id=telegram_chat-42\u000aOnce paid, /status shows your subscription."}"#)
    }

    func testSubscribeWithoutCheckoutURLSaysSubscriptionsAreNotAvailable() throws {
        let (host, instance) = try bot(config: #"{"bot_username": "AlphaSignalsBot"}"#)
        let before = snapshot(host, instance)
        assertReply(try post(instance, Self.update(1, text: "/subscribe")),
                    #"{"method":"sendMessage","chat_id":42,"text":"Subscriptions are not available here."}"#)
        XCTAssertEqual(snapshot(host, instance), before)
    }

    func testStatusOfAPayingChatAndOfAFreeChat() throws {
        let (host, instance) = try bot()
        assertReply(try post(instance, Self.update(1, text: "/status")),
                    #"{"method":"sendMessage","chat_id":42,"text":"This chat is not subscribed — /start to join."}"#)
        XCTAssertEqual(try post(instance, Self.update(2, text: "/start")).status, 200)
        XCTAssertEqual(try post(instance, Self.update(3, chat: 43, text: "/start")).status, 200)
        // Chat 42 pays, as a payment plugin would record it (2026-12-21T23:30:00Z).
        XCTAssertTrue(try host.updateSubscription(SubscriptionChange(identity: .telegramChat(42), tier: "premium", status: "active",
                                                                      periodEndNs: 1_797_895_800_000_000_000, asOfNs: host.nowNs)))
        assertReply(try post(instance, Self.update(4, text: "/status")),
                    #"{"method":"sendMessage","chat_id":42,"text":"Tier: premium\u000aSubscription: active\u000aRenewal date: 2026-12-21 (UTC)"}"#)
        assertReply(try post(instance, Self.update(5, chat: 43, text: "/status")),
                    #"{"method":"sendMessage","chat_id":43,"text":"Tier: free\u000aSubscription: none"}"#)
    }

    func testStopUnlinksAndStatusThenSaysNotSubscribed() throws {
        let (host, instance) = try bot()
        XCTAssertEqual(try post(instance, Self.update(1, text: "/start")).status, 200)
        assertReply(try post(instance, Self.update(2, text: "/stop")),
                    #"{"method":"sendMessage","chat_id":42,"text":"Stopped: this chat receives nothing more. Send /start to come back (or open your subscription's link again)."}"#)
        XCTAssertNil(host.subscriber(for: .telegramChat(42)))
        assertReply(try post(instance, Self.update(3, text: "/status")),
                    #"{"method":"sendMessage","chat_id":42,"text":"This chat is not subscribed — /start to join."}"#)
        assertReply(try post(instance, Self.update(4, text: "/stop")),
                    #"{"method":"sendMessage","chat_id":42,"text":"This chat was not subscribed. Send /start to join."}"#)
        XCTAssertEqual(host.subscriptions.history, ["linked telegram_chat 42 to telegram_chat-42", "unlinked telegram_chat 42 from telegram_chat-42"])
    }

    func testAHostRefusalAnswers500AndTheUpdateIsNotMarkedSeen() throws {
        let (host, instance) = try bot()
        host.subscriptionServicesRefusal = ap_status(AP_ERR_UNAVAILABLE)
        let before = snapshot(host, instance)
        for text in ["/start", "/start \(Self.custToken)", "/subscribe", "/status", "/stop"] {
            let response = try post(instance, Self.update(9, text: text))
            XCTAssertEqual(response.status, 500, text)
            XCTAssertEqual(body(response), #"{"error":"the host refused a subscription service; try again later"}"#)
            XCTAssertEqual(host.logs.last?.level, .error)
            XCTAssertTrue(host.logs.last?.message.hasPrefix("webhook request req-17: update 9: the host refused") ?? false, host.logs.last?.message ?? "")
        }
        XCTAssertEqual(snapshot(host, instance), before)

        host.subscriptionServicesRefusal = nil
        assertReply(try post(instance, Self.update(9, text: "/start")),
                    #"{"method":"sendMessage","chat_id":42,"text":"Welcome! This chat receives the free tier.\u000a\u000a\#(Self.helpText)"}"#)
        XCTAssertNotNil(host.subscriber(for: .telegramChat(42)))
    }
}
