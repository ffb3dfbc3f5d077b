import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// Instance configuration: JSON in, decoded value, and errors that name the field.
final class ConfigTests: XCTestCase {
    /// The PluginError `body` throws; fails the test if it does not throw one.
    private func pluginError(_ body: () throws -> Any, file: StaticString = #filePath, line: UInt = #line) -> PluginError? {
        do {
            _ = try body()
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch let error as PluginError {
            return error
        } catch {
            XCTFail("expected a PluginError, got \(error)", file: file, line: line)
            return nil
        }
    }

    func testConfigIsDecodedFromJSON() throws {
        let host = TestHost()
        let loose = try host.load(LooseConfigPlugin.self)
        let instance = try loose.create(config: #"{"limits": {"max": 3}, "symbols": ["BTC-USDT", "ETH-USDT"], "extra": true}"#,
                                        instance: "decoded")
        defer { withExtendedLifetime(instance) {} }
        let plugin = try XCTUnwrap(Live.get(LooseConfigPlugin.self, instance: "decoded"))
        XCTAssertEqual(plugin.configuration.limits.max, 3)
        XCTAssertEqual(plugin.configuration.symbols, ["BTC-USDT", "ETH-USDT"])

        // The decoded value drives behaviour: the head votes with its threshold.
        let head = try host.load(TestHead.self).create(config: #"{"threshold": 0.65}"#, instance: "decoded-head")
        XCTAssertEqual(try head.evaluate(TestFrame(indicators: ["ema_50": 90])).confidence, 0.65)
        XCTAssertEqual(Live.get(TestHead.self, instance: "decoded-head")?.configuration.threshold, 0.65)
    }

    func testSchemaViolationsAreRejectedNamingTheField() throws {
        let host = TestHost()
        let plugin = try host.load(TestHead.self)
        let cases: [(config: String, field: String)] = [
            (#"{"threshold": 1.5}"#, "threshold"),
            (#"{"threshold": "high"}"#, "threshold"),
            (#"{}"#, "threshold"),
            (#"{"threshold": 0.5, "max_confidence": -1}"#, "max_confidence"),
            (#"{"threshold": 0.5, "treshold": 0.5}"#, "treshold"),
        ]
        for (index, (config, field)) in cases.enumerated() {
            let error = pluginError { try plugin.create(config: config, instance: "schema-\(index)") }
            XCTAssertEqual(error?.status, ap_status(AP_ERR_INVALID_CONFIG), config)
            XCTAssertTrue(error?.message.contains(field) ?? false, "'\(error?.message ?? "")' does not name \(field)")
            // Refused before the plugin's create ran.
            XCTAssertNil(Live.get(TestHead.self, instance: "schema-\(index)"), config)
        }
        XCTAssertEqual(pluginError { try plugin.create(config: #"{"threshold": 1.5}"#) }?.message,
                       "threshold: 1.5 is greater than the maximum 1")
        XCTAssertEqual(pluginError { try plugin.create(config: "{threshold: 1}") }?.status, ap_status(AP_ERR_INVALID_CONFIG))
    }

    func testDecodingErrorsBecomeInvalidConfigNamingTheField() throws {
        let host = TestHost()
        let plugin = try host.load(LooseConfigPlugin.self)
        let exact: [(config: String, message: String)] = [
            (#"{}"#, "config field 'limits' is missing"),
            (#"{"limits": {}, "symbols": []}"#, "config field 'limits.max' is missing"),
        ]
        for (config, expected) in exact {
            let error = pluginError { try plugin.create(config: config) }
            XCTAssertEqual(error?.status, ap_status(AP_ERR_INVALID_CONFIG), config)
            XCTAssertEqual(error?.message, expected, config)
        }
        let prefixed: [(config: String, prefix: String)] = [
            (#"{"limits": {"max": "ten"}, "symbols": []}"#, "config field 'limits.max': expected Int"),
            (#"{"limits": {"max": null}, "symbols": []}"#, "config field 'limits.max': expected Int"),
            (#"{"limits": {"max": 1}, "symbols": ["BTC-USDT", 7]}"#, "config field 'symbols[1]': expected String"),
            (#"{"limits": {"max": 1}, "symbols": "BTC-USDT"}"#, "config field 'symbols': expected"),
        ]
        for (config, prefix) in prefixed {
            let error = pluginError { try plugin.create(config: config) }
            XCTAssertEqual(error?.status, ap_status(AP_ERR_INVALID_CONFIG), config)
            XCTAssertTrue(error?.message.hasPrefix(prefix) ?? false, "'\(error?.message ?? "")' should start with \(prefix)")
        }
    }

    func testDecodingErrorsThroughTheRawTable() throws {
        let table = PluginExport.entry(LooseConfigPlugin.self)
        let context = RawContext()
        var err = emptyError()
        XCTAssertEqual(table.pointee.`init`(table, RawHost.api, context.opaque, &err), ap_status(AP_OK))
        defer { table.pointee.deinit(table) }

        // An absent config is the empty object.
        let absent = rawCreate(table, context: context, instance: "absent", config: nil)
        XCTAssertEqual(absent.status, ap_status(AP_ERR_INVALID_CONFIG))
        XCTAssertEqual(absent.message, "config field 'limits' is missing")

        let wrongType = rawCreate(table, context: context, instance: "wrong", config: #"{"limits": {"max": true}, "symbols": []}"#)
        XCTAssertEqual(wrongType.status, ap_status(AP_ERR_INVALID_CONFIG))
        XCTAssertTrue(wrongType.message.hasPrefix("config field 'limits.max'"), wrongType.message)

        let notJSON = rawCreate(table, context: context, instance: "garbage", config: "{limits")
        XCTAssertEqual(notJSON.status, ap_status(AP_ERR_INVALID_CONFIG))
        XCTAssertTrue(notJSON.message.hasPrefix("config field '(root)'"), notJSON.message)

        let good = rawCreate(table, context: context, instance: "good", config: #"{"limits": {"max": 9}, "symbols": []}"#)
        XCTAssertEqual(good.status, ap_status(AP_OK), good.message)
        XCTAssertEqual(Live.get(LooseConfigPlugin.self, tenant: "raw", instance: "good")?.configuration.limits.max, 9)
        table.pointee.destroy(table, good.instance)
        XCTAssertNil(Live.get(LooseConfigPlugin.self, tenant: "raw", instance: "good"))
    }

    func testInvalidConfigFromInitReachesTheCallerVerbatim() throws {
        let host = TestHost()
        let plugin = try host.load(TestHead.self)
        let error = pluginError { try plugin.create(config: #"{"threshold": 0.9, "max_confidence": 0.5}"#) }
        XCTAssertEqual(error?.status, ap_status(AP_ERR_INVALID_CONFIG))
        XCTAssertEqual(error?.message, "threshold 0.9 exceeds max_confidence 0.5")

        let table = PluginExport.entry(TestHead.self)
        let context = RawContext()
        var err = emptyError()
        XCTAssertEqual(table.pointee.`init`(table, RawHost.api, context.opaque, &err), ap_status(AP_OK))
        defer { table.pointee.deinit(table) }
        let raw = rawCreate(table, context: context, instance: "verbatim", config: #"{"threshold": 0.9, "max_confidence": 0.5}"#)
        XCTAssertEqual(raw.status, ap_status(AP_ERR_INVALID_CONFIG))
        XCTAssertEqual(raw.message, "threshold 0.9 exceeds max_confidence 0.5")
    }
}
