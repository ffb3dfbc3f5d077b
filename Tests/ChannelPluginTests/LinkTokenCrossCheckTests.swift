import AlphaPlusJSON
import AlphaPlusSDKTesting
import ChannelTelegram
import Foundation
import SharedTestData
import XCTest

/// Tokens signed by the Python function docs/OPERATIONS.md gives operators
/// (crosscheck_link_token.py, standard library only) link chats to their
/// subscribers: the operator's website and the plugin agree, including on
/// signatures that themselves contain a "-".
final class LinkTokenCrossCheckTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("crosscheck_link_token.py")

    func testTokensFromTheOperationsSnippetLinkTheirSubscribers() throws {
        var random = SplitMix64(seed: 0x11_4E_70_CE)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        let linkSecret = String((0..<40).map { _ in alphabet.randomElement(using: &random)! })
        var ids = ["cus_NffrFeUfNV2Hib", "a", String(repeating: "z", count: 41), "-", "telegram_chat--100123"]
        while ids.count < 300 {
            ids.append(String((0..<Int.random(in: 1...41, using: &random)).map { _ in alphabet.randomElement(using: &random)! }))
        }
        let request = JSONValue.object(["link_secret": .string(linkSecret), "subscriber_ids": .array(ids.map(JSONValue.string))])
        let answer = try PythonCrossCheck.run(Self.script, input: Data(request.jsonText.utf8), packages: "nothing beyond the standard library")
        guard case .array(let items) = try JSONValue(parsing: answer) else { return XCTFail("the script did not answer an array") }
        let tokens = items.compactMap { if case .string(let token) = $0 { token } else { nil } }
        XCTAssertEqual(tokens.count, ids.count)
        XCTAssertGreaterThan(tokens.filter { $0.suffix(22).contains("-") }.count, 30, "signatures with a '-' are among them")

        let host = TestHost(secrets: ["webhook_secret": "cross-check", "link_secret": linkSecret])
        let instance = try host.load(TelegramChannel.self).create(config: "{}")
        for (index, (id, token)) in zip(ids, tokens).enumerated() {
            let chat = Int64(1000 + index)
            let update = #"{"update_id":\#(index + 1),"message":{"chat":{"id":\#(chat),"type":"private"},"text":"/start \#(token)"}}"#
            let response = try instance.handle(WebhookRequest(method: "POST", path: "", headers: [("X-Telegram-Bot-Api-Secret-Token", "cross-check")],
                                                              body: Array(update.utf8)))
            XCTAssertTrue(String(decoding: response.body, as: UTF8.self).contains("Linked: this chat"), "\(id): \(token)")
            XCTAssertEqual(host.subscriber(for: .telegramChat(chat))?.id, id, token)
        }
    }
}
