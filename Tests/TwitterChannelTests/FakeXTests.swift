import AlphaPlusJSON
import AlphaPlusSDK
import ChannelTwitter
import FakeChannelServers
import XCTest

/// FakeX answers as X documents (channels.md §3): it checks the signature
/// it recomputes, the timestamp and the nonce, and limits and refuses as X.
final class FakeXTests: XCTestCase {
    static let now: Double = 1_700_000_000
    static let account = OAuth1Credentials(consumerKey: "ck", consumerSecret: "cs", accessToken: "at", accessTokenSecret: "ats")

    private func request(_ text: String, url: String = "https://api.x.com/2/tweets", nonce: String = OAuth1.makeNonce(),
                         timestamp: Double = now, credentials: OAuth1Credentials = account, signedURL: String? = nil) throws -> HTTPRequest {
        let authorization = try OAuth1.authorizationHeader(method: "POST", url: signedURL ?? url, credentials: credentials, nonce: nonce,
                                                           timestamp: Int64(timestamp), hmac: OAuth1Tests.hmac)
        return HTTPRequest(method: "POST", url: url,
                           headers: [HTTPHeader("Authorization", authorization), HTTPHeader("Content-Type", "application/json")],
                           body: Array(JSONValue.object(["text": .string(text)]).jsonText.utf8))
    }

    private func json(_ response: HTTPResponse) throws -> JSONValue { try JSONValue(parsing: response.body) }

    private static let unauthorized = JSONValue.object(["title": .string("Unauthorized"), "type": .string("about:blank"),
                                                        "status": .number(401), "detail": .string("Unauthorized")])

    func testAcceptsASignedTweetAndRecordsIt() throws {
        let fake = FakeX(clock: FakeClock(manualSeconds: Self.now), accounts: [Self.account])
        let response = fake.handle(try request("gm"))
        XCTAssertEqual(response.status, 201)
        let id = try XCTUnwrap(fake.accepted.first?.id)
        XCTAssertEqual(try json(response), .object(["data": .object(["id": .string(id), "text": .string("gm")])]))
        XCTAssertEqual(fake.accepted.map(\.text), ["gm"])
        XCTAssertEqual(response.header("x-rate-limit-limit"), "100")
        XCTAssertEqual(response.header("x-rate-limit-remaining"), "99")
        XCTAssertEqual(response.header("x-rate-limit-reset"), "1700000900")
    }

    /// Served on loopback, the fake still checks the signature over X's URL.
    func testChecksTheSignatureOverXsURLWhateverOriginServesIt() throws {
        let fake = FakeX(clock: FakeClock(manualSeconds: Self.now), accounts: [Self.account])
        let loopback = try request("hi", url: "http://127.0.0.1:8123/2/tweets", signedURL: "https://api.x.com/2/tweets")
        XCTAssertEqual(fake.handle(loopback).status, 201)
        let signedForLoopback = try request("hi 2", url: "http://127.0.0.1:8123/2/tweets")
        XCTAssertEqual(fake.handle(signedForLoopback).status, 401)
    }

    func testRefusesBadSignaturesStaleTimestampsReusedNoncesAndStrangers() throws {
        let fake = FakeX(clock: FakeClock(manualSeconds: Self.now), accounts: [Self.account])
        var wrongSecret = Self.account
        wrongSecret.accessTokenSecret = "other"
        var stranger = Self.account
        stranger.consumerKey = "someone-else"
        let refused = [
            try request("a", credentials: wrongSecret),
            try request("b", timestamp: Self.now - 301),
            try request("c", timestamp: Self.now + 301),
            try request("d", credentials: stranger),
            try request("e", url: "https://api.x.com/2/tweets?extra=1", signedURL: "https://api.x.com/2/tweets"),
            HTTPRequest(method: "POST", url: "https://api.x.com/2/tweets", body: Array(#"{"text":"f"}"#.utf8)),
        ]
        for request in refused {
            let response = fake.handle(request)
            XCTAssertEqual(response.status, 401, request.bodyDescription)
            XCTAssertEqual(try json(response), Self.unauthorized)
        }
        let once = try request("g", nonce: "n-1", timestamp: Self.now - 299)
        XCTAssertEqual(fake.handle(once).status, 201)
        XCTAssertEqual(fake.handle(once).status, 401, "a nonce is good once")
        XCTAssertEqual(fake.accepted.map(\.text), ["g"])
    }

    func testRefusesDuplicatesAndOverlongTextsWithXsBodies() throws {
        let fake = FakeX(clock: FakeClock(manualSeconds: Self.now), accounts: [Self.account])
        XCTAssertEqual(fake.handle(try request("same")).status, 201)
        let duplicate = fake.handle(try request("same"))
        XCTAssertEqual(duplicate.status, 403)
        XCTAssertEqual(try json(duplicate)["detail"], .string("You are not allowed to create a Tweet with duplicate content."))
        XCTAssertEqual(duplicate.header("x-rate-limit-remaining"), "98")

        let overlong = fake.handle(try request(String(repeating: "日", count: 141)))
        XCTAssertEqual(overlong.status, 400)
        XCTAssertEqual(try json(overlong)["title"], .string("Invalid Request"))
        XCTAssertEqual(fake.handle(try request(String(repeating: "日", count: 140))).status, 201)
        XCTAssertEqual(fake.accepted.count, 2)
    }

    func testRateLimitsPerWindowWithXsHeadersAndBody() throws {
        let clock = FakeClock(manualSeconds: Self.now)
        let fake = FakeX(clock: clock, accounts: [Self.account], windowLimit: 2, windowSeconds: 900)
        XCTAssertEqual(fake.handle(try request("1")).status, 201)
        clock.advance(by: 10)
        XCTAssertEqual(fake.handle(try request("2", timestamp: clock.now)).header("x-rate-limit-remaining"), "0")
        let limited = fake.handle(try request("3", timestamp: clock.now))
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(try json(limited), .object(["title": .string("Too Many Requests"), "detail": .string("Too Many Requests"),
                                                   "type": .string("about:blank"), "status": .number(429)]))
        XCTAssertEqual(limited.header("x-rate-limit-reset"), "1700000900")
        clock.advance(by: 890)
        XCTAssertEqual(fake.handle(try request("3", timestamp: clock.now)).status, 201)
        XCTAssertEqual(fake.accepted.map(\.text), ["1", "2", "3"])
    }

    func testKnobsServerErrorsAndForcedRateLimits() throws {
        let clock = FakeClock(manualSeconds: Self.now)
        let fake = FakeX(clock: clock, accounts: [Self.account], dailyLimit: 5)
        fake.failNext(2, status: 500)
        XCTAssertEqual(fake.handle(try request("x")).status, 500)
        XCTAssertEqual(fake.handle(try request("x")).status, 500)
        fake.rateLimited(until: Self.now + 30)
        let forced = fake.handle(try request("x"))
        XCTAssertEqual(forced.status, 429)
        XCTAssertEqual(forced.header("x-rate-limit-reset"), "1700000030")
        XCTAssertEqual(forced.header("x-user-limit-24hour-remaining"), "5")
        clock.advance(by: 30)
        let posted = fake.handle(try request("x", timestamp: clock.now))
        XCTAssertEqual(posted.status, 201)
        XCTAssertEqual(posted.header("x-user-limit-24hour-limit"), "5")
        XCTAssertEqual(posted.header("x-user-limit-24hour-remaining"), "4")
        XCTAssertEqual(posted.header("x-user-limit-24hour-reset"), "1700086400")  // the day began with the first authenticated request
    }
}

extension HTTPRequest {
    fileprivate var bodyDescription: String { "\(url) \(String(decoding: body, as: UTF8.self))" }
}
