/// Where a delivery is in its life.
public enum OutboxState: String, Sendable, CaseIterable, Codable {
    /// Waiting for its time, its destination's turn, a retry or a channel.
    case pending
    /// Handed to the channel; not confirmed yet. Back to pending at start-up
    /// (it may have reached the platform: the one possible duplicate).
    case sending
    /// The channel confirmed it.
    case delivered
    /// Given up on, with the reason (a dead letter).
    case dead
    /// Its channel instance runs without its secrets: shown on the console, never sent.
    case dryRun = "dry_run"
}

/// A delivery a producer adds to the outbox.
public struct NewDelivery: Sendable, Equatable {
    public var tenant: String
    public var destination: String
    public var tier: String
    public var kind: MessageKind
    /// What the message is about: a signal id, an exit ("<signal id>/target1"),
    /// a summary's day, an alert's cause. With tenant, destination and
    /// kind it makes the idempotency key.
    public var subject: String
    public var text: String
    public var payloadJSON: String
    /// Not sent before this time (ns): the event's time plus the tier's delay.
    public var notBeforeNs: Int64

    public init(tenant: String, destination: String, tier: String, kind: MessageKind, subject: String, text: String,
                payloadJSON: String, notBeforeNs: Int64) {
        self.tenant = tenant
        self.destination = destination
        self.tier = tier
        self.kind = kind
        self.subject = subject
        self.text = text
        self.payloadJSON = payloadJSON
        self.notBeforeNs = notBeforeNs
    }

    /// "tenant/destination/kind/subject": adding the same delivery again
    /// (after a restart, say) is a no-op.
    public var idempotencyKey: String { "\(tenant)/\(destination)/\(kind.rawValue)/\(subject)" }
}

/// One row of the outbox.
public struct OutboxEntry: Sendable, Equatable {
    public var id: Int64
    public var idempotencyKey: String
    public var tenant: String
    public var destination: String
    public var tier: String
    public var kind: MessageKind
    public var subject: String
    public var text: String
    public var payloadJSON: String
    public var notBeforeNs: Int64
    public var state: OutboxState
    /// Attempts started so far (an interrupted one included).
    public var attempts: Int
    /// Not retried before this time (ns); equals `notBeforeNs` until a failure.
    public var nextAttemptNs: Int64
    public var lastError: String
    /// The platform's message id once delivered.
    public var externalID: String
    public var createdNs: Int64
    public var updatedNs: Int64

    public init(id: Int64, idempotencyKey: String, tenant: String, destination: String, tier: String, kind: MessageKind,
                subject: String, text: String, payloadJSON: String, notBeforeNs: Int64, state: OutboxState, attempts: Int,
                nextAttemptNs: Int64, lastError: String, externalID: String, createdNs: Int64, updatedNs: Int64) {
        self.id = id
        self.idempotencyKey = idempotencyKey
        self.tenant = tenant
        self.destination = destination
        self.tier = tier
        self.kind = kind
        self.subject = subject
        self.text = text
        self.payloadJSON = payloadJSON
        self.notBeforeNs = notBeforeNs
        self.state = state
        self.attempts = attempts
        self.nextAttemptNs = nextAttemptNs
        self.lastError = lastError
        self.externalID = externalID
        self.createdNs = createdNs
        self.updatedNs = updatedNs
    }
}

/// A destination as configured, handed to the store at start-up.
public struct DestinationRegistration: Sendable, Equatable {
    public var tenant: String
    public var id: String
    public var channel: String
    public var tier: String
    public var targetJSON: String

    public init(tenant: String, id: String, channel: String, tier: String, targetJSON: String) {
        self.tenant = tenant
        self.id = id
        self.channel = channel
        self.tier = tier
        self.targetJSON = targetJSON
    }
}

/// A destination as stored: its target as last updated (by the platform,
/// e.g. a Telegram group that became a supergroup) and whether it is enabled.
public struct OutboxDestination: Sendable, Equatable {
    public var tenant: String
    public var id: String
    public var channel: String
    public var tier: String
    /// The target deliveries use.
    public var targetJSON: String
    /// The target as last configured (a config change replaces `targetJSON`).
    public var configuredTargetJSON: String
    public var enabled: Bool
    public var disabledReason: String
    /// 0 while enabled.
    public var disabledAtNs: Int64

    public init(tenant: String, id: String, channel: String, tier: String, targetJSON: String, configuredTargetJSON: String,
                enabled: Bool, disabledReason: String, disabledAtNs: Int64) {
        self.tenant = tenant
        self.id = id
        self.channel = channel
        self.tier = tier
        self.targetJSON = targetJSON
        self.configuredTargetJSON = configuredTargetJSON
        self.enabled = enabled
        self.disabledReason = disabledReason
        self.disabledAtNs = disabledAtNs
    }
}

/// How an attempt ended, as the outbox records it.
public enum OutboxCompletion: Sendable, Equatable {
    case delivered(externalID: String)
    /// Back to pending, not before `nextAttemptNs`.
    case retry(nextAttemptNs: Int64, error: String)
    case dead(reason: String)
    case dryRun
    /// The delivery is dead, its destination disabled with `reason`, and
    /// the `alerts` are added, all in one transaction.
    case destinationGone(reason: String, alerts: [NewDelivery])
}

/// The outbox's durable side. The store implements it (one SQLite
/// transaction per call); the distributor is its only writer while it runs,
/// the operator's CLI changes rows beside it (retry, enable), which the
/// distributor picks up on its next refresh.
public protocol OutboxStorage: AnyObject, Sendable {
    /// Adds the deliveries whose idempotency key is new (pending, attempts
    /// 0, next attempt at not_before) and returns those rows.
    func enqueue(_ deliveries: [NewDelivery], atNs: Int64) throws -> [OutboxEntry]
    /// Adds new destinations and updates channel and tier of known ones; a
    /// destination whose configured target changed takes the new target,
    /// otherwise it keeps its stored one. Returns every stored destination.
    func registerDestinations(_ destinations: [DestinationRegistration], atNs: Int64) throws -> [OutboxDestination]
    /// Every `sending` row back to `pending`: the start-up recovery. Returns their count.
    func requeueInterrupted(atNs: Int64) throws -> Int
    /// Every pending row, by (not_before, id).
    func pendingDeliveries() throws -> [OutboxEntry]
    func outboxDestinations() throws -> [OutboxDestination]
    /// pending → sending, attempts = `attempt`, committed before the channel
    /// is called. False when the row is no longer pending (another process
    /// sending from the same store took it).
    func markSending(id: Int64, attempt: Int, atNs: Int64) throws -> Bool
    /// Records how the attempt ended; a non-nil `updatedTargetJSON` is
    /// stored on the destination in the same transaction. Returns the alert
    /// rows added (`destinationGone`).
    func complete(id: Int64, _ completion: OutboxCompletion, updatedTargetJSON: String?, atNs: Int64) throws -> [OutboxEntry]
    /// Disables a destination without a delivery (its channel refuses its
    /// target) and adds the alerts; returns the alert rows added.
    func disableDestination(tenant: String, id: String, reason: String, alerts: [NewDelivery], atNs: Int64) throws -> [OutboxEntry]
    /// Signals made and positions closed in [fromNs, toNs).
    func dailyActivity(tenant: String, fromNs: Int64, toNs: Int64) throws -> DailyActivity
}
