import AlphaPlusSDK
import AlphaPlusSDKTesting
import ExchangeSim
import Foundation
import XCTest

/// The simulated exchange through its C table and TestHost's clock.
final class SimulatedExchangeTests: XCTestCase {
    private static let startNs: Int64 = 1_700_000_000_000_000_000

    private func config(seed: UInt64 = 7, mode: String = "fast", seconds: Double = 600, perSecond: Double = 50,
                        extra: String = "") -> String {
        """
        {"seed": \(seed), "mode": "\(mode)", "duration_seconds": \(seconds), "events_per_second": \(perSecond),
         "start_time_ns": \(Self.startNs), \(extra)
         "symbols": [{"symbol": "BTC-USDT", "start_price": "60000", "tick_size": "0.1", "lot_size": "0.001"},
                     {"symbol": "ETH-USDT", "start_price": "3000", "tick_size": "0.01", "lot_size": "0.01"}]}
        """
    }

    /// Runs a fast simulation to its end with everything subscribed.
    private func run(_ config: String, streams: Subscription.Streams = [.trades, .quotes, .book]) throws -> TestHost {
        let host = TestHost()
        let instance = try host.load(SimulatedExchange.self).create(config: config)
        try instance.start()
        try instance.subscribe(Subscription(symbol: "BTC-USDT", streams: streams))
        try instance.subscribe(Subscription(symbol: "ETH-USDT", streams: streams))
        host.advance(byNs: 0)
        return host
    }

    func testTheSameSeedGivesTheSameEventsAndAnotherSeedDoesNot() throws {
        let first = try run(config()).emitted
        XCTAssertGreaterThan(first.count, 20_000)
        XCTAssertEqual(try run(config()).emitted, first)
        XCTAssertNotEqual(try run(config(seed: 8)).emitted, first)
    }

    func testFastModeTimestampsFollowTheSimulatedClockAtTheConfiguredRate() throws {
        let events = try run(config()).emitted.filter { if case .bookSnapshot = $0 { false } else { true } }
        let times = events.map(\.source.exchangeTimeNs)
        XCTAssertEqual(times, times.sorted())
        XCTAssertGreaterThanOrEqual(times.first!, Self.startNs)
        XCTAssertLessThanOrEqual(times.last!, Self.startNs + 600_000_000_000)
        // 600 s at 50 updates per second, one event per update.
        XCTAssertEqual(Double(events.count), 30_000, accuracy: 30_000 * 0.05)
    }

    func testBooksChainTheirSequencesAreNeverCrossedAndRespectTheTick() throws {
        let host = try run(config())
        var books: [String: (bids: [ExactDecimal: ExactDecimal], asks: [ExactDecimal: ExactDecimal], sequence: UInt64)] = [:]
        let ticks = ["BTC-USDT": ExactDecimal("0.1")!, "ETH-USDT": ExactDecimal("0.01")!]
        func onTick(_ price: ExactDecimal, _ symbol: String) -> Bool {
            let tick = ticks[symbol]!
            return price.exponent == tick.exponent && price.mantissa % tick.mantissa == 0
        }
        var deltas = 0
        for event in host.emitted {
            switch event {
            case let .bookSnapshot(source, bids, asks, sequence, _, _, _):
                books[source.symbol] = (Dictionary(uniqueKeysWithValues: bids.map { ($0.price, $0.size) }),
                                        Dictionary(uniqueKeysWithValues: asks.map { ($0.price, $0.size) }), sequence)
            case let .bookDelta(source, bids, asks, first, last, prev, _, _, _):
                deltas += 1
                var book = try XCTUnwrap(books[source.symbol], "a delta before the snapshot")
                XCTAssertEqual(prev, book.sequence)
                XCTAssertEqual(first, book.sequence + 1)
                XCTAssertEqual(last, first)
                for level in bids { book.bids[level.price] = level.size.mantissa == 0 ? nil : level.size }
                for level in asks { book.asks[level.price] = level.size.mantissa == 0 ? nil : level.size }
                book.sequence = last
                let bestBid = book.bids.keys.map(\.doubleValue).max()!, bestAsk = book.asks.keys.map(\.doubleValue).min()!
                XCTAssertLessThan(bestBid, bestAsk, "crossed book at sequence \(last)")
                XCTAssertEqual(book.bids.count, 10)
                XCTAssertTrue((bids + asks).allSatisfy { onTick($0.price, source.symbol) })
                books[source.symbol] = book
            case let .trade(source, price, _, _, _, _):
                XCTAssertTrue(onTick(price, source.symbol))
            case let .quote(source, bid, _, ask, _, _):
                XCTAssertTrue(onTick(bid, source.symbol) && onTick(ask, source.symbol))
                XCTAssertLessThan(bid.doubleValue, ask.doubleValue)
            default:
                XCTFail("unexpected \(event)")
            }
        }
        XCTAssertGreaterThan(deltas, 10_000)
    }

    func testTradeIDsAreSequentialPerSymbol() throws {
        let trades = try run(config(), streams: .trades).emitted.compactMap { event -> (String, UInt64, String)? in
            guard case let .trade(source, _, _, _, id, sequence) = event else { return nil }
            return (source.symbol, sequence, id)
        }
        for symbol in ["BTC-USDT", "ETH-USDT"] {
            let mine = trades.filter { $0.0 == symbol }
            XCTAssertEqual(mine.map(\.1), Array(1...UInt64(mine.count)))
            XCTAssertEqual(mine.map(\.2), mine.map { String($0.1) })
        }
    }

    /// Absolute mid returns from the BTC quotes.
    private func absoluteReturns(_ host: TestHost) -> [Double] {
        let mids = host.emitted.compactMap { event -> Double? in
            guard case let .quote(source, bid, _, ask, _, _) = event, source.symbol == "BTC-USDT" else { return nil }
            return (bid.doubleValue + ask.doubleValue) / 2
        }
        return zip(mids.dropFirst(), mids).map { abs(log($0 / $1)) }
    }

    private func lagOneAutocorrelation(_ values: [Double]) -> Double {
        let mean = values.reduce(0, +) / Double(values.count)
        let centred = values.map { $0 - mean }
        let covariance = zip(centred.dropFirst(), centred).map { $0 * $1 }.reduce(0, +)
        return covariance / centred.map { $0 * $0 }.reduce(0, +)
    }

    func testVolatilityClustersWithGARCHAndNotWithoutIt() throws {
        let clustered = try run(config(seconds: 1800, extra: #""garch_alpha": 0.2, "garch_beta": 0.78, "jumps_per_hour": 0,"#),
                                streams: .quotes)
        let returns = absoluteReturns(clustered)
        XCTAssertGreaterThan(returns.count, 10_000)
        XCTAssertGreaterThan(lagOneAutocorrelation(returns), 0.1)

        let flat = try run(config(seconds: 1800, extra: #""garch_alpha": 0, "garch_beta": 0, "jumps_per_hour": 0,"#), streams: .quotes)
        XCTAssertLessThan(abs(lagOneAutocorrelation(absoluteReturns(flat))), 0.05)
    }

    func testJumpsOccurAtTheConfiguredRate() throws {
        // 5% jumps stand far out of 0.8 annual volatility: count moves over 1%.
        let hours = 10.0, perHour = 20.0
        let host = try run(config(seconds: hours * 3600, perSecond: 2, extra: #""jumps_per_hour": 20, "jump_stdev": 0.05,"#),
                           streams: .quotes)
        let mids = host.emitted.compactMap { event -> Double? in
            guard case let .quote(_, bid, _, ask, _, _) = event else { return nil }
            return (bid.doubleValue + ask.doubleValue) / 2
        }
        XCTAssertGreaterThan(mids.count, 10_000)
        // Jumps between two quotes of a symbol: both symbols jump, each at the rate.
        var large = 0
        for symbol in ["BTC-USDT", "ETH-USDT"] {
            let series = host.emitted.compactMap { event -> Double? in
                guard case let .quote(source, bid, _, ask, _, _) = event, source.symbol == symbol else { return nil }
                return (bid.doubleValue + ask.doubleValue) / 2
            }
            large += zip(series.dropFirst(), series).filter { abs(log($0 / $1)) > 0.01 }.count
        }
        let expected = 2 * hours * perHour
        // Some jumps are smaller than 1% (|N(0, 5%)| < 1% about 16% of the time).
        XCTAssertEqual(Double(large), expected * 0.84, accuracy: expected * 0.25)
    }

    func testOnlySubscribedSymbolsAndStreamsAreEmittedUntilUnsubscribed() throws {
        let host = TestHost()
        let instance = try host.load(SimulatedExchange.self).create(config: config(mode: "realtime", seconds: 3600))
        XCTAssertThrowsError(try instance.subscribe(Subscription(symbol: "BTC-USDT", streams: .trades)))
        try instance.start()
        XCTAssertThrowsError(try instance.subscribe(Subscription(symbol: "DOGE-USDT", streams: .trades))) { error in
            XCTAssertEqual("\(error)", "symbol 'DOGE-USDT' is not simulated; configured: BTC-USDT, ETH-USDT")
        }
        try instance.subscribe(Subscription(symbol: "ETH-USDT", streams: .trades))
        host.advance(byNs: 10_000_000_000)
        let trades = host.emitted
        XCTAssertGreaterThan(trades.count, 50)
        XCTAssertTrue(trades.allSatisfy { if case .trade(let source, _, _, _, _, _) = $0 { source.symbol == "ETH-USDT" } else { false } })
        // Realtime: stamped with the host clock, within the 10 s that passed.
        XCTAssertTrue(trades.allSatisfy { $0.source.exchangeTimeNs > host.nowNs - 10_000_000_000 && $0.source.exchangeTimeNs <= host.nowNs })

        try instance.unsubscribe(symbol: "ETH-USDT")
        host.advance(byNs: 10_000_000_000)
        XCTAssertEqual(host.emitted.count, trades.count)
    }

    func testBadConfigurationsNameTheField() throws {
        let plugin = try TestHost().load(SimulatedExchange.self)
        XCTAssertThrowsError(try plugin.create(config: config(extra: #""garch_alpha": 0.5, "garch_beta": 0.6,"#))) { error in
            XCTAssertTrue("\(error)".contains("garch_alpha + garch_beta must be below 1"), "\(error)")
        }
        XCTAssertThrowsError(try plugin.create(config: #"{"seed": 1, "symbols": [{"symbol": "BTC-USDT", "start_price": "1", "tick_size": "0", "lot_size": "1"}]}"#)) { error in
            XCTAssertEqual("\(error)", "config field 'symbols[0].tick_size': '0' must be a positive decimal")
        }
    }
}
