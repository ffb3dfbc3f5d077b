import Synchronization

/// What `/readyz` reports: named checks, each ready or waiting for a
/// reason. Ready when every check is; the host marks them as it starts up
/// (store, plugins, distributor) and marks itself not ready when it begins
/// shutting down.
public final class Readiness: Sendable {
    /// In the order given; nil when ready.
    private let checks: Mutex<[(name: String, waiting: String?)]>

    /// `waitingFor`: each check with why it is not ready yet.
    public init(waitingFor checks: [(name: String, reason: String)]) {
        self.checks = Mutex(checks.map { ($0.name, $0.reason) })
    }

    public func markReady(_ name: String) { set(name, nil) }

    public func markNotReady(_ name: String, reason: String) { set(name, reason) }

    /// Every check, in order, with nil for ready or why it is not.
    public var report: [(name: String, waiting: String?)] { checks.withLock { $0 } }

    private func set(_ name: String, _ waiting: String?) {
        checks.withLock { checks in
            if let index = checks.firstIndex(where: { $0.name == name }) {
                checks[index].waiting = waiting
            } else {
                checks.append((name, waiting))
            }
        }
    }
}
