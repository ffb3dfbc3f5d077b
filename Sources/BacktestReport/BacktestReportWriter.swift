import AlphaPlusTime
import Foundation
import Trading

/// A report that could not be written, naming the file and what was wrong.
public struct BacktestReportError: Error, Equatable, CustomStringConvertible {
    public let file: String
    public let problem: String

    public var description: String { "\(file): \(problem)" }
}

/// Writes a backtest's report folder: report.json, trades.csv, signals.csv
/// and report.html (docs/OPERATIONS.md, "Backtest reports"). The same
/// result gives byte-identical files: nothing depends on the clock, the
/// machine or the folder.
public enum BacktestReportWriter {
    public static let fileNames = ["report.json", "trades.csv", "signals.csv", "report.html"]

    /// Creates `directory` if needed and (re)writes the four files in it.
    public static func write(_ result: BacktestResult, to directory: URL) throws {
        for (index, file) in result.run.inputFiles.enumerated() where file.hasPrefix("/") || file.hasPrefix("~") {
            throw BacktestReportError(file: "report.json", problem: "run.input_files[\(index)] \"\(file)\" is absolute: "
                                      + "name inputs relative to the run's folder so that the report is the same wherever it runs")
        }
        let contents: [(String, Data)] = [
            ("report.json", try reportJSON(result)),
            ("trades.csv", Data(ReportTables.trades(result.legs).utf8)),
            ("signals.csv", Data(ReportTables.signals(result.signals).utf8)),
            ("report.html", Data(HTMLReport.page(result).utf8)),
        ]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (name, data) in contents {
            try data.write(to: directory.appendingPathComponent(name), options: .atomic)
        }
    }

    /// The metrics at the top level, then `run`, `signals`, `outcomes` and
    /// `equity_curve`; keys sorted, snake_case.
    static func reportJSON(_ result: BacktestResult) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        do {
            return try encoder.encode(ReportDocument(result: result)) + Data("\n".utf8)
        } catch let EncodingError.invalidValue(value, context) {
            let path = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            throw BacktestReportError(file: "report.json", problem: "\(path.isEmpty ? "(root)" : path): \(value) is not a finite number")
        }
    }
}

/// The layout of report.json.
private struct ReportDocument: Encodable {
    let result: BacktestResult

    enum Keys: String, CodingKey {
        case run, signals, outcomes
        case equityCurve = "equity_curve"
    }

    enum RunKeys: String, CodingKey {
        case tenant, from, to, bars, frames, signals, costs
        case inputFiles = "input_files", fromNs = "from_ns", toNs = "to_ns"
        case riskRejections = "risk_rejections", headVotes = "head_votes"
    }

    func encode(to encoder: any Encoder) throws {
        try result.metrics.encode(to: encoder)
        var container = encoder.container(keyedBy: Keys.self)
        let info = result.run
        var run = container.nestedContainer(keyedBy: RunKeys.self, forKey: .run)
        try run.encode(info.tenant, forKey: .tenant)
        try run.encode(info.inputFiles, forKey: .inputFiles)
        try run.encode(UTCTime.iso8601(ns: info.fromNs), forKey: .from)
        try run.encode(UTCTime.iso8601(ns: info.toNs), forKey: .to)
        try run.encode(info.fromNs, forKey: .fromNs)
        try run.encode(info.toNs, forKey: .toNs)
        try run.encode(info.bars, forKey: .bars)
        try run.encode(info.frames, forKey: .frames)
        try run.encode(result.signals.count, forKey: .signals)
        // Every reason, 0 included, so that readers need not know the list.
        let rejections = Dictionary(uniqueKeysWithValues: RiskRejection.allCases.map { ($0.rawValue, info.riskRejections[$0] ?? 0) })
        try run.encode(rejections, forKey: .riskRejections)
        try run.encode(info.headVotes, forKey: .headVotes)
        try run.encode(info.costs, forKey: .costs)
        try container.encode(result.signals, forKey: .signals)
        try container.encode(result.outcomes, forKey: .outcomes)
        try container.encode(result.equityCurve, forKey: .equityCurve)
    }
}
