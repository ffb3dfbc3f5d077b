import CAlphaPlus

/// What a plugin tells the host about itself (the contract's
/// ap_plugin_descriptor). Capabilities are derived from the protocols the
/// plugin type conforms to; the toolchain is recorded automatically.
public struct PluginDescriptor: Sendable {
    /// Reverse-DNS id, e.g. "com.example.head-momentum".
    public var id: String
    public var name: String
    /// Semantic Versioning 2.0.0.
    public var version: String
    public var vendor: String
    public var description: String
    /// JSON Schema for one instance's configuration.
    public var configSchema: String
    /// Hosts the plugin may reach through the host's HTTP/WebSocket services.
    public var networkHosts: [String]
    /// Host services that need the operator's trust (subscriptions).
    public var services: ServicePermissions

    public init(id: String, name: String, version: String, vendor: String = "", description: String = "",
                configSchema: String = #"{"type": "object", "additionalProperties": false}"#,
                networkHosts: [String] = [], services: ServicePermissions = []) {
        self.id = id
        self.name = name
        self.version = version
        self.vendor = vendor
        self.description = description
        self.configSchema = configSchema
        self.networkHosts = networkHosts
        self.services = services
    }

    /// The C descriptor, allocated once and never freed ([load] lifetime).
    func makePermanent(capabilities: [String]) -> UnsafePointer<ap_plugin_descriptor> {
        func permanentArray(_ texts: [String]) -> UnsafePointer<ap_str>? {
            guard !texts.isEmpty else { return nil }
            let array = UnsafeMutablePointer<ap_str>.allocate(capacity: texts.count)
            for (index, text) in texts.enumerated() { (array + index).initialize(to: .permanent(text)) }
            return UnsafePointer(array)
        }
        var permissions: UnsafePointer<ap_permissions>?
        if !networkHosts.isEmpty || !services.isEmpty {
            let value = UnsafeMutablePointer<ap_permissions>.allocate(capacity: 1)
            value.initialize(to: ap_permissions(
                struct_size: UInt32(MemoryLayout<ap_permissions>.size),
                network_hosts: permanentArray(networkHosts), network_host_count: networkHosts.count,
                services: services.rawValue))
            permissions = UnsafePointer(value)
        }
        let descriptor = UnsafeMutablePointer<ap_plugin_descriptor>.allocate(capacity: 1)
        descriptor.initialize(to: ap_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<ap_plugin_descriptor>.size),
            id: .permanent(id), name: .permanent(name), version: .permanent(version),
            vendor: .permanent(vendor), description: .permanent(description),
            toolchain: .permanent(swiftToolchain),
            capabilities: permanentArray(capabilities), capability_count: capabilities.count,
            config_schema_json: .permanent(configSchema),
            permissions: permissions))
        return UnsafePointer(descriptor)
    }
}
