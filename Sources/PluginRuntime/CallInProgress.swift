import Dispatch
import Synchronization

/// The contract call an instance is in, and since when: written around
/// every call into the plugin (two atomic stores, no allocation), read by
/// whoever must say what a stuck host is waiting for: the shutdown bound
/// and a backtest's head deadline.
public final class CallInProgress: Sendable {
    /// The contract function, named as `plugin.h` names it.
    public enum Call: UInt8, Sendable, CustomStringConvertible {
        case create = 1, start, subscribe, unsubscribe, stop, destroy, evaluate, onEvent, deliver, limitsForTarget, handle,
             timer, httpResponse

        public var description: String {
            switch self {
            case .create: "create"
            case .start: "start"
            case .subscribe: "subscribe"
            case .unsubscribe: "unsubscribe"
            case .stop: "stop"
            case .destroy: "destroy"
            case .evaluate: "evaluate"
            case .onEvent: "on_event"
            case .deliver: "deliver"
            case .limitsForTarget: "limits_for_target"
            case .handle: "handle"
            case .timer: "a timer callback"
            case .httpResponse: "an HTTP response callback"
            }
        }
    }

    private let call = Atomic<UInt8>(0)
    /// Uptime ns.
    private let startedNs = Atomic<UInt64>(0)

    init() {}

    @inline(__always)
    func begin(_ call: Call, atUptimeNs ns: UInt64) {
        startedNs.store(ns, ordering: .relaxed)
        self.call.store(call.rawValue, ordering: .releasing)
    }

    @inline(__always)
    func end() { call.store(0, ordering: .releasing) }

    /// The call running now and for how long (ns), nil when none.
    func current(atUptimeNs now: UInt64) -> (call: Call, runningNs: UInt64)? {
        guard let call = Call(rawValue: call.load(ordering: .acquiring)) else { return nil }
        let started = startedNs.load(ordering: .relaxed)
        return (call, now > started ? now - started : 0)
    }
}

/// A plugin call that has not returned, as the operator is told of it.
public struct RunningCall: Sendable, CustomStringConvertible {
    public let pluginID: String
    public let pluginVersion: String
    public let tenantID: String
    public let instanceID: String
    public let call: CallInProgress.Call
    public let runningNs: UInt64

    public var description: String {
        "plugin \(pluginID) \(pluginVersion), tenant \(tenantID), instance \(instanceID): \(call) running for "
            + "\(runningNs / 1_000_000) ms"
    }
}

extension HostContext {
    /// Runs `body` (a call into the plugin, on the executor) recorded as `call`.
    @inline(__always)
    func calling<R, E: Error>(_ call: CallInProgress.Call, _ body: () throws(E) -> R) throws(E) -> R {
        callInProgress.begin(call, atUptimeNs: DispatchTime.now().uptimeNanoseconds)
        defer { callInProgress.end() }
        return try body()
    }

    /// The call this context's instance is in, nil when none.
    func runningCall(atUptimeNs now: UInt64) -> RunningCall? {
        guard let (call, runningNs) = callInProgress.current(atUptimeNs: now) else { return nil }
        return RunningCall(pluginID: pluginID, pluginVersion: pluginVersion, tenantID: tenantID, instanceID: instanceID, call: call,
                           runningNs: runningNs)
    }
}

extension HostServices {
    /// Every call into a plugin, on these services, that has been running
    /// for at least `minimumNs`, longest first.
    public func runningCalls(longerThanNs minimumNs: UInt64 = 0) -> [RunningCall] {
        let now = DispatchTime.now().uptimeNanoseconds
        return LiveContexts.shared.all.filter { $0.services === self }
            .compactMap { $0.runningCall(atUptimeNs: now) }
            .filter { $0.runningNs >= minimumNs }
            .sorted { $0.runningNs > $1.runningNs }
    }
}
