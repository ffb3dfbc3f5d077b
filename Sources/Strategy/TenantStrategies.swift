import CAlphaPlus
import Dispatch
import Synchronization
import Trading

/// Several tenants' strategies fed the same frames (the live host). Each
/// frame starts every tenant's head calls first, then collects each
/// tenant's votes against its own deadline from that common start, the
/// shortest deadline first: a tenant never waits for another tenant's
/// heads, and a frame takes the longest deadline, not the sum of them.
///
/// Frames, replacements and reads of the list take one lock, so a reload
/// replacing a tenant's strategy never lands in the middle of a frame and
/// a summary never reads counters a frame is writing.
public final class TenantStrategies: Sendable {
    private struct Lists {
        /// In the order added.
        var all: [TenantStrategy] = []
        /// The order votes are collected in: by head deadline.
        var byDeadline: [TenantStrategy] = []

        mutating func replace(tenant: String, with strategy: TenantStrategy?) {
            all.removeAll { $0.tenant == tenant }
            byDeadline.removeAll { $0.tenant == tenant }
            guard let strategy else { return }
            all.append(strategy)
            let position = byDeadline.firstIndex { $0.headDeadlineNs > strategy.headDeadlineNs } ?? byDeadline.endIndex
            byDeadline.insert(strategy, at: position)
        }
    }

    private let lists = Mutex(Lists())

    public init() {}

    /// The strategies now, in the order added. Read them (their counters,
    /// their book) inside `withStrategies` instead while frames may run.
    public var all: [TenantStrategy] { lists.withLock { $0.all } }

    /// Runs `body` with the strategies while no frame is being handled.
    public func withStrategies<R>(_ body: ([TenantStrategy]) throws -> R) rethrows -> R {
        try lists.withLock { try body($0.all) }
    }

    /// Puts `strategy` in place of the tenant's current one (nil removes
    /// it), between two frames; `handOver` runs just before, in the same
    /// pause, with the strategy being replaced (to take over its record).
    public func replace(tenant: String, with strategy: TenantStrategy?, handOver: (TenantStrategy?) -> Void = { _ in }) {
        lists.withLock { lists in
            handOver(lists.all.first { $0.tenant == tenant })
            lists.replace(tenant: tenant, with: strategy)
        }
    }

    public func add(_ strategy: TenantStrategy) {
        lists.withLock { $0.replace(tenant: strategy.tenant, with: strategy) }
    }

    /// Hands a news event to the heads that take raw events (`on_event`):
    /// the list is read under the lock, the heads are called outside it,
    /// so a busy head never holds up the frames.
    public func deliverNews(_ event: UnsafePointer<ap_event_header>) {
        for strategy in all {
            for head in strategy.heads { head.instance?.onEvent(event) }
        }
    }

    public func onFrame(_ frame: UnsafePointer<ap_feature_frame>) {
        lists.withLock { lists in
            let start = DispatchTime.now()
            for strategy in lists.byDeadline { strategy.beginFrame(frame, at: start) }
            for strategy in lists.byDeadline { strategy.finishFrame(frame) }
        }
    }
}
