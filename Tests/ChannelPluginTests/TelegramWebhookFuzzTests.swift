import AlphaPlusJSON
import AlphaPlusSDKTesting
import ChannelTelegram
import Foundation
import SharedTestData
import XCTest

/// Property tests of the webhook's update and command parsing, on random
/// updates and on byte-level mutations of them. ALPHAPLUS_FUZZ_ITERATIONS
/// sets how many (default 20,000, a second or two).
final class TelegramWebhookFuzzTests: XCTestCase {
    static let iterations = Int(ProcessInfo.processInfo.environment["ALPHAPLUS_FUZZ_ITERATIONS"] ?? "") ?? 20_000
    static let webhookSecret = "fuzz_secret"
    static let linkSecret = "link-secret-for-tests-0123456789"

    /// Never a crash; always 200 or 400; a 400 is `{"error": "..."}`; a 200
    /// is empty or exactly one sendMessage to the chat of the update it
    /// answers; a body that is not JSON, or has no integer update_id, is 400.
    func testRandomAndMutatedUpdatesAnswer200Or400ToTheirOwnChat() throws {
        var random = SplitMix64(seed: 0x7E1E_62A4)
        let host = TestHost(secrets: ["webhook_secret": Self.webhookSecret, "link_secret": Self.linkSecret])
        let instance = try host.load(TelegramChannel.self).create(
            config: #"{"bot_username": "AlphaSignalsBot", "checkout_url": "https://buy.stripe.com/test_5kA9Bc"}"#)
        var outcomes: [String: Int] = [:]
        for iteration in 0..<Self.iterations {
            var body = Array(Self.randomUpdate(&random).utf8)
            if Bool.random(using: &random) { Self.mutate(&body, &random) }
            let response = try instance.handle(WebhookRequest(
                method: "POST", path: "", headers: [("X-Telegram-Bot-Api-Secret-Token", Self.webhookSecret)], body: body,
                requestID: "fuzz-\(iteration)"))
            let outcome = try Self.check(response, answering: body)
            outcomes[outcome, default: 0] += 1
        }
        // The generator reaches every kind of answer.
        for outcome in ["reply", "no reply", "400"] {
            XCTAssertGreaterThan(outcomes[outcome] ?? 0, Self.iterations / 20, "\(outcome): \(outcomes)")
        }
    }

    /// A command written from random parts reads back as those parts.
    func testCommandParserReadsBackItsParts() {
        var random = SplitMix64(seed: 0xC0_11_A2_D5)
        let nameCharacters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
        let spaces = [" ", "  ", "\n", "\t", " \n "]
        for _ in 0..<Self.iterations {
            let name = String((0..<Int.random(in: 1...32, using: &random)).map { _ in nameCharacters.randomElement(using: &random)! })
            let botName = Bool.random(using: &random) ? String(name.reversed()) : nil
            var argument = AwkwardText.random(length: Int.random(in: 0...6, using: &random), using: &random)
            argument = argument.trimmingCharacters(in: .whitespacesAndNewlines)
            var text = "/" + name + (botName.map { "@" + $0 } ?? "")
            if !argument.isEmpty || Bool.random(using: &random) {
                text += spaces.randomElement(using: &random)! + argument + (Bool.random(using: &random) ? spaces.randomElement(using: &random)! : "")
            }
            // A combining mark right after the command would join its last character: not a case of this property.
            guard argument.unicodeScalars.first.map({ $0.properties.generalCategory != .nonspacingMark }) ?? true else { continue }
            let command = TelegramCommand(text: text)
            XCTAssertEqual(command, TelegramCommand(name: name.lowercased(), botName: botName, argument: argument), text.debugDescription)
        }
        for text in ["", "start", "/", "/ start", "/@bot", "hello /start"] {
            XCTAssertNil(TelegramCommand(text: text), text)
        }
    }

    // MARK: Generators

    static let chats: [Int64] = [42, 43, 7, -555, -1_001_234_567_890, 4_503_599_627_370_495]
    static let chatTypes = ["private", "private", "group", "supergroup", "channel", "secret"]
    static let commands = ["/start", "/subscribe", "/status", "/stop", "/help", "/START", "/Subscribe", "/frobnicate", "/", "hello", ""]
    static let mentions = ["", "", "@AlphaSignalsBot", "@alphasignalsbot", "@OtherBot", "@"]
    static let parameters = ["", "cust_001-lOCaLi46FaK_jsJCMeAv_w", "cust_001-lOCaLi46FaK_jsJCMeAv_x", "cust_001",
                             "web-5-87c9Vl-s0Qq1f24kDumxqg", String(repeating: "a", count: 70), "-", "a b c"]

    /// An update's JSON text, written directly (the SDK's writer would sort
    /// keys and cost more than the webhook itself in a debug build).
    static func randomUpdate(_ random: inout SplitMix64) -> String {
        var fields: [String] = []
        switch Int.random(in: 0..<20, using: &random) {
        case 0: break  // no update_id
        case 1: fields.append(#""update_id":"17""#)
        case 2: fields.append(#""update_id":\#(Double.random(in: -1e6...1e6, using: &random))"#)
        default: fields.append(#""update_id":\#(Int.random(in: 1...3000, using: &random))"#)
        }
        var text = JSONValue.string(randomText(&random)).jsonText
        if Int.random(in: 0..<15, using: &random) == 0 { text = ["null", "5", "[]"].randomElement(using: &random)! }
        var chat = [#""id":\#(chats.randomElement(using: &random)!)"#, #""type":"\#(chatTypes.randomElement(using: &random)!)""#]
        if Int.random(in: 0..<20, using: &random) == 0 { chat.remove(at: Int.random(in: 0...1, using: &random)) }
        // Only the fields the bot reads, and message_id: the tests of single
        // updates have Telegram's whole shape.
        let message = #"{"message_id":\#(Int.random(in: 1...99, using: &random)),"chat":{\#(chat.joined(separator: ","))},"text":\#(text)}"#
        let kind = ["message", "message", "message", "message", "message", "message", "edited_message", "channel_post"]
        fields.append(#""\#(kind.randomElement(using: &random)!)":\#(message)"#)
        return "{" + fields.joined(separator: ",") + "}"
    }

    static func randomText(_ random: inout SplitMix64) -> String {
        if Int.random(in: 0..<8, using: &random) == 0 { return AwkwardText.random(length: Int.random(in: 0...12, using: &random), using: &random) }
        var text = commands.randomElement(using: &random)! + mentions.randomElement(using: &random)!
        let parameter = parameters.randomElement(using: &random)!
        if !parameter.isEmpty { text += " " + parameter }
        return text
    }

    static let insertions: [[UInt8]] = ["{", "}", "[", "]", "\"", ":", ",", "null", "true", "-", "0", "1e999", "9007199254740993", "\\u0000",
                                        "\\ud800", " ", "\"update_id\":", "\"chat\":{", "\"text\":\"/start\"", "\"id\":-1"].map { Array($0.utf8) } + [[0xFF], [0xC3]]

    /// One to four byte-level edits: delete, insert a JSON fragment, replace
    /// a byte, duplicate a range, truncate.
    static func mutate(_ body: inout [UInt8], _ random: inout SplitMix64) {
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let at = Int.random(in: 0...body.count, using: &random)
            let end = min(body.count, at + Int.random(in: 1...8, using: &random))
            switch Int.random(in: 0..<5, using: &random) {
            case 0: body.removeSubrange(at..<end)
            case 1: body.insert(contentsOf: insertions.randomElement(using: &random)!, at: at)
            case 2 where at < body.count: body[at] = UInt8.random(in: 0...255, using: &random)
            case 3:
                let copied = Array(body[at..<end])
                body.insert(contentsOf: copied, at: at)
            default: body.removeSubrange(at...)
            }
        }
    }

    // MARK: The properties

    struct Violation: Error, CustomStringConvertible {
        var description: String
    }

    /// The kind of answer ("reply", "no reply", "400"), or throws saying
    /// which property failed for which body.
    static func check(_ response: WebhookResponse, answering body: [UInt8]) throws -> String {
        // JSON is parsed from Strings (invalid UTF-8 repaired), faster than
        // from bytes: a body with invalid UTF-8 is never an update, and a 400
        // needs no reading of the request.
        let answer = String(decoding: response.body, as: UTF8.self)
        func violation(_ what: String) -> Violation {
            Violation(description: "\(what); request \(String(decoding: body, as: UTF8.self).debugDescription), answer \(response.status) \(answer)")
        }
        var sent: JSONValue?
        if response.status != 400 {
            sent = try? JSONValue(parsing: String(decoding: body, as: UTF8.self))
            guard case .number(let id)? = sent?["update_id"], id.rounded() == id, abs(id) < 0x1p53 else {
                throw violation("not an update but not answered 400")
            }
        }
        switch response.status {
        case 400:
            guard response.headers.map(\.name) == ["Content-Type"], case .object(let error)? = try? JSONValue(parsing: answer),
                  error.count == 1, case .string(let message)? = error["error"], !message.isEmpty else {
                throw violation("a 400 that is not {\"error\": \"...\"}")
            }
            return "400"
        case 200 where response.body.isEmpty:
            return "no reply"
        case 200:
            guard response.headers.map(\.name) == ["Content-Type"], response.headers[0].value == "application/json",
                  case .object(let reply)? = try? JSONValue(parsing: answer), reply.count == 3,
                  reply["method"] == .string("sendMessage"), case .string(let text)? = reply["text"], !text.isEmpty,
                  case .number(let chat)? = reply["chat_id"] else {
                throw violation("a 200 whose body is not one sendMessage")
            }
            guard sent?["message"]?["chat"]?["id"] == .number(chat) else { throw violation("a reply to chat \(chat), not the update's") }
            return "reply"
        default:
            throw violation("status \(response.status)")
        }
    }
}
