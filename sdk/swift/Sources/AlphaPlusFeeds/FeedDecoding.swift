import AlphaPlusSDK
import CZlib

/// What a decoder has read so far.
public struct FeedReport: Sendable, Equatable {
    /// Lines (or messages) read.
    public var records = 0
    /// Market events produced.
    public var events = 0
    /// Records that are not market data: markers, heartbeats, subscription
    /// and status messages, streams the decoder does not map.
    public var ignored = 0
    /// Bad records passed over under `BadRecordPolicy.skip`.
    public var skipped = 0
    /// The first bad records (at most `maxKeptErrors`), for the operator.
    public var firstErrors: [FeedError] = []

    public static let maxKeptErrors = 20

    public init() {}

    mutating func recordSkipped(_ error: FeedError) {
        skipped += 1
        if firstErrors.count < Self.maxKeptErrors { firstErrors.append(error) }
    }
}

/// A decoder of a line-per-message capture: one line gives at most one event.
public protocol LineFeedDecoder {
    var policy: BadRecordPolicy { get }
    var report: FeedReport { get set }
    /// Decodes one line; nil for a line that carries no market event.
    /// Throws a FeedError at `position` for a bad line.
    mutating func decode(line: UnsafeBufferPointer<UInt8>, at position: FeedPosition) throws -> MarketEvent?
}

extension LineFeedDecoder {
    /// Decodes every line of a plain or gzip file in order, handing each
    /// event to `emit`. Blank lines (captures end with some) are ignored.
    /// A bad line is skipped and counted, or thrown, as `policy` says;
    /// errors thrown by `emit` pass through.
    public mutating func decodeFile(_ path: String, _ emit: (MarketEvent) throws -> Void) throws {
        try LineReader(path: path).forEachLine { line, number in
            report.records += 1
            if line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
                report.ignored += 1
                return true
            }
            let event: MarketEvent?
            do {
                event = try decode(line: line, at: FeedPosition(source: path, line: number))
            } catch let error as FeedError where policy == .skip {
                report.recordSkipped(error)
                return true
            }
            if let event {
                report.events += 1
                try emit(event)
            } else {
                report.ignored += 1
            }
            return true
        }
    }

    /// Every event of the files, in order, as one stream (for tests and
    /// for pre-decoding a capture once before a benchmark).
    public mutating func decodeFiles(_ paths: [String]) throws -> [MarketEvent] {
        var events: [MarketEvent] = []
        for path in paths { try decodeFile(path) { events.append($0) } }
        return events
    }
}

/// Runs a scanner over the JSON part of a line, from `start`, and turns
/// its errors into a FeedError at `position` naming the line's column.
func scanning<T>(_ line: UnsafeBufferPointer<UInt8>, from start: Int, at position: FeedPosition,
                 _ body: (inout JSONScanner) throws -> T) throws -> T {
    var scanner = JSONScanner(line, offset: start)
    do {
        return try body(&scanner)
    } catch let error as JSONScanError {
        throw FeedError(position, "malformed JSON at \(error)")
    }
}

/// `seconds` ("1618678133.626511") as ns since the epoch; nil when negative or out of range.
func nanoseconds(fromSeconds seconds: ExactDecimal) -> Int64? {
    var value = seconds.mantissa, exponent = Int(seconds.exponent) + 9
    guard value >= 0 else { return nil }
    while exponent < 0 { value /= 10; exponent += 1 }
    while exponent > 0 {
        let (next, overflow) = value.multipliedReportingOverflow(by: 10)
        if overflow { return nil }
        value = next
        exponent -= 1
    }
    return value
}

/// The whole file, plain or gzip, in memory.
func readWholeFile(_ path: String) throws -> [UInt8] {
    guard let file = gzopen(path, "rb") else {
        throw FeedError(FeedPosition(source: path, line: 0), "cannot open the file")
    }
    defer { gzclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 18)
    while true {
        let read = chunk.withUnsafeMutableBytes { gzread(file, $0.baseAddress, UInt32($0.count)) }
        if read < 0 {
            var code: Int32 = 0
            throw FeedError(FeedPosition(source: path, line: 0), "cannot read: \(String(cString: gzerror(file, &code)))")
        }
        if read == 0 { return bytes }
        bytes.append(contentsOf: chunk[0..<Int(read)])
    }
}
