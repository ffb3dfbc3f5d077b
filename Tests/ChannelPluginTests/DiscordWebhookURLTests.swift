import ChannelDiscord
import XCTest

final class DiscordWebhookURLTests: XCTestCase {
    let token = "AbC-dEf_123456789012345678901234567890123456789012345678901234567890"

    func testEveryFormDiscordHandsOutBecomesTheV10ExecuteURL() throws {
        let expected = "https://discord.com/api/v10/webhooks/1180000000000000042/\(token)?wait=true"
        let forms = [
            "https://discord.com/api/webhooks/1180000000000000042/\(token)",
            "https://discord.com/api/webhooks/1180000000000000042/\(token)/",
            "https://discordapp.com/api/webhooks/1180000000000000042/\(token)",
            "https://ptb.discord.com/api/webhooks/1180000000000000042/\(token)",
            "https://canary.discordapp.com/api/webhooks/1180000000000000042/\(token)",
            "https://www.discord.com/api/webhooks/1180000000000000042/\(token)",
            "https://discord.com/api/v6/webhooks/1180000000000000042/\(token)",
            "https://discord.com/api/v8/webhooks/1180000000000000042/\(token)",
            "https://discord.com/api/v9/webhooks/1180000000000000042/\(token)/",
            "https://discord.com/api/v10/webhooks/1180000000000000042/\(token)?wait=false",
            "https://discord.com/api/webhooks/1180000000000000042/\(token)?foo=bar#fragment",
            "HTTPS://Discord.COM/api/webhooks/1180000000000000042/\(token)",
            "http://discord.com/api/webhooks/1180000000000000042/\(token)",
            "  https://discord.com/api/webhooks/1180000000000000042/\(token)\n",
            "https://discord.com:443/api/webhooks/1180000000000000042/\(token)",
        ]
        for form in forms {
            let url = try DiscordWebhookURL(parsing: form)
            XCTAssertEqual(url.executeURL, expected, form)
            XCTAssertEqual(url.id, "1180000000000000042", form)
            XCTAssertEqual(url.token, token, form)
        }
        XCTAssertEqual(try DiscordWebhookURL(parsing: "https://discord.com/api/webhooks/1/\(token)?thread_id=99&wait=false").executeURL,
                       "https://discord.com/api/v10/webhooks/1/\(token)?wait=true&thread_id=99", "a thread is kept")
    }

    func testOtherURLsAreRefusedSayingWhyWithoutTheToken() {
        let cases: [(String, String)] = [
            ("not a url at all", "is not a URL"),
            ("ftp://discord.com/api/webhooks/1/\(token)", "uses the scheme 'ftp', not https"),
            ("https://example.com/api/webhooks/1/\(token)", "is on host 'example.com', not discord.com or discordapp.com"),
            ("https://discord.com.evil.example/api/webhooks/1/\(token)", "is on host 'discord.com.evil.example'"),
            ("https://discord.com:8443/api/webhooks/1/\(token)", "names port 8443"),
            ("https://discord.com/api/v10/channels/1/messages", "is not a webhook URL"),
            ("https://discord.com/api/webhooks/1", "is not a webhook URL"),
            ("https://discord.com/api/webhooks/1/\(token)/extra", "is not a webhook URL"),
            ("https://discord.com/api/webhooks/1/\(token)/slack", "Slack- or GitHub-compatible"),
            ("https://discord.com/api/webhooks/abc/\(token)", "webhook id that is not a number"),
            ("https://discord.com/api/webhooks/1/\(token)%20x", "webhook token with characters other than"),
            ("https://discord.com/api/webhooks/1/\(token)?thread_id=x", "thread_id that is not a number"),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try DiscordWebhookURL(parsing: text), text) { error in
                let message = "\(error)"
                XCTAssertTrue(message.contains(expected), "\(text): \(message)")
                XCTAssertFalse(message.contains(token), "\(text): the token leaked into \(message)")
            }
        }
    }
}
