import CAlphaPlus
import Dispatch

/// Several tenants' strategies fed the same frames (the live host). Each
/// frame starts every tenant's head calls first, then collects each
/// tenant's votes against its own deadline from that common start, the
/// shortest deadline first: a tenant never waits for another tenant's
/// heads, and a frame takes the longest deadline, not the sum of them.
/// One thread at a time, like the strategies.
public final class TenantStrategies {
    /// In the order added.
    public private(set) var all: [TenantStrategy] = []
    /// The order votes are collected in: by head deadline.
    private var byDeadline: [TenantStrategy] = []

    public init() {}

    /// Puts `strategy` in place of the tenant's current one (nil removes it).
    public func replace(tenant: String, with strategy: TenantStrategy?) {
        all.removeAll { $0.tenant == tenant }
        byDeadline.removeAll { $0.tenant == tenant }
        if let strategy { add(strategy) }
    }

    public func add(_ strategy: TenantStrategy) {
        all.append(strategy)
        let position = byDeadline.firstIndex { $0.headDeadlineNs > strategy.headDeadlineNs } ?? byDeadline.endIndex
        byDeadline.insert(strategy, at: position)
    }

    public func onFrame(_ frame: UnsafePointer<ap_feature_frame>) {
        let start = DispatchTime.now()
        for strategy in byDeadline { strategy.beginFrame(frame, at: start) }
        for strategy in byDeadline { strategy.finishFrame(frame) }
    }
}
