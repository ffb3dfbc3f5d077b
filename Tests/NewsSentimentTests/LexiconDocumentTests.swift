import Foundation
import HeadSentiment
import XCTest

/// docs/SENTIMENT_LEXICON.md lists the whole lexicon and the rules'
/// constants between two markers; this test renders that part from the
/// Swift table and fails when the document differs.
/// `ALPHAPLUS_WRITE_LEXICON_DOC=1 swift test --filter LexiconDocumentTests`
/// rewrites it.
final class LexiconDocumentTests: XCTestCase {
    static let begin = "<!-- BEGIN GENERATED from BundledPlugins/HeadSentiment/Head/SentimentLexicon.swift by LexiconDocumentTests -->"
    static let end = "<!-- END GENERATED -->"
    static let document = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../docs/SENTIMENT_LEXICON.md").standardized

    func testTheDocumentListsExactlyTheTable() throws {
        let text = try String(contentsOf: Self.document, encoding: .utf8)
        let begin = try XCTUnwrap(text.range(of: Self.begin), "\(Self.document.path) has no line \(Self.begin)")
        let end = try XCTUnwrap(text.range(of: Self.end, range: begin.upperBound..<text.endIndex), "no line \(Self.end)")
        let generated = "\n\n" + Self.render() + "\n"
        if ProcessInfo.processInfo.environment["ALPHAPLUS_WRITE_LEXICON_DOC"] == "1" {
            try (text[..<begin.upperBound] + generated + text[end.lowerBound...]).write(to: Self.document, atomically: true, encoding: .utf8)
            return
        }
        XCTAssertTrue(text[begin.upperBound..<end.lowerBound] == generated,
                      "\(Self.document.path) differs from the lexicon: run ALPHAPLUS_WRITE_LEXICON_DOC=1 swift test --filter LexiconDocumentTests")
    }

    static func render() -> String {
        let entries = SentimentLexicon.entries
        func number(_ value: Double) -> String { value > 0 ? "+\(value)" : "\(value)" }
        func code(_ texts: [String]) -> String { texts.map { "`\($0)`" }.joined(separator: ", ") }
        var lines: [String] = [
            "### The rules' constants",
            "",
            "- Negators: \(code(SentimentLexicon.negators)), and any word ending in `\(SentimentLexicon.negationSuffix)`.",
            "- Negation window: the \(SentimentLexicon.negationWindow) tokens after the negator.",
            "- Intensifier reach: \(SentimentLexicon.intensifierReach) tokens.",
            "- Clause breaks: \(code(SentimentLexicon.clauseBreaks.map(String.init).sorted())), and a hyphen not between two word characters.",
            "- Normalisation: sum / √(sum² + α) with α = \(SentimentLexicon.normalisationAlpha).",
            "",
            "### Intensifiers",
            "",
            "| word | multiplier |",
            "| --- | --- |",
        ]
        lines += SentimentLexicon.intensifiers.map { "| \($0.word) | ×\($0.multiplier) |" }
        let phrases = entries.filter { $0.term.contains(" ") }.count
        lines += ["", "### Terms", "",
                  "\(entries.count) terms (\(phrases) of them phrases), \(entries.map(\.variants.count).reduce(0, +)) variants."]
        for category in LexiconCategory.allCases {
            let rows = entries.filter { $0.category == category }
            lines += ["", "#### \(category.rawValue) (\(rows.count) terms)", "", "| term | score | variants |", "| --- | --- | --- |"]
            lines += rows.map { "| \($0.term) | \(number($0.score)) | \($0.variants.joined(separator: ", ")) |" }
        }
        return lines.joined(separator: "\n")
    }
}
