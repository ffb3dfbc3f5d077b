import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// What a host reads from an exported table before calling anything.
final class DescriptorTests: XCTestCase {
    func testTableHeaderFields() {
        let table = PluginExport.entry(TestHead.self)
        XCTAssertEqual(table.pointee.struct_size, UInt32(MemoryLayout<ap_plugin_api>.size))
        XCTAssertEqual(table.pointee.abi_major, 1)
        XCTAssertEqual(table.pointee.abi_major, UInt16(AP_ABI_MAJOR))
        XCTAssertEqual(table.pointee.abi_minor, UInt16(AP_ABI_MINOR))
        XCTAssertNotNil(table.pointee.`init`)
        XCTAssertNotNil(table.pointee.deinit)
        XCTAssertNotNil(table.pointee.create)
        XCTAssertNotNil(table.pointee.destroy)
        XCTAssertNotNil(table.pointee.get_capability)
        // Built once per type, kept for the process's life.
        XCTAssertEqual(PluginExport.entry(TestHead.self), table)
        XCTAssertNotEqual(PluginExport.entry(SimExchange.self), table)
    }

    func testHeadDescriptor() {
        let descriptor = PluginExport.entry(TestHead.self).pointee.descriptor.pointee
        XCTAssertEqual(descriptor.struct_size, UInt32(MemoryLayout<ap_plugin_descriptor>.size))
        XCTAssertEqual(descriptor.id.string, "com.alphaplus.test-head")
        XCTAssertEqual(descriptor.name.string, "Test Head")
        XCTAssertEqual(descriptor.version.string, "1.4.0-beta.1")
        XCTAssertEqual(descriptor.vendor.string, "AlphaPlus Tests")
        XCTAssertEqual(descriptor.description.string, "Reads ema_50 and rsi_14")
        XCTAssertEqual(descriptor.toolchain.string, swiftToolchain)
        XCTAssertEqual(strings(descriptor.capabilities, descriptor.capability_count), ["ap.head.v1"])
        XCTAssertEqual(descriptor.config_schema_json.string, TestHead.schema)
        // No network hosts declared: no permissions at all.
        XCTAssertNil(descriptor.permissions)
    }

    func testToolchainNamesThisCompiler() {
        #if compiler(>=6.3) && !compiler(>=6.4)
        XCTAssertEqual(swiftToolchain, "swift-6.3")
        #endif
        XCTAssertTrue(swiftToolchain.hasPrefix("swift-"), swiftToolchain)
    }

    func testExchangeDescriptorDeclaresNetworkHosts() throws {
        let descriptor = PluginExport.entry(SimExchange.self).pointee.descriptor.pointee
        XCTAssertEqual(descriptor.id.string, "com.alphaplus.test-sim-exchange")
        XCTAssertEqual(descriptor.version.string, "0.3.0")
        XCTAssertEqual(descriptor.toolchain.string, swiftToolchain)
        XCTAssertEqual(strings(descriptor.capabilities, descriptor.capability_count), ["ap.exchange.v1"])
        XCTAssertEqual(descriptor.config_schema_json.string, SimExchange.schema)
        let permissions = try XCTUnwrap(descriptor.permissions).pointee
        XCTAssertEqual(permissions.struct_size, UInt32(MemoryLayout<ap_permissions>.size))
        XCTAssertEqual(strings(permissions.network_hosts, permissions.network_host_count),
                       ["api.sim.example", "*.stream.sim.example"])
    }

    func testCapabilitiesFollowConformances() {
        func capabilities<P: PluginInstance>(_ type: P.Type) -> [String] {
            let descriptor = PluginExport.entry(type).pointee.descriptor.pointee
            return strings(descriptor.capabilities, descriptor.capability_count)
        }
        XCTAssertEqual(capabilities(TestHead.self), ["ap.head.v1"])
        XCTAssertEqual(capabilities(SimExchange.self), ["ap.exchange.v1"])
        XCTAssertEqual(capabilities(EchoChannel.self), ["ap.channel.v1"])
        XCTAssertEqual(capabilities(EchoWebhook.self), ["ap.webhook.v1"])
        XCTAssertEqual(capabilities(BotPlugin.self), ["ap.channel.v1", "ap.webhook.v1"])
        XCTAssertEqual(capabilities(LooseConfigPlugin.self), [])
        XCTAssertEqual(PluginExport.entry(LooseConfigPlugin.self).pointee.descriptor.pointee.capability_count, 0)
    }

    func testGetCapabilityReturnsOnlyDeclaredTables() throws {
        let all = ["ap.head.v1", "ap.exchange.v1", "ap.channel.v1", "ap.webhook.v1"]
        let cases: [(UnsafePointer<ap_plugin_api>, Set<String>)] = [
            (PluginExport.entry(TestHead.self), ["ap.head.v1"]),
            (PluginExport.entry(SimExchange.self), ["ap.exchange.v1"]),
            (PluginExport.entry(EchoChannel.self), ["ap.channel.v1"]),
            (PluginExport.entry(EchoWebhook.self), ["ap.webhook.v1"]),
            (PluginExport.entry(BotPlugin.self), ["ap.channel.v1", "ap.webhook.v1"]),
            (PluginExport.entry(LooseConfigPlugin.self), []),
        ]
        for (table, offered) in cases {
            let id = table.pointee.descriptor.pointee.id.string
            for capabilityID in all {
                if offered.contains(capabilityID) {
                    XCTAssertNotNil(capability(table, capabilityID), "\(id) should offer \(capabilityID)")
                } else {
                    XCTAssertNil(capability(table, capabilityID), "\(id) must not offer \(capabilityID)")
                }
            }
            for unknown in ["", "ap.head.v2", "ap.head", "AP.HEAD.V1", "ap.head.v1 ", "com.example.thing"] {
                XCTAssertNil(capability(table, unknown), "\(id) returned a table for '\(unknown)'")
            }
            // Absent string {NULL, 0}.
            XCTAssertNil(table.pointee.get_capability(table, ap_str(ptr: nil, len: 0)))
        }
    }

    func testCapabilityTablesAreComplete() throws {
        let head = try XCTUnwrap(capability(PluginExport.entry(TestHead.self), "ap.head.v1"))
            .assumingMemoryBound(to: ap_head_v1.self).pointee
        XCTAssertEqual(head.struct_size, UInt32(MemoryLayout<ap_head_v1>.size))
        XCTAssertNotNil(head.evaluate)
        XCTAssertNotNil(head.on_event)

        let exchange = try XCTUnwrap(capability(PluginExport.entry(SimExchange.self), "ap.exchange.v1"))
            .assumingMemoryBound(to: ap_exchange_v1.self).pointee
        XCTAssertEqual(exchange.struct_size, UInt32(MemoryLayout<ap_exchange_v1>.size))
        XCTAssertNotNil(exchange.start)
        XCTAssertNotNil(exchange.stop)
        XCTAssertNotNil(exchange.subscribe)
        XCTAssertNotNil(exchange.unsubscribe)

        let channel = try XCTUnwrap(capability(PluginExport.entry(BotPlugin.self), "ap.channel.v1"))
            .assumingMemoryBound(to: ap_channel_v1.self).pointee
        XCTAssertEqual(channel.struct_size, UInt32(MemoryLayout<ap_channel_v1>.size))
        XCTAssertNotNil(channel.deliver)

        let webhook = try XCTUnwrap(capability(PluginExport.entry(BotPlugin.self), "ap.webhook.v1"))
            .assumingMemoryBound(to: ap_webhook_v1.self).pointee
        XCTAssertEqual(webhook.struct_size, UInt32(MemoryLayout<ap_webhook_v1>.size))
        XCTAssertNotNil(webhook.handle)
    }

    func testTestPluginReadsTheDescriptor() throws {
        let host = TestHost()
        let bot = try host.load(BotPlugin.self)
        XCTAssertEqual(bot.id, "com.alphaplus.test-bot")
        XCTAssertEqual(bot.version, "0.9.1")
        XCTAssertEqual(bot.capabilities, ["ap.channel.v1", "ap.webhook.v1"])
        let head = try host.load(TestHead.self)
        XCTAssertEqual(head.id, "com.alphaplus.test-head")
        XCTAssertEqual(head.capabilities, ["ap.head.v1"])
    }
}
