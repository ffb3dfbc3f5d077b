import Foundation
import SharedTestData
import XCTest

/// `alphaplus tenants list|validate|show` and `alphaplus config validate`,
/// run as an operator runs them, against the bundled plugins `swift build` built.
final class TenantsCLITests: XCTestCase {
    private let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tenants-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        _ = try AlphaPlusCLI.bundledPlugin("ap-head-rules")  // skips before `swift build`
        // The host config of a checkout, with the plugins `swift build` built.
        try """
            plugins:
              folders: [\(AlphaPlusCLI.products.path)]
            tenants_folder: tenants

            """.write(to: hostConfig, atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private var hostConfig: URL { folder.appendingPathComponent("alphaplus.yaml") }

    @discardableResult
    private func writeTenant(_ text: String, as name: String) throws -> String {
        let path = folder.appendingPathComponent("tenants/\(name)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private static let validTenant = """
        id: acme
        instances:
          - id: rules
            plugin: com.alphaplus.head-rules
            settings: { rules: ["close > ema_50 -> long 0.7"] }
        strategy:
          symbols: [BTC-USDT]
          heads: [{ instance: rules }]
          consensus: { min_agree: 1 }

        """

    func testValidatePrintsEveryErrorOfTheFileAndExits1() throws {
        let path = try writeTenant("""
            id: acme
            instances:
              - id: rules
                plugin: com.alphaplus.head-rules
                settings:
                  default_confidence: 1.5
              - id: sentiment
                plugin: com.alphaplus.head-sentimnt
              - id: news
                plugin: com.alphaplus.news-replay
                subscrbe: []
            strategy:
              heads: [{ instance: rules }]
              consensus: { min_agree: 1 }

            """, as: "acme.yaml")
        let result = try AlphaPlusCLI.run(["tenants", "validate", path, "--config", hostConfig.path])
        XCTAssertEqual(result.status, 1, result.out + result.err)
        let lines = result.out.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 5, result.out)
        guard lines.count == 5 else { return }
        XCTAssertEqual(lines[0], "\(path):5:5: tenant acme, instance rules (plugin com.alphaplus.head-rules): settings: required field 'rules' is missing")
        XCTAssertEqual(lines[1], "\(path):6:7: tenant acme, instance rules (plugin com.alphaplus.head-rules): settings.default_confidence: 1.5 is greater than the maximum 1")
        XCTAssertTrue(lines[2].hasPrefix("\(path):8:13: tenant acme, instance sentiment (plugin com.alphaplus.head-sentimnt): plugin 'com.alphaplus.head-sentimnt' is not loaded (did you mean 'com.alphaplus.head-sentiment'?); loaded: "), lines[2])
        XCTAssertTrue(lines[2].contains("com.alphaplus.head-rules, com.alphaplus.head-sentiment"), lines[2])
        XCTAssertEqual(lines[3], "\(path):11:5: unknown key 'subscrbe' (did you mean 'subscribe'?); allowed: id, plugin, settings, subscribe, secrets, dry_run_without_secrets")
        XCTAssertEqual(lines[4], "\(path): 4 errors")
    }

    func testValidateAcceptsAValidFileAndExits0() throws {
        let path = try writeTenant(Self.validTenant, as: "acme.yaml")
        let result = try AlphaPlusCLI.run(["tenants", "validate", path, "--config", hostConfig.path])
        XCTAssertEqual(result.status, 0, result.out + result.err)
        XCTAssertEqual(result.out, "\(path): valid\n")
    }

    func testListShowsEachTenantAndItsStatus() throws {
        let acme = try writeTenant(Self.validTenant, as: "acme.yaml")
        // An instance of a plugin that is not loaded, one without a plugin and a misspelt key: three errors.
        let beta = try writeTenant("id: beta\ninstances:\n  - id: x\n    plugin: com.example.missing\n  - id: y\n    settngs: {}\n", as: "beta.yaml")
        let result = try AlphaPlusCLI.run(["tenants", "list", "--config", hostConfig.path])
        XCTAssertEqual(result.status, 0, result.err)
        let rows = result.out.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        XCTAssertEqual(rows, [["ID", "FILE", "INSTANCES", "SYMBOLS", "STATUS"],
                              ["acme", acme, "1", "BTC-USDT", "valid"],
                              ["beta", beta, "1", "-", "3", "errors"]])
        let json = try AlphaPlusCLI.run(["tenants", "list", "--config", hostConfig.path, "--json"])
        XCTAssertTrue(json.out.contains("\"status\" : \"3 errors\""), json.out)
    }

    func testConfigValidatePassesOnTheRepositorysConfig() throws {
        // The repository's host file, then its tenants against the plugins this build made.
        let shipped = try AlphaPlusCLI.run(["config", "validate", "--config", repository.appendingPathComponent("config/alphaplus.yaml").path])
        XCTAssertFalse(shipped.out.contains("the tenants were not checked"), shipped.out)
        try """
            plugins:
              folders: [\(AlphaPlusCLI.products.path)]
            tenants_folder: \(repository.appendingPathComponent("config/tenants").path)

            """.write(to: hostConfig, atomically: true, encoding: .utf8)
        let result = try AlphaPlusCLI.run(["config", "validate", "--config", hostConfig.path])
        XCTAssertEqual(result.status, 0, result.out + result.err)
        let summary = String(result.out.split(separator: "\n").last ?? "")
        XCTAssertTrue(summary.hasPrefix("\(hostConfig.path) and 2 tenant files ("), summary)
        XCTAssertTrue(summary.contains("): valid"), summary)
    }

    func testConfigValidateExits1OnATenantError() throws {
        try writeTenant(Self.validTenant, as: "acme.yaml")
        let beta = try writeTenant("id: beta\n", as: "gamma.yaml")
        let result = try AlphaPlusCLI.run(["config", "validate", "--config", hostConfig.path])
        XCTAssertEqual(result.status, 1, result.out)
        XCTAssertTrue(result.out.contains("\(beta):1:5: tenant id 'beta' does not match the file name 'gamma.yaml'"), result.out)
        let summary = String(result.out.split(separator: "\n").last ?? "")
        // The products folder also holds libraries that are not plugins: each is a warning, not an error.
        XCTAssertTrue(summary.hasPrefix("\(hostConfig.path) and 2 tenant files (") && summary.contains("): 1 error"), summary)
    }

    func testConfigValidateRefusesATenantOverItsSymbolsQuota() throws {
        let acme = try writeTenant(Self.validTenant.replacingOccurrences(of: "symbols: [BTC-USDT]", with: "symbols: [BTC-USDT, ETH-USDT]"),
                                   as: "acme.yaml")
        try """
            plugins:
              folders: [\(AlphaPlusCLI.products.path)]
            tenants_folder: tenants
            quotas:
              default: { symbols: 1 }
              tenants: { gone: { symbols: 5 } }

            """.write(to: hostConfig, atomically: true, encoding: .utf8)
        let result = try AlphaPlusCLI.run(["config", "validate", "--config", hostConfig.path])
        XCTAssertEqual(result.status, 1, result.out)
        XCTAssertTrue(result.out.contains("\(acme): tenant acme names 2 symbols (strategy.symbols and subscriptions together), over its quota of 1"),
                      result.out)
        XCTAssertTrue(result.out.contains("\(hostConfig.path):6:14: warning: quotas.tenants: 'gone' is not a tenant"), result.out)
    }

    func testShowNeverPrintsASecretValue() throws {
        let secrets = ["DEMO_TELEGRAM_BOT_TOKEN": "123456:known-bot-token-value", "DEMO_ADMIN_TOKEN": "known-admin-token-value"]
        for (name, value) in secrets { setenv(name, value, 1) }
        defer { for name in secrets.keys { unsetenv(name) } }
        unsetenv("DEMO_DISCORD_WEBHOOK_SIGNALS")
        let config = repository.appendingPathComponent("config/alphaplus.yaml").path
        let text = try AlphaPlusCLI.run(["tenants", "show", "demo", "--config", config])
        let json = try AlphaPlusCLI.run(["tenants", "show", "demo", "--config", config, "--json"])
        for result in [text, json] {
            XCTAssertEqual(result.status, 0, result.err)
            for value in secrets.values {
                XCTAssertFalse(result.out.contains(value) || result.err.contains(value), "a secret's value was printed")
            }
            XCTAssertTrue(result.out.contains("${env:DEMO_TELEGRAM_BOT_TOKEN} (set)"), result.out)
            XCTAssertTrue(result.out.contains("${env:DEMO_ADMIN_TOKEN} (set)"), result.out)
            XCTAssertTrue(result.out.contains("${env:DEMO_DISCORD_WEBHOOK_SIGNALS} (not set)"), result.out)
            // Defaults the file leaves out are filled in: the risk limits.
            XCTAssertTrue(result.out.contains("max_consecutive_losses"), result.out)
        }
        let unknown = try AlphaPlusCLI.run(["tenants", "show", "demoo", "--config", config])
        XCTAssertNotEqual(unknown.status, 0)
        XCTAssertTrue(unknown.err.contains("no tenant 'demoo'") && unknown.err.contains("tenants: acme, demo"), unknown.err)
    }
}
