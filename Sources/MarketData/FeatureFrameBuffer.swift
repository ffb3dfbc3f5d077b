import CAlphaPlus

/// The host's storage for one stream's feature frame: names, values, symbol
/// and book features live at stable addresses for the stream's lifetime, so
/// producing a frame per event writes numbers in place and allocates
/// nothing. The frame is lent to heads as `pointer`.
// @unchecked: written by its pipeline under the pipeline's lock, lent to heads read-only for one frame.
public final class FeatureFrameBuffer: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<ap_feature_frame>
    public let indicatorNames: [String]
    /// The indicator values, in `indicatorNames` order, written in place.
    public let values: UnsafeMutablePointer<Double>
    private let names: UnsafeMutablePointer<ap_str>
    private let book: UnsafeMutablePointer<ap_book_features>
    private var text: [UnsafeMutablePointer<CChar>] = []

    /// `layoutID` must differ between buffers whose names differ.
    public init(venue: String, symbol: String, timeframeSeconds: Int64, indicatorNames: [String], layoutID: UInt64) {
        self.indicatorNames = indicatorNames
        values = .allocate(capacity: max(indicatorNames.count, 1))
        values.initialize(repeating: .nan, count: max(indicatorNames.count, 1))
        names = .allocate(capacity: max(indicatorNames.count, 1))
        book = .allocate(capacity: 1)
        book.initialize(to: ap_book_features())
        book.pointee.struct_size = UInt32(MemoryLayout<ap_book_features>.size)
        pointer = .allocate(capacity: 1)
        pointer.initialize(to: ap_feature_frame())
        for (index, name) in indicatorNames.enumerated() { (names + index).initialize(to: own(name)) }
        pointer.pointee.struct_size = UInt32(MemoryLayout<ap_feature_frame>.size)
        pointer.pointee.trigger = AP_FRAME_CANDLE_CLOSE.rawValue
        pointer.pointee.venue = own(venue)
        pointer.pointee.symbol = own(symbol)
        pointer.pointee.timeframe_s = timeframeSeconds
        pointer.pointee.layout_id = layoutID
        pointer.pointee.indicator_names = UnsafePointer(names)
        pointer.pointee.indicator_values = UnsafePointer(values)
        pointer.pointee.indicator_count = indicatorNames.count
    }

    deinit {
        text.forEach { $0.deallocate() }
        values.deallocate()
        names.deallocate()
        book.deallocate()
        pointer.deallocate()
    }

    /// Sets indicator `index` (the position in `indicatorNames`).
    @inline(__always)
    public func setValue(_ value: Double, at index: Int) {
        values[index] = value
    }

    @inline(__always)
    public func setCandle(_ candle: ap_candle, timestampNs: Int64) {
        pointer.pointee.candle = candle
        pointer.pointee.ts_ns = timestampNs
    }

    /// Attaches book features, or detaches them with nil.
    public func setBook(_ features: ap_book_features?) {
        guard let features else {
            pointer.pointee.book = nil
            return
        }
        book.pointee = features
        book.pointee.struct_size = UInt32(MemoryLayout<ap_book_features>.size)
        pointer.pointee.book = UnsafePointer(book)
    }

    private func own(_ string: String) -> ap_str {
        let utf8 = Array(string.utf8)
        let storage = UnsafeMutablePointer<CChar>.allocate(capacity: max(utf8.count, 1))
        for (index, byte) in utf8.enumerated() { storage[index] = CChar(bitPattern: byte) }
        text.append(storage)
        return ap_str(ptr: UnsafePointer(storage), len: utf8.count)
    }
}
