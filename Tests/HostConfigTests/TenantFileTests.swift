import AlphaPlusJSON
import Foundation
import HostConfig
import PluginRuntime
import SharedTestData
import XCTest

/// Tenant files read with every error in them, each at its file, line and
/// column; validated against plugins' schemas, the environment's secrets
/// and the tenants folder's rules.
final class TenantFileTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tenant-file-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    @discardableResult
    private func write(_ text: String, as name: String = "acme.yaml") throws -> String {
        let path = folder.appendingPathComponent(name).path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The 1-based line and column of the first `needle` in `text` at or
    /// after line `from`.
    private func position(of needle: String, in text: String, from: Int = 1) -> (line: Int, column: Int) {
        for (index, line) in text.components(separatedBy: "\n").enumerated() where index + 1 >= from {
            if let range = line.range(of: needle) { return (index + 1, line.distance(from: line.startIndex, to: range.lowerBound) + 1) }
        }
        XCTFail("'\(needle)' is not in the text")
        return (0, 0)
    }

    /// The one error of `errors` at `at` whose message holds every part.
    private func assertError(_ errors: [ConfigError], file: String, at: (line: Int, column: Int), _ parts: String...,
                             sourceFile: StaticString = #filePath, sourceLine: UInt = #line) {
        let found = errors.filter { $0.file == file && $0.line == at.line && $0.column == at.column }
        XCTAssertEqual(found.count, 1, "no single error at \(at) in \(errors)", file: sourceFile, line: sourceLine)
        for part in parts {
            XCTAssertTrue(found.first?.message.contains(part) == true, "\(found) lacks \(part)", file: sourceFile, line: sourceLine)
        }
    }

    /// No folder for `${file:…}` secrets (these tests use `${env:…}` only).
    private let noSecretFolders = SecretFileFolders(templates: [])

    /// The config schema of a bundled plugin as `swift build` built it.
    private func schema(_ product: String) throws -> JSONSchema {
        try PluginRegistry(services: HostServices()).load(try AlphaPlusCLI.bundledPlugin(product)).configSchema
    }

    func testAnUnknownKeyIsAtItsLineAndNamesTheNearest() throws {
        let text = "id: acme\ninstaces: []\n"
        let path = try write(text)
        let file = TenantFile(parsing: path)
        XCTAssertEqual(file.errors.count, 1, "\(file.errors)")
        assertError(file.errors, file: path, at: (2, 1), "unknown key 'instaces' (did you mean 'instances'?)", "allowed: id, instances")
        XCTAssertThrowsError(try TenantConfig.load(path)) { error in
            XCTAssertEqual("\(error)", "\(path):2:1: unknown key 'instaces' (did you mean 'instances'?); allowed: id, instances, strategy, distribution, admin_token")
        }
    }

    func testAWrongTypeIsAtTheValue() throws {
        let text = """
            id: acme
            instances:
              - id: news
                plugin: com.alphaplus.news-replay
                dry_run_without_secrets: maybe

            """
        let path = try write(text)
        let file = TenantFile(parsing: path)
        XCTAssertEqual(file.errors.count, 1, "\(file.errors)")
        assertError(file.errors, file: path, at: position(of: "maybe", in: text), "expected true or false")
    }

    func testAMissingFieldIsAtItsMapping() throws {
        let text = """
            id: acme
            instances:
              - id: technical
                settings: {}

            """
        let path = try write(text)
        let file = TenantFile(parsing: path)
        XCTAssertEqual(file.errors.count, 1, "\(file.errors)")
        assertError(file.errors, file: path, at: position(of: "id: technical", in: text), "instance is missing field 'plugin'")
        let noID = try write("instances: []\n", as: "noid.yaml")
        assertError(TenantFile(parsing: noID).errors, file: noID, at: (1, 1), "missing field 'id'")
    }

    func testEveryErrorOfAFileIsReportedAndTheRestIsRead() throws {
        let text = """
            id: acme
            instances:
              - id: technical
                plugn: com.alphaplus.head-technical
              - id: rules
                plugin: com.alphaplus.head-rules
                settings: { rules: ["close > ema_50 -> long 0.7"] }
              - id: market
                plugin: com.alphaplus.exchange-sim
                subscribe:
                  - { symbol: BTC-USDT, streams: [trades, quotse] }
            strategy:
              initial_equity: lots
              heads: [{ instance: technical }]
            distribution:
              tiers: { premium: -5 }

            """
        let path = try write(text)
        let file = TenantFile(parsing: path)
        assertError(file.errors, file: path, at: position(of: "id: technical", in: text), "instance is missing field 'plugin'")
        assertError(file.errors, file: path, at: position(of: "plugn", in: text), "unknown key 'plugn' (did you mean 'plugin'?)")
        assertError(file.errors, file: path, at: position(of: "quotse", in: text), "'quotse' is not one of trades, quotes, book")
        assertError(file.errors, file: path, at: position(of: "lots", in: text), "expected a number")
        assertError(file.errors, file: path, at: position(of: "-5", in: text), "outside")
        XCTAssertEqual(file.errors.count, 5, "a head naming the instance in error is not reported again: \(file.errors)")
        XCTAssertEqual(file.errors.map(\.line), file.errors.map(\.line).sorted(), "in file order")
        XCTAssertEqual(file.tenant?.id, "acme")
        XCTAssertEqual(file.tenant?.instances.map(\.id), ["rules"], "the instances without an error")
        XCTAssertFalse(file.isValid)
    }

    func testSettingsViolatingThePluginsSchemaAreEachAtTheirKey() throws {
        let text = """
            id: acme
            instances:
              - id: sentiment
                plugin: com.alphaplus.head-sentiment
                settings:
                  half_life_s: soon
                  max_items_per_symbol: 0
                  treshold: 0.3
              - id: rules
                plugin: com.alphaplus.head-rules
                settings:
                  default_confidence: 2

            """
        let path = try write(text)
        var file = TenantFile(parsing: path)
        XCTAssertEqual(file.errors, [])
        file.validate(plugins: ["com.alphaplus.head-sentiment": try schema("ap-head-sentiment"),
                                "com.alphaplus.head-rules": try schema("ap-head-rules")], environment: [:], secretFiles: noSecretFolders)
        let sentiment = "tenant acme, instance sentiment (plugin com.alphaplus.head-sentiment)"
        assertError(file.errors, file: path, at: position(of: "half_life_s", in: text), sentiment, "settings.half_life_s: expected number")
        assertError(file.errors, file: path, at: position(of: "max_items_per_symbol", in: text), "settings.max_items_per_symbol: 0 is less than the minimum 1")
        // An unknown field and a missing required one are violations of the settings object: at `settings:`.
        assertError(file.errors, file: path, at: position(of: "settings:", in: text), sentiment, "unknown field 'treshold'", "did you mean 'threshold'?")
        assertError(file.errors, file: path, at: position(of: "settings:", in: text, from: 9), "instance rules", "required field 'rules' is missing")
        assertError(file.errors, file: path, at: position(of: "default_confidence", in: text), "settings.default_confidence: 2 is greater than the maximum 1")
        XCTAssertEqual(file.errors.count, 5, "\(file.errors)")
    }

    func testAnInstanceOfAPluginThatIsNotLoadedIsAtItsPluginAndNamesTheNearest() throws {
        let text = """
            id: acme
            instances:
              - id: sentiment
                plugin: com.alphaplus.head-sentimnt

            """
        let path = try write(text)
        var file = TenantFile(parsing: path)
        let anything = try JSONSchema(parsing: "{}")
        file.validate(plugins: ["com.alphaplus.head-sentiment": anything, "com.alphaplus.head-rules": anything], environment: [:],
                      secretFiles: noSecretFolders)
        XCTAssertEqual(file.errors.count, 1, "\(file.errors)")
        assertError(file.errors, file: path, at: position(of: "com.alphaplus.head-sentimnt", in: text),
                    "plugin 'com.alphaplus.head-sentimnt' is not loaded (did you mean 'com.alphaplus.head-sentiment'?)",
                    "loaded: com.alphaplus.head-rules, com.alphaplus.head-sentiment")
    }

    func testASecretNotSetNamesTenantInstancePluginAndSecretButNoValue() throws {
        let secretValue = "s3cr3t-sibling-value"
        func text(dryRun: Bool) -> String {
            """
            id: acme
            instances:
              - id: telegram
                plugin: com.alphaplus.channel-telegram
                dry_run_without_secrets: \(dryRun)
                secrets:
                  webhook_secret: ${env:ACME_WEBHOOK_SECRET}
                  bot_token: ${env:ACME_BOT_TOKEN}

            """
        }
        let plugins = ["com.alphaplus.channel-telegram": try JSONSchema(parsing: "{}")]
        let environment = ["ACME_WEBHOOK_SECRET": secretValue]
        let path = try write(text(dryRun: false))
        var file = TenantFile(parsing: path)
        file.validate(plugins: plugins, environment: environment, secretFiles: noSecretFolders)
        XCTAssertEqual(file.errors.count, 1, "\(file.errors)")
        assertError(file.errors, file: path, at: position(of: "${env:ACME_BOT_TOKEN}", in: text(dryRun: false)),
                    "tenant acme, instance telegram (plugin com.alphaplus.channel-telegram): secret 'bot_token' is not set (${env:ACME_BOT_TOKEN} is unset or empty)")
        XCTAssertEqual(file.warnings, [])
        XCTAssertFalse(file.diagnostics.joined().contains(secretValue))

        try write(text(dryRun: true))
        var dry = TenantFile(parsing: path)
        dry.validate(plugins: plugins, environment: environment, secretFiles: noSecretFolders)
        XCTAssertEqual(dry.errors, [], "an instance that runs dry without its secrets is still valid")
        assertError(dry.warnings, file: path, at: position(of: "${env:ACME_BOT_TOKEN}", in: text(dryRun: true)),
                    "warning: tenant acme, instance telegram", "secret 'bot_token' is not set", "runs dry")
        XCTAssertTrue(dry.isValid)
        XCTAssertFalse(dry.diagnostics.joined().contains(secretValue))

        var set = TenantFile(parsing: path)
        set.validate(plugins: plugins, environment: environment.merging(["ACME_BOT_TOKEN": "123:abc"]) { $1 },
                     secretFiles: noSecretFolders)
        XCTAssertEqual(set.errors + set.warnings, [])
    }

    func testATenantIDThatIsNotAnIdentifierIsAtTheID() throws {
        let path = try write("id: Acme Corp\ninstances: []\n")
        let file = TenantFile(parsing: path)
        XCTAssertNil(file.tenant)
        XCTAssertEqual(file.errors.count, 1, "\(file.errors)")
        assertError(file.errors, file: path, at: (1, 5), "tenant id \"Acme Corp\" is not a valid identifier (\(Identifier.rule))")
    }

    func testTwoFilesWithOneTenantIDNameBothFiles() throws {
        let first = try write("id: acme\n", as: "acme.yaml")
        let second = try write("# the same tenant again\nid: acme\n", as: "acme.yml")
        let loaded = TenantFolder(loading: folder.path)
        XCTAssertEqual(loaded.errors.count, 1, "\(loaded.errors)")
        assertError(loaded.errors, file: second, at: (2, 5), "tenant id 'acme' is also used by \(first)")
        XCTAssertEqual(loaded.validTenants.map(\.file), [first], "the first file in name order is kept")
        XCTAssertEqual(TenantConfig.loadAll(folder: folder.path).errors.map(\.description), loaded.errors.map(\.description))
    }

    func testAFileNotNamedAfterItsTenantIsRefused() throws {
        let path = try write("id: acme\n", as: "beta.yaml")
        let loaded = TenantFolder(loading: folder.path)
        assertError(loaded.errors, file: path, at: (1, 5), "tenant id 'acme' does not match the file name 'beta.yaml'", "acme.yaml")
        XCTAssertEqual(loaded.validTenants.count, 0)
    }

    func testAFileThatIsNotYAMLIsOneError() throws {
        let path = try write("id: acme\ninstances: [\n  - id: x\n")
        let file = TenantFile(parsing: path)
        XCTAssertNil(file.tenant)
        XCTAssertEqual(file.errors.count, 1, "\(file.errors)")
        XCTAssertEqual(file.errors.first?.file, path)
        XCTAssertEqual(file.errors.first?.line, 3)
        XCTAssertTrue(file.errors.first?.message.hasPrefix("is not valid YAML") == true, "\(file.errors)")
    }

    func testAnEmptyFileIsOneError() throws {
        for (name, text) in [("empty.yaml", ""), ("comments.yaml", "# nothing yet\n")] {
            let path = try write(text, as: name)
            XCTAssertEqual(TenantFile(parsing: path).errors.map(\.description), ["\(path): is empty"])
        }
    }

    func testATopLevelThatIsNotAMappingIsOneError() throws {
        let path = try write("- id: acme\n- id: beta\n")
        let file = TenantFile(parsing: path)
        XCTAssertEqual(file.errors.count, 1, "\(file.errors)")
        assertError(file.errors, file: path, at: (1, 1), "a tenant file is a mapping of id, instances, strategy, distribution, admin_token",
                    "top level is a list")
    }

    func testTheRepositorysTenantsAreValidAgainstTheBundledPlugins() throws {
        let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        _ = try AlphaPlusCLI.bundledPlugin("ap-exchange-sim")  // skips before `swift build`
        let registry = PluginRegistry(services: HostServices())
        registry.discover(folders: [AlphaPlusCLI.products.path])
        let plugins = Dictionary(registry.plugins.map { ($0.id, $0.configSchema) }) { first, _ in first }
        let host = try HostConfig.load(repository.appendingPathComponent("config/alphaplus.yaml").path)
        let (tenants, errors, _) = TenantConfig.loadValidated(folder: host.tenantsFolder, plugins: plugins, quotas: host.quotas,
                                                              secretFiles: host.secretFiles, environment: [:])
        XCTAssertEqual(errors.map(\.description), [])
        XCTAssertEqual(tenants.map(\.id), ["acme", "demo"])
        let acme = try XCTUnwrap(tenants.first), demo = try XCTUnwrap(tenants.last)
        // acme's connector is the demo's, setting for setting, so that the host can run one for both.
        let acmeMarket = try XCTUnwrap(acme.instances.first { $0.id == "market" })
        let demoMarket = try XCTUnwrap(demo.instances.first { $0.id == "market" })
        XCTAssertEqual(acmeMarket.plugin, demoMarket.plugin)
        XCTAssertEqual(acmeMarket.settings, demoMarket.settings)
        XCTAssertEqual(acmeMarket.subscriptions, demoMarket.subscriptions)
    }
}
