import Dispatch
import Synchronization

/// How many lines one plugin context may log in a second of real time:
/// a plugin that logs every request it refuses (a flood of forged
/// webhooks) or loops on an error writes at most `linesPerSecond` lines a
/// second at the host's log level; the rest are counted, and the next line
/// after the second is over is a warning saying how many were dropped.
final class LogBudget: Sendable {
    static let linesPerSecond = 20

    private struct Window {
        var startedNs: UInt64 = 0
        var written = 0
        var dropped = 0
    }

    private let window = Mutex(Window())

    /// Whether a line may be written now, and how many were dropped in the
    /// window that just ended (to be reported once, before this line).
    func admit() -> (write: Bool, droppedBefore: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        return window.withLock { window in
            var droppedBefore = 0
            if now &- window.startedNs >= 1_000_000_000 {
                droppedBefore = window.dropped
                window = Window(startedNs: now)
            }
            guard window.written < Self.linesPerSecond else {
                window.dropped += 1
                return (false, droppedBefore)
            }
            window.written += 1
            return (true, droppedBefore)
        }
    }
}
