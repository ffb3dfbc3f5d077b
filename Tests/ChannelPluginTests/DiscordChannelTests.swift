import AlphaPlusJSON
import AlphaPlusSDKTesting
import ChannelDiscord
import FakeChannelServers
import XCTest

final class DiscordChannelTests: XCTestCase {
    let target = #"{"webhook": "signals"}"#
    let payload = """
        {"title": "LONG BTC-USDT 1m", "color": "green",
         "fields": [{"name": "Entry", "value": "65000.5", "inline": true}, {"name": "Stop", "value": "64000", "inline": true}],
         "footer": "AlphaPlus · premium", "timestamp": "2026-11-21T10:00:00Z", "url": "https://alphaplus.example/s/1"}
        """

    /// A host with the Discord plugin, a fake Discord and one webhook whose
    /// URL (in the form the Discord app hands out) is secret `webhook_signals`.
    private func setUp(config: String = "{}", bucketLimit: Int = 5) throws
        -> (host: TestHost, instance: TestInstance, fake: FakeDiscord, webhook: FakeDiscord.Webhook) {
        let host = TestHost()
        let fakeClock = clock(of: host)
        let fake = FakeDiscord(clock: fakeClock, bucketLimit: bucketLimit)
        let webhook = fake.createWebhook()
        host.secrets = ["webhook_signals": webhook.url]
        connect(host, to: fake, clock: fakeClock)
        let plugin = try host.load(DiscordChannel.self)
        return (host, try plugin.create(config: config), fake, webhook)
    }

    private func delivery(_ key: String = "k1", text: String = "BTC long at 65000.5", payload: String? = nil,
                          target: String? = nil) -> Delivery {
        Delivery(idempotencyKey: key, targetJSON: target ?? self.target, text: text, payloadJSON: payload ?? self.payload)
    }

    func testDescriptorDeclaresDiscordAndTheRateLimitCapability() throws {
        let plugin = try TestHost().load(DiscordChannel.self)
        XCTAssertEqual(plugin.id, "com.alphaplus.channel-discord")
        XCTAssertEqual(plugin.networkHosts, ["discord.com"])
        XCTAssertEqual(Set(plugin.capabilities), ["ap.channel.v1", "ap.rate-limits.v1"])
        XCTAssertThrowsError(try plugin.create(config: #"{"format": "rich"}"#))
        XCTAssertThrowsError(try plugin.create(config: #"{"username": "Discord Bot"}"#)) { error in
            XCTAssertTrue("\(error)".contains("containing \"discord\""), "\(error)")
        }
    }

    func testRateLimitsArePerWebhookAndShared() throws {
        let (host, instance, _, webhook) = try setUp()
        XCTAssertEqual(try instance.rateLimits(forTarget: target), [
            RateLimit(bucket: "webhook:\(webhook.id)", capacity: 5, windowMs: 2000),
            RateLimit(bucket: "global", capacity: 50, windowMs: 1000),
        ])
        XCTAssertThrowsError(try instance.rateLimits(forTarget: #"{"webhook": "alerts"}"#)) { error in
            XCTAssertTrue("\(error)".contains("secret webhook_alerts is not set"), "\(error)")
        }
        XCTAssertThrowsError(try instance.rateLimits(forTarget: #"{"channel": 1}"#)) { error in
            XCTAssertTrue("\(error)".contains(#"expected {"webhook": "<name>"}"#), "\(error)")
        }
        XCTAssertTrue(host.httpRequests.isEmpty)
    }

    func testDeliversAnEmbedToV10AndReturnsTheMessageID() throws {
        let (host, instance, fake, webhook) = try setUp()
        let result = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(result.outcome, .delivered, result.reason)
        let message = try XCTUnwrap(fake.messages.first)
        XCTAssertEqual(fake.messages.count, 1)
        XCTAssertEqual(result.externalID, message.id)
        XCTAssertEqual(result.pauseDestinationMs, 0, "4 of 5 left in the bucket")

        let request = try XCTUnwrap(host.httpRequests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.url, "https://discord.com/api/v10/webhooks/\(webhook.id)/\(webhook.token)?wait=true")
        XCTAssertEqual(request.header("Content-Type"), "application/json")
        XCTAssertEqual(request.header("User-Agent"), "DiscordBot (https://github.com/alphaplus, 1.0.0)")
        XCTAssertEqual(message.apiVersion, "v10")
        XCTAssertEqual(message.allowedMentions, .object(["parse": .array([])]), "mentions are off by default")
        XCTAssertNil(message.content)
        XCTAssertEqual(message.embeds, [.object([
            "title": .string("LONG BTC-USDT 1m"),
            "description": .string("BTC long at 65000.5"),
            "url": .string("https://alphaplus.example/s/1"),
            "timestamp": .string("2026-11-21T10:00:00Z"),
            "color": .number(0x2ECC71),
            "footer": .object(["text": .string("AlphaPlus · premium")]),
            "fields": .array([
                .object(["name": .string("Entry"), "value": .string("65000.5"), "inline": .bool(true)]),
                .object(["name": .string("Stop"), "value": .string("64000"), "inline": .bool(true)]),
            ]),
        ])])
    }

    func testTextFormatWithNameAvatarAndMentions() throws {
        let (_, instance, fake, _) = try setUp(config: """
            {"format": "text", "username": "AlphaPlus Signals", "avatar_url": "https://alphaplus.example/a.png", "allow_mentions": true}
            """)
        let long = String(repeating: "ab ", count: 1000) + "@everyone"
        let result = try XCTUnwrap(try instance.deliver(delivery(text: long)))
        XCTAssertEqual(result.outcome, .delivered, result.reason)
        let message = try XCTUnwrap(fake.messages.first)
        XCTAssertTrue(message.embeds.isEmpty)
        XCTAssertEqual(message.content?.unicodeScalars.count, 2000)
        XCTAssertTrue(message.content?.hasSuffix("ab a…") == true, message.content ?? "")
        XCTAssertEqual(message.username, "AlphaPlus Signals")
        XCTAssertEqual(message.avatarURL, "https://alphaplus.example/a.png")
        XCTAssertNil(message.allowedMentions, "allow_mentions: true leaves Discord's default")
    }

    func testTheLastRequestOfABucketPausesTheDestinationAndA429IsHonouredExactly() throws {
        let (host, instance, fake, _) = try setUp()
        for number in 1...4 {
            let result = try XCTUnwrap(try instance.deliver(delivery("k\(number)")))
            XCTAssertEqual(result.outcome, .delivered)
            XCTAssertEqual(result.pauseDestinationMs, 0)
        }
        host.advance(seconds: 0.5)
        let fifth = try XCTUnwrap(try instance.deliver(delivery("k5")))
        XCTAssertEqual(fifth.outcome, .delivered)
        XCTAssertEqual(fifth.pauseDestinationMs, 1500, "X-RateLimit-Remaining 0, Reset-After 1.500")

        host.advance(seconds: 0.25)
        let sixth = try XCTUnwrap(try instance.deliver(delivery("k6")))
        XCTAssertEqual(sixth.outcome, .retry)
        XCTAssertEqual(sixth.retryAfterMs, 1250, "the body's retry_after 1.25 s")
        XCTAssertEqual(sixth.pauseDestinationMs, 1250)
        XCTAssertTrue(sixth.reason.contains("429, scope user") && !sixth.reason.contains("global"), sixth.reason)
        XCTAssertEqual(fake.messages.count, 5)

        host.advance(seconds: 1.25)
        XCTAssertEqual(try instance.deliver(delivery("k6"))?.outcome, .delivered, "the bucket reset exactly when Discord said")

        // A 429 to the millisecond, and a global one.
        fake.rateLimit(until: Double(host.nowNs) / 1e9 + 64.57)
        let limited = try XCTUnwrap(try instance.deliver(delivery("k7")))
        XCTAssertEqual(limited.outcome, .retry)
        XCTAssertEqual(limited.retryAfterMs, 64570)
        fake.rateLimit(until: Double(host.nowNs) / 1e9 + 0.1, global: true)
        let global = try XCTUnwrap(try instance.deliver(delivery("k7")))
        XCTAssertEqual(global.retryAfterMs, 100)
        XCTAssertTrue(global.reason.contains("global"), global.reason)
        host.advance(seconds: 0.1)
        XCTAssertEqual(try instance.deliver(delivery("k7"))?.outcome, .delivered)
        XCTAssertEqual(fake.messages.count, 7, "nothing lost, nothing doubled")
    }

    func testA429WithOnlyTheHeaderUsesRetryAfter() throws {
        let host = TestHost(secrets: ["webhook_signals": "https://discord.com/api/webhooks/1/tok"])
        host.httpHandler = { _ in .success(HTTPResponse(status: 429, headers: [HTTPHeader("Retry-After", "3")])) }
        let instance = try host.load(DiscordChannel.self).create()
        let result = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(result.outcome, .retry)
        XCTAssertEqual(result.retryAfterMs, 3000)
    }

    func testServerErrorsAndTransportFailuresAreRetriedWithTheHostsBackoff() throws {
        let (host, instance, fake, webhook) = try setUp()
        fake.failNext(2, status: 502)
        for _ in 1...2 {
            let result = try XCTUnwrap(try instance.deliver(delivery()))
            XCTAssertEqual(result.outcome, .retry)
            XCTAssertEqual(result.retryAfterMs, 0)
            XCTAssertTrue(result.reason.contains("Discord answered 502"), result.reason)
        }
        XCTAssertEqual(try instance.deliver(delivery())?.outcome, .delivered)
        XCTAssertEqual(fake.messages.count, 1)

        host.httpHandler = { request in .failure(PluginError(status: ap_status(AP_ERR_TIMEOUT), "timed out after 30 s: POST \(request.url)")) }
        let timedOut = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(timedOut.outcome, .retry)
        XCTAssertTrue(timedOut.reason.contains("timed out after 30 s"), timedOut.reason)
        XCTAssertFalse(timedOut.reason.contains(webhook.token), "the token is redacted: \(timedOut.reason)")
        XCTAssertTrue(timedOut.reason.contains("<token>"), timedOut.reason)
    }

    func testADeletedWebhookOrAWrongTokenIsGone() throws {
        let (host, instance, fake, webhook) = try setUp()
        fake.deleteWebhook(id: webhook.id)
        let deleted = try XCTUnwrap(try instance.deliver(delivery()))
        XCTAssertEqual(deleted.outcome, .destinationGone)
        XCTAssertTrue(deleted.reason.contains("404 Unknown Webhook (code 10015)"), deleted.reason)
        XCTAssertTrue(deleted.reason.contains("secret webhook_signals"), deleted.reason)
        XCTAssertTrue(host.logs.contains { $0.level == .warning && $0.message.contains("webhook 'signals'") })

        let other = fake.createWebhook()
        let wrongToken = String(other.token.reversed())
        host.secrets = ["webhook_signals": "https://discord.com/api/webhooks/\(other.id)/\(wrongToken)"]
        let second = try host.load(DiscordChannel.self).create()
        let refused = try XCTUnwrap(try second.deliver(delivery()))
        XCTAssertEqual(refused.outcome, .destinationGone)
        XCTAssertTrue(refused.reason.contains("401 Invalid Webhook Token (code 50027)"), refused.reason)
        XCTAssertFalse(refused.reason.contains(wrongToken))
        XCTAssertTrue(fake.messages.isEmpty)
    }

    func testAFormErrorIsAPermanentFailureNamingDiscordsPath() throws {
        let (_, instance, fake, _) = try setUp()
        let result = try XCTUnwrap(try instance.deliver(delivery(payload: #"{"title": "t", "timestamp": "yesterday"}"#)))
        XCTAssertEqual(result.outcome, .permanentFailure)
        XCTAssertTrue(result.reason.contains("400 Invalid Form Body (code 50035)"), result.reason)
        XCTAssertTrue(result.reason.contains("embeds.0.timestamp: Could not parse \"yesterday\". Should be ISO8601. (DATE_TYPE_PARSE)"),
                      result.reason)
        XCTAssertTrue(fake.messages.isEmpty)
    }

    func testDeliveriesThePluginCannotMakeFailPermanentlyWithoutARequest() throws {
        let (host, instance, _, _) = try setUp()
        let cases: [(Delivery, String)] = [
            (delivery(target: #"{"webhook": "alerts"}"#), "secret webhook_alerts is not set"),
            (delivery(target: #"{"webhook": "bad name"}"#), #"expected {"webhook": "<name>"}"#),
            (delivery(target: "nope"), "target nope is not JSON"),
            (delivery(payload: "[1]"), "the payload is not a JSON object"),
            (delivery(payload: "{"), "the payload is not JSON"),
            (delivery(payload: #"{"color": "purple"}"#), "payload.color 'purple' is not green, red, grey"),
            (delivery(payload: #"{"fields": [{"name": "x"}]}"#), "payload.fields[0] needs a string 'name' and a 'value'"),
            (delivery(payload: #"{"url": "javascript:alert(1)"}"#), "payload.url must be an http or https URL"),
            (delivery(text: "  \n ", payload: "{}"), "the message is empty"),
        ]
        for (delivery, expected) in cases {
            let result = try XCTUnwrap(try instance.deliver(delivery))
            XCTAssertEqual(result.outcome, .permanentFailure, expected)
            XCTAssertTrue(result.reason.contains(expected), "expected '\(expected)' in: \(result.reason)")
        }
        XCTAssertTrue(host.httpRequests.isEmpty)

        host.secrets = ["webhook_signals": "https://example.com/api/webhooks/1/secret-token-value"]
        let misconfigured = try host.load(DiscordChannel.self).create()
        let result = try XCTUnwrap(try misconfigured.deliver(delivery()))
        XCTAssertEqual(result.outcome, .permanentFailure)
        XCTAssertTrue(result.reason.hasPrefix("secret webhook_signals is on host 'example.com'"), result.reason)
        XCTAssertFalse(result.reason.contains("secret-token-value"))
    }

    func testNoSecretEverAppearsInALogLineOrAReason() throws {
        let (host, instance, fake, webhook) = try setUp()
        _ = try instance.deliver(delivery())
        fake.failNext(1, status: 500)
        _ = try instance.deliver(delivery())
        fake.rateLimit(until: Double(host.nowNs) / 1e9 + 1)
        _ = try instance.deliver(delivery())
        host.httpHandler = { request in .failure(.unavailable("connection reset by peer while sending to \(request.url)")) }
        _ = try instance.deliver(delivery())
        host.httpHandler = { request in
            .success(HTTPResponse(status: 403, body: Array(#"{"message": "Missing Access for \#(request.url)", "code": 50001}"#.utf8)))
        }
        _ = try instance.deliver(delivery())
        fake.deleteWebhook(id: webhook.id)
        connect(host, to: fake, clock: fake.clock)
        host.advance(seconds: 1)
        _ = try instance.deliver(delivery())
        XCTAssertEqual(host.completions.count, 6)
        XCTAssertEqual(host.completions.last?.result.outcome, .destinationGone)
        XCTAssertEqual(host.completions[4].result.outcome, .permanentFailure, "a 403 is refused for good")
        for line in host.everythingReported {
            XCTAssertFalse(line.contains(webhook.token), "the webhook token leaked: \(line)")
        }
    }
}
