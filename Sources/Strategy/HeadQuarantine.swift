/// When a head that keeps failing is left alone (live invocation only):
/// after `failuresToQuarantine` failed calls in a row (errors and
/// timeouts) it is not called for a backoff that starts at `firstBackoffNs`
/// and doubles with every quarantine in a row, up to `maxBackoffNs`. After
/// the backoff one trial call decides: an answer ends the quarantine (and
/// resets the backoff), a failure starts the next one.
public struct HeadQuarantinePolicy: Sendable, Equatable {
    public var failuresToQuarantine: Int
    public var firstBackoffNs: Int64
    public var maxBackoffNs: Int64

    public init(failuresToQuarantine: Int = 5, firstBackoffNs: Int64 = 30_000_000_000, maxBackoffNs: Int64 = 900_000_000_000) {
        self.failuresToQuarantine = failuresToQuarantine
        self.firstBackoffNs = firstBackoffNs
        self.maxBackoffNs = maxBackoffNs
    }

    /// The backoff of the `quarantine`-th quarantine in a row (0 first).
    func backoffNs(quarantine: Int) -> Int64 {
        var backoff = firstBackoffNs
        for _ in 0..<quarantine where backoff < maxBackoffNs { backoff *= 2 }
        return min(backoff, maxBackoffNs)
    }
}

/// One head's run of failures and its quarantine. Numbers only: it lives
/// in the strategy's per-head array and costs no allocation per frame.
struct HeadHealth {
    private(set) var consecutiveFailures = 0
    /// Quarantines since the last answer.
    private(set) var quarantinesInARow = 0
    /// From a quarantine's start until a call answers (the trial included).
    private(set) var quarantined = false
    private(set) var untilNs: Int64 = 0
    private(set) var backoffNs: Int64 = 0

    /// Quarantined and its backoff not over: the head is not called.
    func resting(atNs now: Int64) -> Bool { quarantined && now < untilNs }

    /// An answer. The backoff of the quarantine it ends (the trial call
    /// answered), nil when there was none.
    mutating func answered() -> Int64? {
        defer { self = HeadHealth() }
        return quarantined ? backoffNs : nil
    }

    /// A failed call. True when it starts a quarantine (`backoffNs`,
    /// `untilNs`): the threshold reached, or the trial call failed.
    mutating func failed(atNs now: Int64, policy: HeadQuarantinePolicy) -> Bool {
        consecutiveFailures += 1
        guard quarantined || consecutiveFailures >= policy.failuresToQuarantine else { return false }
        backoffNs = policy.backoffNs(quarantine: quarantinesInARow)
        quarantinesInARow += 1
        quarantined = true
        untilNs = now + backoffNs
        return true
    }
}
