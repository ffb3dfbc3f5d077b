import Foundation

/// Looks every 50 ms at the calls into plugins on `services` and hands the
/// first that has been running for `limitNs` or more to `overrun`, once.
/// A call is timed from the first look that saw it (its sequence number
/// unchanged since), so the watchdog costs the calls nothing. For a caller
/// that runs plugins on its own thread without a deadline of its own (a
/// backtest's heads): the watchdog is what ends a call that never returns,
/// since nothing can stop a thread stuck in a plugin.
public final class CallWatchdog: Sendable {
    private let stopped = DispatchSemaphore(value: 0)

    public init(services: HostServices, limitNs: UInt64, overrun: @escaping @Sendable (RunningCall) -> Void) {
        let thread = Thread { [stopped] in
            /// Per context: the call's sequence number and when a look first saw it.
            var firstSeen: [ObjectIdentifier: (sequence: UInt64, atNs: UInt64)] = [:]
            while stopped.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
                let now = DispatchTime.now().uptimeNanoseconds
                var seen: [ObjectIdentifier: (sequence: UInt64, atNs: UInt64)] = [:]
                for (context, _, sequence) in services.callsInProgress() {
                    let key = ObjectIdentifier(context)
                    let since = firstSeen[key].flatMap { $0.sequence == sequence ? $0.atNs : nil } ?? now
                    seen[key] = (sequence, since)
                    if now - since >= limitNs, let late = context.runningCall(forAtLeastNs: now - since) {
                        overrun(late)
                        return
                    }
                }
                firstSeen = seen
            }
        }
        thread.name = "alphaplus.call-watchdog"
        thread.start()
    }

    public func stop() { stopped.signal() }
}
