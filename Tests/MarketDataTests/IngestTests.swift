import AlphaPlusSDK
import CAlphaPlus
import Logging
import MarketData
import XCTest

final class IngestTests: XCTestCase {
    private var now: Int64 = t0 + 3600 * 1_000_000_000
    private lazy var market = MarketPipeline(clock: { [unowned self] in now }) { _ in }

    func testBadPricesAndSizesAreRejectedWithTheirReasonAndCounted() {
        XCTAssertEqual(market.ingest(trade("0", at: t0)), .rejected(.nonPositivePrice))
        XCTAssertEqual(market.ingest(trade("-5", at: t0)), .rejected(.nonPositivePrice))
        XCTAssertEqual(market.ingest(trade("5", "-1", at: t0)), .rejected(.negativeSize))
        XCTAssertEqual(market.ingest(bar(.nan, 2, 1, 2, at: t0)), .rejected(.nonFiniteValue))
        XCTAssertEqual(market.ingest(bar(1, .infinity, 1, 2, at: t0)), .rejected(.nonFiniteValue))
        XCTAssertEqual(market.ingest(bar(1, 2, 0, 2, at: t0)), .rejected(.nonPositivePrice))
        XCTAssertEqual(market.ingest(bar(1, 2, 1, 2, -3, at: t0)), .rejected(.negativeSize))
        XCTAssertEqual(market.ingest(bar(1, 1.5, 1, 2, at: t0)), .rejected(.inconsistentCandle), "high below close")
        XCTAssertEqual(market.rejections(.nonPositivePrice), 3)
        XCTAssertEqual(market.rejections(.nonFiniteValue), 2)
        XCTAssertEqual(market.rejections(.negativeSize), 2)
        XCTAssertEqual(market.acceptedEvents, 0)
    }

    func testDuplicateTradesAreDroppedByIdAndBySequence() {
        XCTAssertEqual(market.ingest(trade("10", at: t0, id: "a1")), .accepted)
        XCTAssertEqual(market.ingest(trade("10", at: t0, id: "a1")), .rejected(.duplicateTrade))
        XCTAssertEqual(market.ingest(trade("10", at: t0, id: "s1", sequence: 7)), .accepted)
        XCTAssertEqual(market.ingest(trade("10", at: t0, id: "s1-replayed", sequence: 7)), .rejected(.duplicateTrade))
        XCTAssertEqual(market.ingest(trade("10", at: t0, id: "", sequence: 6)), .rejected(.duplicateTrade))
        XCTAssertEqual(market.rejections(.duplicateTrade), 3)
        XCTAssertEqual(market.acceptedEvents, 2)
    }

    func testTimestampsMustNotGoBackwardsPerStreamNorRunAheadOfTheClock() {
        XCTAssertEqual(market.ingest(trade("10", at: t0 + 5)), .accepted)
        XCTAssertEqual(market.ingest(trade("10", at: t0 + 4)), .rejected(.timestampBackwards))
        XCTAssertEqual(market.ingest(trade("10", at: t0 + 4, symbol: "ETHUSDT")), .accepted, "another stream has its own order")
        XCTAssertEqual(market.ingest(trade("10", at: now + 5_000_000_000)), .accepted, "within the tolerance")
        XCTAssertEqual(market.ingest(trade("10", at: now + 5_000_000_001)), .rejected(.timestampInFuture))
    }

    func testSequenceGapsAreRecordedAsDataLossWithTheMissingCount() {
        for sequence: UInt64 in [100, 101, 105, 106, 110] {
            XCTAssertEqual(market.ingest(trade("10", at: t0 + Int64(sequence), sequence: sequence)), .accepted)
        }
        XCTAssertEqual(market.dataLoss.map(\.missing), [3, 3])
        XCTAssertEqual(market.dataLoss.first?.expected, 102)
        XCTAssertEqual(market.dataLoss.first?.received, 105)
        XCTAssertEqual(market.dataLoss.first?.symbol, "BTC-USDT")
        XCTAssertEqual(market.dataLossTotals.gaps, 2)
        XCTAssertEqual(market.dataLossTotals.missingEvents, 6)
    }

    func testCrossedQuotesAndUnknownSymbolsAreRejected() {
        let crossed = MarketEvent.quote(EventSource(venue: "binance", symbol: "BTCUSDT", exchangeTimeNs: t0),
                                        bidPrice: decimal("101"), bidSize: decimal("1"), askPrice: decimal("100"),
                                        askSize: decimal("1"), sequence: 0)
        XCTAssertEqual(market.ingest(crossed), .rejected(.crossedQuote))
        XCTAssertEqual(market.ingest(trade("10", at: t0, symbol: "???")), .rejected(.unknownSymbol))
        XCTAssertEqual(market.rejections(.unknownSymbol), 1)
    }

    func testRejectionsAreLoggedWithTheirReasonVenueAndSymbol() {
        let lines = LogLines()
        let logged = MarketPipeline(clock: { t0 }, logger: Logger(label: "test") { _ in lines }) { _ in }
        logged.ingest(trade("0", at: t0, symbol: "ETHUSDT"))
        XCTAssertEqual(lines.messages.count, 1)
        XCTAssertTrue(lines.messages[0].contains("non_positive_price"), lines.messages[0])
        XCTAssertTrue(lines.messages[0].contains("binance") && lines.messages[0].contains("ETHUSDT"), lines.messages[0])
    }
}

/// A log handler that keeps the messages.
final class LogLines: LogHandler, @unchecked Sendable {
    var messages: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        messages.append(event.message.description)
    }
}
