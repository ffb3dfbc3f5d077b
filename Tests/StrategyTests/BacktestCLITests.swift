import Foundation
import SharedTestData
import XCTest

/// `alphaplus backtest` end to end: the bar tenant's bundled heads (built
/// by `swift build`) on the FTX BTC-PERP 1m file of ../shared/data.
final class BacktestCLITests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("alphaplus-backtest-\(getpid())-\(name.hashValue)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for product in ["ap-head-technical", "ap-head-orderflow", "ap-head-sentiment", "ap-head-rules"] {
            let path = AlphaPlusCLI.products.appendingPathComponent("lib\(product).so").path
            guard FileManager.default.fileExists(atPath: path) else {
                throw XCTSkip("\(path) is missing: run `swift build` before `swift test` (scripts/test does)")
            }
        }
        let config = """
        plugins:
          folders: [\(AlphaPlusCLI.products.path)]
        tenants_folder: \(folder.path)
        store: { path: \(folder.path)/data/alphaplus.sqlite }
        """
        try config.write(to: folder.appendingPathComponent("alphaplus.yaml"), atomically: true, encoding: .utf8)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    private func backtest(_ extra: [String], out: String) throws -> AlphaPlusCLI.Result {
        try AlphaPlusCLI.run(["backtest", "--config", folder.appendingPathComponent("alphaplus.yaml").path,
                              "--tenant", repository.appendingPathComponent("config/backtest/bars.yaml").path,
                              "--out", folder.appendingPathComponent(out).path] + extra)
    }

    func testRealBarsWriteFourFilesDeterministicallyAndThePnLAddsUp() throws {
        let bars = try SharedData.file("nautilus_trader/btc-perp-20211231-20220201_1m.csv").path
        let first = try backtest(["--data", bars, "--symbol", "BTC-PERP", "--to", "2022-01-08"], out: "a")
        XCTAssertEqual(first.status, 0, first.err)
        XCTAssertTrue(first.out.contains("backtest bars: 10138 bars"), first.out)
        for name in ["report.json", "trades.csv", "signals.csv", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: folder.appendingPathComponent("a/\(name)").path), name)
        }
        let report = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("a/report.json"))) as! [String: Any]
        for key in ["trades", "net_pnl", "win_rate", "profit_factor", "sharpe", "max_drawdown"] {
            XCTAssertNotNil(report[key], "report.json lacks \(key)")
        }
        XCTAssertGreaterThan(report["trades"] as! Int, 0, "the bar strategy made no trade on a week of bars")
        let trades = try String(contentsOf: folder.appendingPathComponent("a/trades.csv"), encoding: .utf8)
        XCTAssertTrue(trades.hasPrefix("signal_id,symbol,side,entry_ts,entry_price,exit_ts,exit_price,quantity,fees,pnl,exit_reason"))

        // The same inputs: a byte-identical report.json.
        let second = try backtest(["--data", bars, "--symbol", "BTC-PERP", "--to", "2022-01-08"], out: "b")
        XCTAssertEqual(second.status, 0, second.err)
        XCTAssertEqual(try Data(contentsOf: folder.appendingPathComponent("a/report.json")),
                       try Data(contentsOf: folder.appendingPathComponent("b/report.json")))

        // An independent recomputation of every trade's P&L and the totals.
        guard let python = ["/usr/bin/python3", "/usr/local/bin/python3"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("python3 is not installed: the independent P&L check did not run")
        }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: python)
        check.arguments = [repository.appendingPathComponent("scripts/check-backtest.py").path, folder.appendingPathComponent("a").path]
        let output = Pipe()
        check.standardOutput = output
        check.standardError = output
        try check.run()
        check.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(check.terminationStatus, 0, text)
    }

    func testBadRowsStopWithTheirLineOrAreSkippedAndCounted() throws {
        let file = folder.appendingPathComponent("bars.csv")
        var rows = ["ts_ms,open,high,low,close,volume"]
        for index in 0..<200 {
            let price = 100 + Double(index % 7)
            rows.append("\(1_640_995_200_000 + index * 60_000),\(price),\(price + 1),\(price - 1),\(price),10")
        }
        rows[101] = "1641001140000,100,abc,99,100,10"  // line 102
        rows.remove(at: 150)                            // a gap: one bar missing
        try (rows.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let stopped = try backtest(["--data", file.path, "--symbol", "BTC-USDT"], out: "stop")
        XCTAssertNotEqual(stopped.status, 0)
        XCTAssertTrue(stopped.err.contains("bars.csv:102"), stopped.err)
        XCTAssertTrue(stopped.err.contains("--on-bad-row skip"), stopped.err)
        let skipped = try backtest(["--data", file.path, "--symbol", "BTC-USDT", "--on-bad-row", "skip"], out: "skip")
        XCTAssertEqual(skipped.status, 0, skipped.err)
        XCTAssertTrue(skipped.err.contains("skipped 1 malformed rows"), skipped.err)
        XCTAssertTrue(skipped.out.contains("data gaps: 2 (2 bars missing)"), skipped.out)
    }

    /// `rows` bars `interval` seconds apart from 2022-01-01, written to `name`.
    private func barFile(_ name: String, rows: Int, interval: Int) throws -> URL {
        let file = folder.appendingPathComponent(name)
        var lines = ["ts_ms,open,high,low,close,volume"]
        for index in 0..<rows {
            let price = 100 + Double(index % 7)
            lines.append("\(1_640_995_200_000 + index * interval * 1000),\(price),\(price + 1),\(price - 1),\(price),10")
        }
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// 5-minute bars for a tenant that trades 1m frames: nothing to
    /// evaluate. Refused, naming the file, the interval found and the fix.
    func testBarsCoarserThanTheTenantsTimeframesAreRefusedNamingTheInterval() throws {
        let file = try barFile("btc-5m.csv", rows: 300, interval: 300)
        let result = try backtest(["--data", file.path, "--symbol", "BTC-USDT"], out: "coarse")
        XCTAssertEqual(result.status, 1, result.out + result.err)
        XCTAssertTrue(result.err.contains("backtest bars: 0 frames evaluated: the data made frames of BTC-USDT 5m: 300, BTC-USDT 15m: 100, "), result.err)
        XCTAssertTrue(result.err.contains("none of strategy.symbols (any) and strategy.timeframes [1m] of "), result.err)
        XCTAssertTrue(result.err.contains("\(file.path) holds bars 5m apart (300 s), and a frame's timeframe must be a multiple of the bar interval: set strategy.timeframes to [300, "), result.err)
        XCTAssertTrue(result.err.contains("or give bars of 1m"), result.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("coarse/report.json").path), "no report of nothing")
    }

    /// Without --symbol a bar file's name stands in for the symbol; when
    /// ingest rejects more than half of the rows the run is refused with
    /// the reasons and counts.
    func testABacktestWhoseRowsAreMostlyRejectedIsRefusedWithTheReasons() throws {
        let file = try barFile("bars.csv", rows: 200, interval: 60)
        let result = try backtest(["--data", file.path], out: "nosymbol")
        XCTAssertEqual(result.status, 1, result.out + result.err)
        XCTAssertTrue(result.err.contains("backtest bars: 200 of 200 rows were refused, more than half, so no report was written: "
                                          + "symbol 'bars' of \(file.path): unknown_symbol 200 ('bars' cannot be read as BASE-QUOTE; "
                                          + "bar files name no symbol, so the file name stood in: give --symbol, e.g. --symbol BTC-USDT)\n"), result.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("nosymbol/report.json").path))
    }

    func testATenantWhoseLimitsContradictIsRefusedNamingTheField() throws {
        let demo = try String(contentsOf: repository.appendingPathComponent("config/tenants/demo.yaml"), encoding: .utf8)
        let broken = demo.replacingOccurrences(of: "  initial_equity: 10000\n",
                                               with: "  initial_equity: 10000\n  risk: { max_open_positions: 1, max_open_per_symbol: 3 }\n")
        let tenant = folder.appendingPathComponent("broken.yaml")
        try broken.write(to: tenant, atomically: true, encoding: .utf8)
        let result = try AlphaPlusCLI.run(["backtest", "--config", folder.appendingPathComponent("alphaplus.yaml").path,
                                           "--tenant", tenant.path, "--data", "/nonexistent", "--out", folder.path + "/x"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("broken.yaml:"), result.err)
        XCTAssertTrue(result.err.contains("risk.max_open_per_symbol: 3 exceeds max_open_positions 1"), result.err)
    }
}
