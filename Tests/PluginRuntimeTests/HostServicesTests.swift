import AlphaPlusJSON
import CAlphaPlus
import Foundation
import Logging
@testable import PluginRuntime
import SharedTestData
import XCTest

/// The services table as a plugin calls it: scoped, checked, never trusting
/// the context pointer it is handed.
final class HostServicesTests: XCTestCase {
    private let services = HostServices()

    private func instance(_ tenant: String) throws -> HostedInstance {
        let registry = PluginRegistry(services: services)
        let plugin = try registry.load(try PluginFixtures.build("services-\(tenant)", defines: ["FIX_ID=\"com.test.services-\(tenant)\""]))
        return try HostedInstance(plugin: plugin, tenantID: tenant, instanceID: "i", config: .object([:]), services: services)
    }

    private func setState(_ context: OpaquePointer, _ key: String, _ value: String) -> ap_status {
        var key = key, value = value
        return key.withUTF8 { k in
            value.withUTF8 { v in
                services.api.pointee.state_set(context, ap_str(ptr: UnsafeRawPointer(k.baseAddress)?.assumingMemoryBound(to: CChar.self), len: k.count),
                                               v.baseAddress, v.count)
            }
        }
    }

    func testAReleasedContextGetsNothing() throws {
        let live = try instance("released")
        let raw = live.context.opaque
        XCTAssertEqual(setState(raw, "k", "v"), ap_status(AP_OK))
        live.destroy()
        XCTAssertEqual(setState(raw, "k", "again"), ap_status(AP_ERR_INVALID_ARGUMENT))
        XCTAssertEqual(services.api.pointee.now_ns(raw), 0)
    }

    func testAForgedContextGetsNothing() throws {
        var bogus = [UInt8](repeating: 0xAB, count: 64)
        let forged = bogus.withUnsafeMutableBytes { OpaquePointer($0.baseAddress!) }
        XCTAssertEqual(setState(forged, "k", "v"), ap_status(AP_ERR_INVALID_ARGUMENT))
    }

    func testMalformedEventsAreRefusedAndCounted() throws {
        let live = try instance("emitter")
        defer { live.destroy() }
        final class Count: @unchecked Sendable {
            let lock = NSLock()
            var value = 0
        }
        let received = Count()
        services.setEventSink { _, _ in received.lock.withLock { received.value += 1 } }
        func emit(_ trade: ap_trade_event) -> ap_status {
            var trade = trade
            return withUnsafePointer(to: &trade) {
                services.api.pointee.emit_event(live.context.opaque, UnsafeRawPointer($0).assumingMemoryBound(to: ap_event_header.self))
            }
        }
        var good = ap_trade_event()
        good.header.struct_size = UInt32(MemoryLayout<ap_trade_event>.size)
        good.header.kind = AP_EVENT_TRADE.rawValue
        let symbol = StaticString("BTC-USDT")
        good.header.symbol = ap_str(ptr: UnsafeRawPointer(symbol.utf8Start).assumingMemoryBound(to: CChar.self), len: symbol.utf8CodeUnitCount)
        XCTAssertEqual(emit(good), ap_status(AP_OK))
        var unknownKind = good
        unknownKind.header.kind = 99
        var tooSmall = good
        tooSmall.header.struct_size = 16
        var noSymbol = good
        noSymbol.header.symbol = ap_str(ptr: nil, len: 0)
        for bad in [unknownKind, tooSmall, noSymbol] { XCTAssertEqual(emit(bad), ap_status(AP_ERR_INVALID_ARGUMENT)) }
        XCTAssertEqual(received.lock.withLock { received.value }, 1)
        XCTAssertEqual(services.rejectedEventCount, 3)
        XCTAssertEqual(services.metrics.first { $0.key.name == "events_emitted" }?.value, 1)
    }

    func testStateAndSecretsNeedAnInstanceContext() throws {
        let pluginContext = services.pluginContext(pluginID: "com.test.plugin-level", version: "1.0.0")
        XCTAssertEqual(setState(pluginContext.opaque, "k", "v"), ap_status(AP_ERR_INVALID_ARGUMENT))
    }
}

/// A plugin that logs without end (a flood of forged requests, each
/// refused with a warning) writes a bounded number of lines.
final class PluginLogBudgetTests: XCTestCase {
    func testAPluginLoggingInALoopWritesTwentyLinesASecondAndSaysHowManyItDropped() throws {
        let lines = LogLines()
        var logger = Logger(label: "test.plugins") { _ in lines }
        logger.logLevel = .info
        let services = HostServices(logger: logger)
        let registry = PluginRegistry(services: services)
        let plugin = try registry.load(try PluginFixtures.build("log-budget", defines: ["FIX_ID=\"com.test.log-budget\""]))
        let instance = try HostedInstance(plugin: plugin, tenantID: "acme", instanceID: "noisy", config: .object([:]), services: services)
        defer { instance.destroy() }
        let before = lines.messages.count
        func log(_ level: ap_log_level, _ text: String) {
            var text = text
            text.withUTF8 { bytes in
                services.api.pointee.log(instance.context.opaque, level,
                                         ap_str(ptr: UnsafeRawPointer(bytes.baseAddress)?.assumingMemoryBound(to: CChar.self), len: bytes.count))
            }
        }
        for n in 0..<1_000 { log(AP_LOG_DEBUG, "below the level \(n)") }
        XCTAssertEqual(lines.messages.count, before, "lines below the host's level are neither written nor counted")
        Thread.sleep(forTimeInterval: 1.05)  // a second of its own, after create's line
        for n in 0..<10_000 { log(AP_LOG_WARNING, "refused request \(n)") }
        XCTAssertEqual(lines.messages.count - before, 20, "one second's budget")
        Thread.sleep(forTimeInterval: 1.05)
        log(AP_LOG_WARNING, "after the second")
        let last = lines.messages.suffix(2)
        XCTAssertEqual(last.first, "warning: 9980 log lines of this instance dropped in one second (over 20 a second)")
        XCTAssertEqual(last.last, "warning: after the second")
    }
}
