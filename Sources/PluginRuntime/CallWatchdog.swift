import Foundation

/// Looks every 50 ms for a plugin call on `services` that has run longer
/// than `limitNs` and hands the first it finds to `overrun`, once. For a
/// caller that runs plugins on its own thread without a deadline of its
/// own (a backtest's heads): the watchdog is what ends a call that never
/// returns, since nothing can stop a thread stuck in a plugin.
public final class CallWatchdog: Sendable {
    private let stopped = DispatchSemaphore(value: 0)

    public init(services: HostServices, limitNs: UInt64, overrun: @escaping @Sendable (RunningCall) -> Void) {
        let thread = Thread { [stopped] in
            while stopped.wait(timeout: .now() + .milliseconds(50)) == .timedOut {
                if let late = services.runningCalls(longerThanNs: limitNs).first {
                    overrun(late)
                    return
                }
            }
        }
        thread.name = "alphaplus.call-watchdog"
        thread.start()
    }

    public func stop() { stopped.signal() }
}
