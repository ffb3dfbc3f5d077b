import AlphaPlusSDK

/// The market-data file formats the readers know. The raw value is the name
/// used in configuration and printed by `alphaplus data inspect`.
public enum FeedFormat: String, Sendable, CaseIterable {
    /// freqtrade OHLCV CSV: header `ts_ms,open,high,low,close,volume`, ts = bar open in ms.
    case freqtradeOHLCV = "freqtrade-ohlcv"
    /// nautilus_trader bar CSV: header `timestamp,open,high,low,close,volume`,
    /// timestamp `YYYY-MM-DD HH:MM:SS.ffffff` (UTC, bar open).
    case nautilusBars = "nautilus-bars"
    /// Binance kline CSV: no header, 12 columns, open time (ms) first.
    case binanceKlines = "binance-klines"
    /// Tardis trades CSV: `exchange,symbol,timestamp,local_timestamp,id,side,price,amount` (µs).
    case tardisTrades = "tardis-trades"
    /// Tardis quotes CSV: `exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount` (µs).
    case tardisQuotes = "tardis-quotes"
    /// hftbacktest Binance capture: `<local ns> {json}` lines, usually gzip.
    case hftbacktestBinance = "hftbacktest-binance"
    /// cryptofeed capture (Kraken): `<local seconds>: <raw message>` lines.
    case cryptofeedCapture = "cryptofeed-capture"
    /// Bitfinex raw book: one JSON array of websocket messages, no timestamps.
    case bitfinexRawBook = "bitfinex-raw-book"

    /// Whole bars (OHLCV) rather than ticks.
    public var isBars: Bool { self == .freqtradeOHLCV || self == .nautilusBars || self == .binanceKlines }

    /// Raw venue captures: detected, but decoded by the venue decoders, not
    /// by `FeedReader`.
    public var isCapture: Bool { self == .hftbacktestBinance || self == .cryptofeedCapture || self == .bitfinexRawBook }

    /// The header line of a CSV format that has one.
    var header: String? {
        switch self {
        case .freqtradeOHLCV: "ts_ms,open,high,low,close,volume"
        case .nautilusBars: "timestamp,open,high,low,close,volume"
        case .tardisTrades: "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
        case .tardisQuotes: "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"
        case .binanceKlines, .hftbacktestBinance, .cryptofeedCapture, .bitfinexRawBook: nil
        }
    }

    /// Detects the format of a file (plain or gzip) from its first line.
    public static func detect(path: String) throws -> FeedFormat {
        var firstLine: String?
        try LineReader(path: path).forEachLine { line, _ in
            guard !line.isEmpty else { return true }
            firstLine = String(decoding: line, as: UTF8.self)
            return false
        }
        guard let firstLine else { throw FeedError(FeedPosition(source: path, line: 1), "the file is empty") }
        guard let format = detect(firstLine: firstLine) else {
            let sample = firstLine.count > 80 ? firstLine.prefix(80) + "..." : Substring(firstLine)
            throw FeedError(FeedPosition(source: path, line: 1), "unrecognised data format: first line '\(sample)'"
                            + " matches none of " + allCases.map(\.rawValue).joined(separator: ", "))
        }
        return format
    }

    /// The format a file's first non-empty line identifies, nil if none.
    public static func detect(firstLine line: String) -> FeedFormat? {
        if let format = allCases.first(where: { $0.header == line }) { return format }
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        if fields.count == 12, fields[0].count >= 12, fields[0].allSatisfy(\.isASCIIDigit) { return .binanceKlines }
        if let space = line.firstIndex(of: " "), line[..<space].count >= 18, line[..<space].allSatisfy(\.isASCIIDigit),
           line[line.index(after: space)...].hasPrefix("{") {
            return .hftbacktestBinance
        }
        // cryptofeed starts with a connection marker, then "<seconds>: <message>" lines.
        if line.hasPrefix("wss://") || line.hasPrefix("ws://") { return .cryptofeedCapture }
        if let colon = line.firstIndex(of: ":"), line[line.index(after: colon)...].hasPrefix(" "),
           ExactDecimal(line[..<colon]) != nil, line[..<colon].contains(".") {
            return .cryptofeedCapture
        }
        if line.hasPrefix("[{\"event\"") || line.hasPrefix("[{ \"event\"") { return .bitfinexRawBook }
        return nil
    }
}

extension Character {
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
