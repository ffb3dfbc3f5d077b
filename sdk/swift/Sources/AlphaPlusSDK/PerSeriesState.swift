import Foundation

/// State a head keeps for each series it is shown: one `State` per (venue,
/// symbol, timeframe), made on the series' first frame and found again on
/// every later frame by hashing the frame's own bytes, so only first sight
/// allocates. Like an `IndicatorKey`, it belongs to one instance (the host
/// never calls an instance concurrently).
///
///     private let history = PerSeriesState { MACDHistory() }
///
///     public func evaluate(_ frame: FeatureFrame) throws -> Vote {
///         let growing = history.withState(for: frame) { $0.record(frame[hist]) }
///         ...
///     }
public final class PerSeriesState<State> {
    private struct Series {
        let venue: [UInt8]
        let symbol: [UInt8]
        let timeframeSeconds: Int64
        /// The next series whose key hashes alike, or -1.
        var nextAlike: Int
    }

    private let makeState: () -> State
    private var series: [Series] = []
    private var states: [State] = []
    /// The first series of each hash; alike ones are chained through `nextAlike`.
    private var firstByHash: [Int: Int] = [:]

    /// `makeState` makes a series' state on its first frame.
    public init(_ makeState: @escaping () -> State) {
        self.makeState = makeState
    }

    /// How many series have been seen.
    public var count: Int { states.count }

    /// Runs `body` on the frame's series' state (made first if the series is new).
    public func withState<R>(for frame: FeatureFrame, _ body: (inout State) throws -> R) rethrows -> R {
        try body(&states[index(of: frame.raw)])
    }

    private func index(of frame: UnsafePointer<ap_feature_frame>) -> Int {
        let venue = Self.bytes(frame.pointee.venue), symbol = Self.bytes(frame.pointee.symbol)
        let timeframe = frame.pointee.timeframe_s
        var hasher = Hasher()
        hasher.combine(bytes: venue)
        // The length keeps ("ab", "c") apart from ("a", "bc").
        hasher.combine(venue.count)
        hasher.combine(bytes: symbol)
        hasher.combine(timeframe)
        let hash = hasher.finalize()

        var candidate = firstByHash[hash] ?? -1
        var last = -1
        while candidate >= 0 {
            let known = series[candidate]
            if known.timeframeSeconds == timeframe, Self.equal(known.venue, venue), Self.equal(known.symbol, symbol) {
                return candidate
            }
            last = candidate
            candidate = known.nextAlike
        }
        // First sight: the only allocation for this series.
        series.append(Series(venue: Array(venue), symbol: Array(symbol), timeframeSeconds: timeframe, nextAlike: -1))
        states.append(makeState())
        let index = states.count - 1
        if last >= 0 { series[last].nextAlike = index } else { firstByHash[hash] = index }
        return index
    }

    private static func equal(_ stored: [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        stored.count == bytes.count
            && (bytes.isEmpty || stored.withUnsafeBytes { memcmp($0.baseAddress!, bytes.baseAddress!, bytes.count) == 0 })
    }

    /// The string's bytes as they are (no UTF-8 repair, so a key always
    /// equals itself).
    private static func bytes(_ text: ap_str) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: text.ptr, count: text.ptr == nil ? 0 : text.len)
    }
}
