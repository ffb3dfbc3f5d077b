import HeadSentiment
import XCTest

/// The lexicon table and the scoring rules on sample headlines.
final class LexiconScoringTests: XCTestCase {
    /// The score of the lexicon's entry `term`.
    private func entry(_ term: String) -> (term: String, score: Double) {
        guard let entry = SentimentLexicon.entries.first(where: { $0.term == term }) else {
            XCTFail("no lexicon entry '\(term)'")
            return (term, .nan)
        }
        return (entry.term, entry.score)
    }

    private func multiplier(_ word: String) -> Double {
        SentimentLexicon.intensifiers.first { $0.word == word }?.multiplier ?? .nan
    }

    private func sum(_ text: String) -> Double { SentimentScorer.score(text).sum }

    func testTheTableIsLargeWellFormedAndUnambiguous() {
        let entries = SentimentLexicon.entries
        XCTAssertGreaterThanOrEqual(entries.count, 200)
        XCTAssertGreaterThanOrEqual(entries.filter { $0.term.contains(" ") }.count, 40, "multi-word phrases")
        for required in ["etf approval", "rate hike", "short squeeze", "exchange hack"] { XCTAssertEqual(entry(required).term, required) }
        var seen: Set<String> = []
        let negators = Set(SentimentLexicon.negators), intensifiers = Set(SentimentLexicon.intensifiers.map(\.word))
        for entry in entries {
            XCTAssertTrue((-1...1).contains(entry.score) && entry.score != 0, "\(entry.term): score \(entry.score)")
            for text in [entry.term] + entry.variants {
                XCTAssertTrue(seen.insert(text).inserted, "'\(text)' is in the table twice")
                // Written as the tokeniser spells it, or it could never match.
                XCTAssertEqual(SentimentScorer.tokens(text).map(\.text).joined(separator: " "), text)
                XCTAssertFalse(negators.contains(text) || intensifiers.contains(text) || text.hasSuffix("n't"), "'\(text)' is also a modifier")
            }
        }
        for category in LexiconCategory.allCases { XCTAssertTrue(entries.contains { $0.category == category }, "\(category) is empty") }
        for (word, multiplier) in SentimentLexicon.intensifiers { XCTAssertTrue(multiplier > 0 && multiplier != 1, word) }
    }

    func testTokensAreLowercaseWordsNumberedByClause() {
        let tokens = SentimentScorer.tokens("Bitcoin’s ETF—APPROVED; sell-off: 2.5% drop isn't 'over' (yet) - ok")
        XCTAssertEqual(tokens.map(\.text), ["bitcoin", "etf", "approved", "sell", "off", "2.5", "drop", "isn't", "over", "yet", "ok"])
        XCTAssertEqual(tokens.map(\.clause), [0, 0, 1, 2, 2, 3, 3, 3, 3, 4, 6])
    }

    func testPhrasesWinOverTheirWords() {
        let hack = SentimentScorer.score("Exchange hack drains hot wallet")
        XCTAssertEqual(hack.matches.map(\.term), ["exchange hack", "drained"])
        XCTAssertEqual(hack.sum, entry("exchange hack").score + entry("drained").score, accuracy: 1e-12)
        XCTAssertEqual(sum("Fed signals another rate hike"), entry("rate hike").score)
        XCTAssertEqual(sum("Fed signals another rate cut"), entry("rate cut").score)
        XCTAssertLessThan(sum("Fed signals another rate hike"), 0)
        XCTAssertGreaterThan(sum("Fed signals another rate cut"), 0)
        XCTAssertEqual(sum("Short squeeze lifts shares"), entry("short squeeze").score)
        XCTAssertEqual(sum("SEC weighs ETF approval"), entry("etf approval").score)
        // Hyphenated and inflected forms read as the phrase.
        XCTAssertEqual(SentimentScorer.score("Ether hits an all-time high").matches.map(\.term), ["all time high"])
        XCTAssertEqual(SentimentScorer.score("Altcoins extend sell-off").matches.map(\.term), ["sell off"])
        // "inflation surges" is bad news although "surges" alone is good.
        XCTAssertEqual(sum("US inflation surges"), entry("inflation rises").score)
        XCTAssertLessThan(sum("US inflation surges"), 0)
    }

    func testNegationFlipsTermsStartingInTheNextThreeTokens() {
        XCTAssertEqual(sum("Bitcoin is not bullish"), -entry("bullish").score)
        XCTAssertEqual(sum("Analysts expect no ETF approval"), -entry("etf approval").score)
        XCTAssertEqual(sum("Bitcoin never crashed"), -entry("crash").score)
        for contraction in ["isn't", "won't", "didn’t", "can't"] {
            XCTAssertEqual(sum("The market \(contraction) bearish"), -entry("bearish").score, contraction)
        }
        // Third token after the negator: flipped; fourth: not.
        XCTAssertEqual(sum("not a big rally"), -entry("rally").score * multiplier("big"), accuracy: 1e-12)
        XCTAssertEqual(sum("not quite a fresh rally"), entry("rally").score)
        // A clause break ends the negation; a phrase that starts with a negator is a term.
        XCTAssertEqual(sum("No, bitcoin rallies"), entry("rally").score)
        XCTAssertEqual(sum("Founder found not guilty"), entry("not guilty").score)
        XCTAssertGreaterThan(entry("not guilty").score, 0)
        let negated = SentimentScorer.score("Bitcoin is not dead")
        XCTAssertEqual(negated.matches.map(\.term), ["dead"])
        XCTAssertEqual(negated.matches.map(\.negated), [true])
        XCTAssertEqual(negated.matches.map(\.multiplier), [1])
        XCTAssertGreaterThan(negated.normalized, 0)
    }

    func testIntensifiersScaleTheTermTheyQualify() {
        XCTAssertEqual(sum("Bitcoin falls sharply"), entry("fall").score * multiplier("sharply"), accuracy: 1e-12)
        XCTAssertEqual(sum("A massive short squeeze"), entry("short squeeze").score * multiplier("massive"), accuracy: 1e-12)
        XCTAssertEqual(sum("Ether trades slightly lower"), entry("lower").score * multiplier("slightly"), accuracy: 1e-12)
        XCTAssertLessThan(abs(sum("Ether trades slightly lower")), abs(entry("lower").score))
        // Two intensifiers multiply; the term after wins over the one before.
        XCTAssertEqual(sum("very sharply lower"), entry("lower").score * multiplier("very") * multiplier("sharply"), accuracy: 1e-12)
        XCTAssertEqual(sum("rally sharply lower"), entry("rally").score + entry("lower").score * multiplier("sharply"), accuracy: 1e-12)
        // Out of reach or across a clause break: no effect.
        XCTAssertEqual(sum("massive crowds at the conference"), 0)
        XCTAssertEqual(sum("Bitcoin falls, sharply"), entry("fall").score)
        // Negated and intensified.
        XCTAssertEqual(sum("not a massive crash"), -entry("crash").score * multiplier("massive"), accuracy: 1e-12)
    }

    func testNeutralTextScoresZero() {
        let neutral = SentimentScorer.score("Exchange publishes its monthly report on Tuesday")
        XCTAssertEqual(neutral.matches, [])
        XCTAssertEqual(neutral.normalized, 0)
        XCTAssertEqual(SentimentScorer.score("").normalized, 0)
    }

    func testTheNormalisedScoreIsBoundedOddAndIncreasing() {
        var previous = -1.0
        for step in -400...400 {
            let sum = Double(step) / 20
            let value = SentimentScorer.normalized(sum)
            XCTAssertTrue(value > -1 && value < 1, "\(sum) → \(value)")
            XCTAssertGreaterThan(value, previous)
            XCTAssertEqual(value, -SentimentScorer.normalized(-sum), accuracy: 1e-15)
            previous = value
        }
        XCTAssertEqual(SentimentScorer.normalized(0), 0)
        XCTAssertEqual(SentimentScorer.normalized(1), 1 / 2.0.squareRoot(), accuracy: 1e-15)
        // More agreeing terms, a stronger score.
        let one = SentimentScorer.score("Bitcoin rallies").normalized
        let two = SentimentScorer.score("Bitcoin rallies as inflows jump").normalized
        XCTAssertGreaterThan(two, one)
    }
}
