import AlphaPlusSDK
import CAlphaPlus
import MarketData
import XCTest

final class CandleTests: XCTestCase {
    private var frames: [SeenFrame] = []
    private var now: Int64 = t0

    private func pipeline(_ candles: CandleConfiguration = CandleConfiguration()) -> MarketPipeline {
        MarketPipeline(configuration: .init(candles: candles, futureToleranceNs: .max / 2), clock: { [unowned self] in now }) {
            [unowned self] frame in frames.append(capture(frame))
        }
    }

    private func candles(_ timeframe: Int64) -> [ap_candle] { frames.filter { $0.timeframe == timeframe }.map(\.candle) }

    func testTradesMakeUTCAlignedMinuteCandlesThatCloseOnTheNextBucketsFirstTrade() {
        let market = pipeline()
        market.ingest(trade("100", "1", at: t0 + 5_000_000_000, side: .buy))
        market.ingest(trade("103", "2", at: t0 + 20_000_000_000, side: .sell))
        market.ingest(trade("99", "0.5", at: t0 + 59_999_999_999, side: .buy))
        XCTAssertTrue(frames.isEmpty, "the bucket is still open")
        market.ingest(trade("101", "1", at: t0 + minuteNs))
        let minute = candles(60)
        XCTAssertEqual(minute.count, 1)
        XCTAssertEqual(minute[0].open_time_ns, t0)
        XCTAssertEqual([minute[0].open, minute[0].high, minute[0].low, minute[0].close, minute[0].volume], [100, 103, 99, 99, 3.5])
        XCTAssertEqual(minute[0].trade_count, 3)
        XCTAssertEqual(frames[0].symbol, "BTC-USDT")
        XCTAssertEqual(frames[0].values["trade_flow_imbalance"]!, (1.5 - 2) / 3.5, accuracy: 1e-15)
    }

    func testTheClockClosesABucketOnlyAfterItsEndPlusTheGracePeriod() {
        let market = pipeline(CandleConfiguration(timeframes: [60], gracePeriodNs: 2_000_000_000))
        market.ingest(trade("100", at: t0 + 1))
        market.advanceClock(to: t0 + minuteNs + 1_999_999_999)
        XCTAssertTrue(frames.isEmpty)
        market.advanceClock(to: t0 + minuteNs + 2_000_000_000)
        XCTAssertEqual(candles(60).map(\.close), [100])
    }

    func testCarryForwardFillsQuietMinutesWithFlatCandlesAndSkipLeavesAGap() {
        let filled = pipeline(CandleConfiguration(timeframes: [60], emptyBuckets: .carryForward))
        filled.ingest(trade("100", at: t0))
        filled.ingest(trade("105", at: t0 + 3 * minuteNs))
        XCTAssertEqual(candles(60).map(\.open_time_ns), [t0, t0 + minuteNs, t0 + 2 * minuteNs])
        XCTAssertEqual(candles(60).map(\.close), [100, 100, 100])
        XCTAssertEqual(candles(60).map(\.volume), [1, 0, 0])

        frames = []
        let gapped = pipeline(CandleConfiguration(timeframes: [60], emptyBuckets: .skip))
        gapped.ingest(trade("100", at: t0))
        gapped.ingest(trade("105", at: t0 + 3 * minuteNs))
        gapped.advanceClock(to: t0 + 10 * minuteNs)
        XCTAssertEqual(candles(60).map(\.open_time_ns), [t0, t0 + 3 * minuteNs])
    }

    func testTheClockAloneCarriesAQuietMarketForward() {
        let market = pipeline(CandleConfiguration(timeframes: [60, 300], gracePeriodNs: 0))
        market.ingest(trade("100", at: t0))
        market.advanceClock(to: t0 + 5 * minuteNs)
        XCTAssertEqual(candles(60).count, 5)
        XCTAssertEqual(candles(300).map(\.open_time_ns), [t0], "the 5m candle closes with its last minute")
        XCTAssertEqual(candles(300).first?.volume, 1)
    }

    func testLongerTimeframesAggregateMinutesAndCloseWithTheirLastMinute() {
        let market = pipeline()
        var prices: [Double] = []
        for minute in 0..<60 {
            let price = 100 + Double((minute * 37) % 11)
            prices.append(price)
            market.ingest(trade(String(price), "2", at: t0 + Int64(minute) * minuteNs, id: "\(minute)"))
        }
        market.ingest(trade("100", at: t0 + 60 * minuteNs, id: "last"))
        XCTAssertEqual(candles(60).count, 60)
        let five = candles(300)
        XCTAssertEqual(five.count, 12)
        for (index, candle) in five.enumerated() {
            let slice = prices[(index * 5)..<(index * 5 + 5)]
            XCTAssertEqual(candle.open_time_ns, t0 + Int64(index) * 5 * minuteNs)
            XCTAssertEqual([candle.open, candle.high, candle.low, candle.close, candle.volume],
                           [slice.first!, slice.max()!, slice.min()!, slice.last!, 10])
        }
        XCTAssertEqual(candles(900).count, 4)
        let hour = candles(3600)
        XCTAssertEqual(hour.count, 1)
        XCTAssertEqual([hour[0].high, hour[0].low, hour[0].volume], [prices.max()!, prices.min()!, 120])
        XCTAssertEqual(hour[0].trade_count, 60)
        // Closes are reported finest first.
        let order = frames.suffix(4).map(\.timeframe)
        XCTAssertEqual(order, [60, 300, 900, 3600])
    }

    func testFiveMinuteBarsPassThroughAndBuildTheLongerTimeframes() {
        let market = pipeline()
        for index in 0..<24 {  // two hours of 5m bars
            let base = 10.0 + Double(index)
            market.ingest(bar(base, base + 2, base - 1, base + 1, 3, at: t0 + Int64(index) * 5 * minuteNs, interval: 300))
        }
        XCTAssertEqual(candles(60).count, 0, "nothing finer than the input")
        XCTAssertEqual(candles(300).count, 24)
        XCTAssertEqual(candles(900).count, 8)
        let hours = candles(3600)
        XCTAssertEqual(hours.count, 2)
        XCTAssertEqual([hours[1].open, hours[1].high, hours[1].low, hours[1].close, hours[1].volume], [22, 35, 21, 34, 36])
    }

    func testLateAndDuplicateBarsAreRefused() {
        let market = pipeline()
        market.ingest(bar(1, 2, 1, 2, at: t0 + minuteNs))
        XCTAssertEqual(market.ingest(bar(1, 2, 1, 2, at: t0 + minuteNs)), .rejected(.duplicateCandle))
        XCTAssertEqual(market.ingest(bar(1, 2, 1, 2, at: t0)), .rejected(.timestampBackwards))
        XCTAssertEqual(candles(60).count, 1)
    }
}
