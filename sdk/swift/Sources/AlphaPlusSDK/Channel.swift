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

    public init(_ outcome: DeliveryOutcome, retryAfterMs: Int64 = 0, externalID: String = "", reason: String = "",
                updatedTargetJSON: String = "") {
        self.outcome = outcome
        self.retryAfterMs = retryAfterMs
        self.externalID = externalID
        self.reason = reason
        self.updatedTargetJSON = updatedTargetJSON
    }

    public init(_ raw: UnsafePointer<ap_delivery_result>) {
        let r = raw.pointee
        self.init(DeliveryOutcome(rawValue: r.outcome) ?? .permanentFailure, retryAfterMs: r.retry_after_ms,
                  externalID: r.external_id.string, reason: r.reason.string,
                  updatedTargetJSON: r.updated_target_json.string)
    }
}

/// Completes one delivery. Call exactly once; later calls are ignored.
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
                                         external_id: s[0], reason: s[1], updated_target_json: s[2])
            done(doneContext, &raw)
        }
    }
}
