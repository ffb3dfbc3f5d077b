import AlphaPlusFeeds
import ArgumentParser
import Foundation

struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data", abstract: "Work with market-data files.", subcommands: [Inspect.self])

    /// Prints what a market-data file holds. The output is documented in
    /// docs/OPERATIONS.md ("Inspecting data files"); keep the two in step.
    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a data file's format, record count, time range and gaps.")
        @Argument(help: "The file (plain or gzip).") var file: String
        @Option(help: "The format instead of detecting it: \(FeedFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
        var format: String?
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let inspection: FeedInspection
            do {
                var chosen: FeedFormat?
                if let format {
                    guard let known = FeedFormat(rawValue: format) else {
                        throw ValidationError("unknown format '\(format)'; one of \(FeedFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                    }
                    chosen = known
                }
                inspection = try FeedInspection.inspect(path: file, format: chosen)
            } catch let error as FeedError {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
            if json {
                try printJSON(Report(inspection))
            } else {
                print(Self.text(inspection), terminator: "")
            }
        }

        static func time(_ ns: Int64?) -> String { ns.map(UTCTime.iso8601(ns:)) ?? "-" }

        /// A gap's ends: bar open times, or trade ids.
        static func ends(_ gap: FeedInspection.Gap, _ unit: FeedInspection.Gaps.Unit) -> (String, String) {
            unit == .bars ? (time(gap.from), time(gap.to)) : (String(gap.from), String(gap.to))
        }

        static func text(_ inspection: FeedInspection) -> String {
            var lines = ["file: \(inspection.path)", "format: \(inspection.format.rawValue)",
                         "\(inspection.format.isCapture ? "lines" : "rows"): \(inspection.records)",
                         "start: \(time(inspection.startNs))", "end: \(time(inspection.endNs))"]
            if let interval = inspection.barIntervalSeconds { lines.append("interval: \(interval)s") }
            if let gaps = inspection.gaps {
                lines.append("gaps: \(gaps.count) (\(gaps.missing) missing \(gaps.unit.rawValue))")
                if !gaps.largest.isEmpty { lines.append("largest gaps:") }
                for gap in gaps.largest {
                    let (from, to) = ends(gap, gaps.unit)
                    lines.append("  \(from) -> \(to): \(gap.missing) missing")
                }
            }
            if !inspection.format.isCapture {
                lines.append("bad records: \(inspection.badRecords)")
                lines += inspection.firstBadRecords.map { "  \($0)" }
            }
            return lines.map { $0 + "\n" }.joined()
        }
    }

    /// The `--json` document.
    struct Report: Encodable {
        let file, format: String
        let rows, lines: Int?
        let start, end: String?
        let intervalSeconds: Int64?
        let gaps: Gaps?
        let badRecords: BadRecords?

        struct Gaps: Encodable {
            let unit: String
            let count: Int
            let missing: Int64
            let largest: [Gap]
        }
        struct Gap: Encodable { let from, to: String; let missing: Int64 }
        struct BadRecords: Encodable { let count: Int; let first: [String] }

        init(_ inspection: FeedInspection) {
            file = inspection.path
            format = inspection.format.rawValue
            let isCapture = inspection.format.isCapture
            rows = isCapture ? nil : inspection.records
            lines = isCapture ? inspection.records : nil
            start = inspection.startNs.map(UTCTime.iso8601(ns:))
            end = inspection.endNs.map(UTCTime.iso8601(ns:))
            intervalSeconds = inspection.barIntervalSeconds
            gaps = inspection.gaps.map { gaps in
                Gaps(unit: gaps.unit.rawValue, count: gaps.count, missing: gaps.missing, largest: gaps.largest.map {
                    let (from, to) = Inspect.ends($0, gaps.unit)
                    return Gap(from: from, to: to, missing: $0.missing)
                })
            }
            badRecords = isCapture ? nil : BadRecords(count: inspection.badRecords, first: inspection.firstBadRecords.map(\.description))
        }
    }
}
