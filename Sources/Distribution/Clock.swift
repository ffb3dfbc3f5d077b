import Dispatch
import Foundation

/// The distributor's time: the wall clock live, a manual clock in tests
/// (tier delays and a platform's "retry in a minute" without waiting).
public protocol DistributionClock: AnyObject, Sendable {
    /// ns since the epoch.
    func nowNs() -> Int64
    /// Runs `action` once the clock reads `ns` or later (never earlier).
    func wake(atNs ns: Int64, _ action: @escaping @Sendable () -> Void)
}

/// `CLOCK_REALTIME`, with wake-ups on a global queue.
public final class WallClock: DistributionClock {
    public init() {}

    public func nowNs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    public func wake(atNs ns: Int64, _ action: @escaping @Sendable () -> Void) {
        let delay = ns - nowNs()
        guard delay > 0 else { return DispatchQueue.global().async(execute: action) }
        // The dispatch timer runs on uptime; if the wall clock was set back
        // meanwhile it fires early, so look again.
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(min(delay, Int64(Int32.max) * 1_000_000_000)))) {
            self.wake(atNs: ns, action)
        }
    }
}

/// A clock that moves only when told; the wake-ups it passes run on the
/// caller's thread before `set` or `advance` returns (each typically hands
/// work to a queue), so whatever they start is queued by then.
public final class ManualClock: DistributionClock, @unchecked Sendable {
    private let lock = NSLock()
    private var now: Int64
    private var wakes: [(ns: Int64, action: @Sendable () -> Void)] = []

    public init(startNs: Int64) { now = startNs }

    public func nowNs() -> Int64 { lock.withLock { now } }

    public func wake(atNs ns: Int64, _ action: @escaping @Sendable () -> Void) {
        let due = lock.withLock { () -> Bool in
            if ns <= now { return true }
            wakes.append((ns, action))
            return false
        }
        if due { DispatchQueue.global().async(execute: action) }
    }

    /// The earliest wake-up not run yet (nil: none), so a test or a
    /// benchmark can move the clock from one wake-up to the next.
    public var nextWakeNs: Int64? { lock.withLock { wakes.lazy.map(\.ns).min() } }

    public func advance(byNs delta: Int64) { set(toNs: nowNs() + delta) }

    public func advance(bySeconds seconds: Double) { advance(byNs: Int64(seconds * 1e9)) }

    /// Moves to `ns` (never back) and runs the wake-ups now due, in time order.
    public func set(toNs ns: Int64) {
        let due = lock.withLock { () -> [@Sendable () -> Void] in
            now = max(now, ns)
            let due = wakes.enumerated().filter { $0.element.ns <= now }
                .sorted { ($0.element.ns, $0.offset) < ($1.element.ns, $1.offset) }.map(\.element.action)
            wakes.removeAll { $0.ns <= now }
            return due
        }
        for action in due { action() }
    }
}
