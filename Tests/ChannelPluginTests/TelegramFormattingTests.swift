import ChannelTelegram
import FakeChannelServers
import SharedTestData
import XCTest

final class TelegramFormattingTests: XCTestCase {
    func testEscaping() {
        XCTAssertEqual(TelegramParseMode.markdownV2.escape("a_b*c[d]e(f)g~h`i>j#k+l-m=n|o{p}q.r!s\\t"),
                       "a\\_b\\*c\\[d\\]e\\(f\\)g\\~h\\`i\\>j\\#k\\+l\\-m\\=n\\|o\\{p\\}q\\.r\\!s\\\\t")
        XCTAssertEqual(TelegramParseMode.markdownV2.escape("😀 日本 <&> é"), "😀 日本 <&\\> é")
        XCTAssertEqual(TelegramParseMode.html.escape("a < b && c > d \"q\" *x*"), "a &lt; b &amp;&amp; c &gt; d \"q\" *x*")
        XCTAssertEqual(TelegramParseMode.none.escape("*_<&"), "*_<&")
        XCTAssertEqual(TelegramParseMode.markdownV2.bold("1.5x"), "*1\\.5x*")
        XCTAssertEqual(TelegramParseMode.html.bold("a<b"), "<b>a&lt;b</b>")
    }

    func testEscapedTextParsesBackToItself() throws {
        var generator = SplitMix64(seed: 5)
        for _ in 0..<300 {
            let text = AwkwardText.random(length: Int.random(in: 1...60, using: &generator), using: &generator)
            XCTAssertEqual(try TelegramMarkup.parseMarkdownV2(TelegramParseMode.markdownV2.escape(text)), text)
            XCTAssertEqual(try TelegramMarkup.parseHTML(TelegramParseMode.html.escape(text)), text)
        }
    }

    func testCutsPreferLineBreaksThenSpaces() {
        let lines = TelegramMessageSplitter.parts(text: "aaaa\nbbbb\ncccc", mode: .none, limit: 10)
        XCTAssertEqual(lines, ["aaaa\nbbbb", "cccc"])
        let words = TelegramMessageSplitter.parts(text: "aaa bbb ccc ddd", mode: .none, limit: 10)
        XCTAssertEqual(words, ["aaa bbb", "ccc ddd"])
        let hard = TelegramMessageSplitter.parts(text: "abcdefghijklmnopqrstuvwxyz", mode: .none, limit: 10)
        XCTAssertEqual(hard, ["abcdefghij", "klmnopqrst", "uvwxyz"])
        // Escapes count: ten dots are twenty units.
        XCTAssertEqual(TelegramMessageSplitter.parts(text: "..........", mode: .markdownV2, limit: 10),
                       ["\\.\\.\\.\\.\\.", "\\.\\.\\.\\.\\."])
        // A surrogate pair is never cut: 😀 is two units.
        XCTAssertEqual(TelegramMessageSplitter.parts(text: "abc😀", mode: .none, limit: 4), ["abc", "😀"])
        XCTAssertEqual(TelegramMessageSplitter.parts(text: "\n\n  \n", mode: .none, limit: 10), [])
        XCTAssertEqual(TelegramMessageSplitter.parts(text: "x\n\n\n\n\n\n\n\n\n\n\n\n\ny", mode: .none, limit: 5), ["x", "y"],
                       "blank parts are not sent")
        XCTAssertEqual(TelegramMessageSplitter.parts(text: "body", title: "T.1", mode: .markdownV2), ["*T\\.1*\nbody"])
        XCTAssertEqual(TelegramMessageSplitter.parts(text: "", title: "T", mode: .html), ["<b>T</b>"])
    }

    /// Random texts cut small: every part within the limit, every part
    /// valid markup on its own, and the parts put back give the text.
    func testRandomTextsSplitWithinTheLimitWithoutBreakingAnything() throws {
        var generator = SplitMix64(seed: 11)
        for round in 0..<300 {
            let text = AwkwardText.random(length: Int.random(in: 1...400, using: &generator), using: &generator)
            let limit = Int.random(in: 12...200, using: &generator)
            for mode in [TelegramParseMode.markdownV2, .html, .none] {
                let parts = TelegramMessageSplitter.parts(text: text, mode: mode, limit: limit)
                var shown = ""
                for part in parts {
                    XCTAssertLessThanOrEqual(part.utf16.count, limit, "round \(round) \(mode)")
                    switch mode {
                    case .markdownV2: shown += try TelegramMarkup.parseMarkdownV2(part)
                    case .html: shown += try TelegramMarkup.parseHTML(part)
                    case .none: shown += part
                    }
                }
                // Cuts drop the one line break or space they fall on, and blank parts.
                func visible(_ text: String) -> String { String(text.unicodeScalars.filter { !$0.properties.isWhitespace }.map(Character.init)) }
                XCTAssertEqual(visible(shown), visible(text), "round \(round) \(mode)")
            }
        }
    }

    func testACharacterLongerThanAPartIsCutBetweenItsScalars() {
        let zalgo = "a" + String(repeating: "\u{0301}", count: 30)
        let parts = TelegramMessageSplitter.parts(text: zalgo, mode: .none, limit: 10)
        XCTAssertEqual(parts.map(\.utf16.count), [10, 10, 10, 1])
        XCTAssertEqual(parts.joined(), zalgo)
    }
}
