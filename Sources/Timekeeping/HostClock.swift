import Dispatch
import Foundation
import Synchronization

/// The host's one clock: what "now" is for plugins (`now_ns`, timers),
/// candles, strategies, distribution and the ingress. Live it is the wall
/// clock; in tests it moves only when told; in a backtest or a replay it is
/// the data's own time, moved by each event (`ManualClock` driven by the
/// runner).
///
/// Deadlines of plugin calls are not on this clock: a call's budget is
/// real time whatever the market's time is, so they stay on uptime.
public protocol HostClock: AnyObject, Sendable {
    /// ns since the Unix epoch.
    func nowNs() -> Int64
    /// Runs `action` once the clock reads `ns` or later (never earlier).
    /// The wall clock runs it on a global queue; a manual clock on the
    /// thread that moves the clock past `ns`.
    func wake(atNs ns: Int64, _ action: @escaping @Sendable () -> Void)
    /// Runs `action` on `queue` once the clock reads `ns` or later. A
    /// manual clock runs it with `queue.sync` from the thread that moves
    /// it, so the action is over when `set` returns (a backtest's timers
    /// fire in data order, between two events).
    func wake(atNs ns: Int64, on queue: DispatchQueue, _ action: @escaping @Sendable () -> Void)
}

/// `CLOCK_REALTIME`.
public final class WallClock: HostClock {
    public init() {}

    public func nowNs() -> Int64 { Self.realtimeNs() }

    /// The wall clock's reading without an instance (log lines of tools
    /// that have no host).
    public static func realtimeNs() -> Int64 {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
    }

    public func wake(atNs ns: Int64, _ action: @escaping @Sendable () -> Void) {
        wake(atNs: ns, on: .global(), action)
    }

    public func wake(atNs ns: Int64, on queue: DispatchQueue, _ action: @escaping @Sendable () -> Void) {
        let delay = ns - nowNs()
        guard delay > 0 else { return queue.async(execute: action) }
        // The dispatch timer runs on uptime; if the wall clock was set back
        // meanwhile it fires early, so look again.
        queue.asyncAfter(deadline: .now() + .nanoseconds(Int(min(delay, Int64(Int32.max) * 1_000_000_000)))) {
            self.wake(atNs: ns, on: queue, action)
        }
    }
}

/// A clock that moves only when told: tests, and the data's time in a
/// backtest. The wake-ups it passes run on the caller's thread before `set`
/// or `advance` returns, in time order.
public final class ManualClock: HostClock {
    private struct State {
        var now: Int64
        var wakes: [(ns: Int64, action: @Sendable () -> Void)] = []
        /// The earliest of `wakes` (`.max`: none), so that moving the clock
        /// with nothing due allocates nothing (once per event in a backtest).
        var earliestNs = Int64.max
        /// Wake-ups already due when asked, handed to a queue and not yet
        /// over (a zero-delay timer's chain, say).
        var dueInFlight = 0

        mutating func add(_ ns: Int64, _ action: @escaping @Sendable () -> Void) {
            wakes.append((ns, action))
            earliestNs = min(earliestNs, ns)
        }
    }

    private let state: Mutex<State>

    public init(startNs: Int64) { state = Mutex(State(now: startNs)) }

    public func nowNs() -> Int64 { state.withLock { $0.now } }

    public func wake(atNs ns: Int64, _ action: @escaping @Sendable () -> Void) {
        wake(atNs: ns, due: .global(), action, later: action)
    }

    public func wake(atNs ns: Int64, on queue: DispatchQueue, _ action: @escaping @Sendable () -> Void) {
        wake(atNs: ns, due: queue, action) { queue.sync(execute: action) }
    }

    /// A wake-up already due runs on `queue` at once (counted until it is
    /// over); a later one is kept as `later`.
    private func wake(atNs ns: Int64, due queue: DispatchQueue, _ action: @escaping @Sendable () -> Void,
                      later: @escaping @Sendable () -> Void) {
        let due = state.withLock { state -> Bool in
            if ns <= state.now {
                state.dueInFlight += 1
                return true
            }
            state.add(ns, later)
            return false
        }
        guard due else { return }
        queue.async { [self] in
            action()
            state.withLock { $0.dueInFlight -= 1 }
        }
    }

    /// True when no wake-up that was due when asked is still running or
    /// waiting for its queue: what a test waits for after moving the clock
    /// (work that chains zero-delay timers is over once this holds).
    public var isIdle: Bool { state.withLock { $0.dueInFlight == 0 } }

    /// The earliest wake-up not run yet (nil: none), so a test or a
    /// benchmark can move the clock from one wake-up to the next.
    public var nextWakeNs: Int64? { state.withLock { $0.earliestNs == .max ? nil : $0.earliestNs } }

    public func advance(byNs delta: Int64) { set(toNs: nowNs() + delta) }

    public func advance(bySeconds seconds: Double) { advance(byNs: Int64(seconds * 1e9)) }

    /// Moves to `ns` (never back) and runs the wake-ups now due, in time
    /// order (ties in the order asked).
    public func set(toNs ns: Int64) {
        let due = state.withLock { state -> [@Sendable () -> Void]? in
            state.now = max(state.now, ns)
            let now = state.now
            guard state.earliestNs <= now else { return nil }
            let due = state.wakes.enumerated().filter { $0.element.ns <= now }
                .sorted { ($0.element.ns, $0.offset) < ($1.element.ns, $1.offset) }.map(\.element.action)
            state.wakes.removeAll { $0.ns <= now }
            state.earliestNs = state.wakes.lazy.map(\.ns).min() ?? .max
            return due
        }
        due?.forEach { $0() }
    }
}
