import AlphaPlusJSON
import AlphaPlusSDKTesting
import ChannelTelegram
import FakeChannelServers
import XCTest

final class TelegramChannelTests: XCTestCase {
    let token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_x-y"
    let text = "LONG BTC-USDT (1m) @ 65000.5! Stop: 64,000 [-1.5%] *premium* _tier_ #signal > x = y | {z} ~w~ `c` \\ end."

    private func setUp(config: String = "{}", secret: String? = nil, intercept: ((HTTPRequest) -> Result<HTTPResponse, PluginError>?)? = nil)
        throws -> (host: TestHost, instance: TestInstance, fake: FakeTelegram) {
        let host = TestHost(secrets: ["bot_token": secret ?? token])
        let fakeClock = clock(of: host)
        let fake = FakeTelegram(token: token, clock: fakeClock)
        fake.addChat(42, type: .private)
        fake.addChat(-555, type: .group)
        fake.addChat(-1_001_234_567_890, type: .supergroup, username: "AlphaPlus_Signals")
        connect(host, to: fake, clock: fakeClock, intercept: intercept)
        return (host, try host.load(TelegramChannel.self).create(config: config), fake)
    }

    private func delivery(_ key: String = "k1", chat: String = "42", text: String? = nil,
                          payload: String = #"{"title": "LONG BTC-USDT 1m"}"#) -> Delivery {
        Delivery(idempotencyKey: key, targetJSON: #"{"chat_id": \#(chat)}"#, text: text ?? self.text, payloadJSON: payload)
    }

    func testDescriptorAndRateLimitsPerBotChatAndGroup() throws {
        let (host, instance, _) = try setUp()
        let plugin = try host.load(TelegramChannel.self)
        XCTAssertEqual(plugin.id, "com.alphaplus.channel-telegram")
        XCTAssertEqual(plugin.networkHosts, ["api.telegram.org"])
        XCTAssertEqual(Set(plugin.capabilities), ["ap.channel.v1", "ap.rate-limits.v1", "ap.webhook.v1"])
        XCTAssertThrowsError(try plugin.create(config: #"{"parse_mode": "Markdown"}"#))

        let bot = RateLimit(bucket: "bot", capacity: 30, windowMs: 1000)
        XCTAssertEqual(try instance.rateLimits(forTarget: #"{"chat_id": 42}"#), [bot, RateLimit(bucket: "chat:42", capacity: 1, windowMs: 1000)])
        XCTAssertEqual(try instance.rateLimits(forTarget: #"{"chat_id": -1001234567890}"#), [
            bot, RateLimit(bucket: "chat:-1001234567890", capacity: 1, windowMs: 1000),
            RateLimit(bucket: "chat:-1001234567890:minute", capacity: 20, windowMs: 60_000),
        ])
        XCTAssertEqual(try instance.rateLimits(forTarget: #"{"chat_id": "@AlphaPlus_Signals"}"#), [
            bot, RateLimit(bucket: "chat:@alphaplus_signals", capacity: 1, windowMs: 1000),
            RateLimit(bucket: "chat:@alphaplus_signals:minute", capacity: 20, windowMs: 60_000),
        ])
        let invalid: [(String, String)] = [
            (#"{"chat": 42}"#, "has no chat_id"),
            (#"{"chat_id": 4.5}"#, "chat_id 4.5 is not a chat"),
            (#"{"chat_id": "@a b"}"#, "is not a channel username"),
            (#"{"chat_id": "forty-two"}"#, "neither an integer nor an @username"),
            (#"{"chat_id": 99999999999999999999}"#, "is not a chat"),
        ]
        for (target, expected) in invalid {
            XCTAssertThrowsError(try instance.rateLimits(forTarget: target), target) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(target): \(error)")
            }
        }
    }

    func testSendsEscapedMarkdownV2ThatShowsTheTextExactly() throws {
        let (host, instance, fake) = try setUp()
        let result = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(result.outcome, .delivered, result.reason)
        XCTAssertEqual(result.externalID, "1")
        XCTAssertEqual(result.pauseDestinationMs, 0)
        let message = try XCTUnwrap(fake.messages(in: 42).first)
        XCTAssertEqual(message.text, text, "every reserved character arrives as itself")
        XCTAssertEqual(message.parseMode, "MarkdownV2")
        XCTAssertTrue(message.linkPreviewDisabled)
        XCTAssertFalse(message.disableNotification)

        let request = try XCTUnwrap(host.httpRequests.first)
        XCTAssertEqual(request.url, "https://api.telegram.org/bot\(token)/sendMessage")
        XCTAssertEqual(request.header("Content-Type"), "application/json")
        let body = try jsonBody(request)
        XCTAssertEqual(body["chat_id"], .number(42))
        XCTAssertEqual(body["link_preview_options"], .object(["is_disabled": .bool(true)]))
        XCTAssertNil(body["disable_notification"])
    }

    func testHTMLPlainTitlesUsernamesAndSilentMessages() throws {
        for mode in ["HTML", "none"] {
            let (_, instance, fake) = try setUp(config: #"{"parse_mode": "\#(mode)", "disable_notification": true}"#)
            let awkward = text + " <b>not bold</b> & &amp; done"
            XCTAssertEqual(try instance.deliver(delivery(text: awkward))?.outcome, .delivered, mode)
            let message = try XCTUnwrap(fake.messages.first)
            XCTAssertEqual(message.text, awkward, mode)
            XCTAssertEqual(message.parseMode, mode == "none" ? nil : mode)
            XCTAssertTrue(message.disableNotification)
        }
        for mode in ["MarkdownV2", "HTML"] {
            let (_, instance, fake) = try setUp(config: #"{"parse_mode": "\#(mode)", "show_title": true}"#)
            XCTAssertEqual(try instance.deliver(delivery(chat: #""@alphaplus_signals""#, text: "Entry 65000.5",
                                                         payload: #"{"title": "LONG BTC-USDT (1m)"}"#))?.outcome, .delivered)
            let message = try XCTUnwrap(fake.messages(in: -1_001_234_567_890).first)
            XCTAssertEqual(message.text, "LONG BTC-USDT (1m)\nEntry 65000.5", mode)
            XCTAssertTrue(message.sentText.hasPrefix(mode == "HTML" ? "<b>LONG" : "*LONG"), message.sentText)
        }
    }

    func testFloodControlIsHonouredExactly() throws {
        let (host, instance, fake) = try setUp()
        fake.floodWait(until: Double(host.nowNs) / 1e9 + 7.2)
        let limited = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(limited.outcome, .retry)
        XCTAssertEqual(limited.retryAfterMs, 8000, "parameters.retry_after 8 (whole seconds)")
        XCTAssertEqual(limited.pauseDestinationMs, 8000)
        XCTAssertTrue(limited.reason.contains("Too Many Requests: retry after 8"), limited.reason)
        host.advance(seconds: 8)
        XCTAssertEqual(try instance.deliver(delivery())?.outcome, .delivered)

        // One message a second per chat: the next one at once is told to wait.
        let tooSoon = try XCTUnwrap(try instance.deliver(delivery("k2")))
        XCTAssertEqual(tooSoon.outcome, .retry)
        XCTAssertEqual(tooSoon.retryAfterMs, 1000)
        host.advance(seconds: 1)
        XCTAssertEqual(try instance.deliver(delivery("k2"))?.outcome, .delivered)
        XCTAssertEqual(fake.messages.map(\.messageID), [1, 2])
    }

    func testServerErrorsAndTransportFailuresAreRetried() throws {
        let (host, instance, fake) = try setUp()
        fake.failNext(1, status: 502)
        let failed = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(failed.outcome, .retry)
        XCTAssertEqual(failed.retryAfterMs, 0)
        XCTAssertTrue(failed.reason.contains("Telegram answered 502"), failed.reason)
        XCTAssertEqual(try instance.deliver(delivery())?.outcome, .delivered)

        host.httpHandler = { request in .failure(PluginError(status: ap_status(AP_ERR_TIMEOUT), "timed out: POST \(request.url)")) }
        let timedOut = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(timedOut.outcome, .retry)
        XCTAssertEqual(timedOut.reason, "the request to Telegram failed: timed out: POST https://api.telegram.org/bot<bot_token>/sendMessage")
    }

    func testAnUpgradedGroupMovesTheTargetAndTheMessageIsResent() throws {
        let (host, instance, fake) = try setUp()
        fake.upgradeToSupergroup(-555, newID: -1_009_876_543_210)
        let moved = try XCTUnwrap(try instance.deliver(delivery(chat: "-555")))
        XCTAssertEqual(moved.outcome, .retry)
        XCTAssertEqual(moved.retryAfterMs, 0)
        XCTAssertEqual(moved.updatedTargetJSON, #"{"chat_id":-1009876543210}"#)
        XCTAssertTrue(moved.reason.contains("upgraded to a supergroup") && moved.reason.contains("-1009876543210"), moved.reason)
        // The host stores the new target and re-sends with it.
        let resent = Delivery(idempotencyKey: "k1", attempt: 2, targetJSON: moved.updatedTargetJSON, text: text)
        XCTAssertEqual(try instance.deliver(resent)?.outcome, .delivered)
        XCTAssertEqual(fake.messages(in: -1_009_876_543_210).map(\.text), [text])
        XCTAssertTrue(fake.messages(in: -555).isEmpty)
        XCTAssertEqual(try instance.rateLimits(forTarget: moved.updatedTargetJSON).last?.bucket, "chat:-1009876543210:minute")
        XCTAssertTrue(host.state(of: instance).isEmpty)
    }

    func testBlockedKickedAndUnknownChatsAreGone() throws {
        let (host, instance, fake) = try setUp()
        fake.blockBot(in: 42)
        fake.blockBot(in: -555)
        let blocked = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(blocked.outcome, .destinationGone)
        XCTAssertEqual(blocked.reason, "Telegram answered 403: Forbidden: bot was blocked by the user")
        let kicked = try XCTUnwrap(try instance.deliver(delivery(chat: "-555")))
        XCTAssertEqual(kicked.outcome, .destinationGone)
        XCTAssertTrue(kicked.reason.contains("bot was kicked from the group chat"), kicked.reason)
        let unknown = try XCTUnwrap(try instance.deliver(delivery(chat: "777")))
        XCTAssertEqual(unknown.outcome, .destinationGone)
        XCTAssertEqual(unknown.reason, "Telegram answered 400: Bad Request: chat not found")
        XCTAssertTrue(host.logs.contains { $0.level == .warning && $0.message.hasPrefix("chat 42: ") })
        XCTAssertTrue(fake.messages.isEmpty)
    }

    func testOtherRefusalsArePermanentAndAWrongTokenIsNamedNotShown() throws {
        let description = "Bad Request: message thread not found"
        let (_, instance, _) = try setUp { _ in
            .success(HTTPResponse(status: 400, body: Array(#"{"ok":false,"error_code":400,"description":"\#(description)"}"#.utf8)))
        }
        let refused = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(refused.outcome, .permanentFailure)
        XCTAssertEqual(refused.reason, "Telegram refused the message (400): \(description)")

        let wrong = "987654321:ZZZdqTcvCH1vGWJxfSeofSAs0K5PALDsaw_x-y"
        let (host, other, fake) = try setUp(secret: wrong + "\n")
        let unauthorized = try XCTUnwrap(try other.deliver(delivery()))
        XCTAssertEqual(unauthorized.outcome, .permanentFailure)
        XCTAssertEqual(unauthorized.reason, "Telegram refused the bot token (401 Unauthorized): check secret bot_token")
        XCTAssertTrue(fake.messages.isEmpty)
        for line in host.everythingReported { XCTAssertFalse(line.contains(wrong) || line.contains(token), line) }
    }

    func testDeliveriesThePluginCannotMakeFailWithoutARequest() throws {
        let (host, instance, _) = try setUp(config: #"{"show_title": true}"#)
        let cases: [(Delivery, String)] = [
            (delivery(chat: #""nobody""#), "neither an integer nor an @username"),
            (delivery(text: " \n\t", payload: "{}"), "the message is empty"),
            (delivery(payload: "{"), "the payload is not JSON"),
        ]
        for (delivery, expected) in cases {
            let result = try XCTUnwrap(try instance.deliver(delivery))
            XCTAssertEqual(result.outcome, .permanentFailure)
            XCTAssertTrue(result.reason.contains(expected), "expected '\(expected)' in: \(result.reason)")
        }
        XCTAssertTrue(host.httpRequests.isEmpty)

        for (secret, expected) in [("", "is not a bot token"), ("not-a-token", "is not a bot token"), ("12:ab/cd", "is not a bot token")] {
            let (otherHost, other, _) = try setUp(secret: secret)
            let result = try XCTUnwrap(try other.deliver(delivery()))
            XCTAssertEqual(result.outcome, .permanentFailure)
            XCTAssertTrue(result.reason.contains("secret bot_token \(expected)"), result.reason)
            XCTAssertTrue(otherHost.httpRequests.isEmpty)
        }
        let bare = TestHost()
        bare.httpHandler = { _ in .failure(.unavailable("unused")) }
        let missing = try XCTUnwrap(try bare.load(TelegramChannel.self).create().deliver(delivery()))
        XCTAssertEqual(missing.reason, "secret bot_token is not set: it must hold the bot's token from @BotFather")
    }

    // MARK: Long messages

    /// About 11,000 UTF-16 units of lines full of reserved characters and
    /// emoji: three parts or more once escaped.
    private func longText() -> String {
        (1...160).map { "Line \($0): BTC-USDT (1m) → 65000.5! [tp=66,000] _x_ *y* 😀👍🏽 日本語 \\ end." }.joined(separator: "\n")
    }

    func testALongMessageArrivesInOrderInPartsOneSecondApart() throws {
        let (host, instance, fake) = try setUp()
        let long = longText()
        XCTAssertNil(try instance.deliver(delivery(text: long)), "the later parts wait for their second")
        XCTAssertEqual(fake.messages.count, 1)
        host.advance(seconds: 10)
        let result = try XCTUnwrap(host.completions.last?.result)
        XCTAssertEqual(result.outcome, .delivered, result.reason)
        let parts = fake.messages(in: 42)
        XCTAssertGreaterThanOrEqual(parts.count, 3)
        XCTAssertEqual(result.externalID, parts.map { String($0.messageID) }.joined(separator: ","))
        XCTAssertEqual(result.pauseDestinationMs, 1000, "no next message within the chat's second")
        for (index, part) in parts.enumerated() {
            XCTAssertLessThanOrEqual(part.sentText.utf16.count, 4096)
            if index > 0 { XCTAssertEqual(part.time - parts[index - 1].time, 1, accuracy: 1e-3) }
            if index < parts.count - 1 { XCTAssertTrue(long.contains(part.text + "\n"), "part \(index) ends at a line break") }
        }
        XCTAssertEqual(parts.map(\.text).joined(separator: "\n"), long, "cut at line breaks, nothing lost or repeated")
        XCTAssertTrue(host.state(of: instance).isEmpty, "no progress is kept once delivered")
    }

    func testAFailedSecondPartIsRetriedWithoutResendingTheFirst() throws {
        var sendMessageCalls = 0
        let (host, instance, fake) = try setUp { _ in
            sendMessageCalls += 1
            return sendMessageCalls == 2 ? .failure(.unavailable("connection reset")) : nil
        }
        let long = longText()
        XCTAssertNil(try instance.deliver(delivery(text: long)))
        host.advance(seconds: 1)
        let failed = try XCTUnwrap(host.completions.last?.result)
        XCTAssertEqual(failed.outcome, .retry)
        XCTAssertTrue(failed.reason.hasPrefix("part 2 of "), failed.reason)
        XCTAssertEqual(fake.messages.count, 1)
        XCTAssertEqual(host.state(of: instance).count, 1, "part 1 is recorded as sent")

        // The host's retry: the same idempotency key, a later attempt.
        host.advance(seconds: 5)
        let retry = Delivery(idempotencyKey: "k1", attempt: 2, targetJSON: #"{"chat_id": 42}"#, text: long)
        XCTAssertNil(try instance.deliver(retry))
        host.advance(seconds: 10)
        let delivered = try XCTUnwrap(host.completions.last?.result)
        XCTAssertEqual(delivered.outcome, .delivered, delivered.reason)
        let parts = fake.messages(in: 42)
        XCTAssertEqual(parts.map(\.text).joined(separator: "\n"), long, "every part once, in order")
        XCTAssertEqual(delivered.externalID, parts.map { String($0.messageID) }.joined(separator: ","))
        XCTAssertEqual(parts.first?.messageID, 1)
        XCTAssertTrue(host.logs.contains { $0.message.contains("resuming a split message at part 2") })
        XCTAssertTrue(host.state(of: instance).isEmpty)
    }

    func testAFloodWaitBetweenPartsResumesAfterTheWait() throws {
        let (host, instance, fake) = try setUp()
        XCTAssertNil(try instance.deliver(delivery(text: longText())))
        fake.floodWait(until: Double(host.nowNs) / 1e9 + 30)
        host.advance(seconds: 1)
        let limited = try XCTUnwrap(host.completions.last?.result)
        XCTAssertEqual(limited.outcome, .retry)
        XCTAssertEqual(limited.retryAfterMs, 29_000)
        host.advance(seconds: 29)
        XCTAssertNil(try instance.deliver(Delivery(idempotencyKey: "k1", attempt: 2, targetJSON: #"{"chat_id": 42}"#, text: longText())))
        host.advance(seconds: 10)
        XCTAssertEqual(host.completions.last?.result.outcome, .delivered)
        XCTAssertEqual(fake.messages.map(\.text).joined(separator: "\n"), longText())
    }
}
