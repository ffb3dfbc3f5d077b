import AlphaPlusSDK

/// What `alphaplus data inspect` reports about one file: its format, how
/// many records it holds, their time range and the holes in it.
public struct FeedInspection: Sendable, Equatable {
    public var path: String
    public var format: FeedFormat
    /// Good rows of a CSV format, or lines of a capture format.
    public var records: Int
    /// Earliest and latest time in the file (bar open times; for captures,
    /// the local receive times). Nil when the file has none.
    public var startNs: Int64?
    public var endNs: Int64?
    /// Bar files only.
    public var barIntervalSeconds: Int64?
    /// Bar files: missing bars. Tardis trades: missing trade ids. Nil for
    /// the other formats.
    public var gaps: Gaps?
    public var badRecords: Int
    public var firstBadRecords: [FeedError]

    public struct Gaps: Sendable, Equatable {
        public enum Unit: String, Sendable { case bars, tradeIDs = "trade ids" }
        public var unit: Unit
        /// How many holes.
        public var count: Int
        /// How many bars (or trade ids) are missing in all.
        public var missing: Int64
        /// The largest holes, most missing first (earliest first on a tie).
        public var largest: [Gap]

        public init(unit: Unit, count: Int, missing: Int64, largest: [Gap]) {
            self.unit = unit
            self.count = count
            self.missing = missing
            self.largest = largest
        }
    }

    /// One hole: between `from` and `to`, the bar open times (ns) or trade
    /// ids present on either side of it.
    public struct Gap: Sendable, Equatable {
        public var from: Int64
        public var to: Int64
        public var missing: Int64

        public init(from: Int64, to: Int64, missing: Int64) {
            self.from = from
            self.to = to
            self.missing = missing
        }
    }

    /// Reads the whole file. Bad rows are counted (never fatal); a file that
    /// cannot be read or recognised throws.
    public static func inspect(path: String, format: FeedFormat? = nil, largestGaps: Int = 5) throws -> FeedInspection {
        let format = try format ?? FeedFormat.detect(path: path)
        if format.isCapture { return try inspectCapture(path: path, format: format) }
        let reader = try FeedReader(path: path, format: format, options: .init(badRecords: .skip))
        var range: (start: Int64, end: Int64)?
        var gaps = GapCounter(largest: largestGaps)
        var previousID: UInt64?
        var idsAreNumeric = true
        var previousBarOpen: Int64?
        let report = try reader.read { event, _ in
            let time: Int64
            switch event {
            case .candle(_, let candle, _):
                time = candle.openTimeNs
                if let previous = previousBarOpen, time - previous > candle.intervalSeconds * 1_000_000_000 {
                    gaps.add(from: previous, to: time, missing: (time - previous) / (candle.intervalSeconds * 1_000_000_000) - 1)
                }
                previousBarOpen = time
            case .trade(let source, _, _, _, let tradeID, _):
                time = source.exchangeTimeNs
                if let id = UInt64(tradeID) {
                    if let previous = previousID, id > previous + 1 { gaps.add(from: Int64(previous), to: Int64(id), missing: Int64(id - previous - 1)) }
                    previousID = id
                } else {
                    idsAreNumeric = false
                }
            default:
                time = event.source.exchangeTimeNs
            }
            range = (min(range?.start ?? time, time), max(range?.end ?? time, time))
        }
        let unit: Gaps.Unit? = format.isBars ? .bars : (format == .tardisTrades && idsAreNumeric ? .tradeIDs : nil)
        return FeedInspection(path: path, format: format, records: report.records, startNs: range?.start, endNs: range?.end,
                              barIntervalSeconds: report.barIntervalSeconds, gaps: unit.map { gaps.summary($0) },
                              badRecords: report.badRecords, firstBadRecords: report.firstBadRecords)
    }

    /// Line count and local time range of a raw capture.
    private static func inspectCapture(path: String, format: FeedFormat) throws -> FeedInspection {
        var lines = 0
        var range: (start: Int64, end: Int64)?
        try LineReader(path: path).forEachLine { line, _ in
            guard !line.isEmpty else { return true }
            lines += 1
            if let time = captureTimeNs(line, format) {
                range = (min(range?.start ?? time, time), max(range?.end ?? time, time))
            }
            return true
        }
        return FeedInspection(path: path, format: format, records: lines, startNs: range?.start, endNs: range?.end,
                              barIntervalSeconds: nil, gaps: nil, badRecords: 0, firstBadRecords: [])
    }

    /// The local receive time a capture line starts with: hftbacktest
    /// `<ns> {...}`, cryptofeed `<seconds.fraction>: ...`. Nil for lines
    /// without one (cryptofeed connection markers, Bitfinex).
    static func captureTimeNs(_ line: UnsafeBufferPointer<UInt8>, _ format: FeedFormat) -> Int64? {
        switch format {
        case .hftbacktestBinance:
            guard let space = line.firstIndex(of: UInt8(ascii: " ")) else { return nil }
            return Int64(String(decoding: UnsafeBufferPointer(rebasing: line[..<space]), as: UTF8.self))
        case .cryptofeedCapture:
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")),
                  let seconds = ExactDecimal(String(decoding: UnsafeBufferPointer(rebasing: line[..<colon]), as: UTF8.self)),
                  seconds.exponent >= -9 else { return nil }
            var ns = seconds.mantissa
            for _ in 0..<(9 + Int(seconds.exponent)) { ns *= 10 }
            return ns
        default:
            return nil
        }
    }
}

/// Counts holes and keeps the largest.
private struct GapCounter {
    let largest: Int
    var count = 0
    var missing: Int64 = 0
    var top: [FeedInspection.Gap] = []

    mutating func add(from: Int64, to: Int64, missing: Int64) {
        guard missing > 0 else { return }
        count += 1
        self.missing += missing
        top.append(FeedInspection.Gap(from: from, to: to, missing: missing))
        // Kept sorted and short: the list never grows past `largest + 1`.
        top.sort { ($0.missing, -$0.from) > ($1.missing, -$1.from) }
        if top.count > largest { top.removeLast() }
    }

    func summary(_ unit: FeedInspection.Gaps.Unit) -> FeedInspection.Gaps {
        FeedInspection.Gaps(unit: unit, count: count, missing: missing, largest: top)
    }
}
