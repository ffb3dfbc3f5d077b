import Trading

/// The `quotas:` section of the host configuration: what the operator
/// allows each tenant. Without the section, or for a key left out, there
/// is no limit.
///
///     quotas:
///       default: { symbols: 20, deliveries_per_minute: 600, plugin_call_ms: 250 }
///       tenants: { demo: { deliveries_per_minute: 1200 } }
public struct QuotaSettings: Sendable {
    /// Every tenant's, unless `tenants` overrides it.
    public var defaultQuota = TenantQuota.unlimited
    /// Per tenant id: the default with the tenant's overrides applied.
    public var tenants: [String: TenantQuota] = [:]
    /// Where each tenant key is, to name one that is no tenant.
    var tenantKeys: [String: (file: String, line: Int, column: Int)] = [:]

    public init() {}

    public func quota(tenant: String) -> TenantQuota { tenants[tenant] ?? defaultQuota }

    /// Per tenant id, its quota, as the distributor takes them.
    public func quotas(tenants ids: [String]) -> [String: TenantQuota] {
        Dictionary(ids.map { ($0, quota(tenant: $0)) }, uniquingKeysWith: { first, _ in first })
    }

    /// A `quotas.tenants` key that is not one of `tenantIDs` (a typo would
    /// silently give that tenant the default), with its file:line:column.
    public func unknownTenants(_ tenantIDs: [String]) -> [ConfigError] {
        tenantKeys.filter { !tenantIDs.contains($0.key) }.sorted { $0.key < $1.key }.map { id, at in
            ConfigError(file: at.file, line: at.line, column: at.column,
                        message: "quotas.tenants: '\(id)' is not a tenant; "
                            + (tenantIDs.isEmpty ? "there is none" : "tenants: \(tenantIDs.sorted().joined(separator: ", "))"))
        }
    }

    /// The tenant's symbols (its strategy's and its exchange instances'
    /// subscriptions', counted once each) over its `symbols` quota: the
    /// tenant is refused.
    public func symbolQuotaProblem(_ tenant: TenantConfig) -> ConfigError? {
        guard let allowed = quota(tenant: tenant.id).symbols else { return nil }
        let symbols = Set((tenant.strategy?.symbols ?? []) + tenant.instances.flatMap { $0.subscriptions.map(\.symbol) })
        guard symbols.count > allowed else { return nil }
        return ConfigError(file: tenant.file, line: 0, column: 0,
                           message: "tenant \(tenant.id) names \(symbols.count) symbols (strategy.symbols and subscriptions together), over its quota of \(allowed) (quotas in the host configuration)")
    }
}

/// Parses `quotas:`; unknown keys, wrong types and numbers out of range
/// are errors with the file, line and column.
enum QuotasSection {
    static func parse(_ node: YAMLDocument) throws(ConfigError) -> QuotaSettings {
        let fields = try node.mapping(allowed: ["default", "tenants"])
        var settings = QuotaSettings()
        if let base = fields["default"] { settings.defaultQuota = try quota(base, over: .unlimited, at: "quotas.default") }
        if let tenants = fields["tenants"] {
            for (key, value) in try tenants.entries() {
                let id = try key.identifier("quotas.tenants: tenant id")
                settings.tenants[id] = try quota(value, over: settings.defaultQuota, at: "quotas.tenants.\(id)")
                settings.tenantKeys[id] = (key.file, key.node.mark?.line ?? 0, key.node.mark?.column ?? 0)
            }
        }
        return settings
    }

    /// `base` with the keys `node` sets.
    private static func quota(_ node: YAMLDocument, over base: TenantQuota, at path: String) throws(ConfigError) -> TenantQuota {
        let fields: [String: YAMLDocument]
        do { fields = try node.mapping(allowed: ["symbols", "deliveries_per_minute", "plugin_call_ms"]) } catch {
            throw ConfigError(file: error.file, line: error.line, column: error.column, message: "\(path): \(error.message)")
        }
        var quota = base
        func within<T>(_ key: String, _ parse: (YAMLDocument) throws(ConfigError) -> T) throws(ConfigError) -> T? {
            guard let value = fields[key] else { return nil }
            do { return try parse(value) } catch {
                throw ConfigError(file: error.file, line: error.line, column: error.column, message: "\(path).\(key): \(error.message)")
            }
        }
        if let symbols = try within("symbols", { node throws(ConfigError) in try node.integer(in: 1...100_000) }) {
            quota.symbols = symbols
        }
        if let perMinute = try within("deliveries_per_minute", { node throws(ConfigError) in try node.integer(in: 1...1_000_000) }) {
            quota.deliveriesPerMinute = perMinute
        }
        if let milliseconds = try within("plugin_call_ms", { node throws(ConfigError) in try node.number(in: 0.001...600_000) }) {
            quota.pluginCallNs = Int64(milliseconds * 1_000_000)
        }
        return quota
    }
}
