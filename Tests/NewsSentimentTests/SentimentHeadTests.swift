import AlphaPlusSDKTesting
@testable import ExchangeSim  // SimRandom: a seeded generator, so that a failing case replays
import Foundation
import HeadSentiment
import XCTest

/// The sentiment head through TestHost, as the host drives it: news through
/// onEvent, votes from evaluate at the frame's time.
final class SentimentHeadTests: XCTestCase {
    private let t0: Int64 = 1_709_510_400_000_000_000  // 2024-03-04T00:00:00Z
    private let hourNs: Int64 = 3_600_000_000_000

    private func head(_ config: String = "{}", host: TestHost = TestHost()) throws -> TestInstance {
        try host.load(SentimentHead.self).create(config: config)
    }

    private func news(_ headline: String, id: String, at ns: Int64, symbols: [String] = ["BTC-USDT"], body: String = "",
                      source: String = "wire") -> MarketEvent {
        .news(EventSource(venue: "news", symbol: symbols.first ?? "", exchangeTimeNs: ns), id: id, source: source,
              headline: headline, body: body, url: "", symbols: symbols)
    }

    private func vote(_ head: TestInstance, _ symbol: String = "BTC-USDT", at ns: Int64) throws -> Vote {
        try head.evaluate(TestFrame(symbol: symbol, timestampNs: ns))
    }

    /// The aggregate behind a vote with one supporting item, from the
    /// documented confidence map: confidence = tanh(|sum|) × (1 − 2⁻¹).
    private func sumOfOneItem(_ vote: Vote) -> Double { atanh(vote.confidence / 0.5) }

    func testWithoutNewsTheVoteIsFlat() throws {
        let head = try head()
        XCTAssertEqual(try vote(head, at: t0), Vote(.flat, confidence: 0))
        try head.send(news("Bitcoin rallies", id: "1", at: t0))
        XCTAssertEqual(try vote(head, "ETH-USDT", at: t0), Vote(.flat, confidence: 0), "news about another symbol")
    }

    func testGoodAndBadNewsVoteLongAndShortWithTheDocumentedConfidence() throws {
        let head = try head(#"{"threshold": 0.1}"#)
        let headline = "Bitcoin surges sharply as short squeeze liquidates sellers"
        try head.send(news(headline, id: "1", at: t0))
        let long = try vote(head, at: t0)
        let expected = SentimentScorer.score(headline).normalized
        XCTAssertEqual(long.direction, .long)
        XCTAssertEqual(long.confidence, tanh(expected) * 0.5, accuracy: 1e-12)
        XCTAssertEqual(long.rationale.description, "news +\((expected * 100).rounded() / 100) from 1 of 1 items: \"\(headline)\"")

        try head.send(news("Major exchange hack drains hot wallets", id: "2", at: t0, symbols: ["ETH-USDT"]))
        let short = try vote(head, "ETH-USDT", at: t0)
        XCTAssertEqual(short.direction, .short)
        XCTAssertEqual(sumOfOneItem(short), -SentimentScorer.score("Major exchange hack drains hot wallets").normalized, accuracy: 1e-9)
    }

    func testTheThresholdSeparatesFlatFromAVote() throws {
        let headline = "Bitcoin climbs"  // one mild term
        let sum = SentimentScorer.score(headline).normalized
        XCTAssertTrue(sum > 0.3 && sum < 0.4, "\(sum)")
        let strict = try head(#"{"threshold": 0.4}"#), loose = try head(#"{"threshold": 0.3}"#)
        for head in [strict, loose] { try head.send(news(headline, id: "1", at: t0)) }
        XCTAssertEqual(try vote(strict, at: t0), Vote(.flat, confidence: 0))
        XCTAssertEqual(try vote(loose, at: t0).direction, .long)
        // A decayed item falls under the threshold.
        XCTAssertEqual(try vote(loose, at: t0 + hourNs).direction, .flat)
    }

    func testTheHalfLifeHalvesTheSumOnTheFramesClock() throws {
        let head = try head(#"{"threshold": 0.01, "half_life_s": 1800}"#)
        try head.send(news("Bitcoin rallies to a record high", id: "1", at: t0))
        let fresh = sumOfOneItem(try vote(head, at: t0))
        XCTAssertEqual(sumOfOneItem(try vote(head, at: t0 + hourNs / 2)), fresh / 2, accuracy: 1e-9)
        XCTAssertEqual(sumOfOneItem(try vote(head, at: t0 + hourNs)), fresh / 4, accuracy: 1e-9)
        XCTAssertEqual(try vote(head, at: t0 - 1), Vote(.flat, confidence: 0), "no look-ahead: the item is after the frame")
    }

    func testItemsOlderThanTheMaximumAgeAreDropped() throws {
        let head = try head(#"{"threshold": 0.01, "max_age_s": 7200}"#)
        try head.send(news("Bitcoin rallies", id: "1", at: t0))
        XCTAssertEqual(try vote(head, at: t0 + 2 * hourNs).direction, .long)
        XCTAssertEqual(try vote(head, at: t0 + 2 * hourNs + 1), .flat)
    }

    func testARepeatedIDCountsOnce() throws {
        let host = TestHost()
        let once = try head(#"{"threshold": 0.01}"#, host: host), twice = try head(#"{"threshold": 0.01}"#, host: host)
        try once.send(news("Bitcoin rallies", id: "n-1", at: t0))
        try twice.send(news("Bitcoin rallies", id: "n-1", at: t0))
        try twice.send(news("Bitcoin rallies", id: "n-1", at: t0))
        try twice.send(news("Bitcoin rallies again", id: "n-1", at: t0 + 1, symbols: ["ETH-USDT"]))
        XCTAssertEqual(try vote(twice, at: t0 + 1), try vote(once, at: t0 + 1))
        XCTAssertEqual(try vote(twice, "ETH-USDT", at: t0 + 1), Vote(.flat, confidence: 0))
        XCTAssertEqual(host.metrics.filter { $0.name == "sentiment_duplicate_news" }.count, 2)
        XCTAssertEqual(host.metrics.filter { $0.name == "sentiment_news_items" }.count, 2)
    }

    func testMarketWideItemsWeighOnEverySymbol() throws {
        let head = try head(#"{"threshold": 0.01, "market_wide_weight": 0.5}"#)
        let headline = "Global markets tumble as recession fears return"
        try head.send(news(headline, id: "m", at: t0, symbols: []))
        let expected = 0.5 * SentimentScorer.score(headline).normalized
        for symbol in ["BTC-USDT", "ETH-USDT"] {
            let vote = try vote(head, symbol, at: t0)
            XCTAssertEqual(vote.direction, .short, symbol)
            XCTAssertEqual(sumOfOneItem(vote), -expected, accuracy: 1e-9, symbol)
        }
        let ignoring = try self.head(#"{"threshold": 0.01, "market_wide_weight": 0}"#)
        try ignoring.send(news(headline, id: "m", at: t0, symbols: []))
        XCTAssertEqual(try vote(ignoring, at: t0), .flat)
    }

    func testConfidenceGrowsWithTheNumberOfAgreeingItems() throws {
        let head = try head(#"{"threshold": 0.01}"#)
        var confidences: [Double] = []
        for index in 1...4 {
            // Good news, the third item bad: only the good ones support the sum.
            try head.send(news(index == 3 ? "Bitcoin slips" : "Bitcoin rallies", id: "\(index)", at: t0))
            confidences.append(try vote(head, at: t0).confidence)
        }
        XCTAssertLessThan(confidences[0], confidences[1])
        XCTAssertLessThan(confidences[2], confidences[3])
        let last = try vote(head, at: t0)
        XCTAssertTrue(last.rationale.description.contains("from 3 of 4 items"), last.rationale.description)
    }

    func testTheBodyCountsOnlyWhenConfigured() throws {
        let headline = "Exchange publishes quarterly update", body = "Withdrawals halted after a security breach"
        let ignoring = try head(#"{"threshold": 0.01}"#)
        let reading = try head(#"{"threshold": 0.01, "score_body": true, "body_weight": 0.5}"#)
        for head in [ignoring, reading] { try head.send(news(headline, id: "1", at: t0, body: body)) }
        XCTAssertEqual(try vote(ignoring, at: t0), Vote(.flat, confidence: 0))
        let vote = try vote(reading, at: t0)
        XCTAssertEqual(vote.direction, .short)
        XCTAssertEqual(sumOfOneItem(vote), -SentimentScorer.normalized(0.5 * SentimentScorer.score(body).sum), accuracy: 1e-9)
    }

    func testTheRationaleQuotesTheStrongestHeadlinesLeadingWordsBounded() throws {
        let head = try head(#"{"threshold": 0.01}"#)
        let long = "Bitcoin soars to an all-time high as record inflows pour into spot funds across every venue worldwide"
        try head.send(news("Bitcoin climbs", id: "1", at: t0))
        try head.send(news(long, id: "2", at: t0))
        let rationale = try vote(head, at: t0).rationale.description
        XCTAssertTrue(rationale.hasSuffix(": \"Bitcoin soars to an all-time high as record…\""), rationale)
        let unbroken = String(repeating: "x", count: 300) + " rallies"
        try head.send(news(unbroken, id: "3", at: t0, symbols: ["ETH-USDT"]))
        let cut = try vote(head, "ETH-USDT", at: t0).rationale.description
        XCTAssertTrue(cut.hasSuffix(": \"" + String(repeating: "x", count: 80) + "…\""), cut)
        XCTAssertLessThanOrEqual(cut.utf8.count, 256)
    }

    func testTheCapBoundsTheItemsPerSymbol() throws {
        let head = try head(#"{"threshold": 0.01, "max_items_per_symbol": 3}"#)
        for index in 0..<10 { try head.send(news("Bitcoin rallies", id: "\(index)", at: t0 + Int64(index))) }
        XCTAssertTrue(try vote(head, at: t0 + 10).rationale.description.contains("from 3 of 3 items"))
    }

    func testConfidenceStaysFiniteInTheUnitIntervalUnderRandomNews() throws {
        var random = SimRandom(seed: 42)
        let words = SentimentLexicon.entries.flatMap { [$0.term] + $0.variants } + SentimentLexicon.negators + ["isn't"]
            + SentimentLexicon.intensifiers.map(\.word) + ["bitcoin", "ether", ",", ".", "the", "market", "-", "’s"]
        for round in 0..<20 {
            let config = """
                {"threshold": \(random.uniform() * 2 + 0.001), "half_life_s": \(random.uniform() * 86_400 + 1),
                 "max_age_s": \(random.uniform() * 172_800 + 1), "market_wide_weight": \(random.uniform()),
                 "score_body": \(random.uniform() < 0.5), "body_weight": \(random.uniform()), "max_items_per_symbol": \(random.below(50) + 1)}
                """
            let head = try head(config)
            var now = t0
            for index in 0..<200 {
                now += Int64(random.below(600)) * 1_000_000_000
                let text = (0..<(random.below(12) + 1)).map { _ in words[random.below(words.count)] }.joined(separator: " ")
                let symbols = [[], ["BTC-USDT"], ["ETH-USDT"], ["BTC-USDT", "ETH-USDT"]][random.below(4)]
                try head.send(news(text, id: "\(round)-\(random.below(150))", at: now - Int64(random.below(7200)) * 1_000_000_000,
                                   symbols: symbols, body: text))
                if index % 3 == 0 {
                    let vote = try vote(head, ["BTC-USDT", "ETH-USDT", "SOL-USDT"][random.below(3)], at: now)
                    XCTAssertTrue(vote.confidence.isFinite && (0...1).contains(vote.confidence), "\(vote)")
                    if vote.direction == .flat { XCTAssertEqual(vote.confidence, 0) } else { XCTAssertGreaterThan(vote.confidence, 0) }
                }
            }
        }
    }

    func testTheSchemaRefusesBadSettingsNamingThem() throws {
        let plugin = try TestHost().load(SentimentHead.self)
        for (config, field) in [(#"{"half_life_s": 0}"#, "half_life_s"), (#"{"threshold": -1}"#, "threshold"),
                                (#"{"market_wide_weight": 2}"#, "market_wide_weight"), (#"{"halflife": 60}"#, "halflife")] {
            XCTAssertThrowsError(try plugin.create(config: config)) { XCTAssertTrue("\($0)".contains(field), "\($0)") }
        }
        XCTAssertEqual(plugin.id, "com.alphaplus.head-sentiment")
        XCTAssertEqual(plugin.capabilities, ["ap.head.v1"])
    }
}
