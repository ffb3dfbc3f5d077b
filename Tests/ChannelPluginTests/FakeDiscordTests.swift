import AlphaPlusJSON
import AlphaPlusSDK
import FakeChannelServers
import XCTest

/// The fake answers as Discord documents, so that the plugin tests mean
/// something: each limit, code and header checked on raw requests.
final class FakeDiscordTests: XCTestCase {
    private let clock = FakeClock(manualSeconds: 1_700_000_000)

    private func post(_ fake: FakeDiscord, _ webhook: FakeDiscord.Webhook, _ body: String, wait: Bool = true,
                      contentType: String = "application/json") -> (status: Int, json: JSONValue?, response: HTTPResponse) {
        let url = "https://discord.com/api/v10/webhooks/\(webhook.id)/\(webhook.token)" + (wait ? "?wait=true" : "")
        let response = fake.handle(HTTPRequest(method: "POST", url: url, headers: [HTTPHeader("Content-Type", contentType)],
                                               body: Array(body.utf8)))
        return (response.status, try? JSONValue(parsing: response.body), response)
    }

    private func formErrors(_ answer: (status: Int, json: JSONValue?, response: HTTPResponse)) -> JSONValue? {
        XCTAssertEqual(answer.status, 400)
        XCTAssertEqual(answer.json?["code"], .number(50035))
        XCTAssertEqual(answer.json?["message"], .string("Invalid Form Body"))
        return answer.json?["errors"]
    }

    private func maxLength(_ errors: JSONValue?, _ path: [String], _ limit: Int, file: StaticString = #filePath, line: UInt = #line) {
        var node = errors
        for key in path { node = node?[key] }
        XCTAssertEqual(node?["_errors"], .array([.object(["code": .string("BASE_TYPE_MAX_LENGTH"),
                                                          "message": .string("Must be \(limit) or fewer in length.")])]),
                       path.joined(separator: "."), file: file, line: line)
    }

    func testEveryContentAndEmbedLimitIsA50035WithItsPath() {
        let fake = FakeDiscord(clock: clock, bucketLimit: 100)
        let webhook = fake.createWebhook()
        func text(_ count: Int) -> String { String(repeating: "é", count: count) }  // 2 bytes, 1 scalar
        XCTAssertEqual(post(fake, webhook, #"{"content": "\#(text(2000))"}"#).status, 200, "2000 is allowed")
        XCTAssertEqual(post(fake, webhook, #"{"content": "  \#(text(2000))\n"}"#).status, 200, "whitespace is trimmed first")
        maxLength(formErrors(post(fake, webhook, #"{"content": "\#(text(2001))"}"#)), ["content"], 2000)
        maxLength(formErrors(post(fake, webhook, #"{"embeds": [{"title": "\#(text(257))"}]}"#)), ["embeds", "0", "title"], 256)
        maxLength(formErrors(post(fake, webhook, #"{"embeds": [{"title": "a"}, {"description": "\#(text(4097))"}]}"#)),
                  ["embeds", "1", "description"], 4096)
        maxLength(formErrors(post(fake, webhook, #"{"embeds": [{"footer": {"text": "\#(text(2049))"}}]}"#)),
                  ["embeds", "0", "footer", "text"], 2048)
        maxLength(formErrors(post(fake, webhook, #"{"embeds": [{"author": {"name": "\#(text(257))"}}]}"#)),
                  ["embeds", "0", "author", "name"], 256)
        let fields = (0..<26).map { _ in #"{"name": "n", "value": "v"}"# }.joined(separator: ",")
        maxLength(formErrors(post(fake, webhook, #"{"embeds": [{"fields": [\#(fields)]}]}"#)), ["embeds", "0", "fields"], 25)
        maxLength(formErrors(post(fake, webhook, #"{"embeds": [{"fields": [{"name": "\#(text(257))", "value": "v"}]}]}"#)),
                  ["embeds", "0", "fields", "0", "name"], 256)
        maxLength(formErrors(post(fake, webhook, #"{"embeds": [{"fields": [{"name": "n", "value": "\#(text(1025))"}]}]}"#)),
                  ["embeds", "0", "fields", "0", "value"], 1024)
        let required = formErrors(post(fake, webhook, #"{"embeds": [{"fields": [{"name": " ", "value": "v"}]}]}"#))
        XCTAssertEqual(required?["embeds"]?["0"]?["fields"]?["0"]?["name"]?["_errors"]?.jsonText,
                       #"[{"code":"BASE_TYPE_REQUIRED","message":"This field is required"}]"#)
        let embeds = (0..<11).map { _ in #"{"title": "t"}"# }.joined(separator: ",")
        maxLength(formErrors(post(fake, webhook, #"{"embeds": [\#(embeds)]}"#)), ["embeds"], 10)

        // 6000 across embeds: two embeds of 3000 pass, one more scalar does not.
        let atLimit = #"{"embeds": [{"description": "\#(text(3000))"}, {"description": "\#(text(3000))"}]}"#
        XCTAssertEqual(post(fake, webhook, atLimit).status, 200)
        let over = #"{"embeds": [{"description": "\#(text(3000))"}, {"description": "\#(text(3000))", "title": "x"}]}"#
        XCTAssertEqual(formErrors(post(fake, webhook, over))?["embeds"]?["_errors"]?.jsonText,
                       #"[{"code":"MAX_EMBED_SIZE_EXCEEDED","message":"Embed size exceeds maximum size of 6000"}]"#)
        XCTAssertEqual(fake.messages.count, 3)
    }

    func testContentTypeJSONAndEmptyMessages() {
        let fake = FakeDiscord(clock: clock)
        let webhook = fake.createWebhook()
        let wrongType = formErrors(post(fake, webhook, #"{"content": "hi"}"#, contentType: "text/plain"))
        XCTAssertTrue(wrongType?["_errors"]?.jsonText.contains(#""code":"CONTENT_TYPE_INVALID""#) == true, "\(String(describing: wrongType))")
        let invalid = post(fake, webhook, #"{"content": "#)
        XCTAssertEqual(invalid.status, 400)
        XCTAssertEqual(invalid.json?["code"], .number(50109))
        let empty = post(fake, webhook, #"{"content": "   ", "embeds": []}"#)
        XCTAssertEqual(empty.status, 400)
        XCTAssertEqual(empty.json, .object(["message": .string("Cannot send an empty message"), "code": .number(50006)]))
        XCTAssertTrue(fake.messages.isEmpty)
    }

    func testWaitGivesTheMessageElse204() {
        let fake = FakeDiscord(clock: clock)
        let webhook = fake.createWebhook()
        let waited = post(fake, webhook, #"{"content": "one"}"#)
        XCTAssertEqual(waited.status, 200)
        XCTAssertEqual(waited.json?["id"], .string(fake.messages[0].id))
        XCTAssertEqual(waited.json?["content"], .string("one"))
        let unwaited = post(fake, webhook, #"{"content": "two"}"#, wait: false)
        XCTAssertEqual(unwaited.status, 204)
        XCTAssertTrue(unwaited.response.body.isEmpty)
        XCTAssertEqual(fake.messages.map(\.content), ["one", "two"])
        XCTAssertNotEqual(fake.messages[0].id, fake.messages[1].id)
    }

    func testBucketHeadersAndThe429() {
        let fake = FakeDiscord(clock: clock, bucketLimit: 2, bucketWindowSeconds: 2)
        let webhook = fake.createWebhook()
        let first = post(fake, webhook, #"{"content": "1"}"#).response
        XCTAssertEqual(first.header("X-RateLimit-Limit"), "2")
        XCTAssertEqual(first.header("X-RateLimit-Remaining"), "1")
        XCTAssertEqual(first.header("X-RateLimit-Reset-After"), "2.000")
        XCTAssertEqual(first.header("X-RateLimit-Reset"), "1700000002.000")
        XCTAssertNotNil(first.header("X-RateLimit-Bucket"))
        clock.advance(by: 0.5)
        XCTAssertEqual(post(fake, webhook, #"{"content": "2"}"#).response.header("X-RateLimit-Remaining"), "0")
        clock.advance(by: 0.25)
        let limited = post(fake, webhook, #"{"content": "3"}"#)
        XCTAssertEqual(limited.status, 429)
        XCTAssertEqual(limited.json, .object(["message": .string("You are being rate limited."), "retry_after": .number(1.25),
                                              "global": .bool(false)]))
        XCTAssertEqual(limited.response.header("Retry-After"), "2")
        XCTAssertEqual(limited.response.header("X-RateLimit-Scope"), "user")
        XCTAssertNil(limited.response.header("X-RateLimit-Global"))
        clock.advance(by: 1.25)
        XCTAssertEqual(post(fake, webhook, #"{"content": "3"}"#).status, 200)

        fake.rateLimit(until: clock.now + 10, global: true)
        let global = post(fake, webhook, #"{"content": "4"}"#)
        XCTAssertEqual(global.status, 429)
        XCTAssertEqual(global.json?["global"], .bool(true))
        XCTAssertEqual(global.response.header("X-RateLimit-Global"), "true")
        XCTAssertEqual(global.response.header("X-RateLimit-Scope"), "global")
        XCTAssertEqual(fake.messages.map(\.content), ["1", "2", "3"])
    }

    func testTheGlobalLimitIsFiftyASecondAcrossWebhooks() {
        let fake = FakeDiscord(clock: clock, bucketLimit: 1000)
        let webhooks = (0..<5).map { _ in fake.createWebhook() }
        for number in 0..<50 { XCTAssertEqual(post(fake, webhooks[number % 5], #"{"content": "m"}"#).status, 200) }
        let over = post(fake, webhooks[0], #"{"content": "m"}"#)
        XCTAssertEqual(over.status, 429)
        XCTAssertEqual(over.json?["global"], .bool(true))
        clock.advance(by: 1)
        XCTAssertEqual(post(fake, webhooks[0], #"{"content": "m"}"#).status, 200)
    }

    func testRoutesUnknownWebhooksTokensAndFailures() {
        let fake = FakeDiscord(clock: clock)
        let webhook = fake.createWebhook()
        let get = fake.handle(HTTPRequest(method: "GET", url: "https://discord.com/api/v10/webhooks/\(webhook.id)/\(webhook.token)"))
        XCTAssertEqual(get.status, 405)
        XCTAssertEqual(fake.handle(HTTPRequest(method: "POST", url: "https://discord.com/api/v10/channels/1/messages")).status, 404)
        let wrongToken = post(fake, FakeDiscord.Webhook(id: webhook.id, token: "nope"), #"{"content": "x"}"#)
        XCTAssertEqual(wrongToken.status, 401)
        XCTAssertEqual(wrongToken.json, .object(["message": .string("Invalid Webhook Token"), "code": .number(50027)]))
        let unversioned = fake.handle(HTTPRequest(method: "POST", url: webhook.url, headers: [HTTPHeader("Content-Type", "application/json")],
                                                  body: Array(#"{"content": "x"}"#.utf8)))
        XCTAssertEqual(unversioned.status, 204)
        XCTAssertEqual(fake.messages.last?.apiVersion, "")
        fake.failNext(1, status: 503)
        XCTAssertEqual(post(fake, webhook, #"{"content": "x"}"#).status, 503)
        fake.deleteWebhook(id: webhook.id)
        let gone = post(fake, webhook, #"{"content": "x"}"#)
        XCTAssertEqual(gone.status, 404)
        XCTAssertEqual(gone.json, .object(["message": .string("Unknown Webhook"), "code": .number(10015)]))
        XCTAssertEqual(fake.messages.count, 1)
    }
}
