import CAlphaPlus

/// One message for one destination (copied out of the host's ap_delivery).
public struct Delivery: Sendable, Equatable {
    public var idempotencyKey: String
    public var attempt: Int
    /// The destination as configured, a JSON object.
    public var targetJSON: String
    public var kind: String
    public var tier: String
    public var text: String
    public var payloadJSON: String

    public init(idempotencyKey: String, attempt: Int = 1, targetJSON: String, kind: String = "signal",
                tier: String = "premium", text: String, payloadJSON: String = "{}") {
        self.idempotencyKey = idempotencyKey
        self.attempt = attempt
        self.targetJSON = targetJSON
        self.kind = kind
        self.tier = tier
        self.text = text
        self.payloadJSON = payloadJSON
    }

    init(_ raw: UnsafePointer<ap_delivery>) {
        let d = raw.pointee
        self.init(idempotencyKey: d.idempotency_key.string, attempt: Int(d.attempt), targetJSON: d.target_json.string,
                  kind: d.kind.string, tier: d.tier.string, text: d.text.string, payloadJSON: d.payload_json.string)
    }

    /// Lends the delivery as its C struct.
    public func withCDelivery<R>(_ body: (UnsafePointer<ap_delivery>) throws -> R) rethrows -> R {
        try withAPStrs([idempotencyKey, targetJSON, kind, tier, text, payloadJSON]) { s in
            var raw = ap_delivery(struct_size: UInt32(MemoryLayout<ap_delivery>.size), idempotency_key: s[0],
                                  attempt: UInt32(attempt), target_json: s[1], kind: s[2], tier: s[3], text: s[4],
                                  payload_json: s[5])
            return try body(&raw)
        }
    }
}

public enum DeliveryOutcome: UInt32, Sendable {
    case delivered = 1
    case retry = 2
    case permanentFailure = 3
    case destinationGone = 4
}

public struct DeliveryResult: Sendable, Equatable {
    public var outcome: DeliveryOutcome
    public var retryAfterMs: Int64
    public var externalID: String
    public var reason: String
    public var updatedTargetJSON: String
    /// Send nothing more to this destination for this long (the platform
    /// said its budget is spent even though this message went through).
    public var pauseDestinationMs: Int64

    public init(_ outcome: DeliveryOutcome, retryAfterMs: Int64 = 0, externalID: String = "", reason: String = "",
                updatedTargetJSON: String = "", pauseDestinationMs: Int64 = 0) {
        self.outcome = outcome
        self.retryAfterMs = retryAfterMs
        self.externalID = externalID
        self.reason = reason
        self.updatedTargetJSON = updatedTargetJSON
        self.pauseDestinationMs = pauseDestinationMs
    }

    /// Reads a result as the host does: fields beyond `struct_size` (a
    /// plugin built against an older header) count as absent.
    public init(_ raw: UnsafePointer<ap_delivery_result>) {
        let r = raw.pointee
        let pauseEnd = MemoryLayout<ap_delivery_result>.offset(of: \.pause_destination_ms)! + MemoryLayout<Int64>.size
        self.init(DeliveryOutcome(rawValue: r.outcome) ?? .permanentFailure, retryAfterMs: r.retry_after_ms,
                  externalID: r.external_id.string, reason: r.reason.string,
                  updatedTargetJSON: r.updated_target_json.string,
                  pauseDestinationMs: Int(r.struct_size) >= pauseEnd ? r.pause_destination_ms : 0)
    }
}

/// Completes one delivery. Call exactly once; later calls are ignored.
// @unchecked: `completed` is set once, on the instance's executor, where the contract makes every call.
public final class DeliveryCompletion: @unchecked Sendable {
    private let done: ap_delivery_done_fn
    private let doneContext: UnsafeMutableRawPointer?
    private var completed = false

    init(done: ap_delivery_done_fn, doneContext: UnsafeMutableRawPointer?) {
        self.done = done
        self.doneContext = doneContext
    }

    /// Makes later calls do nothing (the delivery failed synchronously).
    func disarm() { completed = true }

    public func callAsFunction(_ result: DeliveryResult) {
        guard !completed else { return }
        completed = true
        withAPStrs([result.externalID, result.reason, result.updatedTargetJSON]) { s in
            var raw = ap_delivery_result(struct_size: UInt32(MemoryLayout<ap_delivery_result>.size),
                                         outcome: result.outcome.rawValue, retry_after_ms: result.retryAfterMs,
                                         external_id: s[0], reason: s[1], updated_target_json: s[2],
                                         pause_destination_ms: result.pauseDestinationMs)
            done(doneContext, &raw)
        }
    }
}

/// A platform limit: at most `capacity` sends in any `windowMs` window for
/// every destination naming `bucket` (buckets are per instance).
public struct RateLimit: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var bucket: String
    public var capacity: Int
    public var windowMs: Int

    public init(bucket: String, capacity: Int, windowMs: Int) {
        self.bucket = bucket
        self.capacity = capacity
        self.windowMs = windowMs
    }

    public var description: String { "\(bucket): \(capacity) per \(windowMs) ms" }

    /// Lends a list of limits as the contract's array.
    public static func withCLimits<R>(_ limits: [RateLimit], _ body: (UnsafePointer<ap_rate_limit>?, Int) throws -> R) rethrows -> R {
        try withAPStrs(limits.map(\.bucket)) { names in
            let raw = zip(names, limits).map {
                ap_rate_limit(bucket: $0, capacity: UInt32(clamping: $1.capacity), window_ms: UInt32(clamping: $1.windowMs))
            }
            return try raw.withUnsafeBufferPointer { try body($0.baseAddress, $0.count) }
        }
    }

    /// Copies the contract's array.
    public static func from(_ raw: UnsafePointer<ap_rate_limit>?, count: Int) -> [RateLimit] {
        guard let raw else { return [] }
        return UnsafeBufferPointer(start: raw, count: count).map {
            RateLimit(bucket: $0.bucket.string, capacity: Int($0.capacity), windowMs: Int($0.window_ms))
        }
    }
}
