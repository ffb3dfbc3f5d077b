import Foundation
import Synchronization
import PluginRuntime

/// One configured instance as the ingress sees it.
public struct IngressInstance: Sendable {
    public enum State: Sendable {
        case running(HostedInstance)
        /// Not created: its secrets are not set and its tenant chose
        /// `dry_run_without_secrets`.
        case dryRun
        /// Not created, for this reason (for the operator and the tenant only).
        case failed(reason: String)
    }

    public var id: String
    public var pluginID: String
    public var state: State

    public init(id: String, pluginID: String, state: State) {
        self.id = id
        self.pluginID = pluginID
        self.state = state
    }
}

/// One tenant: its instances and its admin token.
public struct IngressTenant: Sendable {
    public var id: String
    public var instances: [IngressInstance]
    /// Nil when the tenant has no token (only the operator reads its data).
    public var adminToken: AdminToken?
    public var hasStrategy: Bool
    /// The tenant's distribution destinations, by id.
    public var destinations: [String]
    /// What a subscriber without a paid subscription receives
    /// (`distribution.subscribers.unpaid_tier`); nil without that section.
    public var unpaidTier: String?

    public init(id: String, instances: [IngressInstance], adminToken: AdminToken? = nil, hasStrategy: Bool = false,
                destinations: [String] = [], unpaidTier: String? = nil) {
        self.id = id
        self.instances = instances
        self.adminToken = adminToken
        self.hasStrategy = hasStrategy
        self.destinations = destinations
        self.unpaidTier = unpaidTier
    }

    func instance(_ id: String) -> IngressInstance? { instances.first { $0.id == id } }
}

/// What the ingress serves: the tenants and the plugins as `run` set them
/// up (at start, and again after each reload).
public struct IngressCatalog: Sendable {
    public var tenants: [IngressTenant]
    public var plugins: [LoadedPlugin]
    public var refusedPlugins: [PluginLoadError]

    public init(tenants: [IngressTenant], plugins: [LoadedPlugin], refusedPlugins: [PluginLoadError] = []) {
        self.tenants = tenants
        self.plugins = plugins
        self.refusedPlugins = refusedPlugins
    }

    func tenant(_ id: String) -> IngressTenant? { tenants.first { $0.id == id } }
}

/// The catalog requests read, replaced whole by a reload: a request works
/// on the catalog it read, before or after, never on half of each.
final class LiveCatalog: Sendable {
    private let catalog: Mutex<IngressCatalog>

    init(_ catalog: IngressCatalog) { self.catalog = Mutex(catalog) }

    var current: IngressCatalog {
        get { catalog.withLock { $0 } }
        set { catalog.withLock { $0 = newValue } }
    }
}
