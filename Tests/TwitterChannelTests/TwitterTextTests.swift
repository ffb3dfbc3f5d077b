import ChannelTwitter
import Foundation
import SharedTestData
import XCTest

/// The weighted length and the fitting of a Tweet, against
/// twitter-text-parser (the Python port of twitter-text v3).
final class TwitterTextTests: XCTestCase {
    /// twitter-text-parser's answer for one text.
    private struct Reference: Decodable, Equatable {
        var weightedLength: Int
        var valid: Bool
        var urls: [URLItem]
        var emoji: [[Int]]

        struct URLItem: Decodable, Equatable {
            var url: String
            var start: Int
            var end: Int

            init(url: String, start: Int, end: Int) {
                self.url = url
                self.start = start
                self.end = end
            }

            init(from decoder: any Decoder) throws {
                var fields = try decoder.unkeyedContainer()
                self.init(url: try fields.decode(String.self), start: try fields.decode(Int.self), end: try fields.decode(Int.self))
            }
        }
    }

    private func reference(_ texts: [String]) throws -> [Reference] {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("crosscheck_twitter_text.py")
        let answer = try PythonCrossCheck.run(script, input: try JSONEncoder().encode(texts), packages: "twitter-text-parser 3.0.0")
        let references = try JSONDecoder().decode([Reference].self, from: answer)
        XCTAssertEqual(references.count, texts.count)
        return references
    }

    private func ours(_ text: String) -> Reference {
        let parsed = TwitterText.parse(text)
        return Reference(weightedLength: parsed.weightedLength, valid: parsed.valid,
                         urls: TwitterText.urls(in: text).map { .init(url: $0.url, start: $0.indices.lowerBound, end: $0.indices.upperBound) },
                         emoji: TwitterText.emoji(in: text).map { [$0.lowerBound, $0.upperBound] })
    }

    /// channels.md §3's check.
    func testTheDocumentedExampleWeighs46() {
        XCTAssertEqual(TwitterText.parse("english text 日本語 😷 https://example.com"), .init(weightedLength: 46, valid: true))
    }

    func testWeightsByRange() {
        XCTAssertEqual(TwitterText.weightedLength("\u{10FF}\u{1100}"), 3)  // the last 1, the first 2
        XCTAssertEqual(TwitterText.weightedLength("\u{2000}\u{200D}\u{200E}"), 4)
        XCTAssertEqual(TwitterText.weightedLength("\u{2010}\u{201F}\u{2020}"), 4)
        XCTAssertEqual(TwitterText.weightedLength("\u{2032}\u{2037}\u{2038}"), 4)
        XCTAssertEqual(TwitterText.weightedLength("e\u{301}"), 1)  // NFC: é
        XCTAssertEqual(TwitterText.weightedLength("a\r\nb"), 3)
        XCTAssertEqual(TwitterText.weightedLength("👨‍👩‍👧‍👦 🇯🇵 1️⃣ 👍🏽"), 11)
    }

    static let corpus: [String] = [
        "english text 日本語 😷 https://example.com",
        // URLs
        "see https://example.com/path?q=1&r=2#frag. and http://example.org/",
        "http://t.co/abcdef?x=1/more and https://t.co/" + String(repeating: "a", count: 41),
        "www.example.co.uk/path(with)parens and (https://example.com/a_(b)) end",
        "bare example.com and example.comx and foo.bar.comx",
        "a-b.example.org:8080/x?y=z, example.net:99",
        "user@example.com #example.com $example.com -example.com _example.com /example.com .example.com",
        "http://例え.テスト https://日本語.jp/パス https://münchen.de/straße http://xn--mnchen-3ya.de",
        "https://example.community https://EXAMPLE.COM/UPPER HTTPS://Example.Org",
        "go to google.com/search?q=swift+6 now",
        "https://example.com/@user/ https://sub_domain.example.com https://example.com/ű",
        "https://" + String(repeating: "a", count: 64) + ".com https://" + String(repeating: "b", count: 63) + ".com",
        "https://example.com/" + String(repeating: "x", count: 4100),
        "ftp://example.com example.中国 https://example.ευ example.com,example.org e.g. i.e. etc.",
        "http://twitter.com/これは日本語です。example.com中国語",
        "日本語example.com https://日本語example.com/x",
        "https://example.com. https://example.com… https://example.com/…",
        // CJK
        "日本語のテキスト 中文字符串 한국어 텍스트 ｆｕｌｌｗｉｄｔｈ ﾊﾝｶｸ",
        // Emoji: ZWJ families, flags, skin tones, keycaps, tags, newer than Emoji 12
        "👨‍👩‍👧‍👦 🏳️‍🌈 🧑‍🤝‍🧑 👩🏽‍💻 🏴‍☠️",
        "🇺🇸🇯🇵 🇦🇦 🇺🇸🇬 🇦",
        "👍🏽 👍🏿👍 🏻 ✋🏼",
        "1️⃣ #️⃣ *️⃣ 1⃣ #⃣ 0",
        "© ©️ ® ™ ‼️ ⁉ ↔️ ☺ ☺️",
        "🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿",
        "❤️‍🔥 🫠 🧑‍🎄 🐦‍🔥",
        "\u{200D} a\u{200D}b 😷\u{200D}😷",
        // Combining marks and NFC
        "e\u{301} a\u{301}\u{302} \u{1100}\u{1161}\u{11A8} \u{212B} A\u{30A} \u{0915}\u{094D}\u{0937} Z\u{351}\u{34d}\u{356}a\u{310}\u{31a}",
        "\u{10FF}\u{1100} \u{2000}\u{200D}\u{200E} \u{2010}\u{201F}\u{2020} \u{2032}\u{2037}\u{2038} \u{2026}",
        // Line endings and invalid characters
        "a\r\nb\rc\nd", "\r\n\r\n", "a\u{FEFF}b", "\u{FFFE}", "", "   ",
        // At and around the limit
        String(repeating: "a", count: 280), String(repeating: "a", count: 281),
        String(repeating: "日", count: 140), String(repeating: "日", count: 141),
        String(repeating: "😷", count: 140), String(repeating: "😷", count: 141),
        String(repeating: "https://example.com/x ", count: 12) + "tail",
    ]

    func testCorpusAgreesWithTwitterTextParser() throws {
        let references = try reference(Self.corpus)
        for (text, expected) in zip(Self.corpus, references) {
            XCTAssertEqual(ours(text), expected, "text: \(text.debugDescription.prefix(300))")
        }
    }

    /// Pieces the random mixes are drawn from, glued with or without spaces.
    static let pieces: [String] = [
        "word", "Tweet", "BTC-USDT", "long", "+2.5%", "entry 64,250.5", "stop", "@user", "#hashtag", "$BTC", "(note)", ".", ",", "-", "_", "/",
        "…", "—", "“quoted”", "https://example.com", "http://t.co/xyz", "https://example.com/a/b?c=d&e=f", "example.org", "sub.example.co.uk/path",
        "bit.ly/3abc", "münchen.de", "https://日本語.jp", "example.comx", "x.com", "日本語", "中文", "한국어", "ｆｕｌｌ", "😷", "👨‍👩‍👧‍👦",
        "🇯🇵", "🇺🇸", "👍🏽", "1️⃣", "#️⃣", "©", "®", "🏳️‍🌈", "❤️‍🔥", "\u{301}", "e\u{301}", "\u{FE0F}", "\u{200D}", "\n", "\r\n", "\t",
        "\u{2014}", "\u{2030}", "\u{1F1E6}",
    ]

    static func randomMix(_ random: inout SplitMix64, pieces count: ClosedRange<Int>) -> String {
        var text = ""
        for _ in 0..<Int.random(in: count, using: &random) {
            text += pieces.randomElement(using: &random)!
            if Int.random(in: 0..<3, using: &random) > 0 { text += [" ", " ", "  ", "\n"].randomElement(using: &random)! }
        }
        return text
    }

    func testRandomMixesAgreeWithTwitterTextParser() throws {
        var random = SplitMix64(seed: 280)
        let texts = (0..<600).map { _ in Self.randomMix(&random, pieces: 1...40) }
        let references = try reference(texts)
        for (text, expected) in zip(texts, references) {
            XCTAssertEqual(ours(text), expected, "text: \(text.debugDescription)")
        }
    }

    // MARK: - Fitting

    func testFittingCutsAtTheLimitWithAnEllipsis() {
        XCTAssertEqual(TwitterText.fitted(String(repeating: "a", count: 280)), String(repeating: "a", count: 280))
        XCTAssertEqual(TwitterText.fitted(String(repeating: "a", count: 300)), String(repeating: "a", count: 278) + "…")
        XCTAssertEqual(TwitterText.fitted(String(repeating: "日", count: 200)), String(repeating: "日", count: 139) + "…")
        // White space before the cut goes; a family emoji stays whole.
        XCTAssertEqual(TwitterText.fitted(String(repeating: "a", count: 276) + "   👨‍👩‍👧‍👦 more"), String(repeating: "a", count: 276) + "…")
        XCTAssertEqual(TwitterText.fitted(String(repeating: "a", count: 276) + "👨‍👩‍👧‍👦 more"), String(repeating: "a", count: 276) + "👨‍👩‍👧‍👦…")
        // Normalised and cleaned even when short.
        XCTAssertEqual(TwitterText.fitted("e\u{301}\r\n\u{FEFF}x"), "é\nx")
    }

    func testFittingDropsAURLWholeRatherThanCuttingIt() {
        let text = String(repeating: "x", count: 260) + " https://example.com/a/very/long/path and more"
        XCTAssertEqual(TwitterText.fitted(text), String(repeating: "x", count: 260) + "…")
        // A URL that fits stays whole: 250 + 1 + 23 + " and" 4 + "…" 2 = 280.
        let fits = String(repeating: "x", count: 250) + " https://example.com/a/very/long/path and more"
        XCTAssertEqual(TwitterText.fitted(fits), String(repeating: "x", count: 250) + " https://example.com/a/very/long/path and…")
        XCTAssertEqual(TwitterText.weightedLength(TwitterText.fitted(fits)), 280)
    }

    /// A cut can make a URL of what was not one: "example.comx" is none,
    /// but "example.com…" and "example.co…" are (.com, .co) and count 23, so
    /// the cut moves back until the recounted text fits.
    func testFittingRecountsTheCutText() {
        let text = String(repeating: "a", count: 266) + " example.comxyz"
        XCTAssertEqual(TwitterText.weightedLength(text), 281)
        XCTAssertEqual(TwitterText.fitted(text), String(repeating: "a", count: 266) + " example.c…")
        XCTAssertEqual(TwitterText.weightedLength(TwitterText.fitted(text)), 278)
    }

    func testFittedRandomTextsFitByTwitterTextParserAndKeepURLsWhole() throws {
        var random = SplitMix64(seed: 0x7EE7)
        let texts = (0..<150).map { _ in Self.randomMix(&random, pieces: 40...220) }
        let fitted = texts.map { TwitterText.fitted($0) }
        let references = try reference(texts + fitted)
        let (originals, results) = (references[..<texts.count], references[texts.count...])
        for (index, (text, cut)) in zip(texts, fitted).enumerated() {
            let original = originals[originals.startIndex + index], result = results[results.startIndex + index]
            XCTAssertLessThanOrEqual(result.weightedLength, 280, cut)
            XCTAssertEqual(result.weightedLength, TwitterText.weightedLength(cut), cut)
            XCTAssertTrue(result.valid || cut.isEmpty, cut)
            let normalized = Array(TwitterText.normalized(text).unicodeScalars)
            guard original.weightedLength > 280 else {
                XCTAssertEqual(Array(cut.unicodeScalars), normalized.filter { !"\u{FEFF}\u{FFFE}\u{FFFF}".unicodeScalars.contains($0) })
                continue
            }
            // A prefix of the normalised text, then "…"; no URL of the text kept in part.
            let kept = Array(cut.unicodeScalars.dropLast())
            XCTAssertEqual(cut.unicodeScalars.last, "…")
            XCTAssertTrue(normalized.starts(with: kept), cut)
            for url in original.urls {
                XCTAssertTrue(url.end <= kept.count || url.start >= kept.count, "\(url) cut in \(cut.debugDescription)")
            }
            // Little is given away: at most a dropped URL (23) or a grapheme (2),
            // the white space before it and a recount's step back (2).
            let whiteSpace = normalized[kept.count...].prefix { $0.properties.isWhitespace }.count
            XCTAssertGreaterThanOrEqual(result.weightedLength, 280 - 2 - 23 - 2 - whiteSpace, cut.debugDescription)
        }
    }
}
