import AlphaPlusFeeds
import AlphaPlusSDK
import ArgumentParser
import Foundation
import Indicators

/// `alphaplus indicators <bars>`: the standard indicator set on every row of
/// a bar file, as CSV on stdout. Other tools read this output: the columns
/// are `ts_ms` then the 23 TA-Lib columns of IndicatorSet, one row per
/// input row, an empty field while an indicator warms up, numbers printed
/// as shortest round-trip doubles. Documented in docs/OPERATIONS.md.
struct IndicatorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "indicators", abstract: "Print the standard indicators of every row of a bar file as CSV.")
    @Argument(help: "A bar file: ts_ms,open,high,low,close,volume CSV, the nautilus 1m CSV or Binance klines (plain or gzip).")
    var file: String
    @Option(help: "What to do with a malformed row: stop (the default) or skip (reported on stderr).")
    var onBadRow: BadRecordPolicy = .stop

    func run() throws {
        let format: FeedFormat
        let reader: FeedReader
        do {
            format = try FeedFormat.detect(path: file)
            guard format.isBars else {
                throw ValidationError("\(file): holds \(format.rawValue), not bars; give an OHLCV bar file")
            }
            reader = try FeedReader(path: file, format: format, options: .init(badRecords: onBadRow))
        } catch let error as FeedError {
            throw ValidationError("\(error)")
        }

        let columns = IndicatorSet.columns.prefix(IndicatorSet.taLibColumnCount)
        let output = BufferedOutput()
        output.write("ts_ms," + columns.joined(separator: ",") + "\n")
        var indicators = IndicatorSet()
        let values = UnsafeMutablePointer<Double>.allocate(capacity: IndicatorSet.columns.count)
        defer { values.deallocate() }
        let report: FeedReader.Report
        do {
            report = try reader.read { event, _ in
                guard case .candle(_, let candle, _) = event else { return }
                indicators.update(Bar(openTimeNs: candle.openTimeNs, open: candle.open, high: candle.high, low: candle.low,
                                      close: candle.close, volume: candle.volume), into: values)
                var row = String(candle.openTimeNs / 1_000_000)
                for column in columns.indices {
                    row += ","
                    if !values[column].isNaN { row += "\(values[column])" }
                }
                output.write(row + "\n")
            }
        } catch let error as FeedError {
            output.flush()
            FileHandle.standardError.write(Data("alphaplus indicators: \(error)\n".utf8))
            throw ExitCode(1)
        }
        output.flush()
        reportSkippedRows(report, of: file)
    }
}

/// The rows a `.skip` read left out, on stderr: the first ones named with
/// their file:line, then the count.
func reportSkippedRows(_ report: FeedReader.Report, of file: String) {
    guard report.badRecords > 0 else { return }
    for error in report.firstBadRecords { FileHandle.standardError.write(Data("skipped: \(error)\n".utf8)) }
    FileHandle.standardError.write(Data("skipped \(report.badRecords) malformed rows of \(file)\n".utf8))
}

extension BadRecordPolicy: @retroactive ExpressibleByArgument {}

/// Collects stdout in 64 KiB blocks: one write per block, not per row.
final class BufferedOutput {
    private var buffer: [UInt8] = []

    func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 16 { flush() }
    }

    func flush() {
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
