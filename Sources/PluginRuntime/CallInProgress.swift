import Synchronization

/// The contract call an instance is in: written around every call into
/// the plugin as plain stores (no clock read, no allocation, no locked
/// instruction), read by whoever must say what a stuck host is waiting for
/// (the shutdown bound, a backtest's head deadline). How long a call has
/// run is measured by the watcher: a call is known by its sequence number,
/// and one seen again with the same number has not returned since.
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
    /// Calls begun. Written by the instance's one caller at a time (its
    /// executor, or a backtest's thread), so a load and a store suffice.
    private let sequence = Atomic<UInt64>(0)

    init() {}

    @inline(__always)
    func begin(_ call: Call) {
        sequence.store(sequence.load(ordering: .relaxed) &+ 1, ordering: .relaxed)
        self.call.store(call.rawValue, ordering: .releasing)
    }

    @inline(__always)
    func end() { call.store(0, ordering: .releasing) }

    /// The call running now and its sequence number, nil when none.
    func current() -> (call: Call, sequence: UInt64)? {
        guard let call = Call(rawValue: call.load(ordering: .acquiring)) else { return nil }
        return (call, sequence.load(ordering: .relaxed))
    }
}

/// A plugin call that has not returned, as the operator is told of it.
public struct RunningCall: Sendable, CustomStringConvertible {
    public let pluginID: String
    public let pluginVersion: String
    public let tenantID: String
    public let instanceID: String
    public let call: CallInProgress.Call
    /// How long it has been seen running: at least this long.
    public let runningNs: UInt64

    public var description: String {
        "plugin \(pluginID) \(pluginVersion), tenant \(tenantID), instance \(instanceID): \(call) running for at least "
            + "\(runningNs / 1_000_000) ms"
    }
}

extension HostContext {
    /// Runs `body` (a call into the plugin, on the executor) recorded as `call`.
    @inline(__always)
    func calling<R, E: Error>(_ call: CallInProgress.Call, _ body: () throws(E) -> R) throws(E) -> R {
        callInProgress.begin(call)
        defer { callInProgress.end() }
        return try body()
    }

    /// The call this context's instance is in, nil when none, described as
    /// running for at least `runningNs`.
    func runningCall(forAtLeastNs runningNs: UInt64) -> RunningCall? {
        guard let (call, _) = callInProgress.current() else { return nil }
        return RunningCall(pluginID: pluginID, pluginVersion: pluginVersion, tenantID: tenantID, instanceID: instanceID, call: call,
                           runningNs: runningNs)
    }
}

extension HostServices {
    /// Every call into a plugin on these services running now, described
    /// as running for at least `runningNs` (what the caller knows: how long
    /// it has waited).
    public func runningCalls(forAtLeastNs runningNs: UInt64) -> [RunningCall] {
        callsInProgress().compactMap { $0.context.runningCall(forAtLeastNs: runningNs) }
    }

    /// The contexts on these services with a call running, and its sequence number.
    func callsInProgress() -> [(context: HostContext, call: CallInProgress.Call, sequence: UInt64)] {
        LiveContexts.shared.all.filter { $0.services === self }.compactMap { context in
            context.callInProgress.current().map { (context, $0.call, $0.sequence) }
        }
    }
}
