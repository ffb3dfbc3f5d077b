import CAlphaPlus
import Distribution
import HostConfig
import Logging
import PluginRuntime
import Store
import Subscriptions

/// How one configured instance came out.
public enum InstanceCreation: Sendable {
    case created(HostedInstance)
    /// Its secrets are not set and the tenant chose `dry_run_without_secrets`;
    /// `plugin` is the configured plugin id.
    case dryRun(plugin: String)
    case failed(reason: String)
}

/// Creates one instance with its secrets, each problem logged naming the
/// tenant file: a secret not set (the instance runs dry when the tenant
/// opted in, else it is not created), no loaded plugin, a refused create.
public func createInstance(_ config: InstanceConfig, tenant: String, file: String, registry: PluginRegistry, services: HostServices,
                           logger: Logger) -> InstanceCreation {
    let secrets: [String: String]
    do {
        secrets = try config.resolveSecrets(tenant: tenant)
    } catch {
        if config.dryRunWithoutSecrets {
            logger.notice("\(file): \(error): the instance is not created and runs dry (dry_run_without_secrets): its deliveries are shown, not sent")
            return .dryRun(plugin: config.plugin)
        }
        logger.error("\(file): \(error); the instance is not created")
        return .failed(reason: "\(error)")
    }
    guard let plugin = registry.plugin(id: config.plugin) else {
        logger.error("\(file): tenant \(tenant), instance \(config.id): no loaded plugin '\(config.plugin)'")
        return .failed(reason: "no loaded plugin '\(config.plugin)'")
    }
    do {
        return .created(try HostedInstance(plugin: plugin, tenantID: tenant, instanceID: config.id, config: config.settings,
                                           secrets: secrets, services: services))
    } catch {
        logger.error("\(file): \(error)")
        return .failed(reason: error.reason)
    }
}

/// Every tenant's distribution settings.
public func distributions(_ tenants: [TenantConfig]) -> [TenantDistribution] {
    tenants.compactMap { tenant in tenant.distribution.map { TenantDistribution(tenant: tenant.id, settings: $0) } }
}

/// Subscribers are kept in the store; each tenant with a
/// `distribution.subscribers` section lets its plugins change them within
/// its tiers.
public func enableSubscriptions(_ services: HostServices, store: HostStore, tenants: [TenantConfig]) {
    var policies: [String: SubscriptionPolicy] = [:]
    for tenant in tenants {
        guard let distribution = tenant.distribution, let subscribers = distribution.subscribers else { continue }
        policies[tenant.id] = SubscriptionPolicy(tiers: Set(distribution.tierDelaysNs.keys), unpaidTier: subscribers.unpaidTier)
    }
    services.setSubscriptions(store, policies: policies)
}

/// The channel instances the tenants' destinations name, as the
/// distributor reaches them.
public func channelEndpoints(_ tenants: [TenantConfig], creations: [ChannelAddress: InstanceCreation],
                      logger: Logger) -> [ChannelAddress: ChannelEndpoint] {
    var endpoints: [ChannelAddress: ChannelEndpoint] = [:]
    for tenant in tenants {
        for channel in tenant.distribution?.channelInstances ?? [] {
            let address = ChannelAddress(tenant: tenant.id, instance: channel)
            switch creations[address] {
            case .created(let instance) where instance.isChannel:
                endpoints[address] = .live(instance)
            case .created(let instance):
                logger.error("\(tenant.file): tenant \(tenant.id), instance \(channel): plugin \(instance.plugin.id) does not offer \(AP_CAPABILITY_CHANNEL_V1); its destinations wait")
                endpoints[address] = .unavailable(reason: "plugin \(instance.plugin.id) is not a channel")
            case .dryRun(let plugin):
                endpoints[address] = .dryRun(plugin: plugin)
            case .failed(let reason):
                endpoints[address] = .unavailable(reason: reason)
            case nil:
                endpoints[address] = .unavailable(reason: "not created")
            }
        }
    }
    return endpoints
}
