import Crypto
import Distribution
import Foundation
import HostConfig
import Logging
import PluginRuntime
import Store
import Strategy
import Trading
import Timekeeping

/// The running tenants: their instances, strategies and distribution, made
/// from their configuration at start and changed by a reload, which
/// recreates only what changed (`TenantChanges`) while the rest keeps
/// running. Exchange instances are shared connectors (`ConnectorPool`).
/// One start or reload at a time.
// @unchecked: the tenants are guarded by `lock` (one start, reload or stop at a time); callbacks are set before start.
public final class TenantHost: @unchecked Sendable {
    /// One running tenant as the ingress and the admin API see it.
    public struct Running: Sendable {
        public var config: TenantConfig
        /// Every configured instance, connectors included, by instance id.
        public var instances: [String: InstanceCreation]
    }

    /// What a reload did, for the log and `alphaplus tenants reload`.
    public struct ReloadOutcome: Sendable, Codable {
        public var applied: Bool
        public var changes: [String]
        public var errors: [String]

        public init(applied: Bool, changes: [String], errors: [String]) {
            self.applied = applied
            self.changes = changes
            self.errors = errors
        }
    }

    private struct TenantState {
        var config: TenantConfig
        /// The tenant's own instances (not connectors), by instance id.
        var instances: [String: InstanceCreation]
        /// Connectors it uses, by instance id.
        var connectors: [String: InstanceCreation]
        /// Per own instance, a digest of its secrets' values when created.
        var secretDigests: [String: SHA256.Digest]
        var strategy: TenantStrategy?

        /// Own instances and connectors, by instance id.
        var allInstances: [String: InstanceCreation] { instances.merging(connectors) { own, _ in own } }
    }

    private let services: HostServices
    private let registry: PluginRegistry
    private let store: HostStore
    private let strategies: TenantStrategies
    private let halt: GlobalHalt
    private let logger: Logger
    private let environment: () -> [String: String]
    /// The loggers of what it makes (connectors, strategies, the distributor), by label.
    private let makeLogger: @Sendable (String) -> Logger
    /// The host's clock: the distributor's, the strategies' (quarantines), a closing book's time.
    private let clock: any HostClock
    /// The operator's quotas (host configuration).
    private let quotas: QuotaSettings
    private let pool: ConnectorPool
    private let lock = NSLock()
    private var tenants: [String: TenantState] = [:]
    /// Made by `start`.
    public private(set) var distributor: Distributor?
    /// Called with each signal and each outcome (the console's lines).
    public var onSignal: (@Sendable (Signal) -> Void)?
    public var onOutcome: (@Sendable (PositionOutcome) -> Void)?
    /// Called after start and after each reload that changed something.
    public var onChange: (@Sendable ([Running]) -> Void)?

    public init(services: HostServices, registry: PluginRegistry, store: HostStore, strategies: TenantStrategies,
                halt: GlobalHalt, quotas: QuotaSettings = QuotaSettings(), logger: Logger, clock: any HostClock,
                environment: @escaping () -> [String: String] = { ProcessInfo.processInfo.environment },
                makeLogger: @escaping @Sendable (String) -> Logger = { Logger(label: $0) }) {
        self.makeLogger = makeLogger
        self.clock = clock
        self.quotas = quotas
        self.services = services
        self.registry = registry
        self.store = store
        self.strategies = strategies
        self.halt = halt
        self.logger = logger
        self.environment = environment
        pool = ConnectorPool(registry: registry, services: services, logger: makeLogger("alphaplus.market"))
    }

    /// The running tenants, by id.
    public var running: [Running] { lock.withLock { runningLocked() } }

    /// Connectors, the symbols subscribed on them, and the subscribe and
    /// unsubscribe calls made to them so far.
    public var connectorStatistics: (connectors: Int, symbols: Int, subscribeCalls: Int, unsubscribeCalls: Int) {
        lock.withLock { (pool.connectorCount, pool.subscribedSymbols, pool.subscribeCalls, pool.unsubscribeCalls) }
    }

    /// Creates every tenant's instances, then the distributor and the
    /// strategies, then starts the connectors: no frame arrives before its
    /// strategy exists. Throws when the outbox cannot start.
    public func start(_ configs: [TenantConfig]) throws {
        try lock.withLock {
            for config in configs { tenants[config.id] = makeInstances(config) }
            enableSubscriptions(services, store: store, tenants: configs)
            let distributor = Distributor(tenants: distributions(configs), outbox: store, endpoints: endpoints(of: configs.map(\.id)),
                                          clock: clock, subscriptions: store, quotas: quotas.quotas(tenants: configs.map(\.id)),
                                          logger: makeLogger("alphaplus.distribution"))
            try distributor.start()
            self.distributor = distributor
            for config in configs { installStrategy(tenant: config.id, previous: nil) }
            pool.sync()
            for state in tenants.values.sorted(by: { $0.config.id < $1.config.id }) {
                for (id, creation) in state.instances.sorted(by: { $0.key < $1.key }) {
                    guard case .created(let instance) = creation else { continue }
                    logger.info("instance started", metadata: ["tenant": "\(state.config.id)", "instance": "\(id)", "plugin": "\(instance.plugin.id)"])
                }
            }
        }
        onChange?(running)
    }

    /// Applies a new configuration of every tenant: tenants added are
    /// started, removed ones stopped, and of the others only the instances
    /// whose configuration or secrets changed are recreated, and only the
    /// strategies and distributions that depend on them rebuilt. Tenants
    /// that did not change are not touched.
    public func reload(_ configs: [TenantConfig]) -> ReloadOutcome {
        // Instances replaced or removed: destroyed once the ingress no longer
        // names them, so a webhook never reaches a destroyed instance.
        var retired: [HostedInstance] = []
        let outcome = lock.withLock { () -> ReloadOutcome in
            var rotated: [String: Set<String>] = [:]
            for (id, state) in tenants {
                for instance in state.config.instances
                where state.secretDigests[instance.id].map({ $0 != secretDigest(instance, tenant: id) }) == true {
                    rotated[id, default: []].insert(instance.id)
                }
            }
            let changes = TenantChanges(from: tenants.values.map(\.config).sorted { $0.id < $1.id }, to: configs, rotatedSecrets: rotated)
            guard !changes.isEmpty else { return ReloadOutcome(applied: true, changes: [], errors: []) }
            for tenant in changes.removed { retired += remove(tenant.id) }
            for update in changes.updated { retired += apply(update) }
            for tenant in changes.added {
                tenants[tenant.id] = makeInstances(tenant)
                reconfigureDistribution(tenant.id)
                installStrategy(tenant: tenant.id, previous: nil)
            }
            enableSubscriptions(services, store: store, tenants: tenants.values.map(\.config))
            pool.sync()
            return ReloadOutcome(applied: true, changes: changes.summary, errors: [])
        }
        if !outcome.changes.isEmpty { onChange?(running) }
        for instance in retired { instance.destroy() }
        return outcome
    }

    /// Stops everything in order: the distributor sends nothing more, then
    /// connectors and instances are destroyed, the distributor records what
    /// they had not finished.
    /// Stops every tenant, in order: the connectors first (no market data
    /// comes in once they are gone), then the distributor, which lets the
    /// deliveries in flight end and records them (none is left to be sent
    /// again after a restart), then every other instance. Waits for each
    /// step at most until `deadline`; returns the instances abandoned
    /// because a call into their plugin did not return by then (their
    /// `runningCall` says which).
    @discardableResult
    public func shutdown(before deadline: DispatchTime = .distantFuture) -> [HostedInstance] {
        lock.withLock {
            var abandoned = pool.destroyAll(before: deadline)
            if let unfinished = distributor?.stop(waitingForDeliveriesBefore: deadline), unfinished > 0 {
                logger.warning("shutdown: \(unfinished) deliveries still in flight; they are sent again after a restart")
            }
            for state in tenants.values.sorted(by: { $0.config.id < $1.config.id }) {
                for (_, creation) in state.instances.sorted(by: { $0.key < $1.key }) {
                    if case .created(let instance) = creation, !instance.destroy(before: deadline) { abandoned.append(instance) }
                }
            }
            distributor?.flush()
            return abandoned
        }
    }

    // MARK: - Changes

    /// Returns the instances it replaced or removed, for the caller to destroy.
    private func apply(_ update: TenantChanges.Update) -> [HostedInstance] {
        let id = update.tenant.id
        guard var state = tenants[id] else { return [] }
        var retired: [HostedInstance] = []
        for instance in update.removedInstances + update.recreatedInstances {
            if state.connectors[instance] != nil {
                pool.detach(tenant: id, instance: instance)
                state.connectors[instance] = nil
            } else if let creation = state.instances.removeValue(forKey: instance) {
                if case .created(let created) = creation { retired.append(created) }
                state.secretDigests[instance] = nil
            }
        }
        state.config = update.tenant
        for instanceID in update.addedInstances + update.recreatedInstances {
            guard let config = update.tenant.instances.first(where: { $0.id == instanceID }) else { continue }
            add(config, of: update.tenant, to: &state)
        }
        tenants[id] = state
        // The new instances are in place before the old ones go: a webhook
        // or a delivery in flight on an old instance ends on it.
        if update.strategyChanged { installStrategy(tenant: id, previous: state.strategy) }
        if update.distributionChanged { reconfigureDistribution(id) }
        logger.notice("reload: \(update.tenant.file): tenant \(id) changed; other tenants untouched")
        return retired
    }

    /// Returns the tenant's own instances, for the caller to destroy.
    private func remove(_ id: String) -> [HostedInstance] {
        guard let state = tenants.removeValue(forKey: id) else { return [] }
        strategies.replace(tenant: id, with: nil)
        do { try distributor?.reconfigure(tenant: id, settings: nil, quota: nil, endpoints: [:]) } catch {
            logger.error("reload: tenant \(id): its destinations cannot be unregistered: \(error)")
        }
        for instance in state.connectors.keys { pool.detach(tenant: id, instance: instance) }
        logger.notice("reload: tenant \(id) removed (\(state.config.file)); its pending deliveries wait in the outbox")
        return state.instances.values.compactMap { creation in if case .created(let instance) = creation { instance } else { nil } }
    }

    // MARK: - Building

    private func makeInstances(_ config: TenantConfig) -> TenantState {
        var state = TenantState(config: config, instances: [:], connectors: [:], secretDigests: [:], strategy: nil)
        for instance in config.instances { add(instance, of: config, to: &state) }
        return state
    }

    private func add(_ instance: InstanceConfig, of tenant: TenantConfig, to state: inout TenantState) {
        if pool.isConnector(instance.plugin) {
            state.connectors[instance.id] = pool.attach(instance, of: tenant)
        } else {
            var creation = createInstance(instance, tenant: tenant.id, file: tenant.file, registry: registry, services: services,
                                          logger: logger)
            // Not a connector: starting it only marks it started (connectors start in `pool.sync`).
            if case .created(let created) = creation {
                do { try created.start() } catch {
                    logger.error("\(tenant.file): \(error)")
                    created.destroy()
                    creation = .failed(reason: error.reason)
                }
            }
            state.instances[instance.id] = creation
            state.secretDigests[instance.id] = secretDigest(instance, tenant: tenant.id)
        }
    }

    /// SHA-256 over the instance's secret values as they resolve now
    /// (never kept or shown): a reload recreates the instance when it
    /// differs, so a rotated secret file or variable takes effect.
    private func secretDigest(_ instance: InstanceConfig, tenant: String) -> SHA256.Digest {
        let values = (try? instance.resolveSecrets(tenant: tenant, environment: environment())) ?? [:]
        var hash = SHA256()
        for (name, value) in values.sorted(by: { $0.key < $1.key }) {
            hash.update(data: Data("\(name.utf8.count):\(name)\(value.utf8.count):\(value)".utf8))
        }
        return hash.finalize()
    }

    private func endpoints(of ids: [String]) -> [ChannelAddress: ChannelEndpoint] {
        let configs = ids.compactMap { tenants[$0]?.config }
        var creations: [ChannelAddress: InstanceCreation] = [:]
        for id in ids {
            guard let state = tenants[id] else { continue }
            for (instance, creation) in state.allInstances {
                creations[ChannelAddress(tenant: id, instance: instance)] = creation
            }
        }
        return channelEndpoints(configs, creations: creations, logger: logger)
    }

    private func reconfigureDistribution(_ id: String) {
        guard let distributor, let state = tenants[id] else { return }
        do {
            try distributor.reconfigure(tenant: id, settings: state.config.distribution, quota: quotas.quota(tenant: id),
                                        endpoints: endpoints(of: [id]))
        } catch {
            logger.error("reload: \(state.config.file): tenant \(id): distribution not reconfigured, the previous one stays: \(error)")
        }
    }

    /// Builds the tenant's strategy from its heads' instances and puts it in
    /// place of `previous` (whose paper book it continues when it can).
    private func installStrategy(tenant id: String, previous: TenantStrategy?) {
        guard var state = tenants[id] else { return }
        let config = state.config
        guard let settings = config.strategy else {
            if previous != nil { strategies.replace(tenant: id, with: nil) }
            state.strategy = nil
            tenants[id] = state
            return
        }
        let heads = settings.heads.map { spec -> TenantStrategy.Head in
            let creation = state.instances[spec.instance] ?? state.connectors[spec.instance]
            let instance: HostedInstance? = if case .created(let created) = creation { created } else { nil }
            return TenantStrategy.Head(spec: spec, pluginID: instance?.plugin.id ?? config.instances.first { $0.id == spec.instance }?.plugin ?? "?",
                                       instance: instance)
        }
        for head in heads where head.instance == nil {
            logger.error("\(config.file): tenant \(id), head \(head.spec.instance) (plugin \(head.pluginID)) has no instance: it abstains on every frame")
        }
        let strategy: TenantStrategy
        do {
            strategy = try TenantStrategy(tenant: id, settings: settings, heads: heads, journal: store, halt: halt, invocation: .deadline,
                                          quota: quotas.quota(tenant: id), clock: clock.nowNs, logger: makeLogger("alphaplus.strategy"), continuing: previous)
        } catch {
            logger.error("\(config.file): tenant \(id): strategy refused: \(error)")
            return
        }
        let distributes = config.distribution != nil
        strategy.onSignal = { [weak self, distributor] signal in
            self?.onSignal?(signal)
            if distributes { distributor?.submit(signal) }
        }
        strategy.onOutcome = { [weak self] outcome in self?.onOutcome?(outcome) }
        if distributes { strategy.onLeg = { [distributor] leg in distributor?.submit(leg, tenant: id) } }
        strategies.replace(tenant: id, with: strategy) { _ in
            // Between two frames: the previous book closes here when the new one could not take it over.
            if let previous, previous.trader !== strategy.trader { previous.finish(atNs: clock.nowNs()) }
            if let previous { strategy.takeOver(from: previous) }
        }
        state.strategy = strategy
        tenants[id] = state
        logger.info("strategy ready", metadata: ["tenant": "\(id)", "heads": "\(heads.map(\.spec.instance).joined(separator: ","))"])
    }

    private func runningLocked() -> [Running] {
        tenants.values.sorted { $0.config.id < $1.config.id }.map { state in
            Running(config: state.config, instances: state.allInstances)
        }
    }
}
