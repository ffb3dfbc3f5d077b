import AlphaPlusSDK  // Delivery and RateLimit: the same records the plugins use
import CAlphaPlus
import Dispatch
import Foundation
import Logging

/// How one delivery ended, as the host read the plugin's
/// `ap_delivery_result` (or decided for it: an error from `deliver`, no
/// `done` before the deadline, the instance destroyed meanwhile).
public struct ChannelReport: Sendable, Equatable {
    public enum Outcome: String, Sendable {
        case delivered
        /// Not delivered; try again (no earlier than `retryAfterMs` when > 0).
        case retry
        /// Never deliverable as it is.
        case permanentFailure = "permanent_failure"
        /// The destination no longer exists.
        case destinationGone = "destination_gone"
    }

    public var outcome: Outcome
    /// ≥ 0 (a negative value from a plugin reads as 0).
    public var retryAfterMs: Int64
    public var externalID: String
    /// For the operator: what the platform, the plugin or the host said.
    public var reason: String
    /// Non-empty when the destination moved: the target to use from now on.
    public var updatedTargetJSON: String
    /// ≥ 0; ABI 1.1, read only when the result's struct_size covers it.
    public var pauseDestinationMs: Int64
    /// The plugin did not call `done` before the deadline (a retry).
    public var timedOut: Bool

    public init(_ outcome: Outcome, retryAfterMs: Int64 = 0, externalID: String = "", reason: String = "",
                updatedTargetJSON: String = "", pauseDestinationMs: Int64 = 0, timedOut: Bool = false) {
        self.outcome = outcome
        self.retryAfterMs = retryAfterMs
        self.externalID = externalID
        self.reason = reason
        self.updatedTargetJSON = updatedTargetJSON
        self.pauseDestinationMs = pauseDestinationMs
        self.timedOut = timedOut
    }

    /// Reads a plugin's result: fields beyond its struct_size count as absent.
    init(_ raw: UnsafePointer<ap_delivery_result>?) {
        guard let raw else {
            self.init(.permanentFailure, reason: "done was called without a result")
            return
        }
        let result = raw.pointee
        let size = Int(result.struct_size)
        guard size >= ABI.deliveryResultSize else {
            self.init(.permanentFailure, reason: "the delivery result's struct_size \(size) is smaller than its ABI 1.0 size \(ABI.deliveryResultSize)")
            return
        }
        let outcome: Outcome
        switch result.outcome {
        case UInt32(AP_DELIVERY_DELIVERED.rawValue): outcome = .delivered
        case UInt32(AP_DELIVERY_RETRY.rawValue): outcome = .retry
        case UInt32(AP_DELIVERY_PERMANENT_FAILURE.rawValue): outcome = .permanentFailure
        case UInt32(AP_DELIVERY_DESTINATION_GONE.rawValue): outcome = .destinationGone
        default:
            self.init(.permanentFailure, reason: "the delivery result's outcome \(result.outcome) is not one of 1 (delivered), 2 (retry), 3 (permanent failure), 4 (destination gone)")
            return
        }
        self.init(outcome, retryAfterMs: max(0, result.retry_after_ms), externalID: result.external_id.string,
                  reason: result.reason.string, updatedTargetJSON: result.updated_target_json.string,
                  pauseDestinationMs: size >= ABI.deliveryResultPauseEnd ? max(0, result.pause_destination_ms) : 0)
    }
}

extension HostedInstance {
    /// How long the host waits for a delivery's `done` before counting the
    /// attempt as failed (retryable).
    public static let defaultDeliveryDeadline: Duration = .seconds(60)

    public var isChannel: Bool { plugin.channel != nil }

    /// Hands one message to the channel on the instance's executor and
    /// returns at once. `completion` runs exactly once, on an arbitrary
    /// thread: with the plugin's result; with a permanent failure when
    /// `deliver` returns an error; with a retry when `done` does not come
    /// within `deadline` of the call starting, or the instance is destroyed
    /// first. A `done` after that, or a second one, is ignored and logged.
    public func deliver(_ delivery: Delivery, deadline: Duration = HostedInstance.defaultDeliveryDeadline,
                        completion: @escaping @Sendable (ChannelReport) -> Void) {
        guard plugin.channel != nil else {
            completion(ChannelReport(.permanentFailure, reason: "plugin \(plugin.id) does not offer \(AP_CAPABILITY_CHANNEL_V1)"))
            return
        }
        let call = PendingDeliveries.shared.register(context: context, delivery: delivery, deadline: deadline,
                                                     completion: completion)
        // The deadline runs from now: a channel whose executor is stuck in
        // an earlier call fails its queued deliveries too, instead of
        // holding them forever.
        call.startDeadline()
        context.executor.async { [self] in
            guard phase != .destroyed else {
                PendingDeliveries.shared.finish(call.token, ChannelReport(.retry, reason: "the channel instance was destroyed"))
                PendingDeliveries.shared.callReturned(call)
                return
            }
            // Given up on while it waited for the executor: not sent at all.
            guard PendingDeliveries.shared.isPending(call) else {
                PendingDeliveries.shared.callReturned(call)
                return
            }
            var err = ap_error.empty()
            let status = context.calling(.deliver) { plugin.channel!.pointee.deliver(raw, call.message, deliveryDone, call.doneContext, &err) }
            if status != AP_OK {
                let reason = "deliver failed (status \(status))" + (err.text.isEmpty ? "" : ": \(err.text)")
                if !PendingDeliveries.shared.finish(call.token, ChannelReport(.permanentFailure, reason: reason)) {
                    context.logger.warning("delivery \(delivery.idempotencyKey): deliver returned status \(status) after its done was called (the contract allows one or the other): the done stands")
                }
            }
            PendingDeliveries.shared.callReturned(call)
        }
    }

    /// The limits the channel declares for `targetJSON` (`ap.rate-limits.v1`),
    /// or nil when the plugin does not offer them. Throws the plugin's
    /// refusal (a target it cannot use) or a malformed limit.
    public func rateLimits(forTarget targetJSON: String) throws(InstanceError) -> [RateLimit]? {
        guard let table = plugin.rateLimits else { return nil }
        let outcome: Result<[RateLimit], InstanceError> = context.executor.sync {
            guard phase != .destroyed else { return .failure(failure("instance is destroyed")) }
            var limits: [RateLimit] = []
            var err = ap_error.empty()
            let status = withAPStr(targetJSON) { target in
                withUnsafeMutablePointer(to: &limits) { box in
                    context.calling(.limitsForTarget) { table.pointee.limits_for_target(raw, target, { user, raw, count in
                        user?.assumingMemoryBound(to: [RateLimit].self).pointee += RateLimit.from(raw, count: count)
                    }, box, &err) }
                }
            }
            guard status == AP_OK else {
                return .failure(failure("limits_for_target failed (status \(status))" + (err.text.isEmpty ? "" : ": \(err.text)")))
            }
            if let bad = limits.firstIndex(where: { $0.bucket.isEmpty || $0.capacity < 1 || $0.windowMs < 1 }) {
                return .failure(failure("limits_for_target returned limit \(bad) (\(limits[bad])): a limit needs a bucket name, a capacity ≥ 1 and a window ≥ 1 ms"))
            }
            return .success(limits)
        }
        return try outcome.get()
    }
}

/// The `done` every delivery gets. `done_context` is a token, not an
/// address: it is looked up, never dereferenced, so a `done` after the
/// host gave up, or a second one, finds nothing and is ignored.
private let deliveryDone: ap_delivery_done_fn = { doneContext, result in
    let token = UInt(bitPattern: doneContext)
    PendingDeliveries.shared.finish(token, ChannelReport(result), fromPlugin: true)
}

/// One delivery between `deliver` and its end. Owns the message lent to
/// the plugin, freed once the delivery ended and the `deliver` call
/// returned (a plugin may call `done` inside `deliver`, and a call may
/// outlive its deadline).
// @unchecked: `ended` and `returned` are guarded by PendingDeliveries' lock; the message memory is freed once, after both.
final class PendingDelivery: @unchecked Sendable {
    let token: UInt
    let context: HostContext
    let key: String
    let completion: @Sendable (ChannelReport) -> Void
    let message: UnsafeMutablePointer<ap_delivery>
    private let bytes: UnsafeMutablePointer<UInt8>
    /// When the host took the delivery (its duration runs from here).
    let started = DispatchTime.now()
    /// Guarded by the registry's lock.
    var ended = false
    var returned = false
    private let deadlineSeconds: Double
    /// Ends the delivery as a retry when the deadline passes first.
    private let expiry: DispatchWorkItem

    init(token: UInt, context: HostContext, delivery: Delivery, deadline: Duration,
         completion: @escaping @Sendable (ChannelReport) -> Void) {
        self.token = token
        self.context = context
        self.key = delivery.idempotencyKey
        self.completion = completion
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        deadlineSeconds = seconds
        expiry = DispatchWorkItem {
            PendingDeliveries.shared.finish(token, ChannelReport(
                .retry, reason: "the plugin did not complete the delivery within \(String(format: "%g", seconds)) s", timedOut: true))
        }
        let fields = [delivery.idempotencyKey, delivery.targetJSON, delivery.kind, delivery.tier, delivery.text, delivery.payloadJSON]
            .map { Array($0.utf8) }
        bytes = .allocate(capacity: max(1, fields.reduce(0) { $0 + $1.count }))
        var strings: [ap_str] = []
        var offset = 0
        for field in fields {
            let start = bytes + offset
            field.withUnsafeBufferPointer { if let base = $0.baseAddress { start.update(from: base, count: field.count) } }
            strings.append(ap_str(ptr: UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self), len: field.count))
            offset += field.count
        }
        message = .allocate(capacity: 1)
        message.initialize(to: ap_delivery(struct_size: UInt32(MemoryLayout<ap_delivery>.size), idempotency_key: strings[0],
                                           attempt: UInt32(clamping: delivery.attempt), target_json: strings[1], kind: strings[2],
                                           tier: strings[3], text: strings[4], payload_json: strings[5]))
    }

    var doneContext: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: token) }

    /// Counts the deadline from now.
    func startDeadline() {
        DispatchQueue.global().asyncAfter(deadline: .now() + deadlineSeconds, execute: expiry)
    }

    /// The delivery ended before its deadline.
    func cancelDeadline() { expiry.cancel() }

    func freeMessage() {
        message.deallocate()
        bytes.deallocate()
    }
}

/// Every delivery in progress in the process, by token, and the most
/// recent ended ones (so a late or second `done` is logged against its
/// instance). Process-wide like the contexts: `done` is one C function.
// @unchecked: the pending and ended tables are guarded by `lock`.
final class PendingDeliveries: @unchecked Sendable {
    static let shared = PendingDeliveries()
    private static let remembered = 4096
    private let lock = NSLock()
    private var pending: [UInt: PendingDelivery] = [:]
    private var ended: [UInt: (context: HostContext, key: String, how: String)] = [:]
    private var endedOrder: [UInt] = []
    private var nextToken: UInt = 1
    private let logger = Logger(label: "alphaplus.plugins")

    func register(context: HostContext, delivery: Delivery, deadline: Duration,
                  completion: @escaping @Sendable (ChannelReport) -> Void) -> PendingDelivery {
        lock.withLock {
            defer { nextToken += 1 }
            let call = PendingDelivery(token: nextToken, context: context, delivery: delivery, deadline: deadline, completion: completion)
            pending[nextToken] = call
            return call
        }
    }

    /// Ends the delivery with `report` and runs its completion; false when
    /// it had already ended (then a plugin's call is logged and counted).
    @discardableResult
    func finish(_ token: UInt, _ report: ChannelReport, fromPlugin: Bool = false) -> Bool {
        let (call, free, previous) = lock.withLock { () -> (PendingDelivery?, Bool, (context: HostContext, key: String, how: String)?) in
            guard let call = pending.removeValue(forKey: token) else { return (nil, false, ended[token]) }
            call.ended = true
            remember(token, (call.context, call.key, report.timedOut ? "given up on after its deadline" : "completed"))
            return (call, call.returned, nil)
        }
        guard let call else {
            guard fromPlugin else { return false }
            if let previous {
                previous.context.logger.warning("delivery \(previous.key): done was called again after the delivery was \(previous.how): ignored")
                previous.context.services.count("delivery_done_ignored", previous.context)
                previous.context.metrics.countDoneIgnored()
            } else {
                logger.warning("a plugin called a delivery's done with an unknown done_context (\(token)): ignored")
            }
            return false
        }
        if report.timedOut {
            call.context.logger.warning("delivery \(call.key): no done within the deadline: counted as a failed attempt")
        } else {
            call.cancelDeadline()
        }
        call.context.metrics.recordDeliveryDuration(nanoseconds: DispatchTime.now().nanoseconds(since: call.started))
        if free { call.freeMessage() }
        call.completion(report)
        return true
    }

    func isPending(_ call: PendingDelivery) -> Bool { lock.withLock { !call.ended } }

    /// The plugin's `deliver` returned: the message may go once the delivery ended.
    func callReturned(_ call: PendingDelivery) {
        let free = lock.withLock { () -> Bool in
            call.returned = true
            return call.ended
        }
        if free { call.freeMessage() }
    }

    /// Ends every delivery of `context` (its instance is being destroyed).
    func abandon(_ context: HostContext) {
        let tokens = lock.withLock { pending.values.filter { $0.context === context }.map(\.token) }
        for token in tokens { finish(token, ChannelReport(.retry, reason: "the channel instance was destroyed")) }
    }

    /// Only under the lock.
    private func remember(_ token: UInt, _ entry: (context: HostContext, key: String, how: String)) {
        ended[token] = entry
        endedOrder.append(token)
        if endedOrder.count > Self.remembered * 2 {
            for old in endedOrder.prefix(Self.remembered) { ended[old] = nil }
            endedOrder.removeFirst(Self.remembered)
        }
    }
}
