import CAlphaPlus
import Foundation

public enum LogLevel: UInt32, Sendable {
    case trace = 0, debug = 1, info = 2, warning = 3, error = 4
}

public struct TimerID: Hashable, Sendable {
    public let rawValue: UInt64
}

/// Safe access to the host's services for one instance (or, during init,
/// for the plugin). Every service is scoped to this instance by the host.
// @unchecked: the timers' callbacks are guarded by `lock`; the rest is immutable.
public final class PluginContext: @unchecked Sendable {
    let api: UnsafePointer<ap_host_api>
    let raw: OpaquePointer
    public let tenantID: String
    public let instanceID: String
    private let lock = NSLock()
    private var timers: [UInt64: () -> Void] = [:]
    private var oneShot: Set<UInt64> = []

    init(api: UnsafePointer<ap_host_api>, raw: OpaquePointer, tenantID: String, instanceID: String) {
        self.api = api
        self.raw = raw
        self.tenantID = tenantID
        self.instanceID = instanceID
    }

    // MARK: Logging

    public func log(_ level: LogLevel, _ message: String) {
        withAPStr(message) { api.pointee.log(raw, ap_log_level(level.rawValue), $0) }
    }
    public func debug(_ message: String) { log(.debug, message) }
    public func info(_ message: String) { log(.info, message) }
    public func warning(_ message: String) { log(.warning, message) }
    public func error(_ message: String) { log(.error, message) }

    // MARK: Clock

    /// Host time in ns since the Unix epoch (simulated in replays).
    public var nowNs: Int64 { api.pointee.now_ns(raw) }

    // MARK: Timers

    /// Runs `handler` after `delay`, then every `interval` if given, on the
    /// instance's executor, driven by the host's clock.
    @discardableResult
    public func startTimer(after delay: Duration, every interval: Duration? = nil,
                           _ handler: @escaping () -> Void) throws -> TimerID {
        var id: UInt64 = 0
        // Register before starting: the host may fire on another thread at once.
        lock.lock()
        defer { lock.unlock() }
        let status = api.pointee.timer_start(raw, delay.nanoseconds, interval?.nanoseconds ?? 0, { user, timerID in
            Unmanaged<PluginContext>.fromOpaque(user!).takeUnretainedValue().fire(timerID)
        }, Unmanaged.passUnretained(self).toOpaque(), &id)
        try check(status, "starting a timer")
        timers[id] = handler
        if interval == nil { oneShot.insert(id) }
        return TimerID(rawValue: id)
    }

    public func cancelTimer(_ id: TimerID) {
        _ = api.pointee.timer_cancel(raw, id.rawValue)
        lock.lock()
        timers[id.rawValue] = nil
        oneShot.remove(id.rawValue)
        lock.unlock()
    }

    /// Forgets every handler (the host cancelled the timers at destroy).
    func removeAllTimers() {
        lock.lock()
        timers.removeAll()
        oneShot.removeAll()
        lock.unlock()
    }

    private func fire(_ id: UInt64) {
        lock.lock()
        let handler = timers[id]
        if oneShot.remove(id) != nil { timers[id] = nil }
        lock.unlock()
        handler?()
    }

    // MARK: State

    /// This instance's durable value for `key`, nil if none.
    public func state(_ key: String) -> [UInt8]? {
        var value: [UInt8]?
        let status = withAPStr(key) { key in
            withUnsafeMutablePointer(to: &value) { box in
                api.pointee.state_get(raw, key, { user, bytes, len in
                    user!.assumingMemoryBound(to: [UInt8]?.self).pointee = Array(UnsafeBufferPointer(start: bytes, count: len))
                }, box)
            }
        }
        return status == AP_OK ? value : nil
    }

    public func setState(_ key: String, _ value: [UInt8]) throws {
        let status = withAPStr(key) { key in value.withUnsafeBufferPointer { api.pointee.state_set(raw, key, $0.baseAddress, $0.count) } }
        try check(status, "saving state '\(key)'")
    }

    public func removeState(_ key: String) throws {
        let status = withAPStr(key) { api.pointee.state_delete(raw, $0) }
        if status != AP_ERR_NOT_FOUND { try check(status, "deleting state '\(key)'") }
    }

    // MARK: Secrets

    /// A secret the operator configured for this instance, nil if none.
    public func secret(_ name: String) -> String? {
        var value: String?
        let status = withAPStr(name) { name in
            withUnsafeMutablePointer(to: &value) { box in
                api.pointee.secret_get(raw, name, { user, bytes, len in
                    user!.assumingMemoryBound(to: String?.self).pointee =
                        String(decoding: UnsafeBufferPointer(start: bytes, count: len), as: UTF8.self)
                }, box)
            }
        }
        return status == AP_OK ? value : nil
    }

    // MARK: Metrics

    public func count(_ name: String, by value: Double = 1) { record(AP_METRIC_COUNTER, name, value) }
    public func gauge(_ name: String, _ value: Double) { record(AP_METRIC_GAUGE, name, value) }
    public func observe(_ name: String, _ value: Double) { record(AP_METRIC_HISTOGRAM, name, value) }

    private func record(_ kind: ap_metric_kind, _ name: String, _ value: Double) {
        withAPStr(name) { api.pointee.metric_record(raw, kind, $0, value) }
    }

    // MARK: Market events

    /// Emits a market event (exchange plugins). Throws when the host
    /// refuses it as malformed.
    public func emit(_ event: MarketEvent) throws {
        let status = event.withCEvent { api.pointee.emit_event(raw, $0) }
        try check(status, "emitting an event")
    }

    private func check(_ status: ap_status, _ action: String) throws {
        guard status != AP_OK else { return }
        throw PluginError(status: status, "the host refused \(action) (status \(status))")
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
