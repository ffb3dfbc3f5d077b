import AlphaPlusJSON
import AlphaPlusSDK
import FakeChannelServers
import XCTest

/// The fake answers as the Bot API does, so that the plugin tests mean something.
final class FakeTelegramTests: XCTestCase {
    private let clock = FakeClock(manualSeconds: 1_700_000_000)
    private let token = "42:secret"

    private func fake() -> FakeTelegram {
        let fake = FakeTelegram(token: token, clock: clock)
        fake.addChat(1, type: .private)
        fake.addChat(-2, type: .group)
        fake.addChat(-1003, type: .channel, username: "news_channel")
        return fake
    }

    private func send(_ fake: FakeTelegram, _ parameters: [String: JSONValue], path: String? = nil) -> (status: Int, json: JSONValue) {
        let response = fake.handle(HTTPRequest(method: "POST", url: "https://api.telegram.org" + (path ?? "/bot\(token)/sendMessage"),
                                               headers: [HTTPHeader("Content-Type", "application/json")],
                                               body: Array(JSONValue.object(parameters).jsonText.utf8)))
        return (response.status, (try? JSONValue(parsing: response.body)) ?? .null)
    }

    private func error(_ answer: (status: Int, json: JSONValue)) -> String {
        guard case .string(let description)? = answer.json["description"] else { return "no description" }
        XCTAssertEqual(answer.json["ok"], .bool(false))
        XCTAssertEqual(answer.json["error_code"], .number(Double(answer.status)))
        return "\(answer.status) \(description)"
    }

    func testTokensPathsAndMethods() {
        let fake = fake()
        XCTAssertEqual(error(send(fake, [:], path: "/bot42:wrong/sendMessage")), "401 Unauthorized")
        XCTAssertEqual(error(send(fake, [:], path: "/sendMessage")), "404 Not Found")
        XCTAssertEqual(error(send(fake, [:], path: "/bot\(token)/sendPhoto")), "404 Not Found: method not found")
        XCTAssertEqual(error(send(fake, ["text": .string("x")])), "400 Bad Request: chat_id is empty")
        XCTAssertEqual(error(send(fake, ["chat_id": .number(9), "text": .string("x")])), "400 Bad Request: chat not found")
        XCTAssertEqual(error(send(fake, ["chat_id": .number(1)])), "400 Bad Request: message text is empty")
        XCTAssertEqual(error(send(fake, ["chat_id": .number(1), "text": .string(" \n ")])), "400 Bad Request: message text is empty")
        XCTAssertEqual(error(send(fake, ["chat_id": .number(1), "text": .string("x"), "parse_mode": .string("BBCode")])),
                       "400 Bad Request: unsupported parse_mode")
        let ok = send(fake, ["chat_id": .string("@News_Channel"), "text": .string("hello")])
        XCTAssertEqual(ok.status, 200)
        XCTAssertEqual(ok.json["ok"], .bool(true))
        XCTAssertEqual(ok.json["result"]?["message_id"], .number(1))
        XCTAssertEqual(ok.json["result"]?["chat"]?["id"], .number(-1003))
        XCTAssertEqual(fake.messages(in: -1003).map(\.text), ["hello"])
    }

    func testMarkdownV2AndHTMLAreParsedAsTelegramDoes() {
        let fake = fake()
        func markdown(_ text: String) -> (status: Int, json: JSONValue) {
            clock.advance(by: 1)
            return send(fake, ["chat_id": .number(1), "text": .string(text), "parse_mode": .string("MarkdownV2")])
        }
        XCTAssertEqual(error(markdown("Price 65000.5")),
                       "400 Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the preceding '\\'")
        XCTAssertEqual(error(markdown("a-b")),
                       "400 Bad Request: can't parse entities: Character '-' is reserved and must be escaped with the preceding '\\'")
        XCTAssertEqual(error(markdown("*bold")), "400 Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 0")
        XCTAssertEqual(error(markdown("ok __under")),
                       "400 Bad Request: can't parse entities: Can't find end of Underline entity at byte offset 3")
        XCTAssertEqual(markdown("*Title*\nPrice 65000\\.5 \\(est\\.\\) _it_ __u__ ~s~ ||sp|| `a.b` [link](https://x.y/a\\)b)").status, 200)
        XCTAssertEqual(fake.messages.last?.text, "Title\nPrice 65000.5 (est.) it u s sp a.b link")
        XCTAssertEqual(markdown("```swift\nlet a = b.c!\n```").status, 200)
        XCTAssertEqual(fake.messages.last?.text, "let a = b.c!\n")
        XCTAssertEqual(markdown("\\é \\\\ \\q").status, 200, "a backslash before a non-ASCII character is itself")
        XCTAssertEqual(fake.messages.last?.text, "\\é \\ q")

        func html(_ text: String) -> (status: Int, json: JSONValue) {
            clock.advance(by: 1)
            return send(fake, ["chat_id": .number(1), "text": .string(text), "parse_mode": .string("HTML")])
        }
        XCTAssertEqual(html("<b>1 &lt; 2 &amp;&amp; 3 &gt; 2</b> &#33; &#x3F; &unknown; *x*").status, 200)
        XCTAssertEqual(fake.messages.last?.text, "1 < 2 && 3 > 2 ! ? &unknown; *x*")
        XCTAssertEqual(error(html("a < b > c")), "400 Bad Request: can't parse entities: Unsupported start tag \"\" at byte offset 2")
        XCTAssertEqual(error(html("<blink>x</blink>")), "400 Bad Request: can't parse entities: Unsupported start tag \"blink\" at byte offset 0")
        XCTAssertEqual(error(html("<b>x</i>")),
                       "400 Bad Request: can't parse entities: Unmatched end tag at byte offset 4, expected \"</b>\", found \"</i>\"")
        XCTAssertEqual(error(html("<b>x")), "400 Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"")
    }

    func testTheLengthIsCountedInUTF16UnitsOnceParsed() {
        let fake = fake()
        let emoji = String(repeating: "😀", count: 2048)  // 4096 units
        XCTAssertEqual(send(fake, ["chat_id": .number(1), "text": .string(emoji)]).status, 200)
        clock.advance(by: 1)
        XCTAssertEqual(error(send(fake, ["chat_id": .number(1), "text": .string(emoji + "a")])), "400 Bad Request: message is too long")
        // 4096 dots escaped are 8192 characters sent, 4096 shown: accepted.
        let dots = String(repeating: "\\.", count: 4096)
        XCTAssertEqual(send(fake, ["chat_id": .number(1), "text": .string(dots), "parse_mode": .string("MarkdownV2")]).status, 200)
        XCTAssertEqual(fake.messages.count, 2)
    }

    func testFloodControlPerChatPerGroupAndPerBot() {
        let fake = fake()
        XCTAssertEqual(send(fake, ["chat_id": .number(1), "text": .string("a")]).status, 200)
        clock.advance(by: 0.4)
        let tooSoon = send(fake, ["chat_id": .number(1), "text": .string("b")])
        XCTAssertEqual(error(tooSoon), "429 Too Many Requests: retry after 1")
        XCTAssertEqual(tooSoon.json["parameters"], .object(["retry_after": .number(1)]))
        clock.advance(by: 0.6)
        XCTAssertEqual(send(fake, ["chat_id": .number(1), "text": .string("b")]).status, 200)

        // A group: 20 a minute, even one a second apart.
        for _ in 0..<20 {
            clock.advance(by: 1)
            XCTAssertEqual(send(fake, ["chat_id": .number(-2), "text": .string("g")]).status, 200)
        }
        clock.advance(by: 1)
        let group = send(fake, ["chat_id": .number(-2), "text": .string("g")])
        XCTAssertEqual(error(group), "429 Too Many Requests: retry after 40")
        clock.advance(by: 40)
        XCTAssertEqual(send(fake, ["chat_id": .number(-2), "text": .string("g")]).status, 200)

        // The bot: 30 a second across chats.
        let busy = FakeTelegram(token: token, clock: clock)
        for id in 1...31 { busy.addChat(Int64(id), type: .private) }
        for id in 1...30 { XCTAssertEqual(send(busy, ["chat_id": .number(Double(id)), "text": .string("x")]).status, 200) }
        XCTAssertEqual(error(send(busy, ["chat_id": .number(31), "text": .string("x")])), "429 Too Many Requests: retry after 1")
        XCTAssertEqual(busy.messages.count, 30)
    }

    func testUpgradesBlocksAndFailures() {
        let fake = fake()
        fake.upgradeToSupergroup(-2, newID: -1002)
        let moved = send(fake, ["chat_id": .number(-2), "text": .string("x")])
        XCTAssertEqual(error(moved), "400 Bad Request: group chat was upgraded to a supergroup chat")
        XCTAssertEqual(moved.json["parameters"], .object(["migrate_to_chat_id": .number(-1002)]))
        XCTAssertEqual(send(fake, ["chat_id": .number(-1002), "text": .string("x")]).status, 200)
        fake.blockBot(in: 1)
        XCTAssertEqual(error(send(fake, ["chat_id": .number(1), "text": .string("x")])), "403 Forbidden: bot was blocked by the user")
        fake.blockBot(in: -1003)
        XCTAssertEqual(error(send(fake, ["chat_id": .number(-1003), "text": .string("x")])),
                       "403 Forbidden: bot is not a member of the channel chat")
        fake.failNext(1, status: 500)
        XCTAssertEqual(send(fake, ["chat_id": .number(-1002), "text": .string("y")]).status, 500)
        XCTAssertEqual(fake.messages.map(\.chatID), [-1002])
        XCTAssertEqual(fake.requestCount, 5)
    }
}
