import AlphaPlusJSON
import CAlphaPlus
import Foundation
import Logging

/// A plugin that passed every check and whose init succeeded. Never
/// unloaded: Swift images cannot be, and a new version is a new path.
// @unchecked: immutable; its tables point at the plugin's static memory, which is never unloaded.
public final class LoadedPlugin: @unchecked Sendable {
    public let path: String
    public let table: UnsafePointer<ap_plugin_api>
    public let id: String
    public let name: String
    public let version: String
    public let vendor: String
    public let summary: String
    public let toolchain: String
    public let abiMajor: UInt16
    public let abiMinor: UInt16
    public let capabilities: [String]
    public let networkHosts: [String]
    /// The host services the descriptor asks for (ap_service_permission flags).
    public let servicePermissions: UInt64
    public let configSchemaText: String
    public let configSchema: JSONSchema
    let capabilityTables: [String: UnsafeRawPointer]

    init(path: String, table: UnsafePointer<ap_plugin_api>, descriptor: ap_plugin_descriptor, capabilities: [String],
         networkHosts: [String], servicePermissions: UInt64, schema: JSONSchema, capabilityTables: [String: UnsafeRawPointer]) {
        self.path = path
        self.table = table
        id = descriptor.id.string
        name = descriptor.name.string
        version = descriptor.version.string
        vendor = descriptor.vendor.string
        summary = descriptor.description.string
        toolchain = descriptor.toolchain.string
        abiMajor = table.pointee.abi_major
        abiMinor = table.pointee.abi_minor
        self.capabilities = capabilities
        self.networkHosts = networkHosts
        self.servicePermissions = servicePermissions
        configSchemaText = descriptor.config_schema_json.string
        configSchema = schema
        self.capabilityTables = capabilityTables
    }

    public var head: UnsafePointer<ap_head_v1>? {
        capabilityTables[AP_CAPABILITY_HEAD_V1]?.assumingMemoryBound(to: ap_head_v1.self)
    }
    public var exchange: UnsafePointer<ap_exchange_v1>? {
        capabilityTables[AP_CAPABILITY_EXCHANGE_V1]?.assumingMemoryBound(to: ap_exchange_v1.self)
    }
    public var channel: UnsafePointer<ap_channel_v1>? {
        capabilityTables[AP_CAPABILITY_CHANNEL_V1]?.assumingMemoryBound(to: ap_channel_v1.self)
    }
    public var rateLimits: UnsafePointer<ap_rate_limits_v1>? {
        capabilityTables[AP_CAPABILITY_RATE_LIMITS_V1]?.assumingMemoryBound(to: ap_rate_limits_v1.self)
    }
    public var webhook: UnsafePointer<ap_webhook_v1>? {
        capabilityTables[AP_CAPABILITY_WEBHOOK_V1]?.assumingMemoryBound(to: ap_webhook_v1.self)
    }
}

/// Loads one plugin file conservatively: file checks before dlopen, version
/// checks before any other call, every descriptor field and capability table
/// checked before init.
public struct PluginLoader: Sendable {
    public let services: HostServices

    public init(services: HostServices) {
        self.services = services
    }

    public func load(_ path: String) throws(PluginLoadError) -> LoadedPlugin {
        try PluginFileCheck.check(path)
        // Never dlclose'd (see LoadedPlugin).
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            throw PluginLoadError(path, "cannot be loaded: \(dlerror().map { String(cString: $0) } ?? "dlopen failed")")
        }
        guard let symbol = dlsym(handle, PluginFileCheck.entrySymbol) else {
            throw PluginLoadError(path, "is not an AlphaPlus plugin: it does not export '\(PluginFileCheck.entrySymbol)'")
        }
        let entry = unsafeBitCast(symbol, to: ap_plugin_entry_fn.self)
        guard let table = entry() else { throw PluginLoadError(path, "\(PluginFileCheck.entrySymbol)() returned NULL") }
        return try initialise(table, path: path)
    }

    /// A plugin linked into the host's own binary (a test, a benchmark, a
    /// statically built host): the same checks and init as a file, no dlopen.
    public func load(linked table: UnsafePointer<ap_plugin_api>, name: String) throws(PluginLoadError) -> LoadedPlugin {
        try initialise(table, path: "linked:\(name)")
    }

    private func initialise(_ table: UnsafePointer<ap_plugin_api>, path: String) throws(PluginLoadError) -> LoadedPlugin {
        let plugin = try validate(table, path: path)
        var err = ap_error.empty()
        let context = services.pluginContext(pluginID: plugin.id, version: plugin.version)
        let status = table.pointee.`init`(table, services.api, context.opaque, &err)
        guard status == AP_OK else {
            throw PluginLoadError(path, "init failed (status \(status)): \(err.text)")
        }
        return plugin
    }

    /// Everything checked before init; nothing but get_capability is called.
    func validate(_ table: UnsafePointer<ap_plugin_api>, path: String) throws(PluginLoadError) -> LoadedPlugin {
        let size = Int(table.pointee.struct_size)
        guard size >= ABI.pluginAPISize else {
            throw PluginLoadError(path, "plugin table struct_size \(size) is smaller than the ABI 1.0 size \(ABI.pluginAPISize)")
        }
        let api = table.pointee
        guard api.abi_major == ABI.major else {
            let relation = api.abi_major > ABI.major ? "a newer" : "an older"
            throw PluginLoadError(path, "is built for plugin ABI \(api.abi_major).\(api.abi_minor), \(relation) major version than this host's \(ABI.major).\(ABI.minor); rebuild it against ABI \(ABI.major)")
        }
        guard api.abi_minor <= ABI.minor else {
            throw PluginLoadError(path, "is built for plugin ABI \(api.abi_major).\(api.abi_minor), newer than this host's \(ABI.major).\(ABI.minor); upgrade the host")
        }
        guard api.`init` != nil, api.deinit != nil, api.create != nil, api.destroy != nil, api.get_capability != nil else {
            throw PluginLoadError(path, "plugin table lacks a required function (init, deinit, create, destroy and get_capability are required)")
        }
        guard let descriptorPointer = api.descriptor else { throw PluginLoadError(path, "has no descriptor") }
        let descriptorSize = Int(descriptorPointer.pointee.struct_size)
        guard descriptorSize >= ABI.descriptorSize else {
            throw PluginLoadError(path, "descriptor struct_size \(descriptorSize) is smaller than the ABI 1.0 size \(ABI.descriptorSize)")
        }
        let descriptor = descriptorPointer.pointee
        let id = descriptor.id.string
        guard !id.isEmpty else { throw PluginLoadError(path, "descriptor has no id") }
        guard Identifiers.isReverseDNS(id) else {
            throw PluginLoadError(path, "descriptor id '\(id)' is not reverse-DNS (e.g. com.example.my-head: lowercase letters, digits and '-', two labels or more)")
        }
        let version = descriptor.version.string
        guard Identifiers.isSemver(version) else {
            throw PluginLoadError(path, "plugin \(id): version '\(version)' is not semantic versioning (MAJOR.MINOR.PATCH, e.g. 1.0.0)")
        }
        let toolchain = descriptor.toolchain.string
        if toolchain.hasPrefix("swift-"), toolchain != ABI.swiftToolchain {
            throw PluginLoadError(path, "plugin \(id) was built with \(toolchain); this host runs \(ABI.swiftToolchain), and Swift plugins must match it to run in process")
        }
        let capabilities = strings(descriptor.capabilities, descriptor.capability_count)
        guard !capabilities.isEmpty else { throw PluginLoadError(path, "plugin \(id) declares no capability") }
        var tables: [String: UnsafeRawPointer] = [:]
        for capability in capabilities {
            guard let minimumSize = ABI.capabilities[capability] else {
                throw PluginLoadError(path, "plugin \(id) declares unknown capability '\(capability)' (this host knows \(ABI.capabilities.keys.sorted().joined(separator: ", ")))")
            }
            guard let capabilityTable = withAPStr(capability, { api.get_capability(table, $0) }) else {
                throw PluginLoadError(path, "plugin \(id) declares \(capability) but get_capability returns NULL for it")
            }
            let tableSize = Int(capabilityTable.load(as: UInt32.self))
            guard tableSize >= minimumSize else {
                throw PluginLoadError(path, "plugin \(id): \(capability) table struct_size \(tableSize) is smaller than its ABI 1.0 size \(minimumSize)")
            }
            try checkRequiredFunctions(capability, capabilityTable, id: id, path: path)
            tables[capability] = capabilityTable
        }
        if tables[AP_CAPABILITY_RATE_LIMITS_V1] != nil, tables[AP_CAPABILITY_CHANNEL_V1] == nil {
            throw PluginLoadError(path, "plugin \(id) declares \(AP_CAPABILITY_RATE_LIMITS_V1) without \(AP_CAPABILITY_CHANNEL_V1): limits are for a channel's destinations")
        }
        var networkHosts: [String] = []
        var servicePermissions: UInt64 = 0
        if let permissions = descriptor.permissions {
            guard Int(permissions.pointee.struct_size) >= ABI.permissionsSize else {
                throw PluginLoadError(path, "plugin \(id): permissions struct_size \(permissions.pointee.struct_size) is smaller than the ABI 1.0 size \(ABI.permissionsSize)")
            }
            networkHosts = strings(permissions.pointee.network_hosts, permissions.pointee.network_host_count)
            if Int(permissions.pointee.struct_size) >= ABI.permissionsServicesEnd {
                servicePermissions = permissions.pointee.services
            }
        }
        let unknownServices = servicePermissions & ~ABI.knownServicePermissions
        guard unknownServices == 0 else {
            throw PluginLoadError(path, "plugin \(id) asks for host services this host does not know (permission bits 0x\(String(unknownServices, radix: 16))); upgrade the host")
        }
        let schema: JSONSchema
        do {
            schema = try JSONSchema(parsing: descriptor.config_schema_json.string)
        } catch {
            throw PluginLoadError(path, "plugin \(id): config schema is invalid: \(error)")
        }
        return LoadedPlugin(path: path, table: table, descriptor: descriptor, capabilities: capabilities,
                            networkHosts: networkHosts, servicePermissions: servicePermissions, schema: schema, capabilityTables: tables)
    }

    private func checkRequiredFunctions(_ capability: String, _ table: UnsafeRawPointer, id: String, path: String) throws(PluginLoadError) {
        let complete: Bool
        switch capability {
        case AP_CAPABILITY_HEAD_V1: complete = table.assumingMemoryBound(to: ap_head_v1.self).pointee.evaluate != nil
        case AP_CAPABILITY_EXCHANGE_V1:
            let t = table.assumingMemoryBound(to: ap_exchange_v1.self).pointee
            complete = t.start != nil && t.stop != nil && t.subscribe != nil && t.unsubscribe != nil
        case AP_CAPABILITY_CHANNEL_V1: complete = table.assumingMemoryBound(to: ap_channel_v1.self).pointee.deliver != nil
        case AP_CAPABILITY_RATE_LIMITS_V1:
            complete = table.assumingMemoryBound(to: ap_rate_limits_v1.self).pointee.limits_for_target != nil
        default: complete = table.assumingMemoryBound(to: ap_webhook_v1.self).pointee.handle != nil
        }
        guard complete else { throw PluginLoadError(path, "plugin \(id): \(capability) table lacks a required function") }
    }

    private func strings(_ pointer: UnsafePointer<ap_str>?, _ count: Int) -> [String] {
        guard let pointer else { return [] }
        return UnsafeBufferPointer(start: pointer, count: count).map(\.string)
    }
}
