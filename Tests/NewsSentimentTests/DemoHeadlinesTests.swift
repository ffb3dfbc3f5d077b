import AlphaPlusFeeds
import AlphaPlusSDKTesting
import Foundation
import HeadSentiment
import NewsReplay
import XCTest

/// config/news/demo-headlines.jsonl, the sample the guide's examples use,
/// replayed into the sentiment head.
final class DemoHeadlinesTests: XCTestCase {
    static let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../config/news/demo-headlines.jsonl").standardized.path

    private func replayed(_ symbols: [String], host: TestHost) throws -> [MarketEvent] {
        let instance = try host.load(NewsReplayConnector.self).create(config: #"{"file": "\#(Self.demo)", "mode": "max"}"#)
        try instance.start()
        for symbol in symbols { try instance.subscribe(Subscription(symbol: symbol, streams: .news)) }
        host.advance(byNs: 0)
        return host.emitted
    }

    func testTheDemoFileIsValidAndVaried() throws {
        var decoder = NewsLineDecoder(venue: "news", policy: .stop)
        let events = try decoder.decodeFiles([Self.demo])
        XCTAssertEqual(decoder.report.skipped, 0)
        XCTAssertGreaterThanOrEqual(events.count, 40)
        var symbols: [String: Int] = [:]
        var signs = (positive: 0, negative: 0, neutral: 0), negated = 0
        for case let .news(_, _, _, headline, _, _, eventSymbols) in events {
            for symbol in eventSymbols.isEmpty ? ["market-wide"] : eventSymbols { symbols[symbol, default: 0] += 1 }
            let score = SentimentScorer.score(headline)
            if score.matches.contains(where: \.negated) { negated += 1 }
            switch score.normalized {
            case 0.2...: signs.positive += 1
            case ...(-0.2): signs.negative += 1
            default: signs.neutral += 1
            }
        }
        XCTAssertGreaterThanOrEqual(symbols["BTC-USDT", default: 0], 10, "\(symbols)")
        XCTAssertGreaterThanOrEqual(symbols["ETH-USDT", default: 0], 10, "\(symbols)")
        XCTAssertGreaterThanOrEqual(symbols["market-wide", default: 0], 10, "\(symbols)")
        XCTAssertGreaterThanOrEqual(signs.positive, 10, "\(signs)")
        XCTAssertGreaterThanOrEqual(signs.negative, 10, "\(signs)")
        XCTAssertGreaterThanOrEqual(signs.neutral, 5, "\(signs)")
        XCTAssertGreaterThanOrEqual(negated, 6)
    }

    /// The replay's events fed to the head as the host routes them: every
    /// vote between the items is a valid vote, and the BTC vote right after
    /// the flash-crash headline is short.
    func testReplayedIntoTheHeadEveryVoteIsValid() throws {
        let host = TestHost()
        let events = try replayed(["BTC-USDT"], host: host)
        var decoder = NewsLineDecoder(venue: "news", policy: .stop)
        let wanted = try decoder.decodeFiles([Self.demo]).filter {
            guard case let .news(_, _, _, _, _, _, symbols) = $0 else { return false }
            return symbols.isEmpty || symbols.contains("BTC-USDT")
        }
        XCTAssertEqual(events.map(\.source.exchangeTimeNs), wanted.map(\.source.exchangeTimeNs), "BTC-USDT and market-wide items only")
        let head = try host.load(SentimentHead.self).create(config: #"{"threshold": 0.2}"#)
        var directions: [Direction: Int] = [:]
        for event in events {
            try head.send(event)
            let vote = try head.evaluate(TestFrame(symbol: "BTC-USDT", timestampNs: event.source.exchangeTimeNs))
            XCTAssertTrue((0...1).contains(vote.confidence))
            directions[vote.direction, default: 0] += 1
            if case let .news(_, _, _, headline, _, _, _) = event, headline.contains("flash crash") {
                XCTAssertEqual(vote.direction, .short, vote.rationale.description)
                XCTAssertTrue(vote.rationale.description.contains("\"Bitcoin plunges 8% in a flash crash"), vote.rationale.description)
            }
        }
        XCTAssertGreaterThan(directions[.long, default: 0], 0)
        XCTAssertGreaterThan(directions[.short, default: 0], 0)
    }
}
