import AlphaPlusJSON
import ChannelTelegram
import Foundation
import SharedTestData
import XCTest

/// The plugin's MarkdownV2 escaping equals python-telegram-bot's
/// `telegram.helpers.escape_markdown(text, version=2)` (the package
/// scripts/test installs, pinned in scripts/lib.sh), on awkward strings and
/// a few hundred random ones, all in one python3 run.
final class MarkdownCrossCheckTests: XCTestCase {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("crosscheck_escape_markdown.py")

    static let corpus = [
        "", "plain", "\\", "\\\\", "\\_", "\\*already escaped\\*", "_*[]()~`>#+-=|{}.!", "a.b", "end.", "!start",
        "1.5% (est.)", "[link](https://example.com/a_b?c=d&e=f)", "`code` ```pre```", "~strike~ ||spoiler||",
        "> quote\n>> nested", "#hashtag +1 -1 =0 |pipe| {brace}", "tab\there", "new\nline\r\ncrlf", "x\u{0}y",
        "😀👍🏽👨‍👩‍👧‍👦🇯🇵🏳️‍🌈", "日本語のテキスト。", "中文（括号）！", "한국어.", "é vs e\u{301}", "\u{200B}\u{FEFF}\u{2028}",
        "𝔘𝔫𝔦𝔠𝔬𝔡𝔢.", "LONG BTC-USDT 1m @ 65000.5 (stop 64000, tp 66,000) [conf 0.82]!", String(repeating: ".", count: 500),
    ]

    func testEscapingEqualsPythonTelegramBot() throws {
        var generator = SplitMix64(seed: 20_261_121)
        var inputs = Self.corpus
        let asciiPunctuation = Array("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ ")
        for round in 0..<400 {
            if round % 2 == 0 {
                inputs.append(String((0..<Int.random(in: 1...40, using: &generator)).map { _ in
                    asciiPunctuation.randomElement(using: &generator)!
                }))
            } else {
                inputs.append(AwkwardText.random(length: Int.random(in: 1...40, using: &generator), using: &generator))
            }
        }
        let expected = try Self.runPython(inputs)
        XCTAssertEqual(expected.count, inputs.count)
        var mismatches = 0
        for (input, reference) in zip(inputs, expected) {
            let ours = TelegramParseMode.markdownV2.escape(input)
            if ours != reference {
                mismatches += 1
                XCTFail("escape_markdown(\(JSONValue.string(input).jsonText)): python-telegram-bot gives \(JSONValue.string(reference).jsonText), the plugin \(JSONValue.string(ours).jsonText)")
            }
        }
        XCTAssertEqual(mismatches, 0, "of \(inputs.count) strings")
    }

    /// Runs the script once; fails (not skips) when python3 or the package is missing.
    static func runPython(_ inputs: [String]) throws -> [String] {
        let answer = try PythonCrossCheck.run(script, input: Data(JSONValue.array(inputs.map(JSONValue.string)).jsonText.utf8),
                                              packages: "python-telegram-bot")
        guard case .array(let items) = try JSONValue(parsing: answer) else { XCTFail("the script did not answer an array"); return [] }
        return items.map { if case .string(let text) = $0 { text } else { "<not a string: \($0.jsonText)>" } }
    }
}
