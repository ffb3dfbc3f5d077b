import Foundation
import SharedTestData
import XCTest

/// A head stuck in an endless loop holds neither `alphaplus run`'s stop nor
/// a backtest: the host names it and ends within its bound.
final class StuckPluginTests: XCTestCase {
    private var folder: URL!
    private var process: Process?

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("stuck-plugin-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("plugins"), withIntermediateDirectories: true)
        // The stuck head: the C fixture, which never returns from its third evaluate.
        let stuck = try PluginFixtures.build("stuck-head", defines: ["FIX_ID=\"com.test.stuck\"", "FIX_HANG_ON_EVALUATE=3"])
        try FileManager.default.copyItem(atPath: stuck, toPath: folder.appendingPathComponent("plugins/stuck.so").path)
        for product in ["ap-exchange-sim", "ap-head-rules"] {
            try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("plugins/lib\(product).so").path,
                                                       withDestinationPath: try AlphaPlusCLI.bundledPlugin(product))
        }
        try """
            plugins: { folders: [plugins] }
            tenants_folder: tenants
            store: { path: store.sqlite }
            """.write(to: config, atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    private var config: URL { folder.appendingPathComponent("alphaplus.yaml") }

    /// `acme` trades the simulated market with the stuck head and a rules head.
    private func writeTenant(market: Bool) throws {
        let connector = market ? """

              - id: market
                plugin: com.alphaplus.exchange-sim
                settings:
                  seed: 7
                  mode: realtime
                  events_per_second: 50
                  history_seconds: 600
                  symbols: [{ symbol: BTC-USDT, start_price: "65000.00", tick_size: "0.01", lot_size: "0.0001" }]
                subscribe: [{ symbol: BTC-USDT, streams: [trades, quotes] }]
            """ : ""
        try """
            id: acme
            strategy:
              symbols: [BTC-USDT]
              timeframes: [60]
              heads: [{ instance: stuck }, { instance: rules }]
              consensus: { min_agree: 1, head_deadline_ms: 50 }
            instances:
              - { id: stuck, plugin: com.test.stuck }
              - { id: rules, plugin: com.alphaplus.head-rules, settings: { rules: ["close > 0 -> long 0.9"] } }\(connector)
            """.write(to: folder.appendingPathComponent("tenants/acme.yaml"), atomically: true, encoding: .utf8)
    }

    func testRunExitsWithinItsBoundAfterSIGTERMWhileAHeadIsStuckAndNamesIt() throws {
        try writeTenant(market: true)
        let logFile = folder.appendingPathComponent("host.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try AlphaPlusCLI.executable())
        process.arguments = ["run", "--config", config.path]  // the default bound: 10 s
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
        // The history's frames reach the head until it sticks; later frames find it busy.
        let stuckBy = Date().addingTimeInterval(60)
        while !log.contains("its previous call is still running"), Date() < stuckBy, process.isRunning {
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTAssertTrue(log.contains("its previous call is still running"), "the head never got stuck:\n\(log)")

        let signalled = Date()
        kill(process.processIdentifier, SIGTERM)
        let exitBy = signalled.addingTimeInterval(15)
        while process.isRunning, Date() < exitBy { Thread.sleep(forTimeInterval: 0.02) }
        let took = Date().timeIntervalSince(signalled)
        XCTAssertFalse(process.isRunning, "still running 15 s after SIGTERM:\n\(log)")
        guard !process.isRunning else { return }
        XCTAssertLessThan(took, 10, "exits within the default bound of 10 s after SIGTERM")
        XCTAssertEqual(process.terminationStatus, 1, "a stop that abandoned a call exits 1")
        XCTAssertTrue(log.contains("abandoned a call that did not return: plugin com.test.stuck 1.0.0, tenant acme, instance stuck: evaluate running for"),
                      log)
        XCTAssertTrue(log.contains("stopped"), "the rest of the stop ran:\n\(log)")
    }

    func testABacktestWithAStuckHeadEndsAtItsDeadlineNamingIt() throws {
        try writeTenant(market: false)
        // An hour of one-minute bars.
        let bars = folder.appendingPathComponent("bars.csv").path
        let rows = (0..<60).map { minute in
            "\(1_641_340_800_000 + minute * 60_000),\(100 + minute),\(101 + minute),\(99 + minute),\(100 + minute),1"
        }
        try (["ts_ms,open,high,low,close,volume"] + rows).joined(separator: "\n").write(toFile: bars, atomically: true, encoding: .utf8)
        let started = Date()
        let result = try AlphaPlusCLI.run(["backtest", "--config", config.path, "--tenant", folder.appendingPathComponent("tenants/acme.yaml").path,
                                           "--data", bars, "--symbol", "BTC-USDT", "--out", folder.appendingPathComponent("report").path,
                                           "--head-deadline", "1", "--no-progress"])
        let took = Date().timeIntervalSince(started)
        XCTAssertEqual(result.status, 3, result.out + result.err)
        XCTAssertTrue(result.err.contains("backtest stopped at 20"), result.err)
        XCTAssertTrue(result.err.contains("plugin com.test.stuck 1.0.0, tenant acme, instance stuck: evaluate running for"), result.err)
        XCTAssertTrue(result.err.contains("over --head-deadline 1.0 s"), result.err)
        XCTAssertLessThan(took, 30, "a 1 s deadline, not a hang")
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("report/report.json").path),
                       "no report from a run that did not finish")
    }
}
