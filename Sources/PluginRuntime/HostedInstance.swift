import AlphaPlusJSON
import CAlphaPlus
import Foundation

/// Why an instance could not be created or run, naming tenant, instance
/// and plugin.
public struct InstanceError: Error, CustomStringConvertible, Sendable {
    public let tenantID: String
    public let instanceID: String
    public let pluginID: String
    public let reason: String

    public var description: String { "tenant \(tenantID), instance \(instanceID) (plugin \(pluginID)): \(reason)" }
}

/// One plugin instance and its lifecycle: validate config → create →
/// start → stop → destroy. Every call into it runs on its context's serial
/// executor, so the plugin never sees two calls at once.
// @unchecked: `phase` is read and written on the context's executor only.
public final class HostedInstance: @unchecked Sendable {
    public enum Phase: Sendable { case created, started, stopped, destroyed }

    public let plugin: LoadedPlugin
    public let context: HostContext
    let raw: OpaquePointer
    /// Read and written on the executor only.
    private(set) var phase = Phase.created

    public var pluginID: String { plugin.id }
    public var tenantID: String { context.tenantID }
    public var instanceID: String { context.instanceID }
    public var currentPhase: Phase { context.executor.sync { phase } }

    /// Validates `config` against the plugin's schema, then creates the
    /// instance. Every schema violation is reported, not just the first.
    public init(plugin: LoadedPlugin, tenantID: String, instanceID: String, config: JSONValue,
                secrets: [String: String] = [:], services: HostServices) throws(InstanceError) {
        func failure(_ reason: String) -> InstanceError {
            InstanceError(tenantID: tenantID, instanceID: instanceID, pluginID: plugin.id, reason: reason)
        }
        let violations = plugin.configSchema.validate(config)
        guard violations.isEmpty else {
            throw failure("settings do not match the plugin's schema: " + violations.map(\.description).joined(separator: "; "))
        }
        let context: HostContext
        do {
            context = try services.instanceContext(pluginID: plugin.id, pluginVersion: plugin.version, tenantID: tenantID, instanceID: instanceID, secrets: secrets,
                                                   networkHosts: plugin.networkHosts, servicePermissions: plugin.servicePermissions)
        } catch {
            throw failure("its state cannot be loaded: \(error)")
        }
        var err = ap_error.empty()
        var created: OpaquePointer?
        let status = context.executor.sync { context.calling(.create) {
            withAPStr(tenantID) { tenant in
                withAPStr(instanceID) { instance in
                    withAPStr(config.jsonText) { json in
                        var args = ap_create_args(struct_size: UInt32(MemoryLayout<ap_create_args>.size),
                                                  host_context: context.opaque, tenant_id: tenant,
                                                  instance_id: instance, config_json: json)
                        return plugin.table.pointee.create(plugin.table, &args, &created, &err)
                    }
                }
            }
        } }
        guard status == AP_OK, let created else {
            services.release(context)
            let message = err.text.isEmpty ? "no message" : err.text
            throw failure("create failed (status \(status)): \(message)")
        }
        self.plugin = plugin
        self.context = context
        self.raw = created
    }

    /// Starts the instance (an exchange connector starts streaming).
    public func start() throws(InstanceError) {
        try onExecutor { () throws(InstanceError) in
            guard phase == .created || phase == .stopped else { return }
            if let exchange = plugin.exchange {
                var err = ap_error.empty()
                let status = context.calling(.start) { exchange.pointee.start(raw, &err) }
                guard status == AP_OK else { throw failure("start failed (status \(status)): \(err.text)") }
            }
            phase = .started
        }
    }

    /// Asks a started exchange instance to stream `symbol` (canonical).
    /// `streams` is a set of ap_stream_flags.
    public func subscribe(symbol: String, streams: UInt32, bookDepth: UInt32 = 0, candleIntervalSeconds: Int64 = 0) throws(InstanceError) {
        try onExecutor { () throws(InstanceError) in
            guard let exchange = plugin.exchange else { throw failure("plugin does not offer \(AP_CAPABILITY_EXCHANGE_V1)") }
            guard phase == .started else { throw failure("subscribe to \(symbol) before start") }
            var err = ap_error.empty()
            let status = withAPStr(symbol) { text in
                var subscription = ap_subscription(struct_size: UInt32(MemoryLayout<ap_subscription>.size), symbol: text,
                                                   streams: streams, book_depth: bookDepth,
                                                   candle_interval_s: candleIntervalSeconds)
                return context.calling(.subscribe) { exchange.pointee.subscribe(raw, &subscription, &err) }
            }
            guard status == AP_OK else { throw failure("subscribe to \(symbol) failed (status \(status)): \(err.text)") }
        }
    }

    /// Asks a started exchange instance to stop streaming `symbol`.
    public func unsubscribe(symbol: String) throws(InstanceError) {
        try onExecutor { () throws(InstanceError) in
            guard let exchange = plugin.exchange else { throw failure("plugin does not offer \(AP_CAPABILITY_EXCHANGE_V1)") }
            guard phase == .started else { return }
            var err = ap_error.empty()
            let status = withAPStr(symbol) { text in context.calling(.unsubscribe) { exchange.pointee.unsubscribe(raw, text, &err) } }
            guard status == AP_OK else { throw failure("unsubscribe from \(symbol) failed (status \(status)): \(err.text)") }
        }
    }

    public func stop() {
        context.executor.sync { stopOnExecutor() }
    }

    /// Stops if needed, cancels timers and releases the instance. No call
    /// reaches the plugin for it afterwards.
    public func destroy() {
        context.executor.sync { destroyOnExecutor() }
    }

    /// `destroy`, waiting for it at most until `deadline`. False when the
    /// executor did not come back by then: a call into the plugin that
    /// never returns (a head in an endless loop) holds it. The instance is
    /// then abandoned as it is (`runningCall` names what holds it); its
    /// destroy runs only if that call ever returns.
    public func destroy(before deadline: DispatchTime) -> Bool {
        let destroyed = DispatchSemaphore(value: 0)
        context.executor.async { [self] in
            destroyOnExecutor()
            destroyed.signal()
        }
        return destroyed.wait(timeout: deadline) == .success
    }

    /// The call into the plugin running now, nil when none, described as
    /// running for at least `runningNs` (how long the caller has waited).
    public func runningCall(forAtLeastNs runningNs: UInt64) -> RunningCall? { context.runningCall(forAtLeastNs: runningNs) }

    private func stopOnExecutor() {
        guard phase == .started else { return }
        if let exchange = plugin.exchange { context.calling(.stop) { exchange.pointee.stop(raw) } }
        context.cancelAllTimers()
        phase = .stopped
    }

    private func destroyOnExecutor() {
        stopOnExecutor()
        guard phase != .destroyed else { return }
        PendingDeliveries.shared.abandon(context)
        context.services.release(context)
        context.calling(.destroy) { plugin.table.pointee.destroy(plugin.table, raw) }
        phase = .destroyed
    }

    /// Asks a head for its vote on a frame; the vote is checked before use.
    public func evaluate(_ frame: UnsafePointer<ap_feature_frame>, into vote: UnsafeMutablePointer<ap_vote>) throws(InstanceError) {
        guard plugin.head != nil else { throw failure("plugin does not offer \(AP_CAPABILITY_HEAD_V1)") }
        try onExecutor { () throws(InstanceError) in
            guard let head = headEvaluator() else { throw failure("instance is destroyed") }
            var err = ap_error.empty()
            let status = head.evaluate(frame, vote, &err)  // recorded by the evaluator
            guard status == AP_OK else { throw failure("evaluate failed (status \(status)): \(err.text)") }
            guard vote.pointee.direction <= AP_DIRECTION_SHORT.rawValue else {
                throw failure("evaluate returned unknown direction \(vote.pointee.direction)")
            }
            guard vote.pointee.confidence >= 0, vote.pointee.confidence <= 1 else {
                throw failure("evaluate returned confidence \(vote.pointee.confidence), outside [0, 1]")
            }
        }
    }

    /// Hands a raw market event (news, say) to a head that takes them
    /// (`on_event`); false when the plugin has no `on_event`. The event is
    /// lent for the call only, so the call waits for the executor.
    @discardableResult
    public func onEvent(_ event: UnsafePointer<ap_event_header>) -> Bool {
        guard let onEvent = plugin.head?.pointee.on_event else { return false }
        return context.executor.sync {
            guard phase != .destroyed else { return false }
            context.calling(.onEvent) { onEvent(raw, event) }
            return true
        }
    }

    /// Runs `body` on the instance's executor with a direct evaluator, so a
    /// batch of frames costs one executor hop rather than one per frame.
    /// The evaluator must not escape `body`. Nil when the instance is
    /// destroyed or is not a head.
    public func withHead<R>(_ body: (HeadEvaluator?) throws -> R) rethrows -> R {
        try context.executor.sync { try body(headEvaluator()) }
    }

    /// The head's evaluator for an owner that is the instance's only caller
    /// (a backtest's own instances: no events, and timers that its manual
    /// clock fires from the same thread between two events), so each call
    /// skips the executor hop. Valid until `destroy`. Nil when the instance
    /// is destroyed or is not a head.
    public func exclusiveHeadEvaluator() -> HeadEvaluator? {
        context.executor.sync { headEvaluator() }
    }

    /// Only on the executor.
    func headEvaluator() -> HeadEvaluator? {
        guard phase != .destroyed, let head = plugin.head else { return nil }
        return HeadEvaluator(function: head.pointee.evaluate, instance: raw, callInProgress: context.callInProgress)
    }

    private func onExecutor(_ body: () throws(InstanceError) -> Void) throws(InstanceError) {
        let result: Result<Void, InstanceError> = context.executor.sync {
            do throws(InstanceError) { try body(); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    func failure(_ reason: String) -> InstanceError {
        InstanceError(tenantID: tenantID, instanceID: instanceID, pluginID: plugin.id, reason: reason)
    }
}

/// A head's evaluate bound to one instance: the contract call itself, with
/// no checks and no hops. Only valid inside `HostedInstance.withHead`.
public struct HeadEvaluator {
    let function: @convention(c) (OpaquePointer?, UnsafePointer<ap_feature_frame>?, UnsafeMutablePointer<ap_vote>?, UnsafeMutablePointer<ap_error>?) -> ap_status
    let instance: OpaquePointer
    /// The instance's record, which outlives any evaluator (the context
    /// keeps it); unowned so that a call retains nothing.
    unowned(unsafe) let callInProgress: CallInProgress

    /// Resets `vote` (struct_size set, the rest zero) and calls the head.
    @inline(__always)
    public func evaluate(_ frame: UnsafePointer<ap_feature_frame>, _ vote: UnsafeMutablePointer<ap_vote>,
                         _ error: UnsafeMutablePointer<ap_error>) -> ap_status {
        vote.pointee.struct_size = UInt32(MemoryLayout<ap_vote>.size)
        vote.pointee.direction = 0
        vote.pointee.confidence = 0
        vote.pointee.rationale_len = 0
        callInProgress.begin(.evaluate)
        defer { callInProgress.end() }
        return function(instance, frame, vote, error)
    }
}
