import struct AlphaPlusSDK.RateLimit
import Metrics
import Trading

/// The tenants' `deliveries_per_minute` quotas: a tenant's deliveries start
/// only while fewer than its quota started in the last 60 s (a sliding
/// window, like a channel's rate limits); the rest wait, in their
/// destinations' queues, and go out as the window frees. Nothing is
/// dropped or marked failed. Only live sends count (a dry run sends
/// nothing). Only on the distributor's queue.
struct DeliveryQuotas {
    private static let windowMs = 60_000
    /// Per tenant with a quota: its one bucket.
    private var limits: [String: [RateLimit]] = [:]
    private var windows: [String: RateWindows] = [:]
    /// Deliveries waiting for their tenant's quota, so each is counted once.
    /// Each leaves when it starts or leaves its queue (`forget`), so the set
    /// holds no more than the queues do.
    private var deferred: Set<Int64> = []
    private var deferredCounters: [String: Counter] = [:]
    private let factory: any MetricsFactory
    /// Deliveries that were due (their destination's head) but had to wait
    /// for their tenant's quota.
    private(set) var deferredCount = 0
    /// Deferred deliveries that have not started yet.
    var waiting: Int { deferred.count }

    init(_ quotas: [String: TenantQuota], factory: any MetricsFactory) {
        self.factory = factory
        for (tenant, quota) in quotas { set(quota, tenant: tenant) }
    }

    /// Sets one tenant's quota (a tenant added or changed by a reload); nil
    /// or no `deliveries_per_minute` lifts it. Its window so far is kept.
    mutating func set(_ quota: TenantQuota?, tenant: String) {
        guard let perMinute = quota?.deliveriesPerMinute else {
            limits[tenant] = nil
            return
        }
        limits[tenant] = [RateLimit(bucket: "deliveries", capacity: perMinute, windowMs: Self.windowMs)]
        if deferredCounters[tenant] == nil { deferredCounters[tenant] = DistributionMetrics.quotaDeferred.counter(tenant, factory: factory) }
    }

    /// The earliest time ≥ `now` at which `tenant` may start delivery `id`;
    /// a later one counts the delivery as deferred (once).
    mutating func earliestStart(tenant: String, id: Int64, now: Int64) -> Int64 {
        guard let limit = limits[tenant] else { return now }
        let allowed = windows[tenant, default: RateWindows()].earliestSend(limit, now: now)
        if allowed > now, deferred.insert(id).inserted {
            deferredCount += 1
            deferredCounters[tenant]?.increment()
        }
        return allowed
    }

    /// Delivery `id` of `tenant` started at `now`.
    mutating func started(tenant: String, id: Int64, at now: Int64) {
        guard let limit = limits[tenant] else { return }
        windows[tenant, default: RateWindows()].record(limit, at: now)
        deferred.remove(id)
    }

    /// Delivery `id` left its queue without starting (recorded as a dry run,
    /// or no longer pending in the store).
    mutating func forget(id: Int64) {
        deferred.remove(id)
    }
}
