import AlphaPlusSDK
import CAlphaPlus
import MarketData

/// Builders for the events the tests feed, lent as the contract's C structs
/// exactly as emit_event hands them to the host.
let minuteNs: Int64 = 60_000_000_000
let t0: Int64 = 1_699_920_000 * 1_000_000_000  // 2023-11-14 00:00:00 UTC, a day boundary

func decimal(_ text: String) -> ExactDecimal { ExactDecimal(text)! }

func trade(_ price: String, _ size: String = "1", at time: Int64, id: String = "", sequence: UInt64 = 0,
           side: Side = .buy, venue: String = "binance", symbol: String = "BTCUSDT") -> MarketEvent {
    .trade(EventSource(venue: venue, symbol: symbol, exchangeTimeNs: time), price: decimal(price), size: decimal(size),
           aggressor: side, tradeID: id, sequence: sequence)
}

func bar(_ open: Double, _ high: Double, _ low: Double, _ close: Double, _ volume: Double = 1, at time: Int64,
         interval: Int64 = 60, symbol: String = "ETH/BTC") -> MarketEvent {
    .candle(EventSource(venue: "file", symbol: symbol, exchangeTimeNs: time),
            Candle(openTimeNs: time, intervalSeconds: interval, open: open, high: high, low: low, close: close,
                   volume: volume), closed: true)
}

extension MarketPipeline {
    @discardableResult
    func ingest(_ event: MarketEvent) -> IngestResult {
        event.withCEvent { ingest($0) }
    }
}

/// A frame as the tests keep it (the pipeline lends frames only during the call).
struct SeenFrame {
    var symbol: String
    var timeframe: Int64
    var candle: ap_candle
    var values: [String: Double]
    var book: ap_book_features?
}

func capture(_ frame: UnsafePointer<ap_feature_frame>) -> SeenFrame {
    let f = frame.pointee
    var values: [String: Double] = [:]
    for index in 0..<f.indicator_count {
        let name = f.indicator_names[index]
        values[String(decoding: UnsafeRawBufferPointer(start: name.ptr, count: name.len), as: UTF8.self)] = f.indicator_values[index]
    }
    return SeenFrame(symbol: String(decoding: UnsafeRawBufferPointer(start: f.symbol.ptr, count: f.symbol.len), as: UTF8.self),
                     timeframe: f.timeframe_s, candle: f.candle, values: values, book: f.book?.pointee)
}
