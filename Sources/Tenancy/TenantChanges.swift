import HostConfig

/// What a reload changes, from the running tenants' configuration to the
/// new one: tenants added and removed, and for each tenant kept, which of
/// its instances are created, recreated or destroyed and whether its
/// strategy or its distribution is rebuilt. An instance is recreated when
/// its configuration (plugin, settings, subscriptions, secret references,
/// dry-run choice) or the value of one of its secrets changed; everything
/// else keeps running untouched.
public struct TenantChanges: Sendable {
    public struct Update: Sendable {
        public var tenant: TenantConfig
        public var addedInstances: [String]
        public var removedInstances: [String]
        /// Configured in both, differently: destroyed and created again.
        public var recreatedInstances: [String]
        /// The strategy section changed, or one of its heads' instances did.
        public var strategyChanged: Bool
        /// The distribution section changed, or one of its channels' instances did.
        public var distributionChanged: Bool
        /// The admin token's reference changed.
        public var adminTokenChanged: Bool

        var isEmpty: Bool {
            addedInstances.isEmpty && removedInstances.isEmpty && recreatedInstances.isEmpty && !strategyChanged
                && !distributionChanged && !adminTokenChanged
        }
    }

    public var added: [TenantConfig] = []
    public var removed: [TenantConfig] = []
    public var updated: [Update] = []
    /// Tenants whose configuration is the same: nothing of theirs is touched.
    public var unchanged: [String] = []

    public var isEmpty: Bool { added.isEmpty && removed.isEmpty && updated.isEmpty }

    /// `rotatedSecrets` names, per tenant, the instances whose secrets
    /// resolve to other values than when they were created.
    public init(from old: [TenantConfig], to new: [TenantConfig], rotatedSecrets: [String: Set<String>] = [:]) {
        let oldByID = Dictionary(old.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let newIDs = Set(new.map(\.id))
        removed = old.filter { !newIDs.contains($0.id) }
        for tenant in new {
            guard let previous = oldByID[tenant.id] else {
                added.append(tenant)
                continue
            }
            let update = Self.compare(previous, tenant, rotated: rotatedSecrets[tenant.id] ?? [])
            if update.isEmpty { unchanged.append(tenant.id) } else { updated.append(update) }
        }
    }

    private static func compare(_ previous: TenantConfig, _ tenant: TenantConfig, rotated: Set<String>) -> Update {
        let before = Dictionary(previous.instances.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let after = Dictionary(tenant.instances.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let added = tenant.instances.map(\.id).filter { before[$0] == nil }
        let removed = previous.instances.map(\.id).filter { after[$0] == nil }
        let recreated = tenant.instances.filter { instance in
            guard let old = before[instance.id] else { return false }
            return !old.hasSameConfiguration(as: instance) || rotated.contains(instance.id)
        }.map(\.id)
        let touched = Set(added + removed + recreated)
        let heads = Set((previous.strategy?.heads ?? []).map(\.instance) + (tenant.strategy?.heads ?? []).map(\.instance))
        let channels = (previous.distribution?.channelInstances ?? []).union(tenant.distribution?.channelInstances ?? [])
        return Update(tenant: tenant, addedInstances: added, removedInstances: removed, recreatedInstances: recreated,
                      strategyChanged: previous.strategy != tenant.strategy || !heads.isDisjoint(with: touched),
                      distributionChanged: previous.distribution != tenant.distribution || !channels.isDisjoint(with: touched),
                      adminTokenChanged: previous.adminToken != tenant.adminToken)
    }

    /// One line per change, for the log and `alphaplus tenants reload`.
    public var summary: [String] {
        var lines = added.map { "tenant \($0.id) added (\($0.instances.count) instances)" }
        lines += removed.map { "tenant \($0.id) removed" }
        for update in updated {
            var parts: [String] = []
            if !update.addedInstances.isEmpty { parts.append("instances added: \(update.addedInstances.joined(separator: ", "))") }
            if !update.recreatedInstances.isEmpty { parts.append("recreated: \(update.recreatedInstances.joined(separator: ", "))") }
            if !update.removedInstances.isEmpty { parts.append("removed: \(update.removedInstances.joined(separator: ", "))") }
            if update.strategyChanged { parts.append("strategy rebuilt") }
            if update.distributionChanged { parts.append("distribution reconfigured") }
            if update.adminTokenChanged { parts.append("admin token changed") }
            lines.append("tenant \(update.tenant.id): \(parts.joined(separator: "; "))")
        }
        return lines
    }
}

extension InstanceConfig {
    /// Equal in everything that is handed to the plugin or decides how the
    /// instance runs (not where in the file it is written).
    public func hasSameConfiguration(as other: InstanceConfig) -> Bool {
        plugin == other.plugin && settings == other.settings && subscriptions == other.subscriptions && secrets == other.secrets
            && dryRunWithoutSecrets == other.dryRunWithoutSecrets
    }
}
