import Foundation

/// Failed admin authentications per source address: after `allowed`
/// failures a source is throttled for `backoff`, each further failure
/// doubles that up to `maxBackoff`. While throttled its admin requests are
/// answered 429 without looking at the token. A success forgets the
/// source; so does twice `maxBackoff` without a failure. At most `maxSources`
/// are remembered (the longest quiet ones are forgotten first).
// @unchecked: `records` is guarded by `lock`.
final class AuthThrottle: @unchecked Sendable {
    static let maxSources = 10_000

    private struct Record {
        var failures: Int
        var lastFailure: ContinuousClock.Instant
        var throttledUntil: ContinuousClock.Instant?
    }

    private let allowed: Int
    private let backoff: Duration
    private let maxBackoff: Duration
    /// How long a source's failures are remembered after its last one.
    private var memory: Duration { maxBackoff * 2 }
    private let lock = NSLock()
    private var records: [String: Record] = [:]

    init(allowed: Int, backoff: Duration, maxBackoff: Duration) {
        self.allowed = allowed
        self.backoff = backoff
        self.maxBackoff = max(backoff, maxBackoff)
    }

    /// How long `source` is still throttled, or nil when it is not.
    func throttled(_ source: String, now: ContinuousClock.Instant = .now) -> Duration? {
        lock.withLock {
            guard let until = records[source]?.throttledUntil, until > now else { return nil }
            return until - now
        }
    }

    /// Records a failure; returns the throttle it starts, if any.
    @discardableResult
    func failed(_ source: String, now: ContinuousClock.Instant = .now) -> Duration? {
        lock.withLock {
            var record = records[source].flatMap { remembered($0, now: now) ? $0 : nil }
                ?? Record(failures: 0, lastFailure: now, throttledUntil: nil)
            record.failures += 1
            record.lastFailure = now
            var started: Duration?
            if record.failures >= allowed {
                let doublings = min(record.failures - allowed, 62)
                let wait = doublings >= 32 ? maxBackoff : min(maxBackoff, backoff * (1 << doublings))
                record.throttledUntil = now + wait
                started = wait
            }
            if records[source] == nil, records.count >= Self.maxSources { forgetQuietest(now: now) }
            records[source] = record
            return started
        }
    }

    /// A source that authenticated starts afresh.
    func succeeded(_ source: String) {
        lock.withLock { _ = records.removeValue(forKey: source) }
    }

    /// Sources remembered now (tests: the table stays bounded).
    var count: Int { lock.withLock { records.count } }

    private func remembered(_ record: Record, now: ContinuousClock.Instant) -> Bool {
        now - record.lastFailure < memory || (record.throttledUntil.map { $0 > now } ?? false)
    }

    private func forgetQuietest(now: ContinuousClock.Instant) {
        records = records.filter { remembered($0.value, now: now) }
        if records.count >= Self.maxSources, let quietest = records.min(by: { $0.value.lastFailure < $1.value.lastFailure }) {
            records.removeValue(forKey: quietest.key)
        }
    }
}
