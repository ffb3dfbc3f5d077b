import Foundation
import HostConfig
import XCTest
@testable import Distribution

final class DistributionConfigTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dist-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    private let header = """
        id: acme
        instances:
          - id: tg
            plugin: com.alphaplus.channel-telegram
            dry_run_without_secrets: true
            secrets:
              bot_token: ${env:ACME_TELEGRAM_TOKEN}
          - id: discord
            plugin: com.alphaplus.channel-discord
            secrets:
              webhook_signals: ${file:secrets/webhook}

        """

    private func load(_ distribution: String, header: String? = nil) throws -> TenantConfig {
        let path = folder.appendingPathComponent("acme.yaml")
        try ((header ?? self.header) + distribution).write(to: path, atomically: true, encoding: .utf8)
        return try TenantConfig.load(path.path)
    }

    /// Loading fails with an error at `line` whose message contains `parts`.
    private func assertRefused(_ distribution: String, header: String? = nil, line: Int, _ parts: String...,
                               file: StaticString = #filePath, sourceLine: UInt = #line) {
        XCTAssertThrowsError(try load(distribution, header: header), file: file, line: sourceLine) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix(folder.appendingPathComponent("acme.yaml").path + ":\(line):"), text, file: file, line: sourceLine)
            for part in parts { XCTAssertTrue(text.contains(part), "\(text) lacks \(part)", file: file, line: sourceLine) }
        }
    }

    func testAFullSectionLoads() throws {
        let tenant = try load("""
            distribution:
              tiers: { premium: 0, basic: 30, free: 120, vip: 0 }
              templates:
                free:
                  signal: "{{side}} {{symbol}} (upgrade for entries)"
              destinations:
                - { id: signals, channel: discord, tier: premium, target: { webhook: signals } }
                - id: free-channel
                  channel: tg
                  tier: free
                  target: { chat_id: "@acme_free" }
              max_attempts: 5
              backoff: { initial: 2, max: 60, jitter: none }
              daily_summary: { time: "21:30", enabled: true }
              alerts_to: [signals]
            """)
        let settings = try XCTUnwrap(tenant.distribution)
        XCTAssertEqual(settings.tierDelaysNs, ["premium": 0, "basic": 30 * second, "free": 120 * second, "vip": 0])
        XCTAssertEqual(settings.destinations, [
            DestinationSettings(id: "signals", channel: "discord", tier: "premium", targetJSON: #"{"webhook":"signals"}"#),
            DestinationSettings(id: "free-channel", channel: "tg", tier: "free", targetJSON: #"{"chat_id":"@acme_free"}"#),
        ])
        XCTAssertEqual(settings.template(tier: "free", kind: .signal).source, "{{side}} {{symbol}} (upgrade for entries)")
        XCTAssertEqual(settings.template(tier: "free", kind: .outcome), MessageTemplate.defaultTemplate(tier: "free", kind: .outcome))
        XCTAssertEqual(settings.maxAttempts, 5)
        XCTAssertEqual(settings.backoff, BackoffPolicy(initialNs: 2 * second, maxNs: 60 * second, jitter: .none))
        XCTAssertEqual(settings.dailySummary, DailySummarySettings(enabled: true, minuteOfDay: 21 * 60 + 30))
        XCTAssertEqual(settings.alertsTo, ["signals"])
        let defaults = try XCTUnwrap(try load("distribution: {}").distribution)
        XCTAssertEqual(defaults.tierDelaysNs, ["premium": 0, "basic": 60 * second, "free": 300 * second])
        XCTAssertEqual(defaults.maxAttempts, 8)
        XCTAssertEqual(defaults.dailySummary, DailySummarySettings(enabled: true, minuteOfDay: 0))
    }

    func testEveryMistakeIsNamedWithItsLine() {
        // The header is 11 lines; "distribution:" is line 12.
        assertRefused("distribution:\n  tier: { premium: 0 }\n", line: 13, "unknown key 'tier'", "did you mean 'tiers'?")
        assertRefused("distribution:\n  destinations:\n    - { id: a, channel: tg, tier: premium }\n", line: 14,
                      "destination is missing field 'target'")
        assertRefused("distribution:\n  destinations:\n    - { id: a, channel: tg, tier: premuim, target: {} }\n", line: 14,
                      "tier 'premuim' does not exist", "did you mean 'premium'?")
        assertRefused("distribution:\n  destinations:\n    - { id: a, channel: tgg, tier: free, target: {} }\n", line: 14,
                      "channel instance 'tgg' does not exist", "did you mean 'tg'?")
        assertRefused("distribution:\n  destinations:\n    - { id: a, channel: tg, tier: free, target: 42 }\n", line: 14,
                      "target must be a mapping")
        assertRefused("distribution:\n  destinations:\n    - { id: a, chanel: tg, tier: free, target: {} }\n", line: 14,
                      "unknown key 'chanel'", "did you mean 'channel'?")
        assertRefused("distribution:\n  destinations:\n    - { id: a, channel: tg, tier: free, target: {} }\n    - { id: a, channel: tg, tier: free, target: {} }\n",
                      line: 15, "destination id 'a' is used twice")
        assertRefused("distribution:\n  templates:\n    premium:\n      signal: \"{{side}} at {{entyr}}\"\n", line: 15,
                      "template distribution.templates.premium.signal", "unknown placeholder {{entyr}}", "did you mean 'entry'?")
        assertRefused("distribution:\n  templates:\n    premium:\n      signals: \"{{side}}\"\n", line: 15,
                      "unknown key 'signals'", "did you mean 'signal'?")
        assertRefused("distribution:\n  tiers: { gold: 0 }\n  templates:\n    premium: { signal: \"{{side}}\" }\n", line: 15,
                      "tier 'premium' does not exist", "tiers: gold")
        assertRefused("distribution:\n  tiers: { premium: -5 }\n", line: 13, "outside")
        assertRefused("distribution:\n  max_attempts: 0\n", line: 13, "whole number from 1 to 1000")
        assertRefused("distribution:\n  backoff: { initial: 10, max: 5 }\n", line: 13, "backoff max (5.0 s) is below initial (10.0 s)")
        assertRefused("distribution:\n  backoff: { jitter: half }\n", line: 13, "'half' is not one of full, none")
        assertRefused("distribution:\n  daily_summary: { time: \"24:00\" }\n", line: 13, "not a UTC time HH:MM")
        assertRefused("distribution:\n  daily_summary: { enabled: yes please }\n", line: 13, "expected true or false")
        assertRefused("distribution:\n  destinations:\n    - { id: a, channel: tg, tier: free, target: {} }\n  alerts_to: [b]\n", line: 15,
                      "destination 'b' does not exist", "destinations: a")
        assertRefused("distribution:\n  subscribers: { deliver: [] }\n", line: 13, "subscribers is missing field 'unpaid_tier'")
        assertRefused("distribution:\n  subscribers: { unpaid_tier: fre }\n", line: 13, "tier 'fre' does not exist", "did you mean 'free'?")
        assertRefused("distribution:\n  subscribers:\n    unpaid_tier: free\n    deliver:\n      - { channel: tgg, identity: telegram_chat, target_key: chat_id }\n",
                      line: 16, "channel instance 'tgg' does not exist", "did you mean 'tg'?")
        assertRefused("distribution:\n  subscribers:\n    unpaid_tier: free\n    deliver:\n      - { channel: tg, identity: Telegram, target_key: chat_id }\n",
                      line: 16, "identity kind 'Telegram' is not 1-32 characters")
        assertRefused("distribution:\n  subscribers:\n    unpaid_tier: free\n    deliver:\n      - { channel: tg, identity: telegram_chat }\n",
                      line: 16, "subscribers.deliver entry is missing field 'target_key'")
    }

    func testPlainSettingsAreNumbersOnlyInTheirDecimalForms() throws {
        let tenant = try load("", header: """
            id: acme
            instances:
              - id: tg
                plugin: com.alphaplus.channel-telegram
                settings: { url: https://buy.stripe.com/x, at: 12:30, count: 12, ratio: -1.5e3, on: true, quoted: "7", hex: 0x1F }

            """)
        XCTAssertEqual(tenant.instances[0].settings, .object([
            "url": .string("https://buy.stripe.com/x"), "at": .string("12:30"), "count": .number(12), "ratio": .number(-1500),
            "on": .bool(true), "quoted": .string("7"), "hex": .string("0x1F"),
        ]), "YAML 1.1's base-60 and hex integers are strings")
    }

    func testTheSubscribersSectionLoads() throws {
        let settings = try XCTUnwrap(load("distribution:\n  subscribers:\n    unpaid_tier: basic\n    deliver:\n      - { channel: tg, identity: telegram_chat, target_key: chat_id }\n").distribution)
        XCTAssertEqual(settings.subscribers, SubscriberDeliverySettings(unpaidTier: "basic", channels: [
            SubscriberChannel(channel: "tg", identityKind: "telegram_chat", targetKey: "chat_id"),
        ]))
        XCTAssertEqual(settings.channelInstances, ["tg"])
        XCTAssertEqual(settings.subscribers?.channels[0].targetJSON(value: "-100123"), #"{"chat_id": -100123}"#)
        XCTAssertEqual(settings.subscribers?.channels[0].targetJSON(value: "@name"), #"{"chat_id": "@name"}"#)
    }

    func testSecretsAreReferencesResolvedWhenAsked() throws {
        let tenant = try load("")
        let telegram = try XCTUnwrap(tenant.instances.first { $0.id == "tg" })
        XCTAssertEqual(telegram.secrets, ["bot_token": .environment("ACME_TELEGRAM_TOKEN")])
        XCTAssertTrue(telegram.dryRunWithoutSecrets)
        let discord = try XCTUnwrap(tenant.instances.first { $0.id == "discord" })
        XCTAssertFalse(discord.dryRunWithoutSecrets)
        let file = folder.appendingPathComponent("secrets/webhook").path
        XCTAssertEqual(discord.secrets, ["webhook_signals": .file(file)])

        XCTAssertEqual(try telegram.resolveSecrets(tenant: "acme", environment: ["ACME_TELEGRAM_TOKEN": "123:abc"]), ["bot_token": "123:abc"])
        XCTAssertThrowsError(try telegram.resolveSecrets(tenant: "acme", environment: ["ACME_TELEGRAM_TOKEN": ""])) { error in
            XCTAssertEqual("\(error)", "tenant acme, instance tg: secret 'bot_token' is not set (${env:ACME_TELEGRAM_TOKEN} is unset or empty)")
        }
        XCTAssertThrowsError(try discord.resolveSecrets(tenant: "acme", environment: [:])) { error in
            XCTAssertEqual("\(error)", "tenant acme, instance discord: secret 'webhook_signals' is not set (${file:\(file)} is missing, unreadable or empty)")
        }
        try FileManager.default.createDirectory(atPath: folder.appendingPathComponent("secrets").path, withIntermediateDirectories: true)
        try "https://discord.com/api/webhooks/1/x\n".write(toFile: file, atomically: true, encoding: .utf8)
        XCTAssertEqual(try discord.resolveSecrets(tenant: "acme", environment: [:]), ["webhook_signals": "https://discord.com/api/webhooks/1/x"])
    }

    func testALiteralSecretIsRefusedWithoutEchoingIt() {
        let header = "id: acme\ninstances:\n  - id: tg\n    plugin: p.q\n    secrets:\n      bot_token: 123456:SECRET-VALUE\n"
        XCTAssertThrowsError(try load("", header: header)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("acme.yaml:6:"), text)
            XCTAssertTrue(text.contains("secret 'bot_token' must be a reference, ${env:NAME} or ${file:path}"), text)
            XCTAssertFalse(text.contains("SECRET-VALUE"), text)
        }
        let misspelt = "id: acme\ninstances:\n  - id: tg\n    plugin: p.q\n    dry_run_without_secret: true\n"
        XCTAssertThrowsError(try load("", header: misspelt)) { error in
            XCTAssertTrue("\(error)".contains("acme.yaml:5:"), "\(error)")
            XCTAssertTrue("\(error)".contains("did you mean 'dry_run_without_secrets'?"), "\(error)")
        }
    }

    func testTheDemoTenantLoads() throws {
        let demo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("config/tenants/demo.yaml")
        let tenant = try TenantConfig.load(demo.path)
        let settings = try XCTUnwrap(tenant.distribution)
        XCTAssertEqual(Set(settings.destinations.map(\.tier)), ["premium", "basic", "free"])
        for instance in Set(settings.destinations.map(\.channel)) {
            let config = try XCTUnwrap(tenant.instances.first { $0.id == instance })
            XCTAssertTrue(config.dryRunWithoutSecrets, "\(instance) runs dry without its secrets")
            XCTAssertTrue(config.secrets.values.allSatisfy { if case .environment = $0 { true } else { false } })
        }
    }
}
