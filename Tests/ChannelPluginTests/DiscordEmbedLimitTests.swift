import AlphaPlusJSON
import AlphaPlusSDKTesting
import ChannelDiscord
import FakeChannelServers
import SharedTestData
import XCTest

final class DiscordEmbedLimitTests: XCTestCase {
    /// Scalars without the whitespace at the ends, counted here
    /// independently of the plugin (an upper bound of Discord's count).
    private func length(_ value: JSONValue?) -> Int {
        guard case .string(let text)? = value else { return 0 }
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return 0 }
        return scalars.lastIndex(where: { !$0.properties.isWhitespace })! - first + 1
    }

    func testFittingTrimsCountsScalarsAndNeverSplitsACharacter() {
        XCTAssertEqual(DiscordText.fitted("  short  ", limit: 10), "short")
        XCTAssertEqual(DiscordText.fitted("abcdefghij", limit: 10), "abcdefghij", "the limit is inclusive")
        XCTAssertEqual(DiscordText.fitted("abcdefghijk", limit: 10), "abcdefghi…")
        XCTAssertEqual(DiscordText.fitted("abcd efghijk", limit: 6), "abcd…", "no space before the ellipsis")
        // 👨‍👩‍👧‍👦 is 7 scalars: it is kept whole or not at all.
        let family = "👨‍👩‍👧‍👦"
        XCTAssertEqual(DiscordText.fitted("ab" + family + family, limit: 10), "ab" + family + "…")
        XCTAssertEqual(DiscordText.fitted("ab" + family + family, limit: 9), "ab…")
        XCTAssertEqual(DiscordText.length(" e\u{301} "), 2, "e and a combining accent are two scalars")
        XCTAssertEqual(DiscordText.fitted("x", limit: 0), "")
    }

    func testAnOversizedEmbedIsShrunkDescriptionFirst() throws {
        let fields = (0..<30).map { JSONValue.object(["name": .string("F\($0)"), "value": .string(String(repeating: "v", count: 2000))]) }
        let payload: JSONValue = .object(["title": .string(String(repeating: "T", count: 300)), "fields": .array(fields),
                                          "footer": .string(String(repeating: "f", count: 3000))])
        let embed = try DiscordEmbed(payload: payload, text: String(repeating: "d", count: 5000))
        XCTAssertEqual(embed.title?.unicodeScalars.count, 256)
        XCTAssertNil(embed.description, "the description goes first")
        XCTAssertNil(embed.footer, "then the footer")
        XCTAssertEqual(embed.fields.count, 25)
        XCTAssertEqual(embed.totalLength, 6000, "as much as the total allows")
        XCTAssertEqual(embed.fields[0].value.unicodeScalars.count, 1024, "the first fields keep their full value")
    }

    /// Random payloads with long, unicode-heavy texts: every limit holds,
    /// counted independently, and the fake Discord accepts every message.
    func testEveryLimitHoldsForRandomPayloads() throws {
        let host = TestHost()
        let fakeClock = clock(of: host)
        let fake = FakeDiscord(clock: fakeClock, bucketLimit: 1_000_000, globalLimitPerSecond: 1_000_000)
        let webhook = fake.createWebhook()
        host.secrets = ["webhook_w": webhook.url]
        connect(host, to: fake, clock: fakeClock)
        let instance = try host.load(DiscordChannel.self).create()

        var generator = SplitMix64(seed: 20_261_121)
        var fullEmbeds = 0, cutFieldValues = 0
        /// Up to `maximum` pieces of about two scalars each.
        func text(_ maximum: Int) -> String {
            AwkwardText.random(length: Int.random(in: 0...maximum, using: &generator), using: &generator)
        }
        for round in 0..<200 {
            var payload: [String: JSONValue] = ["title": .string(text(200)), "footer": .string(text(1500)),
                                                "color": .string(["green", "red", "grey"].randomElement(using: &generator)!)]
            if Bool.random(using: &generator) { payload["author"] = .string(text(200)) }
            if Bool.random(using: &generator) { payload["description"] = .string(text(3000)) }
            payload["fields"] = .array((0..<Int.random(in: 0...35, using: &generator)).map { _ in
                .object(["name": .string(text(200)), "value": .string(text(800)), "inline": .bool(Bool.random(using: &generator))])
            })
            let delivery = Delivery(idempotencyKey: "r\(round)", targetJSON: #"{"webhook": "w"}"#, text: text(3000),
                                    payloadJSON: JSONValue.object(payload).jsonText)
            let result = try XCTUnwrap(try instance.deliver(delivery))
            if result.outcome == .permanentFailure, result.reason.contains("the message is empty") { continue }
            XCTAssertEqual(result.outcome, .delivered, "round \(round): \(result.reason)")

            let body = try jsonBody(host.httpRequests.last!)
            guard case .array(let embeds)? = body["embeds"], let embed = embeds.first else {
                return XCTFail("round \(round): no embed")
            }
            XCTAssertLessThanOrEqual(length(embed["title"]), 256, "round \(round)")
            XCTAssertLessThanOrEqual(length(embed["description"]), 4096, "round \(round)")
            XCTAssertLessThanOrEqual(length(embed["footer"]?["text"]), 2048, "round \(round)")
            XCTAssertLessThanOrEqual(length(embed["author"]?["name"]), 256, "round \(round)")
            var total = length(embed["title"]) + length(embed["description"]) + length(embed["footer"]?["text"])
                + length(embed["author"]?["name"])
            if case .array(let fields)? = embed["fields"] {
                XCTAssertLessThanOrEqual(fields.count, 25, "round \(round)")
                for field in fields {
                    XCTAssertTrue((1...256).contains(length(field["name"])), "round \(round)")
                    XCTAssertTrue((1...1024).contains(length(field["value"])), "round \(round)")
                    total += length(field["name"]) + length(field["value"])
                    if case .string(let value)? = field["value"], value.hasSuffix("…") { cutFieldValues += 1 }
                }
            }
            XCTAssertLessThanOrEqual(total, 6000, "round \(round)")
            if total > 5900 { fullEmbeds += 1 }
        }
        XCTAssertGreaterThan(fullEmbeds, 50, "the inputs reach the 6000 total")
        XCTAssertGreaterThan(cutFieldValues, 50, "the inputs reach the field limits")
        XCTAssertGreaterThan(fake.messages.count, 150)
    }
}
