import AlphaPlusJSON
import AlphaPlusSDKTesting
import ChannelTwitter
import FakeChannelServers
import XCTest

/// The plugin through the test host (its HTTP and HMAC services) against
/// FakeX, host clock and fake clock moving together.
final class TwitterChannelTests: XCTestCase {
    static let startSeconds: Int64 = 1_700_000_000
    static let account = OAuth1Credentials(consumerKey: "ck-demo-0001", consumerSecret: "cs-SECRET-consumer-7f3a",
                                           accessToken: "1234-at-demo", accessTokenSecret: "ats-SECRET-token-91bc")
    static var secrets: [String: String] {
        ["consumer_key": account.consumerKey, "consumer_secret": account.consumerSecret,
         "access_token": account.accessToken, "access_token_secret": account.accessTokenSecret]
    }

    private var clock: FakeClock!
    private var host: TestHost!
    private var fake: FakeX!

    private func start(secrets: [String: String] = secrets, config: String = "{}", windowLimit: Int = 100,
                       dailyLimit: Int? = nil) throws -> TestInstance {
        clock = FakeClock(manualSeconds: Double(Self.startSeconds))
        fake = FakeX(clock: clock, accounts: [Self.account], windowLimit: windowLimit, dailyLimit: dailyLimit)
        host = TestHost(nowNs: Self.startSeconds * 1_000_000_000, secrets: secrets)
        host.httpHandler = { [fake] request in .success(fake!.handle(request)) }
        return try host.load(TwitterChannel.self).create(config: config, tenant: "demo", instance: "x-main")
    }

    private func advance(seconds: Int64) {
        host.advance(byNs: seconds * 1_000_000_000)
        clock.advance(by: Double(seconds))
    }

    private func advance(ms: Int64) {
        host.advance(byNs: ms * 1_000_000)
        clock.advance(by: Double(ms) / 1000)
    }

    private func tweet(_ text: String, key: String? = nil, attempt: Int = 1, target: String = "{}") -> Delivery {
        Delivery(idempotencyKey: key ?? "sig-\(text.prefix(24))", attempt: attempt, targetJSON: target, text: text)
    }

    /// Nothing the plugin logged or reported contains a secret value.
    private func assertNoSecretLeaked(file: StaticString = #filePath, line: UInt = #line) {
        let exposed = host.logs.map(\.message) + host.completions.map(\.result.reason)
        for (name, value) in Self.secrets where name != "consumer_key" && name != "access_token" {
            XCTAssertFalse(exposed.contains { $0.contains(value) }, "secret \(name) leaked", file: file, line: line)
        }
        for value in [Self.account.consumerKey, Self.account.accessToken] {
            XCTAssertFalse(exposed.contains { $0.contains(value) }, "credential leaked", file: file, line: line)
        }
    }

    func testPostsATweetSignedForTheAccount() throws {
        let instance = try start()
        let result = try XCTUnwrap(try instance.deliver(tweet("BTC-USDT long at 64,250 🚀 https://example.com/s/1")))
        XCTAssertEqual(result.outcome, .delivered, result.reason)
        XCTAssertEqual(fake.accepted.map(\.text), ["BTC-USDT long at 64,250 🚀 https://example.com/s/1"])
        XCTAssertEqual(result.externalID, fake.accepted[0].id)
        XCTAssertEqual(result.pauseDestinationMs, 0)

        let request = try XCTUnwrap(host.httpRequests.first)
        XCTAssertEqual(request.method, "POST")
        XCTAssertEqual(request.url, "https://api.x.com/2/tweets")
        XCTAssertEqual(request.header("content-type"), "application/json")
        XCTAssertEqual(try JSONValue(parsing: request.body), .object(["text": .string("BTC-USDT long at 64,250 🚀 https://example.com/s/1")]))
        let authorization = try XCTUnwrap(request.header("authorization"))
        XCTAssertTrue(authorization.hasPrefix(#"OAuth oauth_consumer_key="ck-demo-0001", oauth_nonce=""#), authorization)
        XCTAssertTrue(authorization.contains(#"oauth_timestamp="\#(Self.startSeconds)""#), authorization)
        assertNoSecretLeaked()
    }

    func testDeclaresTheTweetsBucketFromItsSettings() throws {
        XCTAssertEqual(try start().rateLimits(forTarget: "{}"), [RateLimit(bucket: "tweets", capacity: 100, windowMs: 900_000)])
        let configured = try start(config: #"{"tweets_per_window": 17, "window_seconds": 86400}"#)
        XCTAssertEqual(try configured.rateLimits(forTarget: "{}"), [RateLimit(bucket: "tweets", capacity: 17, windowMs: 86_400_000)])
        XCTAssertThrowsError(try start(config: #"{"tweets_per_window": 0}"#))
        XCTAssertThrowsError(try configured.rateLimits(forTarget: #"{"chat_id": 5}"#)) { error in
            XCTAssertTrue((error as? PluginError)?.message.contains("target must be {}") ?? false, "\(error)")
        }
    }

    func testATargetWithFieldsFailsPermanently() throws {
        let instance = try start()
        let result = try XCTUnwrap(try instance.deliver(tweet("hello", target: #"{"account": "other"}"#)))
        XCTAssertEqual(result.outcome, .permanentFailure)
        XCTAssertTrue(result.reason.contains("target must be {}") && result.reason.contains("'account'"), result.reason)
        XCTAssertTrue(host.httpRequests.isEmpty)
    }

    func testAnEmptyTextFailsPermanentlyWithoutARequest() throws {
        let result = try XCTUnwrap(try start().deliver(tweet(" \n\u{FEFF}")))
        XCTAssertEqual(result, DeliveryResult(.permanentFailure, reason: "the delivery's text is empty: there is nothing to post"))
        XCTAssertTrue(host.httpRequests.isEmpty)
    }

    func testALongTextIsFittedTo280() throws {
        let instance = try start()
        let text = String(repeating: "長い文章 ", count: 60) + "https://example.com/report"
        let result = try XCTUnwrap(try instance.deliver(tweet(text)))
        XCTAssertEqual(result.outcome, .delivered, result.reason)
        let posted = try XCTUnwrap(fake.accepted.first?.text)
        XCTAssertTrue(posted.hasSuffix("…"))
        XCTAssertLessThanOrEqual(TwitterText.weightedLength(posted), 280)
        XCTAssertTrue(host.logs.contains { $0.message.contains("the text weighs \(TwitterText.weightedLength(text)), cut to") })
    }

    func testDuplicateContentFailsPermanentlyAndIsNeverRetried() throws {
        let instance = try start()
        XCTAssertEqual(try instance.deliver(tweet("same words", key: "a"))?.outcome, .delivered)
        let result = try XCTUnwrap(try instance.deliver(tweet("same words", key: "b")))
        XCTAssertEqual(result.outcome, .permanentFailure)
        XCTAssertTrue(result.reason.hasPrefix("duplicate content"), result.reason)
        XCTAssertEqual(result.retryAfterMs, 0)
        advance(seconds: 60)
        XCTAssertEqual(host.httpRequests.count, 2, "the plugin retries nothing by itself")
        XCTAssertEqual(fake.accepted.count, 1)
        // A later attempt says an earlier one may have posted it.
        let again = try XCTUnwrap(try instance.deliver(tweet("same words", key: "b", attempt: 2)))
        XCTAssertTrue(again.reason.contains("attempt 2, so an earlier attempt whose answer was lost may have posted it"), again.reason)
    }

    func test429WaitsUntilTheWindowResets() throws {
        let instance = try start(windowLimit: 2)
        XCTAssertEqual(try instance.deliver(tweet("one"))?.pauseDestinationMs, 0)
        advance(seconds: 100)
        // The window's last Tweet: delivered, and the destination pauses until the reset.
        let last = try XCTUnwrap(try instance.deliver(tweet("two")))
        XCTAssertEqual(last.outcome, .delivered)
        XCTAssertEqual(last.pauseDestinationMs, 800_000)
        advance(seconds: 200)
        let limited = try XCTUnwrap(try instance.deliver(tweet("three")))
        XCTAssertEqual(limited.outcome, .retry)
        XCTAssertEqual(limited.retryAfterMs, 600_000, limited.reason)
        XCTAssertEqual(limited.pauseDestinationMs, 600_000)
        XCTAssertTrue(limited.reason.contains("HTTP 429: Too Many Requests") && limited.reason.contains("x-rate-limit resets at 1700000900"),
                      limited.reason)
        advance(ms: limited.retryAfterMs - 1000)
        XCTAssertEqual(try instance.deliver(tweet("three"))?.retryAfterMs, 1000)
        advance(ms: 1000)
        XCTAssertEqual(try instance.deliver(tweet("three"))?.outcome, .delivered)
        XCTAssertEqual(fake.accepted.map(\.text), ["one", "two", "three"])
    }

    func test429UntilTheTimeTheFakeIsToldWaitsExactly() throws {
        let instance = try start()
        fake.rateLimited(until: Double(Self.startSeconds) + 61)
        let limited = try XCTUnwrap(try instance.deliver(tweet("later")))
        XCTAssertEqual(limited.outcome, .retry)
        XCTAssertEqual(limited.retryAfterMs, 61_000)
        advance(ms: limited.retryAfterMs)
        XCTAssertEqual(try instance.deliver(tweet("later"))?.outcome, .delivered)
    }

    func testASpentDailyCapWaitsForTheDayNotTheWindow() throws {
        let instance = try start(dailyLimit: 1)
        let first = try XCTUnwrap(try instance.deliver(tweet("first of the day")))
        XCTAssertEqual(first.outcome, .delivered)
        XCTAssertEqual(first.pauseDestinationMs, 86_400_000, "the 24-hour cap is spent")
        advance(seconds: 3600)
        let capped = try XCTUnwrap(try instance.deliver(tweet("second")))
        XCTAssertEqual(capped.outcome, .retry)
        XCTAssertEqual(capped.retryAfterMs, 82_800_000, capped.reason)
        XCTAssertTrue(capped.reason.contains("x-user-limit-24hour resets"), capped.reason)
        advance(ms: capped.retryAfterMs)
        XCTAssertEqual(try instance.deliver(tweet("second"))?.outcome, .delivered)
    }

    func testServerErrorsAndTransportFailuresAreRetried() throws {
        let instance = try start()
        fake.failNext(2, status: 503)
        let first = try XCTUnwrap(try instance.deliver(tweet("hello")))
        XCTAssertEqual(first, DeliveryResult(.retry, reason: "X answered HTTP 503: Service Unavailable"))
        XCTAssertEqual(try instance.deliver(tweet("hello"))?.outcome, .retry)
        XCTAssertEqual(try instance.deliver(tweet("hello"))?.outcome, .delivered)

        host.httpHandler = { _ in .failure(PluginError(status: ap_status(AP_ERR_TIMEOUT), "timed out after 10000 ms")) }
        XCTAssertEqual(try instance.deliver(tweet("again")), DeliveryResult(.retry, reason: "X could not be reached: timed out after 10000 ms"))
    }

    func testRefusedCredentialsFailPermanentlyWithoutShowingThem() throws {
        var wrong = Self.secrets
        wrong["consumer_secret"] = "cs-SECRET-wrong-0000"
        let instance = try start(secrets: wrong)
        let result = try XCTUnwrap(try instance.deliver(tweet("hello")))
        XCTAssertEqual(result.outcome, .permanentFailure)
        XCTAssertTrue(result.reason.hasPrefix("X refused the credentials (HTTP 401: Unauthorized)"), result.reason)
        XCTAssertFalse(result.reason.contains("cs-SECRET-wrong-0000"))
        XCTAssertTrue(fake.accepted.isEmpty)
        assertNoSecretLeaked()
    }

    func testAHostClockMoreThanFiveMinutesOffIsRefused() throws {
        let instance = try start()
        host.advance(byNs: 301 * 1_000_000_000)  // the host's clock only
        let result = try XCTUnwrap(try instance.deliver(tweet("hello")))
        XCTAssertEqual(result.outcome, .permanentFailure)
        XCTAssertTrue(result.reason.contains("host clock"), result.reason)
    }

    func testEveryMissingSecretIsNamedAndNoValueShown() throws {
        for name in TwitterChannel.secretNames {
            var secrets = Self.secrets
            secrets[name] = nil
            XCTAssertThrowsError(try start(secrets: secrets)) { error in
                let message = (error as? PluginError)?.message ?? "\(error)"
                XCTAssertTrue(message.hasPrefix("secret '\(name)' is not set for this instance"), message)
                XCTAssertFalse(Self.secrets.values.contains { message.contains($0) }, message)
            }
            secrets[name] = ""
            XCTAssertThrowsError(try start(secrets: secrets)) { error in
                XCTAssertTrue("\(error)".hasPrefix("secret '\(name)' is empty"), "\(error)")
            }
        }
    }

    func testSecretsNeverAppearInLogsOrReasonsWhateverHappens() throws {
        let instance = try start(windowLimit: 3)
        fake.failNext(1)
        for text in ["a", "a", "b", "b", String(repeating: "long ", count: 100), "c", "d"] {
            _ = try instance.deliver(tweet(text))
        }
        host.httpHandler = { _ in .failure(.unavailable("connection refused")) }
        _ = try instance.deliver(tweet("e"))
        XCTAssertEqual(Set(host.completions.map(\.result.outcome)), [.delivered, .retry, .permanentFailure])
        assertNoSecretLeaked()
    }
}
