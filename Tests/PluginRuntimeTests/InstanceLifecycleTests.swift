import AlphaPlusJSON
import CAlphaPlus
import Foundation
import MarketData
import PluginRuntime
import XCTest

final class InstanceLifecycleTests: XCTestCase {
    private let services = HostServices()
    private lazy var registry = PluginRegistry(services: services)

    private func fixture(_ name: String, _ defines: [String] = []) throws -> LoadedPlugin {
        try registry.load(try PluginFixtures.build(name, defines: ["FIX_ID=\"com.test.\(name)\""] + defines))
    }

    private func frame(x: Double) -> FeatureFrameBuffer {
        let buffer = FeatureFrameBuffer(venue: "sim", symbol: "BTC-USDT", timeframeSeconds: 60, indicatorNames: ["y", "x"], layoutID: 7)
        buffer.setValue(x, at: 1)
        return buffer
    }

    private func evaluate(_ instance: HostedInstance, _ frame: FeatureFrameBuffer) throws -> ap_vote {
        var vote = ap_vote()
        try instance.evaluate(frame.pointer, into: &vote)
        return vote
    }

    func testCreateEvaluateStopDestroy() throws {
        let plugin = try fixture("lifecycle")
        let instance = try HostedInstance(plugin: plugin, tenantID: "acme", instanceID: "fast",
                                          config: try JSONValue(parsing: #"{"scale": 0.5}"#), services: services)
        XCTAssertEqual(instance.currentPhase, .created)
        try instance.start()
        XCTAssertEqual(instance.currentPhase, .started)
        let long = try evaluate(instance, frame(x: 0.75))
        XCTAssertEqual(long.direction, AP_DIRECTION_LONG.rawValue)
        XCTAssertEqual(long.confidence, 0.75)
        XCTAssertEqual(long.rationale_len, 7)
        let short = try evaluate(instance, frame(x: -0.25))
        XCTAssertEqual(short.direction, AP_DIRECTION_SHORT.rawValue)
        XCTAssertEqual(short.confidence, 0.25)
        // The plugin's config, as the host passed it: canonical JSON.
        XCTAssertEqual(instance.context.stateSnapshot["config"].map { String(decoding: $0, as: UTF8.self) }, #"{"scale":0.5}"#)
        let key = services.metrics.keys.first { $0.name == "evaluations" && $0.tenant == "acme" }
        XCTAssertEqual(key.map { services.metrics[$0] }, 2)
        XCTAssertEqual(key?.instance, "fast")
        XCTAssertEqual(key?.plugin, "com.test.lifecycle")
        instance.stop()
        XCTAssertEqual(instance.currentPhase, .stopped)
        instance.destroy()
        XCTAssertEqual(instance.currentPhase, .destroyed)
        XCTAssertThrowsError(try evaluate(instance, frame(x: 0.1))) {
            XCTAssertTrue("\($0)".contains("instance is destroyed"), "\($0)")
        }
    }

    func testEvaluateErrorCarriesThePluginsMessage() throws {
        let instance = try HostedInstance(plugin: try fixture("evaluate-error"), tenantID: "acme", instanceID: "a",
                                          config: .object([:]), services: services)
        XCTAssertThrowsError(try evaluate(instance, frame(x: 3))) { error in
            XCTAssertEqual("\(error)", "tenant acme, instance a (plugin com.test.evaluate-error): evaluate failed (status 1): indicator x above 1")
        }
    }

    func testConfigFailingTheSchemaNamesTheField() throws {
        let plugin = try fixture("schema-check")
        XCTAssertThrowsError(try HostedInstance(plugin: plugin, tenantID: "acme", instanceID: "a",
                                                config: try JSONValue(parsing: #"{"scale": 1.5, "scael": 1}"#), services: services)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("tenant acme, instance a (plugin com.test.schema-check): settings do not match the plugin's schema"), text)
            XCTAssertTrue(text.contains("scale: 1.5 is greater than the maximum 1"), text)
            XCTAssertTrue(text.contains("'scael'"), text)
        }
    }

    func testCreateErrorReachesTheOperator() throws {
        let plugin = try fixture("create-fails", ["FIX_CREATE_FAILS"])
        XCTAssertThrowsError(try HostedInstance(plugin: plugin, tenantID: "acme", instanceID: "a", config: .object([:]), services: services)) {
            XCTAssertEqual("\($0)", "tenant acme, instance a (plugin com.test.create-fails): create failed (status 2): fixture refuses: setting 'scale' is not supported by this account")
        }
    }

    func testInstancesAreIsolated() throws {
        let plugin = try fixture("isolation")
        let a = try HostedInstance(plugin: plugin, tenantID: "tenant-a", instanceID: "same", config: .object([:]),
                                   secrets: ["token": "twelve-chars"], services: services)
        let b = try HostedInstance(plugin: plugin, tenantID: "tenant-b", instanceID: "same", config: .object(["scale": .number(1)]),
                                   services: services)
        // Each instance saw only its own secret and wrote only its own state.
        XCTAssertEqual(a.context.stateSnapshot["token_length"].map { String(decoding: $0, as: UTF8.self) }, "12")
        XCTAssertNil(b.context.stateSnapshot["token_length"])
        XCTAssertEqual(a.context.stateSnapshot["config"].map { String(decoding: $0, as: UTF8.self) }, "{}")
        XCTAssertEqual(b.context.stateSnapshot["config"].map { String(decoding: $0, as: UTF8.self) }, #"{"scale":1}"#)
        _ = try evaluate(a, frame(x: 0.1))
        let counts = services.metrics.filter { $0.key.name == "evaluations" }
        XCTAssertEqual(counts.count, 1)
        XCTAssertEqual(counts.first?.key.tenant, "tenant-a")
    }

    func testPluginBuiltAgainstFrozenABI10HeaderStillLoads() throws {
        let path = try PluginFixtures.build("frozen-1.0", defines: ["FIX_ID=\"com.test.frozen\""], headers: PluginFixtures.frozenHeaders)
        let plugin = try registry.load(path)
        XCTAssertEqual(plugin.abiMajor, 1)
        XCTAssertEqual(plugin.abiMinor, 0)
        let instance = try HostedInstance(plugin: plugin, tenantID: "acme", instanceID: "old", config: .object([:]), services: services)
        XCTAssertEqual(try evaluate(instance, frame(x: 0.5)).direction, AP_DIRECTION_LONG.rawValue)
    }

    func testFrozenHeaderDiffersFromLiveOnlyByAdditions() throws {
        // Minor versions only add: every line of the frozen 1.0 header's
        // declarations must still be in the live header, in order.
        func declarations(_ path: String) throws -> [String] {
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty && !$0.hasPrefix("/*") && !$0.hasPrefix("*") && !$0.hasPrefix("#define AP_ABI_MINOR") }
        }
        let frozen = try declarations(PluginFixtures.frozenHeaders + "/alphaplus/plugin.h")
        var live = try declarations(PluginFixtures.liveHeaders + "/alphaplus/plugin.h")[...]
        for line in frozen {
            guard let index = live.firstIndex(of: line) else { return XCTFail("the live header lost or reordered: \(line)") }
            live = live[(index + 1)...]
        }
    }

    func testBundledPluginsLoadAndAnswer() throws {
        let swiftHead = try registry.load(try PluginFixtures.bundled("ap-example-swift-head"))
        let cHead = try registry.load(try PluginFixtures.bundled("ap-example-c-head"))
        XCTAssertEqual(swiftHead.id, "com.alphaplus.example.momentum-swift")
        XCTAssertEqual(swiftHead.toolchain, ABI.swiftToolchain)
        XCTAssertEqual(cHead.id, "com.alphaplus.example.rsi-c")
        XCTAssertTrue(cHead.toolchain.hasPrefix("clang") || cHead.toolchain.hasPrefix("gcc"))

        let frame = FeatureFrameBuffer(venue: "sim", symbol: "BTC-USDT", timeframeSeconds: 60,
                                       indicatorNames: ["ema_12", "ema_26", "rsi_14"], layoutID: 1)
        frame.setValue(101, at: 0)
        frame.setValue(100, at: 1)
        frame.setValue(20, at: 2)
        let momentum = try HostedInstance(plugin: swiftHead, tenantID: "demo", instanceID: "m",
                                          config: try JSONValue(parsing: #"{"threshold": 0.002}"#), services: services)
        let rsi = try HostedInstance(plugin: cHead, tenantID: "demo", instanceID: "r",
                                     config: try JSONValue(parsing: #"{"oversold": 25, "overbought": 75}"#), services: services)
        var vote = try evaluate(momentum, frame)
        XCTAssertEqual(vote.direction, AP_DIRECTION_LONG.rawValue)
        XCTAssertEqual(vote.confidence, 0.01 / 0.012, accuracy: 1e-12)
        vote = try evaluate(rsi, frame)
        XCTAssertEqual(vote.direction, AP_DIRECTION_LONG.rawValue)
        XCTAssertEqual(vote.confidence, 0.5 + 0.5 * 5 / 25, accuracy: 1e-12)
        frame.setValue(80, at: 2)
        frame.setValue(.nan, at: 0)
        XCTAssertEqual(try evaluate(rsi, frame).direction, AP_DIRECTION_SHORT.rawValue)
        XCTAssertEqual(try evaluate(momentum, frame).direction, AP_DIRECTION_FLAT.rawValue, "flat while ema_12 warms up")

        XCTAssertThrowsError(try HostedInstance(plugin: cHead, tenantID: "demo", instanceID: "bad",
                                                config: try JSONValue(parsing: #"{"oversold": 80, "overbought": 20}"#), services: services)) {
            XCTAssertTrue("\($0)".hasSuffix("create failed (status 2): overbought (20) must be greater than oversold (80)"), "\($0)")
        }
        XCTAssertThrowsError(try HostedInstance(plugin: swiftHead, tenantID: "demo", instanceID: "bad",
                                                config: try JSONValue(parsing: #"{"fast": "ema_26", "slow": "ema_26"}"#), services: services)) {
            XCTAssertTrue("\($0)".hasSuffix("create failed (status 2): fast and slow name the same indicator 'ema_26'"), "\($0)")
        }
    }
}
