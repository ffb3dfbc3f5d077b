@testable import BacktestReport
import Foundation
import Trading
import XCTest

final class BacktestReportWriterTests: XCTestCase {
    private var folders: [URL] = []

    override func tearDownWithError() throws {
        for folder in folders {
            try? FileManager.default.removeItem(at: folder)
        }
    }

    private func temporaryFolder() -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("backtest-report-\(UUID().uuidString)")
        folders.append(folder)
        return folder
    }

    /// A small run through the real paper trader: scale-out, stop, time
    /// exit and end of data, a short, and names that need escaping.
    private func sampleResult() throws -> BacktestResult {
        let trader = try PaperTrader(tenant: "acme", initialEquity: 10_000, costs: Fixture.costs)
        let votes = [Fixture.vote("trend", .long, 0.8), Fixture.vote("flow,odd", .short, 0.4),
                     Fixture.vote("<script>alert(1)</script>", .flat, status: .timeout)]
        let signals = [
            Fixture.signal("acme:sim:BTC-USDT:60:1", targets: [105, 110], scaleOut: [0.5, 1], quantity: 2, votes: votes),
            Fixture.signal("odd,\"id\"", side: .short, entry: 50, stop: 52, targets: [45], quantity: 3, symbol: "ETH-USDT",
                           votes: votes),
            Fixture.signal("acme:sim:BTC-USDT:60:3", quantity: 0.7, createdAfterBar: 2,
                           expiresAtNs: Fixture.start + 5 * Fixture.minute, votes: votes),
            Fixture.signal("acme:sim:ETH-USDT:60:4", entry: 51, stop: 49, targets: [60], quantity: 1.3, createdAfterBar: 3,
                           symbol: "ETH-USDT", votes: votes),
        ]
        let btc = [(100.0, 106.0, 99.0, 104.0), (104, 111, 103, 109), (109, 112, 107, 108), (108, 109, 104, 105),
                   (105, 107, 102, 103), (103, 104, 100, 101)]
        let eth = [(50.0, 53.0, 49.5, 52.5), (52.5, 53, 51, 51.5), (51.5, 52, 50, 51), (51, 52, 50.5, 51.7),
                   (51.7, 53, 51, 52.8), (52.8, 54, 52, 53.5)]
        var opened = 0
        for index in 0..<btc.count {
            for signal in signals[opened...] where signal.createdAtNs == Fixture.start + Int64(index) * Fixture.minute {
                try trader.open(signal)
                opened += 1
            }
            let (bo, bh, bl, bc) = btc[index], (eo, eh, el, ec) = eth[index]
            try trader.onBar(Fixture.bar(Int64(index), open: bo, high: bh, low: bl, close: bc), onLeg: { _ in }, onClose: { _ in })
            try trader.onBar(Fixture.bar(Int64(index), open: eo, high: eh, low: el, close: ec, symbol: "ETH-USDT"),
                             onLeg: { _ in }, onClose: { _ in })
        }
        let end = Fixture.start + Int64(btc.count) * Fixture.minute
        trader.closeAll(atNs: end, onLeg: { _ in }, onClose: { _ in })
        XCTAssertEqual(Set(trader.legs.map(\.reason)), [.takeProfit, .stopLoss, .timeExit, .endOfData])

        var counts = HeadVoteCounts(head: "trend")
        counts.count(.ok)
        counts.count(.timeout)
        let run = BacktestRunInfo(tenant: "acme", inputFiles: ["data/BTC-USDT_1m.csv", "data/ETH-USDT_1m.csv"],
                                  fromNs: Fixture.start, toNs: end, bars: 12, frames: 12,
                                  riskRejections: [.cooldown: 3, .maxOpenPositions: 1], headVotes: [counts], costs: Fixture.costs)
        let metrics = PerformanceMetrics.compute(outcomes: trader.closedPositions, signals: signals, equity: trader.equityCurve,
                                                 initialEquity: trader.initialEquity)
        return BacktestResult(run: run, signals: signals, outcomes: trader.closedPositions, legs: trader.legs,
                              equityCurve: trader.equityCurve, metrics: metrics)
    }

    private func text(_ folder: URL, _ name: String) throws -> String {
        try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
    }

    func testWritesTheFourFilesWithTheirHeaders() throws {
        let folder = temporaryFolder()
        let result = try sampleResult()
        try BacktestReportWriter.write(result, to: folder)
        for name in BacktestReportWriter.fileNames {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path), name)
        }
        let trades = try text(folder, "trades.csv").split(separator: "\n", omittingEmptySubsequences: false)
        XCTAssertTrue(trades[0].hasPrefix("signal_id,symbol,side,entry_ts,entry_price,exit_ts,exit_price,quantity,fees,pnl,exit_reason"))
        XCTAssertEqual(trades.count, result.legs.count + 2)  // header, rows, final newline
        XCTAssertTrue(trades[1].hasPrefix("acme:sim:BTC-USDT:60:1,BTC-USDT,long,2024-03-01T00:01:00.000Z,"), "\(trades[1])")
        XCTAssertTrue(trades.contains { $0.hasPrefix("\"odd,\"\"id\"\"\",ETH-USDT,short,") })

        let signals = try text(folder, "signals.csv").split(separator: "\n")
        XCTAssertEqual(signals[0], "id,created_at,symbol,timeframe_s,side,entry,stop,targets,quantity,confidence,high,venue,"
                       + "scale_out,expires_at,head:trend,\"head:flow,odd\",head:<script>alert(1)</script>")
        XCTAssertEqual(signals.count, result.signals.count + 1)
        XCTAssertEqual(signals[1], "acme:sim:BTC-USDT:60:1,2024-03-01T00:01:00.000Z,BTC-USDT,60,long,100.0,95.0,105.0;110.0,"
                       + "2.0,0.7,false,sim,0.5;1.0,,long:0.8,short:0.4,timeout")
    }

    func testTradeRowsRecomputeToFullPrecision() throws {
        let folder = temporaryFolder()
        try BacktestReportWriter.write(try sampleResult(), to: folder)
        let rows = try text(folder, "trades.csv").split(separator: "\n").dropFirst()
        XCTAssertFalse(rows.isEmpty)
        for row in rows {
            // The last 13 fields never need quoting; the id may hold commas.
            let fields = row.split(separator: ",", omittingEmptySubsequences: false).suffix(13).map(String.init)
            let direction = fields[1] == "long" ? 1.0 : -1.0
            let entry = try XCTUnwrap(Double(fields[3])), exit = try XCTUnwrap(Double(fields[5]))
            let quantity = try XCTUnwrap(Double(fields[6])), fees = try XCTUnwrap(Double(fields[7]))
            let pnl = try XCTUnwrap(Double(fields[8]))
            XCTAssertEqual(pnl, direction * (exit - entry) * quantity - fees, accuracy: 1e-9 * max(1, abs(exit * quantity)), "\(row)")
        }
    }

    func testSameResultGivesIdenticalBytes() throws {
        let first = temporaryFolder(), second = temporaryFolder()
        try BacktestReportWriter.write(try sampleResult(), to: first)
        try BacktestReportWriter.write(try sampleResult(), to: second)
        for name in BacktestReportWriter.fileNames {
            let a = try Data(contentsOf: first.appendingPathComponent(name))
            let b = try Data(contentsOf: second.appendingPathComponent(name))
            XCTAssertFalse(a.isEmpty, name)
            XCTAssertEqual(a, b, "\(name) differs between two writes of the same result")
        }
        XCTAssertFalse(try text(first, "report.json").contains(first.path), "report.json names the folder it was written to")
    }

    func testReportJSONHasTheHeadlineNumbersAtTheTop() throws {
        let folder = temporaryFolder()
        let result = try sampleResult()
        try BacktestReportWriter.write(result, to: folder)
        let data = try Data(contentsOf: folder.appendingPathComponent("report.json"))
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["trades", "net_pnl", "win_rate", "profit_factor", "sharpe", "max_drawdown", "run", "signals", "outcomes",
                    "equity_curve", "heads"] {
            XCTAssertNotNil(json[key], key)
        }
        XCTAssertEqual(json["trades"] as? Int, result.metrics.trades)
        XCTAssertEqual(json["net_pnl"] as? Double, result.metrics.netPnl)
        let run = try XCTUnwrap(json["run"] as? [String: Any])
        XCTAssertEqual(run["from"] as? String, "2024-03-01T00:00:00.000Z")
        XCTAssertEqual(run["signals"] as? Int, 4)
        let rejections = try XCTUnwrap(run["risk_rejections"] as? [String: Int])
        XCTAssertEqual(rejections["cooldown"], 3)
        XCTAssertEqual(rejections["daily_loss_limit"], 0)
        XCTAssertEqual(rejections.count, RiskRejection.allCases.count)
        let outcome = try XCTUnwrap((json["outcomes"] as? [[String: Any]])?.first)
        XCTAssertNotNil(outcome["max_adverse_excursion"], "\(outcome.keys.sorted())")
        XCTAssertNotNil(outcome["signal_id"])
        // Sorted keys: the file lists them in order.
        let text = String(decoding: data, as: UTF8.self)
        let position = { (key: String) in text.range(of: "\n  \"\(key)\"")?.lowerBound }
        XCTAssertLessThan(try XCTUnwrap(position("max_drawdown")), try XCTUnwrap(position("net_pnl")))
    }

    func testHTMLIsSelfContainedEscapedAndDrawsTheCurves() throws {
        let folder = temporaryFolder()
        try BacktestReportWriter.write(try sampleResult(), to: folder)
        let html = try text(folder, "report.html")
        XCTAssertFalse(html.lowercased().contains("<script"), "unescaped script tag")
        XCTAssertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        for external in ["src=", "href=", "<link", "@import", "url("] {
            XCTAssertFalse(html.contains(external), external)
        }
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 2)
        XCTAssertTrue(html.contains("<path d=\"M"))
        XCTAssertTrue(html.contains("fill-opacity"))  // the drawdown's area
        XCTAssertTrue(html.contains("<td>trend</td>"))
        XCTAssertFalse(html.contains("The first 500"))
    }

    func testSignalsTableIsCappedAndSaysSo() throws {
        var result = try sampleResult()
        result.signals = (0..<(HTMLReport.signalRowLimit + 1)).map { Fixture.signal("s\($0)") }
        let html = HTMLReport.page(result)
        XCTAssertTrue(html.contains("The first 500 of 501 signals; signals.csv has all of them."))
        XCTAssertEqual(html.components(separatedBy: "<td>BTC-USDT</td>").count - 1, HTMLReport.signalRowLimit)
    }

    func testDownsamplingKeepsEachBucketsExtremesWithinTheLimit() {
        let points = (0..<10_001).map { SVGChart.Point(ns: Int64($0), value: sin(Double($0) / 37) * Double($0 % 101)) }
        let kept = SVGChart.downsample(points)
        XCTAssertLessThanOrEqual(kept.count, 2000)
        XCTAssertGreaterThan(kept.count, 1000)
        XCTAssertEqual(kept, SVGChart.downsample(points))
        XCTAssertEqual(kept.map(\.ns), kept.map(\.ns).sorted())
        XCTAssertEqual(kept.map(\.value).max(), points.map(\.value).max())
        XCTAssertEqual(kept.map(\.value).min(), points.map(\.value).min())
        // Each bucket of ten or eleven points keeps its own lowest and highest.
        let bucket = Array(points[(10 * 10_001 / 1000)..<(11 * 10_001 / 1000)])
        XCTAssertTrue(kept.contains(bucket.min { $0.value < $1.value }!))
        XCTAssertTrue(kept.contains(bucket.max { $0.value < $1.value }!))
        XCTAssertEqual(SVGChart.downsample(Array(points.prefix(2000))).count, 2000)  // small series untouched
    }

    func testRefusesAbsoluteInputPathsAndNonFiniteNumbers() throws {
        var result = try sampleResult()
        result.run.inputFiles = ["/home/someone/data.csv"]
        XCTAssertThrowsError(try BacktestReportWriter.write(result, to: temporaryFolder())) { error in
            XCTAssertTrue("\(error)".contains("run.input_files[0] \"/home/someone/data.csv\" is absolute"), "\(error)")
        }
        result = try sampleResult()
        result.equityCurve[1].equity = .nan
        XCTAssertThrowsError(try BacktestReportWriter.write(result, to: temporaryFolder())) { error in
            XCTAssertTrue("\(error)".hasPrefix("report.json: .equity_curve[1].equity: nan is not a finite number"), "\(error)")
        }
    }

    // MARK: - scripts/check-backtest.py

    private static let checkScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("scripts/check-backtest.py")

    private func runCheck(_ folder: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.checkScript.path, folder.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    func testCheckScriptAgreesAndCatchesTampering() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "--version"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        do {
            try probe.run()
            probe.waitUntilExit()
        } catch {}
        guard probe.terminationStatus == 0 else { throw XCTSkip("python3 is not on the PATH: scripts/check-backtest.py not run") }

        let folder = temporaryFolder()
        let result = try sampleResult()
        try BacktestReportWriter.write(result, to: folder)
        let clean = try runCheck(folder)
        XCTAssertEqual(clean.status, 0, clean.output)
        XCTAssertTrue(clean.output.contains("checked \(result.legs.count) rows of trades.csv"), clean.output)
        for key in ["net_pnl", "trades", "win_rate", "profit_factor"] {
            XCTAssertTrue(clean.output.contains("checked report.json \(key)"), clean.output)
        }

        // One pnl changed in its last digits.
        let tradesURL = folder.appendingPathComponent("trades.csv")
        let original = try String(contentsOf: tradesURL, encoding: .utf8)
        var lines = original.components(separatedBy: "\n")
        var fields = lines[2].components(separatedBy: ",")
        let pnlIndex = fields.count - 5
        fields[pnlIndex] = "\(Double(fields[pnlIndex])! + 0.0001)"
        lines[2] = fields.joined(separator: ",")
        try lines.joined(separator: "\n").write(to: tradesURL, atomically: true, encoding: .utf8)
        let tampered = try runCheck(folder)
        XCTAssertEqual(tampered.status, 1, tampered.output)
        XCTAssertTrue(tampered.output.contains("trades.csv:3: signal"), tampered.output)
        XCTAssertTrue(tampered.output.contains("MISMATCH") && tampered.output.contains("net_pnl"), tampered.output)

        // A row dropped: every row still adds up, the totals do not.
        lines = original.components(separatedBy: "\n")
        lines.remove(at: 1)
        try lines.joined(separator: "\n").write(to: tradesURL, atomically: true, encoding: .utf8)
        let dropped = try runCheck(folder)
        XCTAssertEqual(dropped.status, 1, dropped.output)
        XCTAssertTrue(dropped.output.contains("MISMATCH"), dropped.output)
    }
}
