import Foundation
import Logging
import Metrics

/// Why the server refused a connection or a request: the label of
/// `alphaplus_http_refusals_total` and the summary lines' names.
public enum RefusalReason: String, CaseIterable, Sendable {
    /// The server's connection cap (max_connections, or the open-file limit less reserved_files) was reached.
    case connectionLimit = "connection_limit"
    /// The source's connection cap (max_connections_per_source) was reached.
    case sourceConnectionLimit = "source_connection_limit"
    /// A request head not complete within header_timeout_ms.
    case headerTimeout = "header_timeout"
    /// A request body not complete within body_timeout_ms.
    case bodyTimeout = "body_timeout"
    /// An admin request without a valid token (401).
    case unauthorized
    /// An admin request from a source throttled after failed authentications (429).
    case authThrottled = "auth_throttled"
    /// A webhook the host refused before its plugin (unknown path, body too large or late, instance not running).
    case webhookRefused = "webhook_refused"
    /// A webhook its plugin answered with a 4xx (e.g. a bad signature).
    case webhookRejected = "webhook_rejected"
}

/// Log lines about refusals, bounded: per reason, the first
/// `fullLinesPerInterval` of each interval are logged in full, the rest
/// only counted, and one summary line per interval says how many were not
/// logged. Every refusal is counted in `alphaplus_http_refusals_total{reason}`.
// @unchecked: the interval's counts are guarded by `lock`.
final class RefusalLog: @unchecked Sendable {
    static let metricLabel = "alphaplus_http_refusals_total"
    static let fullLinesPerInterval = 5

    private let logger: Logger
    private let interval: Duration
    private let counters: [RefusalReason: Counter]
    private let lock = NSLock()
    private var intervalStart = ContinuousClock.now
    private var logged: [RefusalReason: Int] = [:]
    private var suppressed: [RefusalReason: Int] = [:]

    init(logger: Logger, interval: Duration, factory: any MetricsFactory) {
        self.logger = logger
        self.interval = interval
        counters = Dictionary(uniqueKeysWithValues: RefusalReason.allCases.map {
            ($0, Counter(label: Self.metricLabel, dimensions: [("reason", $0.rawValue)], factory: factory))
        })
    }

    /// Counts the refusal and logs `line` at `level` unless this interval
    /// already logged its share of `reason`.
    func refused(_ reason: RefusalReason, level: Logger.Level = .notice, logger requestLogger: Logger? = nil,
                 _ line: @autoclosure () -> String) {
        counters[reason]?.increment()
        flushIfDue()
        let full = lock.withLock { () -> Bool in
            if logged[reason, default: 0] < Self.fullLinesPerInterval {
                logged[reason, default: 0] += 1
                return true
            }
            suppressed[reason, default: 0] += 1
            return false
        }
        if full { (requestLogger ?? logger).log(level: level, "\(line())") }
    }

    /// Ends the interval when it is over: one summary line if anything was
    /// not logged. The server calls it every interval, and each refusal does.
    func flushIfDue() {
        let summary = lock.withLock { () -> [RefusalReason: Int]? in
            guard ContinuousClock.now - intervalStart >= interval else { return nil }
            return endInterval()
        }
        if let summary { log(summary) }
    }

    /// Ends the interval now (the server stopping): the summary of what was not logged.
    func flush() {
        log(lock.withLock { endInterval() })
    }

    private func endInterval() -> [RefusalReason: Int] {
        let ended = suppressed
        intervalStart = .now
        logged = [:]
        suppressed = [:]
        return ended
    }

    /// "60 s", or "250 ms" below a second.
    static func shown(_ duration: Duration) -> String {
        let milliseconds = WebhookRoute.milliseconds(duration)
        return milliseconds >= 1000 && milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }

    private func log(_ summary: [RefusalReason: Int]) {
        guard !summary.isEmpty else { return }
        let total = summary.values.reduce(0, +)
        let counts = RefusalReason.allCases.compactMap { reason in summary[reason].map { "\(reason.rawValue): \($0)" } }
        logger.notice("http: \(total) more refusals not logged in the last \(Self.shown(interval)) (\(counts.joined(separator: ", "))); alphaplus_http_refusals_total counts them all")
    }
}
