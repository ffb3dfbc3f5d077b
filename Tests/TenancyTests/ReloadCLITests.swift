import Foundation
import SharedTestData
import XCTest

/// `alphaplus run` reloading its tenants: `alphaplus tenants reload` and
/// SIGHUP apply a valid change, refuse an invalid file (the running
/// configuration stays), and a change to the folder is picked up alone.
final class ReloadCLITests: XCTestCase {
    private var folder: URL!
    private var process: Process?
    private var logFile: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("reload-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        _ = try AlphaPlusCLI.bundledPlugin("ap-head-rules")
        try """
            plugins: { folders: ["\(AlphaPlusCLI.products.path)"] }
            tenants_folder: tenants
            store: { path: store.sqlite }
            """.write(to: config, atomically: true, encoding: .utf8)
        try tenant("acme", rule: "rsi_14 < 30 -> long 0.8")
    }

    override func tearDown() {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    private var config: URL { folder.appendingPathComponent("alphaplus.yaml") }

    private func tenant(_ id: String, rule: String) throws {
        try """
            id: \(id)
            strategy:
              symbols: [BTC-USDT]
              heads: [{ instance: rules }]
              consensus: { min_agree: 1 }
            instances:
              - { id: rules, plugin: com.alphaplus.head-rules, settings: { rules: ["\(rule)"] } }
            """.write(to: folder.appendingPathComponent("tenants/\(id).yaml"), atomically: true, encoding: .utf8)
    }

    private var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    private func startHost() throws {
        logFile = folder.appendingPathComponent("host.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try AlphaPlusCLI.executable())
        process.arguments = ["run", "--config", config.path]
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        self.process = process
        try waitFor("the host to run") { self.log.contains("] running") }
    }

    private func waitFor(_ what: String, timeout: Double = 30, _ condition: () -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        XCTFail("timed out waiting for \(what); log:\n\(log)")
        throw XCTSkip("gave up")
    }

    func testReloadAppliesAValidChangeAndRefusesAnInvalidFile() throws {
        try startHost()
        // A change to one tenant's rules: only its rules instance is recreated.
        try tenant("acme", rule: "rsi_14 < 25 -> long 0.8")
        var result = try AlphaPlusCLI.run(["tenants", "reload", "--config", config.path])
        XCTAssertEqual(result.status, 0, result.out + result.err)
        // The folder watcher may have applied it a moment before the command's SIGHUP did.
        XCTAssertTrue(result.out.contains("tenant acme: recreated: rules; strategy rebuilt")
                      || (result.out.contains("nothing changed") && log.contains("tenant acme: recreated: rules; strategy rebuilt")),
                      result.out + log)

        // A second tenant's file with a misspelt key: refused, naming file and line; acme keeps running.
        try """
            id: beta
            instances:
              - { id: rules, plugin: com.alphaplus.head-rules, setings: {} }
            """.write(to: folder.appendingPathComponent("tenants/beta.yaml"), atomically: true, encoding: .utf8)
        result = try AlphaPlusCLI.run(["tenants", "reload", "--config", config.path])
        XCTAssertEqual(result.status, 1, result.out + result.err)
        XCTAssertTrue(result.out.contains("refused: the running configuration stays as it was"), result.out)
        XCTAssertTrue(result.out.contains("beta.yaml:3:"), result.out)
        XCTAssertTrue(result.out.contains("did you mean 'settings'?"), result.out)
        XCTAssertFalse(log.contains("tenant beta added"))

        // Fixed: the folder watcher (or this command) adds beta; acme is not touched.
        try tenant("beta", rule: "rsi_14 > 70 -> short 0.8")
        try waitFor("beta to be added by the folder watcher") { self.log.contains("tenant beta added (1 instances)") }
        XCTAssertEqual(log.components(separatedBy: "tenant acme:").count - 1, 1, "acme changed once, by the first reload")

        // SIGHUP with nothing changed: a reload that changes nothing.
        let process = try XCTUnwrap(process)
        kill(process.processIdentifier, SIGHUP)
        try waitFor("the SIGHUP reload") { self.log.contains("reload (SIGHUP): nothing changed") }

        // Removing beta's file stops beta only.
        try FileManager.default.removeItem(at: folder.appendingPathComponent("tenants/beta.yaml"))
        result = try AlphaPlusCLI.run(["tenants", "reload", "--config", config.path])
        XCTAssertEqual(result.status, 0, result.out + result.err)
        XCTAssertTrue(result.out.contains("tenant beta removed") || log.contains("tenant beta removed"), result.out + log)

        kill(process.processIdentifier, SIGTERM)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, log)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("alphaplus.pid").path),
                       "the pid file goes with the host")
    }

    func testHostileTenantFilesAreRefusedByTheRunningHostWhichStaysUp() throws {
        try startHost()
        let deep = folder.appendingPathComponent("tenants/deep.yaml")
        try Data(("id: deep\nx: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n").utf8).write(to: deep)
        try waitFor("the folder watcher to refuse the deep file") {
            self.log.contains("deep.yaml:2:67: nests mappings and lists deeper than 64 levels, the limit of a configuration file")
        }
        var bomb = ["id: bomb", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...8 { bomb.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]") }
        try Data(bomb.joined(separator: "\n").utf8).write(to: folder.appendingPathComponent("tenants/bomb.yaml"))
        let result = try AlphaPlusCLI.run(["tenants", "reload", "--config", config.path])
        XCTAssertEqual(result.status, 1, result.out + result.err)
        XCTAssertTrue(result.out.contains("bomb.yaml:7:10: expands to more than 100000 nodes (aliases included)"), result.out)
        XCTAssertTrue(result.out.contains("deep.yaml:2:67: nests mappings and lists deeper than 64 levels"), result.out)
        XCTAssertTrue(try XCTUnwrap(process).isRunning, log)
        XCTAssertFalse(log.contains("tenant deep added") || log.contains("tenant bomb added"), log)
    }

    func testTheFolderWatcherAppliesAFileOnlyOnceItHasStoppedChanging() throws {
        try startHost()
        // A new tenant written in two steps 4 s apart, each step a valid file:
        // only the finished file, with both instances, is applied.
        let beta = folder.appendingPathComponent("tenants/beta.yaml")
        let firstStep = """
            id: beta
            instances:
              - { id: first, plugin: com.alphaplus.head-rules, settings: { rules: ["rsi_14 < 30 -> long 0.8"] } }

            """
        try Data(firstStep.utf8).write(to: beta)
        Thread.sleep(forTimeInterval: 4)
        let handle = try FileHandle(forWritingTo: beta)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("  - { id: second, plugin: com.alphaplus.head-rules, settings: { rules: [\"rsi_14 > 70 -> short 0.8\"] } }\n".utf8))
        try handle.close()
        try waitFor("the folder watcher to add beta") { self.log.contains("tenant beta added") }
        XCTAssertTrue(log.contains("tenant beta added (2 instances)"), log)
        XCTAssertFalse(log.contains("tenant beta added (1 instances)"), "the half-written file was applied:\n\(log)")
    }

    func testReloadWithoutARunningHostSaysSo() throws {
        let result = try AlphaPlusCLI.run(["tenants", "reload", "--config", config.path])
        XCTAssertEqual(result.status, 2)
        XCTAssertTrue(result.out.contains("no running host"), result.out)
    }
}
