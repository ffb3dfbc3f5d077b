import CAlphaPlus
import Indicators

/// One (symbol, timeframe)'s indicators and the feature frame it lends to
/// heads on every candle close. The frame's storage is allocated once.
public final class FrameProducer {
    /// Indicator names of every frame: the standard set, then the candle's
    /// trade-flow imbalance.
    public static let indicatorNames = IndicatorSet.columns + ["trade_flow_imbalance"]
    /// Frames with these names carry this layout id.
    public static let layoutID: UInt64 = {
        var names = indicatorNames.joined(separator: ",")
        return names.withUTF8 { fnv1a(UnsafeRawBufferPointer($0)) }
    }()

    public let frame: FeatureFrameBuffer
    private var indicators = IndicatorSet()

    public init(venue: String, symbol: String, timeframeSeconds: Int64) {
        frame = FeatureFrameBuffer(venue: venue, symbol: symbol, timeframeSeconds: timeframeSeconds,
                                   indicatorNames: Self.indicatorNames, layoutID: Self.layoutID)
    }

    /// Updates the indicators with a closed candle and fills the frame.
    @inline(__always)
    public func close(_ candle: ap_candle, flow: TradeFlow, book: ap_book_features?, nowNs: Int64) -> UnsafePointer<ap_feature_frame> {
        let bar = Bar(openTimeNs: candle.open_time_ns, open: candle.open, high: candle.high, low: candle.low,
                      close: candle.close, volume: candle.volume)
        indicators.update(bar, into: frame.values)
        frame.values[IndicatorSet.columns.count] = flow.imbalance
        frame.setCandle(candle, timestampNs: nowNs)
        frame.pointer.pointee.trigger = AP_FRAME_CANDLE_CLOSE.rawValue
        frame.setBook(book)
        return UnsafePointer(frame.pointer)
    }
}
