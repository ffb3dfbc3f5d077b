import AlphaPlusFeeds
import AlphaPlusJSON
import AlphaPlusSDK

/// Decodes a news file, one JSON object per line:
///
///     {"ts": "2024-03-05T14:30:00Z", "id": "n-17", "headline": "...", "symbols": ["BTC-USDT"],
///      "source": "wire", "body": "...", "url": "https://..."}
///
/// `ts` is an RFC 3339 time (`Z` or a `±HH:MM` offset) or integer
/// milliseconds since the epoch; `id`, `headline` and `symbols` are
/// required (an empty `symbols` makes the item market-wide); `source`,
/// `body` and `url` are optional. Each line becomes a `MarketEvent.news`
/// with an empty header symbol. A line is bad when it is not one JSON
/// object, misses or repeats a field, has a field of the wrong type, an
/// unknown field, an empty id or headline, a symbol that is not canonical
/// ("BTC-USDT") or is listed twice, a time that does not parse (or names a
/// day the month lacks, or a year outside 1970–2261), or a time before the
/// previous good line's.
public struct NewsLineDecoder: LineFeedDecoder {
    public let policy: BadRecordPolicy
    public var report = FeedReport()
    /// The venue of every event (news files name none).
    public let venue: String
    private var previousTimeNs = Int64.min

    static let fieldNames = ["ts", "id", "headline", "symbols", "source", "body", "url"]

    public init(venue: String, policy: BadRecordPolicy) {
        self.venue = venue
        self.policy = policy
    }

    public mutating func decode(line: UnsafeBufferPointer<UInt8>, at position: FeedPosition) throws -> MarketEvent? {
        func bad(_ reason: String) -> FeedError { FeedError(position, reason) }
        var timeNs: Int64?
        var id: String?, headline: String?, symbols: [String]?
        var source = "", body = "", url = ""
        var seen: Set<String> = []
        var scanner = JSONScanner(line)
        do {
            guard scanner.atEnd() || line[scanner.offset] == UInt8(ascii: "{") else {
                throw bad("not a JSON object: \(String(decoding: line.prefix(40), as: UTF8.self))")
            }
            var fields = try scanner.beginObject()
            while let rawKey = try scanner.nextKey(&fields) {
                let key = String(decoding: rawKey, as: UTF8.self)
                guard Self.fieldNames.contains(key) else {
                    throw bad("unknown field '\(key)' (known: \(Self.fieldNames.joined(separator: ", ")))")
                }
                guard seen.insert(key).inserted else { throw bad("field '\(key)' appears twice") }
                switch key {
                case "ts": timeNs = try Self.time(&scanner, bad)
                case "id": id = try Self.requiredText(&scanner, field: key, bad)
                case "headline": headline = try Self.requiredText(&scanner, field: key, bad)
                case "symbols": symbols = try Self.symbols(&scanner, bad)
                case "source": source = try Self.optionalText(&scanner, field: key, bad)
                case "body": body = try Self.optionalText(&scanner, field: key, bad)
                default: url = try Self.optionalText(&scanner, field: key, bad)
                }
            }
            guard scanner.atEnd() else { throw bad("unexpected text after the JSON object at column \(scanner.offset + 1)") }
        } catch let error as JSONScanError {
            throw bad("malformed JSON at \(error)")
        }
        guard let timeNs else { throw bad("missing field 'ts'") }
        guard let id else { throw bad("missing field 'id'") }
        guard let headline else { throw bad("missing field 'headline'") }
        guard let symbols else { throw bad("missing field 'symbols'") }
        guard timeNs >= previousTimeNs else {
            throw bad("field 'ts': time \(UTCTime.iso8601(ns: timeNs)) is before the previous item's \(UTCTime.iso8601(ns: previousTimeNs))")
        }
        previousTimeNs = timeNs
        return .news(EventSource(venue: venue, symbol: "", exchangeTimeNs: timeNs), id: id, source: source,
                     headline: headline, body: body, url: url, symbols: symbols)
    }

    // MARK: Fields

    private static func time(_ scanner: inout JSONScanner, _ bad: (String) -> FeedError) throws -> Int64 {
        switch try scanner.peekKind() {
        case .string:
            let text = try scanner.text()
            guard let ns = rfc3339Ns(text) else {
                throw bad("field 'ts': '\(text)' is not an RFC 3339 time from 1970 to 2261 such as 2024-03-05T14:30:00Z "
                          + "or 2024-03-05T16:30:00.250+02:00")
            }
            return ns
        case .number:
            let milliseconds: UInt64
            do {
                milliseconds = try scanner.uint64()
            } catch let error as JSONScanError {
                throw bad("field 'ts': \(error.reason) (milliseconds since the epoch)")
            }
            guard milliseconds <= UInt64(Int64.max / 1_000_000) else {
                throw bad("field 'ts': \(milliseconds) ms since the epoch is out of range")
            }
            return Int64(milliseconds) * 1_000_000
        case let kind:
            throw bad("field 'ts': expected an RFC 3339 string or integer milliseconds, found \(kind)")
        }
    }

    private static func requiredText(_ scanner: inout JSONScanner, field: String, _ bad: (String) -> FeedError) throws -> String {
        let text = try string(&scanner, field: field, bad)
        guard text.contains(where: { !$0.isWhitespace }) else { throw bad("field '\(field)' is empty") }
        return text
    }

    /// A string, or "" for null.
    private static func optionalText(_ scanner: inout JSONScanner, field: String, _ bad: (String) -> FeedError) throws -> String {
        scanner.skipNull() ? "" : try string(&scanner, field: field, bad)
    }

    private static func symbols(_ scanner: inout JSONScanner, _ bad: (String) -> FeedError) throws -> [String] {
        let kind = try scanner.peekKind()
        guard kind == .array else { throw bad("field 'symbols': expected an array of symbols, found \(kind)") }
        var symbols: [String] = []
        var elements = try scanner.beginArray()
        while try scanner.nextElement(&elements) {
            let field = "symbols[\(symbols.count)]"
            let symbol = try string(&scanner, field: field, bad)
            guard isCanonical(symbol) else {
                throw bad("field '\(field)': '\(symbol)' is not a canonical symbol (BASE-QUOTE in capitals, e.g. \"BTC-USDT\", or BASE-QUOTE-PERP)")
            }
            guard !symbols.contains(symbol) else { throw bad("field '\(field)': '\(symbol)' appears twice") }
            symbols.append(symbol)
        }
        return symbols
    }

    /// A JSON string with its escapes decoded.
    private static func string(_ scanner: inout JSONScanner, field: String, _ bad: (String) -> FeedError) throws -> String {
        let kind = try scanner.peekKind()
        guard kind == .string else { throw bad("field '\(field)': expected a string, found \(kind)") }
        let raw = try scanner.string()
        guard raw.contains(UInt8(ascii: "\\")) else { return String(decoding: raw, as: UTF8.self) }
        // The scanner lends strings undecoded; the SDK's strict parser decodes
        // the escapes (and refuses bad ones).
        do {
            guard case .string(let text) = try JSONValue(parsing: [UInt8(ascii: "\"")] + raw + [UInt8(ascii: "\"")]) else {
                throw bad("field '\(field)': expected a string")
            }
            return text
        } catch let error as JSONParseError {
            throw bad("field '\(field)': \(error.message)")
        }
    }

    /// "BTC-USDT", "ETH-BTC", "BTC-USDT-PERP": the host's canonical spelling.
    static func isCanonical(_ symbol: String) -> Bool {
        let parts = symbol.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2 || (parts.count == 3 && parts[2] == "PERP") else { return false }
        return parts.prefix(2).allSatisfy { asset in
            (2...12).contains(asset.count) && asset.utf8.allSatisfy { (65...90).contains($0) || (48...57).contains($0) }
        }
    }

    /// RFC 3339 ("2024-03-05T14:30:00Z", "2024-03-05 16:30:00.25+02:00") as
    /// ns since the epoch, UTC; nil for anything else: a day the month does
    /// not have, a year before 1970 or after 2261 (Int64 nanoseconds end in
    /// 2262).
    static func rfc3339Ns(_ text: String) -> Int64? {
        var local = Substring(text)
        var offsetSeconds: Int64 = 0
        if local.hasSuffix("Z") || local.hasSuffix("z") {
            local.removeLast()
        } else {
            let zone = Array(local.suffix(6).utf8)
            guard zone.count == 6, zone[0] == UInt8(ascii: "+") || zone[0] == UInt8(ascii: "-"), zone[3] == UInt8(ascii: ":"),
                  let hours = Int64(String(decoding: zone[1..<3], as: UTF8.self)),
                  let minutes = Int64(String(decoding: zone[4..<6], as: UTF8.self)), hours < 24, minutes < 60 else { return nil }
            offsetSeconds = (hours * 3600 + minutes * 60) * (zone[0] == UInt8(ascii: "+") ? 1 : -1)
            local.removeLast(6)
        }
        guard let year = Int(local.prefix(4)), (1970...2261).contains(year), let ns = UTCTime.parse(local),
              UTCTime.iso8601(ns: ns).prefix(10) == local.prefix(10) else { return nil }  // no 30 February
        // Local time is UTC plus the offset.
        return ns - offsetSeconds * 1_000_000_000
    }
}
