import HostConfig
import Tenancy
import XCTest

/// The diff a reload applies: only what changed is recreated or rebuilt.
final class TenantChangesTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("tenant-changes-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(at: folder) }

    /// A tenant with heads `technical` and `rules`, a market connector and
    /// a discord channel; `edit` rewrites the text first.
    private func tenant(_ id: String = "acme", _ edit: (String) -> String = { $0 }) throws -> TenantConfig {
        let text = edit("""
            id: \(id)
            strategy:
              symbols: [BTC-USDT]
              heads: [{ instance: technical }, { instance: rules }]
              consensus: { min_agree: 2 }
            instances:
              - { id: technical, plugin: com.alphaplus.head-technical }
              - { id: rules, plugin: com.alphaplus.head-rules, settings: { rules: ["rsi_14 < 30 -> long 0.8"] } }
              - { id: market, plugin: com.alphaplus.exchange-sim, settings: { seed: 7 }, subscribe: [{ symbol: BTC-USDT }] }
              - { id: discord, plugin: com.alphaplus.channel-discord, secrets: { webhook: "${env:ACME_DISCORD}" } }
            distribution:
              tiers: { premium: 0 }
              destinations: [{ id: d1, channel: discord, tier: premium, target: { webhook: webhook } }]
            """)
        let file = folder.appendingPathComponent("\(id)-\(UUID().uuidString).yaml")
        try text.write(to: file, atomically: true, encoding: .utf8)
        return try TenantConfig.load(file.path)
    }

    func testTheSameConfigurationChangesNothing() throws {
        let changes = TenantChanges(from: [try tenant()], to: [try tenant()])
        XCTAssertTrue(changes.isEmpty)
        XCTAssertEqual(changes.unchanged, ["acme"])
    }

    func testASettingsChangeRecreatesOnlyThatInstanceAndRebuildsItsStrategy() throws {
        let changes = TenantChanges(from: [try tenant(), try tenant("other")], to: [
            try tenant { $0.replacingOccurrences(of: "rsi_14 < 30", with: "rsi_14 < 25") }, try tenant("other"),
        ])
        XCTAssertEqual(changes.unchanged, ["other"])
        let update = try XCTUnwrap(changes.updated.first)
        XCTAssertEqual(changes.updated.count, 1)
        XCTAssertEqual(update.recreatedInstances, ["rules"])
        XCTAssertEqual(update.addedInstances, [])
        XCTAssertEqual(update.removedInstances, [])
        XCTAssertTrue(update.strategyChanged)
        XCTAssertFalse(update.distributionChanged)
        XCTAssertEqual(changes.summary, ["tenant acme: recreated: rules; strategy rebuilt"])
    }

    func testAPolicyChangeRebuildsTheStrategyAndRecreatesNoInstance() throws {
        let changes = TenantChanges(from: [try tenant()], to: [try tenant { $0.replacingOccurrences(of: "min_agree: 2", with: "min_agree: 1") }])
        let update = try XCTUnwrap(changes.updated.first)
        XCTAssertEqual(update.recreatedInstances, [])
        XCTAssertTrue(update.strategyChanged)
        XCTAssertFalse(update.distributionChanged)
    }

    func testAChannelChangeReconfiguresDistributionOnly() throws {
        let changes = TenantChanges(from: [try tenant()], to: [try tenant { $0.replacingOccurrences(of: "ACME_DISCORD", with: "ACME_DISCORD_2") }])
        let update = try XCTUnwrap(changes.updated.first)
        XCTAssertEqual(update.recreatedInstances, ["discord"])
        XCTAssertTrue(update.distributionChanged)
        XCTAssertFalse(update.strategyChanged)
    }

    func testARotatedSecretRecreatesItsInstance() throws {
        let changes = TenantChanges(from: [try tenant()], to: [try tenant()], rotatedSecrets: ["acme": ["discord"]])
        XCTAssertEqual(changes.updated.first?.recreatedInstances, ["discord"])
        XCTAssertEqual(changes.updated.first?.distributionChanged, true)
    }

    func testMovingAnInstanceInTheFileIsNoChange() throws {
        let technical = "  - { id: technical, plugin: com.alphaplus.head-technical }\n"
        let moved = try tenant { text in
            text.replacingOccurrences(of: technical, with: "").replacingOccurrences(of: "  - { id: discord", with: technical + "  - { id: discord")
        }
        XCTAssertTrue(TenantChanges(from: [try tenant()], to: [moved]).isEmpty)
    }

    func testTenantsAddedAndRemoved() throws {
        let changes = TenantChanges(from: [try tenant("a"), try tenant("b")], to: [try tenant("b"), try tenant("c")])
        XCTAssertEqual(changes.added.map(\.id), ["c"])
        XCTAssertEqual(changes.removed.map(\.id), ["a"])
        XCTAssertEqual(changes.unchanged, ["b"])
        XCTAssertEqual(changes.summary, ["tenant c added (4 instances)", "tenant a removed"])
    }

    func testAnInstanceAddedAndOneRemoved() throws {
        let changes = TenantChanges(from: [try tenant()], to: [try tenant { text in
            text.replacingOccurrences(of: "  - { id: technical, plugin: com.alphaplus.head-technical }\n",
                                      with: "  - { id: technical2, plugin: com.alphaplus.head-technical }\n")
                .replacingOccurrences(of: "{ instance: technical }", with: "{ instance: technical2 }")
        }])
        let update = try XCTUnwrap(changes.updated.first)
        XCTAssertEqual(update.addedInstances, ["technical2"])
        XCTAssertEqual(update.removedInstances, ["technical"])
        XCTAssertTrue(update.strategyChanged)
    }
}
