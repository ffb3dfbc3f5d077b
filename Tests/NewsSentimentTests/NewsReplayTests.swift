import AlphaPlusFeeds
import AlphaPlusSDKTesting
import Foundation
import NewsReplay
import XCTest

/// The news replay through TestHost: what it emits, to whom, when, and how
/// it reports bad lines.
final class NewsReplayTests: XCTestCase {
    private let t0: Int64 = 1_709_510_400_000_000_000  // 2024-03-04T00:00:00Z
    private let secondNs: Int64 = 1_000_000_000

    /// Instances live as long as the test: a released instance is destroyed.
    private var instances: [TestInstance] = []

    private func file(_ lines: [String]) throws -> String {
        let path = NSTemporaryDirectory() + "news-\(UUID().uuidString).jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    private func line(_ ts: String, _ id: String, _ symbols: [String] = ["BTC-USDT"], headline: String? = nil) -> String {
        let list = symbols.map { "\"\($0)\"" }.joined(separator: ", ")
        return #"{"ts": \#(ts), "id": "\#(id)", "headline": "\#(headline ?? "Headline \(id)")", "symbols": [\#(list)]}"#
    }

    /// Starts a replay of `path` subscribed to `symbols` (news stream).
    private func replay(_ path: String, _ settings: String = "", symbols: [String] = ["BTC-USDT"],
                        host: TestHost = TestHost()) throws -> TestHost {
        let instance = try host.load(NewsReplayConnector.self).create(config: #"{"file": "\#(path)"\#(settings)}"#)
        try instance.start()
        for symbol in symbols { try instance.subscribe(Subscription(symbol: symbol, streams: .news)) }
        instances.append(instance)
        return host
    }

    private struct News: Equatable {
        var venue: String, symbol: String, timeNs: Int64, id: String, source: String, headline: String, body: String, url: String
        var symbols: [String]
    }

    private func news(_ host: TestHost) -> [News] {
        host.emitted.compactMap {
            guard case let .news(source, id, origin, headline, body, url, symbols) = $0 else { return nil }
            return News(venue: source.venue, symbol: source.symbol, timeNs: source.exchangeTimeNs, id: id, source: origin,
                        headline: headline, body: body, url: url, symbols: symbols)
        }
    }

    private func logs(_ host: TestHost) -> [String] { host.logs.map { "\($0.level): \($0.message)" } }

    private func metric(_ host: TestHost, _ name: String) -> [Double] { host.metrics.filter { $0.name == name }.map(\.value) }

    func testMaxModeEmitsEveryItemInOrderWithItsFields() throws {
        let path = try file([
            #"{"ts": "2024-03-04T00:00:00Z", "id": "a", "headline": "Bitcoin \"rallies\" \u2014 again", "symbols": ["BTC-USDT"], "source": "wire", "body": "Line one.\nLine two.", "url": "https://news.example/a"}"#,
            #"{"id": "b", "ts": 1709510460000, "headline": "Markets calm", "symbols": [], "body": null}"#,
            #"{"ts": "2024-03-04T02:01:30.5+02:00", "id": "c", "headline": "Ether and bitcoin slip", "symbols": ["ETH-USDT", "BTC-USDT"]}"#,
        ])
        let host = try replay(path, #", "mode": "max", "venue": "wire-news""#)
        host.advance(byNs: 0)
        XCTAssertEqual(news(host), [
            News(venue: "wire-news", symbol: "BTC-USDT", timeNs: t0, id: "a", source: "wire", headline: "Bitcoin \"rallies\" — again",
                 body: "Line one.\nLine two.", url: "https://news.example/a", symbols: ["BTC-USDT"]),
            News(venue: "wire-news", symbol: "", timeNs: t0 + 60 * secondNs, id: "b", source: "", headline: "Markets calm",
                 body: "", url: "", symbols: []),
            News(venue: "wire-news", symbol: "BTC-USDT", timeNs: t0 + 90 * secondNs + 500_000_000, id: "c", source: "",
                 headline: "Ether and bitcoin slip", body: "", url: "", symbols: ["BTC-USDT"]),
        ])
        XCTAssertEqual(metric(host, "news_items_emitted"), [3])
        XCTAssertEqual(logs(host), ["info: replaying 3 news items from \(path)", "info: news replay finished: 3 items emitted"])
    }

    func testOnlySubscribedSymbolsGetNewsAndMarketWideItemsGoOutOnce() throws {
        let path = try file([line("1709510400000", "btc"), line("1709510401000", "eth", ["ETH-USDT"]),
                             line("1709510402000", "both", ["ETH-USDT", "SOL-USDT"]), line("1709510403000", "all", []),
                             line("1709510404000", "sol", ["SOL-USDT"])])
        let host = try replay(path, #", "mode": "max""#, symbols: ["ETH-USDT", "SOL-USDT"])
        host.advance(byNs: 0)
        XCTAssertEqual(news(host).map(\.id), ["eth", "both", "all", "sol"])
        XCTAssertEqual(news(host).map(\.symbols), [["ETH-USDT"], ["ETH-USDT", "SOL-USDT"], [], ["SOL-USDT"]])
        XCTAssertEqual(metric(host, "news_items_unsubscribed"), [1])

        let unsubscribed = try replay(path, #", "mode": "max""#, symbols: [])
        unsubscribed.advance(byNs: 0)
        XCTAssertEqual(unsubscribed.emitted, [], "nothing subscribed: not even market-wide items")
    }

    func testUnsubscribeStopsASymbolsNews() throws {
        let path = try file([line("1709510400000", "1"), line("1709510460000", "2")])
        let host = TestHost()
        _ = try replay(path, symbols: ["BTC-USDT"], host: host)
        host.advance(byNs: 0)
        try instances[0].unsubscribe(symbol: "BTC-USDT")
        host.advance(byNs: 120 * secondNs)
        XCTAssertEqual(news(host).map(\.id), ["1"])
    }

    func testRealtimePacingFollowsTheHostClockDividedBySpeed() throws {
        let path = try file([line("1709510400000", "1"), line("1709510460000", "2"), line("1709510580000", "3")])
        let host = try replay(path, #", "speed": 60"#)
        let start = host.nowNs
        host.advance(byNs: 0)
        XCTAssertEqual(news(host).map(\.id), ["1"])
        host.advance(byNs: secondNs - 1)
        XCTAssertEqual(news(host).count, 1, "item 2 is due 60 s / 60 after the start")
        host.advance(byNs: 1)
        XCTAssertEqual(news(host).map(\.id), ["1", "2"])
        host.advance(byNs: 2 * secondNs)
        XCTAssertEqual(news(host).map(\.id), ["1", "2", "3"])
        XCTAssertEqual(news(host).map(\.timeNs), [t0, t0 + 60 * secondNs, t0 + 180 * secondNs], "original times")
        XCTAssertEqual(host.nowNs - start, 3 * secondNs)
    }

    func testRebaseStampsTheFirstItemNowAndTheRestAtTheirDueTimes() throws {
        let path = try file([line("1709510400000", "1"), line("1709510460000", "2"), line("1709510580000", "3")])
        let realtime = try replay(path, #", "speed": 60, "rebase_to_now": true"#)
        let start = realtime.nowNs
        realtime.advance(byNs: 10 * secondNs)
        XCTAssertEqual(news(realtime).map(\.timeNs), [start, start + secondNs, start + 3 * secondNs])

        let max = try replay(path, #", "mode": "max", "rebase_to_now": true"#)
        max.advance(byNs: 0)
        XCTAssertEqual(news(max).map(\.timeNs), [max.nowNs, max.nowNs + 60 * secondNs, max.nowNs + 180 * secondNs])
    }

    func testLoopReplaysTheFileAgainLaterWithNewIDs() throws {
        let path = try file([line("1709510400000", "a"), line("1709510410000", "b")])
        let host = try replay(path, #", "loop": true"#)
        host.advance(byNs: 45 * secondNs)
        // A pass lasts the span (10 s) plus the mean spacing (10 s).
        XCTAssertEqual(news(host).map(\.id), ["a", "b", "a#1", "b#1", "a#2"])
        XCTAssertEqual(news(host).map(\.timeNs), [0, 10, 20, 30, 40].map { t0 + $0 * secondNs })
        XCTAssertFalse(logs(host).contains { $0.contains("finished") })
    }

    func testAnItemDaysAwayIsWaitedForAcrossSeveralTimers() throws {
        let dayNs = 86_400 * secondNs
        let path = try file([line("1709510400000", "1"), line("\((t0 + 3 * dayNs) / 1_000_000)", "2")])
        let host = try replay(path)
        host.advance(byNs: 3 * dayNs - 1)
        XCTAssertEqual(news(host).map(\.id), ["1"])
        host.advance(byNs: 1)
        XCTAssertEqual(news(host).map(\.id), ["1", "2"])
    }

    func testTheLoopEndsBeforeItsTimesPassTheClocksRange() throws {
        let path = try file([line("9223372030000", "a"), line("9223372036000", "b")])
        let host = try replay(path, #", "loop": true"#)
        host.advance(byNs: 60 * secondNs)
        XCTAssertEqual(news(host).map(\.id), ["a", "b"])
        XCTAssertEqual(logs(host).suffix(2), ["warning: the loop ends after pass 1: the next pass's times would be after the year 2262",
                                              "info: news replay finished: 2 items emitted"])
    }

    func testStopAndStartResumeWhereTheReplayStopped() throws {
        let path = try file([line("1709510400000", "1"), line("1709510460000", "2"), line("1709510520000", "3")])
        let host = try replay(path)
        host.advance(byNs: 60 * secondNs)
        try instances[0].stop()
        host.advance(byNs: 600 * secondNs)
        XCTAssertEqual(news(host).map(\.id), ["1", "2"])
        try instances[0].start()
        host.advance(byNs: 0)
        XCTAssertEqual(news(host).map(\.id), ["1", "2", "3"], "re-anchored at the new start")
    }

    private var badLines: [String] {
        [line(#""2024-03-05T00:00:00Z""#, "good-1"),
         "this is not json",
         #"{"ts": "2024-03-05T00:01:00Z", "id": "x", "symbols": []}"#,
         line(#""2024-13-05T00:02:00Z""#, "bad-time"),
         line(#""2024-03-04T23:00:00Z""#, "backwards"),
         line(#""2024-03-05T00:03:00Z""#, "good-2"),
         ""]
    }

    func testSkipReportsEveryBadLineWithFileAndLineAndCountsThem() throws {
        let path = try file(badLines)
        let host = try replay(path, #", "mode": "max", "on_bad_record": "skip""#)
        host.advance(byNs: 0)
        XCTAssertEqual(news(host).map(\.id), ["good-1", "good-2"])
        XCTAssertEqual(logs(host).filter { $0.hasPrefix("warning") }, [
            "warning: skipped bad record \(path):2: not a JSON object: this is not json",
            "warning: skipped bad record \(path):3: missing field 'headline'",
            "warning: skipped bad record \(path):4: field 'ts': '2024-13-05T00:02:00Z' is not an RFC 3339 time from 1970 to 2261 such as "
                + "2024-03-05T14:30:00Z or 2024-03-05T16:30:00.250+02:00",
            "warning: skipped bad record \(path):5: field 'ts': time 2024-03-04T23:00:00.000Z is before the previous item's "
                + "2024-03-05T00:00:00.000Z",
        ])
        XCTAssertEqual(metric(host, "news_bad_records"), [4])
    }

    func testStopReplaysUpToTheFirstBadLineThenEndsWithAnError() throws {
        let path = try file(badLines)
        let host = try replay(path, #", "mode": "max""#)
        host.advance(byNs: 0)
        XCTAssertEqual(news(host).map(\.id), ["good-1"])
        XCTAssertEqual(logs(host).last,
                       "error: news replay stopped at bad record \(path):2: not a JSON object: this is not json")
        XCTAssertEqual(metric(host, "news_bad_records"), [1])
        host.advance(byNs: 3600 * secondNs)
        XCTAssertEqual(host.emitted.count, 1)
    }

    func testStopDoesNotLoopPastABadLine() throws {
        let path = try file(badLines)
        let host = try replay(path, #", "loop": true"#)
        host.advance(byNs: 3600 * secondNs)
        XCTAssertEqual(news(host).map(\.id), ["good-1"])
        XCTAssertTrue(logs(host).last?.hasPrefix("error: news replay stopped at bad record \(path):2:") == true, "\(logs(host))")
    }

    func testSettingsThatCannotWorkAreRefusedAtCreateNamingTheField() throws {
        let plugin = try TestHost().load(NewsReplayConnector.self)
        XCTAssertThrowsError(try plugin.create(config: #"{"file": "/nonexistent/news.jsonl"}"#)) {
            XCTAssertEqual("\($0)", "config field 'file': /nonexistent/news.jsonl:0: cannot open the file")
        }
        let path = try file([line("1709510400000", "1")])
        XCTAssertThrowsError(try plugin.create(config: #"{"file": "\#(path)", "mode": "max", "loop": true}"#)) {
            XCTAssertEqual("\($0)", "config field 'loop': cannot loop in mode \"max\" (the replay would never end); use mode \"realtime\"")
        }
        XCTAssertThrowsError(try plugin.create(config: #"{"file": "\#(path)", "speed": 0}"#)) { XCTAssertTrue("\($0)".contains("speed"), "\($0)") }
        XCTAssertThrowsError(try plugin.create(config: #"{"path": "\#(path)"}"#)) { XCTAssertTrue("\($0)".contains("file"), "\($0)") }
        XCTAssertEqual(plugin.capabilities, ["ap.exchange.v1"])
        XCTAssertEqual(plugin.id, "com.alphaplus.news-replay")
    }

    func testASubscriptionToAnotherStreamIsRefusedNamingIt() throws {
        let path = try file([line("1709510400000", "1")])
        let instance = try TestHost().load(NewsReplayConnector.self).create(config: #"{"file": "\#(path)"}"#)
        XCTAssertThrowsError(try instance.subscribe(Subscription(symbol: "BTC-USDT", streams: [.trades, .news]))) {
            XCTAssertEqual("\($0)", "subscription to 'BTC-USDT': the news replay streams only news, the subscription asks for trades, news")
        }
    }
}
