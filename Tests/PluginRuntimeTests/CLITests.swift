import CAlphaPlus
import Foundation
import SharedTestData
import XCTest

/// The `alphaplus` executable as an operator uses it.
final class CLITests: XCTestCase {
    private func alphaplus(_ arguments: [String], in folder: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let result = try AlphaPlusCLI.run(arguments, in: folder)
        return (result.status, result.out, result.err)
    }

    func testValidateAcceptsAGoodPlugin() throws {
        let path = try PluginFixtures.build("cli-good", defines: ["FIX_ID=\"com.test.cli-good\""])
        let result = try alphaplus(["plugins", "validate", path])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.out, "\(path): ok (com.test.cli-good 1.0.0, ap.head.v1)\n")
    }

    func testValidateRefusesWithOneLineNamingFileAndReason() throws {
        let cases: [(String, String)] = [
            (try PluginFixtures.write("cli-text.so", Array("hello".utf8)), "is not an ELF file"),
            (try PluginFixtures.build("cli-major", defines: ["FIX_ABI_MAJOR=2"]), "is built for plugin ABI 2.\(AP_ABI_MINOR), a newer major version"),
            (try PluginFixtures.build("cli-no-entry", defines: ["FIX_NO_ENTRY"]), "does not export 'ap_plugin_entry'"),
        ]
        for (path, reason) in cases {
            let result = try alphaplus(["plugins", "validate", path])
            XCTAssertEqual(result.status, 1, path)
            XCTAssertEqual(result.out, "")
            let lines = result.err.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.err)
            XCTAssertTrue(lines.first?.hasPrefix("\(path): ") == true && lines.first!.contains(reason), result.err)
        }
    }

    /// A refused file is the answer to `inspect` too: the refusal, exit 1,
    /// no usage text.
    func testInspectOfARefusedFilePrintsTheRefusalAndExits1() throws {
        let path = try PluginFixtures.build("cli-inspect-major", defines: ["FIX_ABI_MAJOR=2"])
        for arguments in [["plugins", "inspect", path], ["plugins", "inspect", path, "--json"]] {
            let result = try alphaplus(arguments)
            XCTAssertEqual(result.status, 1, result.err)
            XCTAssertEqual(result.out, "")
            XCTAssertTrue(result.err.hasPrefix("\(path): is built for plugin ABI 2.\(AP_ABI_MINOR), a newer major version"), result.err)
            XCTAssertFalse(result.err.contains("USAGE") || result.err.contains("Usage"), result.err)
            XCTAssertEqual(result.err.split(separator: "\n").count, 1, result.err)
        }
    }

    func testListJSONReportsLoadedAndRefused() throws {
        let folder = PluginFixtures.folder.appendingPathComponent("cli-list")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("plugins"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try PluginFixtures.build("cli-list-good", defines: ["FIX_ID=\"com.test.listed\""]),
                                         toPath: folder.appendingPathComponent("plugins/good.so").path)
        try Data("junk".utf8).write(to: folder.appendingPathComponent("plugins/junk.so"))
        let config = folder.appendingPathComponent("alphaplus.yaml")
        try Data("plugins:\n  folders: [plugins]\n".utf8).write(to: config)
        let result = try alphaplus(["plugins", "list", "--json", "--config", config.path])
        XCTAssertEqual(result.status, 0, result.err)
        let listing = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        let plugins = try XCTUnwrap(listing["plugins"] as? [[String: Any]])
        XCTAssertEqual(plugins.map { $0["id"] as? String }, ["com.test.listed"])
        XCTAssertEqual(plugins.first?["capabilities"] as? [String], ["ap.head.v1"])
        XCTAssertEqual((plugins.first?["permissions"] as? [String: Any])?["networkHosts"] as? [String], ["example.com"])
        let refused = try XCTUnwrap(listing["refused"] as? [[String: String]])
        XCTAssertEqual(refused.map { ($0["path"]! as NSString).lastPathComponent }, ["junk.so"])
    }

    func testInspectJSONShowsSchemaAndPermissions() throws {
        let path = try PluginFixtures.build("cli-inspect", defines: ["FIX_ID=\"com.test.inspected\""])
        let result = try alphaplus(["plugins", "inspect", path, "--json"])
        XCTAssertEqual(result.status, 0, result.err)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.out.utf8)) as? [String: Any])
        XCTAssertEqual(summary["id"] as? String, "com.test.inspected")
        XCTAssertEqual(summary["abi"] as? String, "1.\(AP_ABI_MINOR)")
        let schema = try XCTUnwrap(summary["configSchema"] as? [String: Any])
        XCTAssertEqual(schema["additionalProperties"] as? Bool, false)
    }

    func testBadConfigLineIsReportedWithFileLineAndSuggestion() throws {
        let config = PluginFixtures.folder.appendingPathComponent("typo.yaml")
        try Data("plugins:\n  folder: [plugins]\n".utf8).write(to: config)
        let result = try alphaplus(["plugins", "list", "--config", config.path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.err.contains("\(config.path):2:3: unknown key 'folder' (did you mean 'folders'?)"), result.err)
    }

    func testRunStartsInstancesAndShutsDownOnSIGTERM() throws {
        let folder = PluginFixtures.folder.appendingPathComponent("cli-run")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("plugins"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: try PluginFixtures.build("cli-run-plugin", defines: ["FIX_ID=\"com.test.runner\""]),
                                         toPath: folder.appendingPathComponent("plugins/runner.so").path)
        try Data("plugins:\n  folders: [plugins]\n".utf8).write(to: folder.appendingPathComponent("alphaplus.yaml"))
        try Data("id: acme\ninstances:\n  - id: one\n    plugin: com.test.runner\n    settings: {scale: 0.5}\n"
            .utf8).write(to: folder.appendingPathComponent("tenants/acme.yaml"))
        // A tenant whose settings break the plugin's schema does not run; the other does.
        try Data("id: beta\ninstances:\n  - id: two\n    plugin: com.test.runner\n    settings: {scale: 7}\n"
            .utf8).write(to: folder.appendingPathComponent("tenants/beta.yaml"))
        let binary = AlphaPlusCLI.products.appendingPathComponent("alphaplus").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["run", "--config", folder.appendingPathComponent("alphaplus.yaml").path]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        Thread.sleep(forTimeInterval: 1.5)
        process.terminate() // SIGTERM
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, log)
        XCTAssertTrue(log.contains("instance=one plugin=com.test.runner tenant=acme [Tenancy] instance started"), log)
        XCTAssertTrue(log.contains("scale: 7 is greater than the maximum 1"), "the bad instance is reported: \(log)")
        XCTAssertTrue(log.contains("instances=1 tenants=1 [AlphaPlusHost] running"), log)
        XCTAssertTrue(log.contains("[AlphaPlusHost] stopped"), log)
    }
}
