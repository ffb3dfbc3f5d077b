import Metrics
import Trading

extension Distributor {
    /// Replaces one tenant's distribution while the others keep sending (a
    /// live reload): its settings (nil when the tenant is gone or no longer
    /// distributes), its `deliveries_per_minute` quota and the endpoints of
    /// its channel instances. Its
    /// configured destinations are registered again; one it no longer
    /// configures keeps its pending rows, unsent, as at start. A delivery
    /// in flight to a replaced channel instance ends as it would have (the
    /// host destroys the old instance after this returns, which records a
    /// delivery it had not finished as a retry). Throws when the store
    /// cannot register the destinations; the tenant's previous
    /// configuration then stays.
    public func reconfigure(tenant: String, settings: DistributionSettings?, quota: TenantQuota?,
                            endpoints tenantEndpoints: [ChannelAddress: ChannelEndpoint]) throws {
        try queue.sync {
            let now = clock.nowNs()
            let registrations = settings.map { self.registrations(tenant: tenant, settings: $0, atNs: now) } ?? []
            let stored = registrations.isEmpty ? [] : try outbox.registerDestinations(registrations, atNs: now)
            tenants[tenant] = settings
            quotas.set(quota, tenant: tenant)
            endpoints = endpoints.filter { $0.key.tenant != tenant }.merging(tenantEndpoints) { _, new in new }
            outcomeCounters = outcomeCounters.filter { $0.key.tenant != tenant }
                .merging(deliveryCounters(tenantEndpoints, factory: MetricsSystem.factory)) { _, new in new }
            let configured = Set(registrations.map { DestinationKey(tenant: tenant, id: $0.id) })
            for state in destinations.values where state.key.tenant == tenant { state.configured = configured.contains(state.key) }
            for row in stored where row.tenant == tenant {
                let key = DestinationKey(tenant: tenant, id: row.id)
                if let state = destinations[key] {
                    // Channel, tier or target may have changed: the platform's limits are asked again.
                    state.channel = row.channel
                    state.tier = row.tier
                    state.targetJSON = row.targetJSON
                    state.limits = nil
                    state.limitsTarget = nil
                } else {
                    destinations[key] = DestinationState(key: key, stored: row, configured: configured.contains(key))
                }
            }
            guard started else { return }
            for key in destinations.keys.sorted(by: { $0.description < $1.description }) where key.tenant == tenant { markDirty(key) }
            pump()
        }
    }
}
