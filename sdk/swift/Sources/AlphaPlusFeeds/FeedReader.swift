import AlphaPlusSDK
import AlphaPlusTime

/// Reads a market-data file (plain or gzip) into `MarketEvent`s, in file
/// order, each with its file:line:
/// - bar files (freqtrade, nautilus, Binance klines) → closed candles. The
///   event time of a closed bar is its close (open + interval): that is when
///   the bar is known, so a replay never shows a bar before it ends.
/// - Tardis trades → trades; Tardis quotes → quotes.
///
/// A row is bad when it has the wrong number of columns, a number that does
/// not parse or is NaN/infinite, a price that is not positive, a negative
/// size, or a timestamp before the previous good row's. `Options.badRecords`
/// decides what happens then.
public struct FeedReader {
    public struct Options: Sendable {
        /// The venue of bar files, which do not name one.
        public var venue: String
        /// The symbol of bar files; nil: the file name without extensions.
        public var symbol: String?
        /// The bar interval; nil: the most common positive step between
        /// consecutive bars.
        public var barIntervalSeconds: Int64?
        public var badRecords: BadRecordPolicy
        /// How many bad records a `.skip` read keeps in its report.
        public var keptBadRecords: Int

        public init(venue: String = "replay", symbol: String? = nil, barIntervalSeconds: Int64? = nil,
                    badRecords: BadRecordPolicy = .stop, keptBadRecords: Int = 10) {
            self.venue = venue
            self.symbol = symbol
            self.barIntervalSeconds = barIntervalSeconds
            self.badRecords = badRecords
            self.keptBadRecords = keptBadRecords
        }
    }

    /// What a read saw.
    public struct Report: Sendable, Equatable {
        /// Good records, each delivered as one event.
        public var records: Int
        public var badRecords: Int
        /// The first `keptBadRecords` bad records.
        public var firstBadRecords: [FeedError]
        /// The bar interval used (bar files only).
        public var barIntervalSeconds: Int64?

        public init(records: Int = 0, badRecords: Int = 0, firstBadRecords: [FeedError] = [], barIntervalSeconds: Int64? = nil) {
            self.records = records
            self.badRecords = badRecords
            self.firstBadRecords = firstBadRecords
            self.barIntervalSeconds = barIntervalSeconds
        }
    }

    public let path: String
    public let format: FeedFormat
    public let options: Options

    /// A reader of `path` in `format`, detected from the content when nil.
    public init(path: String, format: FeedFormat? = nil, options: Options = Options()) throws {
        let format = try format ?? FeedFormat.detect(path: path)
        self.path = path
        self.format = format
        self.options = options
    }

    /// Calls `body` with every good record's event, in file order. Throws
    /// the first bad record under `.stop` (after delivering the rows before
    /// it), or a file error.
    @discardableResult
    public func read(_ body: (MarketEvent, FeedPosition) throws -> Void) throws -> Report {
        if format.isCapture { return try readCapture(body) }
        var report = Report()
        var decoder = RowDecoder(format: format, venue: options.venue, symbol: options.symbol ?? Self.defaultSymbol(path))
        if format.isBars {
            let interval = try options.barIntervalSeconds ?? inferBarInterval()
            guard interval > 0 else { throw FeedError(FeedPosition(source: path, line: 0), "the bar interval must be positive, found \(interval)") }
            decoder.barIntervalNs = interval * 1_000_000_000
            report.barIntervalSeconds = interval
        }
        var fields = CSVFields()
        try LineReader(path: path).forEachLine { line, number in
            guard !line.isEmpty, !(number == 1 && format.header.map({ line.elementsEqual($0.utf8) }) == true) else { return true }
            fields.split(line)
            do {
                let event = try decoder.decode(fields)
                report.records += 1
                try body(event, FeedPosition(source: path, line: number))
            } catch let reason as RowError {
                let error = FeedError(FeedPosition(source: path, line: number), reason.message)
                if options.badRecords == .stop { throw error }
                report.badRecords += 1
                if report.firstBadRecords.count < options.keptBadRecords { report.firstBadRecords.append(error) }
            }
            return true
        }
        return report
    }

    /// The venue captures, through their decoders. An event's position is
    /// its 1-based index among the capture's events (decoding errors name
    /// the line or message themselves).
    private func readCapture(_ body: (MarketEvent, FeedPosition) throws -> Void) throws -> Report {
        // "replay" is the default venue of bar and trade files; captures
        // keep their venue's name unless one is given.
        let venue = options.venue == Options().venue ? nil : options.venue
        var index = 0
        func deliver(_ event: MarketEvent) throws {
            index += 1
            try body(event, FeedPosition(source: path, line: index))
        }
        let feed: FeedReport
        switch format {
        case .hftbacktestBinance:
            var decoder = BinanceCaptureDecoder(venue: venue ?? "binance", symbol: options.symbol, policy: options.badRecords)
            try decoder.decodeFile(path, deliver)
            feed = decoder.report
        case .cryptofeedCapture:
            var decoder = KrakenBookDecoder(venue: venue ?? "kraken", policy: options.badRecords)
            try decoder.decodeFile(path, deliver)
            feed = decoder.report
        default:
            var decoder = BitfinexRawBookDecoder(venue: venue ?? "bitfinex", policy: options.badRecords)
            try decoder.decodeFile(path, deliver)
            feed = decoder.report
        }
        return Report(records: feed.events, badRecords: feed.skipped,
                      firstBadRecords: Array(feed.firstErrors.prefix(options.keptBadRecords)))
    }

    /// Reads the whole file into an array (with the report).
    public func readAll() throws -> (events: [MarketEvent], report: Report) {
        var events: [MarketEvent] = []
        let report = try read { event, _ in events.append(event) }
        return (events, report)
    }

    /// The most common positive step between consecutive bar times (the
    /// smallest such step on a tie). Rows whose time does not parse are left
    /// to the decoding pass to report.
    private func inferBarInterval() throws -> Int64 {
        var steps: [Int64: Int] = [:]
        var previous: Int64?
        var fields = CSVFields()
        let decoder = RowDecoder(format: format, venue: "", symbol: "")
        try LineReader(path: path).forEachLine { line, number in
            guard !line.isEmpty, !(number == 1 && format.header.map({ line.elementsEqual($0.utf8) }) == true) else { return true }
            fields.split(line)
            guard let time = try? decoder.barOpenTimeNs(fields) else { return true }
            if let previous, time > previous { steps[time - previous, default: 0] += 1 }
            previous = time
            return true
        }
        guard let best = steps.max(by: { ($0.value, -$0.key) < ($1.value, -$1.key) }) else {
            throw FeedError(FeedPosition(source: path, line: 0),
                            "cannot infer the bar interval: the file has fewer than two distinct bar times (give the interval)")
        }
        guard best.key % 1_000_000_000 == 0 else {
            throw FeedError(FeedPosition(source: path, line: 0),
                            "the most common step between bars, \(best.key) ns, is not whole seconds (give the interval)")
        }
        return best.key / 1_000_000_000
    }

    /// "ETH_BTC-5m.csv.gz" → "ETH_BTC-5m".
    static func defaultSymbol(_ path: String) -> String {
        let name = path.split(separator: "/").last.map(String.init) ?? path
        return String(name.split(separator: ".").first ?? Substring(name))
    }
}

/// Why one row is bad; the reader adds file:line.
struct RowError: Error {
    var message: String
}

/// The comma-separated fields of one line, as ranges into it (no copies).
struct CSVFields {
    private(set) var line = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    private(set) var ranges: [Range<Int>] = []

    mutating func split(_ line: UnsafeBufferPointer<UInt8>) {
        self.line = line
        ranges.removeAll(keepingCapacity: true)
        var start = 0
        for index in 0..<line.count where line[index] == UInt8(ascii: ",") {
            ranges.append(start..<index)
            start = index + 1
        }
        ranges.append(start..<line.count)
    }

    var count: Int { ranges.count }

    subscript(index: Int) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: line[ranges[index]]), as: UTF8.self)
    }
}

/// Turns the fields of one row of a CSV format into an event.
struct RowDecoder {
    let format: FeedFormat
    let venue: String
    let symbol: String
    var barIntervalNs: Int64 = 0
    private var previousTimeNs = Int64.min

    init(format: FeedFormat, venue: String, symbol: String) {
        self.format = format
        self.venue = venue
        self.symbol = symbol
    }

    private var columnNames: [String] {
        switch format {
        case .binanceKlines:
            ["open_time", "open", "high", "low", "close", "volume", "close_time", "quote_volume", "trades",
             "taker_buy_base", "taker_buy_quote", "ignore"]
        default: format.header?.split(separator: ",").map(String.init) ?? []
        }
    }

    mutating func decode(_ fields: CSVFields) throws(RowError) -> MarketEvent {
        let names = columnNames
        guard fields.count == names.count else {
            throw RowError(message: "expected \(names.count) columns (\(names.joined(separator: ","))), found \(fields.count)")
        }
        let event: MarketEvent
        let timeNs: Int64
        switch format {
        case .freqtradeOHLCV, .nautilusBars, .binanceKlines:
            let open = try barOpenTimeNs(fields)
            let tradeCount = format == .binanceKlines ? try unsigned(fields, 8) : 0
            let candle = Candle(openTimeNs: open, intervalSeconds: barIntervalNs / 1_000_000_000,
                                open: try price(fields, 1), high: try price(fields, 2), low: try price(fields, 3),
                                close: try price(fields, 4), volume: try size(fields, 5), tradeCount: tradeCount)
            timeNs = open
            let (close, overflow) = open.addingReportingOverflow(barIntervalNs)
            if overflow { throw RowError(message: "field '\(names[0])': the bar's close time is out of range") }
            event = .candle(EventSource(venue: venue, symbol: symbol, exchangeTimeNs: close), candle, closed: true)
        case .tardisTrades:
            timeNs = try time(fields, 2, unitNs: 1000)
            let local = try time(fields, 3, unitNs: 1000)
            let side: Side
            switch fields[5] {
            case "buy": side = .buy
            case "sell": side = .sell
            case "unknown", "": side = .unknown
            case let other: throw RowError(message: "field 'side': '\(other)' is not buy, sell or unknown")
            }
            let id = fields[4]
            event = .trade(EventSource(venue: fields[0], symbol: fields[1], exchangeTimeNs: timeNs, localTimeNs: local),
                           price: try exactPrice(fields, 6), size: try exactSize(fields, 7), aggressor: side,
                           tradeID: id, sequence: UInt64(id) ?? 0)
        case .tardisQuotes:
            timeNs = try time(fields, 2, unitNs: 1000)
            let local = try time(fields, 3, unitNs: 1000)
            event = .quote(EventSource(venue: fields[0], symbol: fields[1], exchangeTimeNs: timeNs, localTimeNs: local),
                           bidPrice: try exactPrice(fields, 6), bidSize: try exactSize(fields, 7),
                           askPrice: try exactPrice(fields, 5), askSize: try exactSize(fields, 4), sequence: 0)
        case .hftbacktestBinance, .cryptofeedCapture, .bitfinexRawBook:
            throw RowError(message: "format \(format.rawValue) is not a CSV format")
        }
        guard timeNs >= previousTimeNs else {
            throw RowError(message: "field '\(names[format == .tardisTrades || format == .tardisQuotes ? 2 : 0])': "
                           + "time \(UTCTime.iso8601(ns: timeNs)) is before the previous row's \(UTCTime.iso8601(ns: previousTimeNs))")
        }
        previousTimeNs = timeNs
        return event
    }

    /// The bar's open time in ns.
    func barOpenTimeNs(_ fields: CSVFields) throws(RowError) -> Int64 {
        switch format {
        case .nautilusBars:
            guard let ns = UTCTime.parse(fields[0]) else {
                throw RowError(message: "field 'timestamp': '\(fields[0])' is not a 'YYYY-MM-DD HH:MM:SS[.ffffff]' UTC time")
            }
            return ns
        case .binanceKlines:
            // Binance writes µs instead of ms in newer spot files: a 16-digit time.
            let raw = try integer(fields, 0)
            return try time(fields, 0, unitNs: raw >= 100_000_000_000_000 ? 1000 : 1_000_000)
        default:
            return try time(fields, 0, unitNs: 1_000_000)
        }
    }

    private func name(_ index: Int) -> String { columnNames[index] }

    private func integer(_ fields: CSVFields, _ index: Int) throws(RowError) -> Int64 {
        guard let value = Int64(fields[index]) else {
            throw RowError(message: "field '\(name(index))': '\(fields[index])' is not an integer")
        }
        return value
    }

    private func unsigned(_ fields: CSVFields, _ index: Int) throws(RowError) -> UInt64 {
        guard let value = UInt64(fields[index]) else {
            throw RowError(message: "field '\(name(index))': '\(fields[index])' is not a non-negative integer")
        }
        return value
    }

    private func time(_ fields: CSVFields, _ index: Int, unitNs: Int64) throws(RowError) -> Int64 {
        let (ns, overflow) = try integer(fields, index).multipliedReportingOverflow(by: unitNs)
        guard !overflow, ns >= 0 else { throw RowError(message: "field '\(name(index))': time '\(fields[index])' is out of range") }
        return ns
    }

    private func double(_ fields: CSVFields, _ index: Int) throws(RowError) -> Double {
        let text = fields[index]
        guard let value = Double(text), !text.contains(where: { $0 == "x" || $0 == "X" }) else {
            throw RowError(message: "field '\(name(index))': '\(text)' is not a number")
        }
        guard value.isFinite else { throw RowError(message: "field '\(name(index))': '\(text)' is not finite") }
        return value
    }

    private func price(_ fields: CSVFields, _ index: Int) throws(RowError) -> Double {
        let value = try double(fields, index)
        guard value > 0 else { throw RowError(message: "field '\(name(index))': a price must be positive, found \(fields[index])") }
        return value
    }

    private func size(_ fields: CSVFields, _ index: Int) throws(RowError) -> Double {
        let value = try double(fields, index)
        guard value >= 0 else { throw RowError(message: "field '\(name(index))': a size must not be negative, found \(fields[index])") }
        return value
    }

    private func exact(_ fields: CSVFields, _ index: Int) throws(RowError) -> ExactDecimal {
        let text = fields[index]
        guard let value = ExactDecimal(text) else {
            let lower = text.lowercased()
            let notFinite = ["nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"].contains(lower)
            throw RowError(message: "field '\(name(index))': '\(text)' is not " + (notFinite ? "finite" : "a plain decimal number"))
        }
        return value
    }

    private func exactPrice(_ fields: CSVFields, _ index: Int) throws(RowError) -> ExactDecimal {
        let value = try exact(fields, index)
        guard value.mantissa > 0 else { throw RowError(message: "field '\(name(index))': a price must be positive, found \(fields[index])") }
        return value
    }

    private func exactSize(_ fields: CSVFields, _ index: Int) throws(RowError) -> ExactDecimal {
        let value = try exact(fields, index)
        guard value.mantissa >= 0 else { throw RowError(message: "field '\(name(index))': a size must not be negative, found \(fields[index])") }
        return value
    }
}
