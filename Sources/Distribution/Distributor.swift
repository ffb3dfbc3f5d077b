import struct AlphaPlusSDK.RateLimit
import AlphaPlusTime
import Dispatch
import Foundation
import Logging
import Metrics
import PluginRuntime
import Trading
import Subscriptions
import Timekeeping

/// A tenant's distribution settings.
public struct TenantDistribution: Sendable {
    public var tenant: String
    public var settings: DistributionSettings

    public init(tenant: String, settings: DistributionSettings) {
        self.tenant = tenant
        self.settings = settings
    }
}

public struct DistributorOptions: Sendable {
    /// Deliveries in flight at once per channel instance (each destination
    /// has at most one).
    public var maxInFlightPerChannel: Int
    /// How long a plugin has to call a delivery's `done`.
    public var deliveryDeadline: Duration
    /// How often the store is read again for what the operator's CLI
    /// changed (a dead letter retried, a destination enabled).
    public var refreshIntervalNs: Int64
    /// A summary whose time passed while the host was down is still sent
    /// if the host starts within this long after it.
    public var summaryCatchUpNs: Int64
    /// Seeds the backoff jitter (tests); nil: a random seed.
    public var randomSeed: UInt64?
    /// Makes the daily summaries (off for `outbox drain`, which only sends).
    public var dailySummaries: Bool

    public init(maxInFlightPerChannel: Int = 16, deliveryDeadline: Duration = HostedInstance.defaultDeliveryDeadline,
                refreshIntervalNs: Int64 = 5_000_000_000, summaryCatchUpNs: Int64 = 3_600_000_000_000, randomSeed: UInt64? = nil,
                dailySummaries: Bool = true) {
        self.maxInFlightPerChannel = maxInFlightPerChannel
        self.deliveryDeadline = deliveryDeadline
        self.refreshIntervalNs = refreshIntervalNs
        self.summaryCatchUpNs = summaryCatchUpNs
        self.randomSeed = randomSeed
        self.dailySummaries = dailySummaries
    }
}

/// What the distributor did since it started (the operator's metrics).
public struct DistributionCounters: Sendable, Equatable {
    public var enqueued = 0
    public var attempts = 0
    public var delivered = 0
    public var retried = 0
    public var dead = 0
    public var dryRun = 0
    public var destinationsDisabled = 0
    public var alertsRaised = 0
    /// Outbox writes the store refused (each logged).
    public var storeErrors = 0

    public init() {}
}

/// The distribution side of the host: turns signals, exits, daily
/// summaries and alerts into outbox rows, one per destination with the
/// tier's delay, and dispatches them to the channel instances — in order
/// per destination, one at a time per destination, destinations in
/// parallel, within every rate limit, with retries and dead letters.
///
/// Everything runs on one serial queue; producers on the hot path only
/// append to a locked buffer (`submit`). The store is written before a
/// channel is called (`sending`) and after it answers, so a restart never
/// repeats what a platform confirmed and never loses what it did not.
/// How attempts end is counted in swift-metrics (`DistributionMetrics`)
/// with the factory current when the distributor is made.
// @unchecked: every field but the intake buffer is touched on `queue` only; the intake under `intakeLock`.
public final class Distributor: @unchecked Sendable {
    let queue = DispatchQueue(label: "alphaplus.distribution")
    let outbox: OutboxStorage
    let clock: any HostClock
    let options: DistributorOptions
    let logger: Logger
    /// Both change only on the queue, when a tenant is reconfigured.
    var tenants: [String: DistributionSettings]
    var endpoints: [ChannelAddress: ChannelEndpoint]
    /// Tenants' subscribers, for the tenants with `subscribers:` settings.
    let subscriptions: SubscriptionStorage?
    /// Per channel instance, per `AttemptOutcome`.
    var outcomeCounters: [ChannelAddress: [Counter]]
    /// Queue-confined.
    var quotas: DeliveryQuotas

    // Queue-confined state.
    var destinations: [DestinationKey: DestinationState] = [:]
    var channelStates: [ChannelAddress: ChannelState] = [:]
    /// Channels with a slot freed since the last pump (`admitWaiting`).
    var freedChannels: Set<ChannelAddress> = []
    var windows: [ChannelAddress: RateWindows] = [:]
    var wakes = WakeHeap()
    var dirty: [DestinationKey] = []
    var dirtySet: Set<DestinationKey> = []
    var scheduledWakeNs: Int64?
    var random: SeededRandom
    var tally = DistributionCounters()
    var started = false
    var limitQueries = 0
    /// Rows the store refused to add, tried again a second later.
    var unstored: [NewDelivery] = []

    private let intakeLock = NSLock()
    private var intake: [Event] = []

    enum Event {
        case signal(Signal)
        case leg(TradeLeg, tenant: String)
    }

    /// `endpoints` has every channel instance the tenants' destinations
    /// name; a destination whose channel is missing there waits. `quotas`:
    /// per tenant id, its `deliveries_per_minute` (a tenant not there has none).
    public init(tenants: [TenantDistribution], outbox: OutboxStorage, endpoints: [ChannelAddress: ChannelEndpoint],
                clock: any HostClock, subscriptions: SubscriptionStorage? = nil, options: DistributorOptions = DistributorOptions(),
                quotas: [String: TenantQuota] = [:], logger: Logger = Logger(label: "alphaplus.distribution")) {
        self.subscriptions = subscriptions
        self.tenants = Dictionary(tenants.map { ($0.tenant, $0.settings) }, uniquingKeysWith: { first, _ in first })
        self.outbox = outbox
        self.endpoints = endpoints
        outcomeCounters = deliveryCounters(endpoints, factory: MetricsSystem.factory)
        self.quotas = DeliveryQuotas(quotas, factory: MetricsSystem.factory)
        self.clock = clock
        self.options = options
        self.logger = logger
        random = SeededRandom(seed: options.randomSeed ?? UInt64.random(in: .min ... .max))
    }

    public var counters: DistributionCounters { queue.sync { tally } }

    /// Sends nothing more (deliveries in flight are still recorded as
    /// they end); a stopped distributor does not start again.
    public func stop() { queue.sync { started = false } }

    /// Stops sending, then waits until the deliveries already handed to a
    /// channel have ended and been recorded, or until `deadline`: a clean
    /// stop lets them finish rather than leave them `sending`, which a
    /// restart would send again. Returns how many were still in flight at
    /// the deadline (recorded as interrupted: sent again after a restart).
    @discardableResult
    public func stop(waitingForDeliveriesBefore deadline: DispatchTime) -> Int {
        stop()
        while true {
            let inFlight = queue.sync { destinations.values.filter(\.inFlight).count }
            if inFlight == 0 || DispatchTime.now() >= deadline { return inFlight }
            Thread.sleep(forTimeInterval: 0.005)
        }
    }

    /// Returns once the work queued so far ran (deliveries that ended
    /// before are recorded).
    public func flush() { queue.sync {} }

    // MARK: - Start

    /// Recovers interrupted deliveries (`sending` → `pending`), registers
    /// the configured destinations, loads every pending delivery and starts
    /// dispatching. Throws when the store cannot be read or written.
    public func start() throws {
        try queue.sync {
            let now = clock.nowNs()
            let requeued = try outbox.requeueInterrupted(atNs: now)
            if requeued > 0 {
                logger.warning("outbox: \(requeued) deliveries were being sent when the host stopped; they are sent again (each may have reached its platform once already)")
            }
            let registrations = tenants.sorted(by: { $0.key < $1.key }).flatMap { tenant, settings in
                self.registrations(tenant: tenant, settings: settings, atNs: now)
            }
            // A set: with subscribers' chats there may be thousands of each.
            let configured = Set(registrations.map { DestinationKey(tenant: $0.tenant, id: $0.id) })
            for stored in try outbox.registerDestinations(registrations, atNs: now) {
                let key = DestinationKey(tenant: stored.tenant, id: stored.id)
                destinations[key] = DestinationState(key: key, stored: stored, configured: configured.contains(key))
            }
            for entry in try outbox.pendingDeliveries() { destinations[entry.destinationKey]?.insert(entry) }
            reportDestinations()
            started = true
            for key in destinations.keys.sorted(by: { $0.description < $1.description }) { markDirty(key) }
            drainIntake()
            if options.dailySummaries { scheduleSummaries(now: now) }
            scheduleRefresh(now: now)
            pump()
        }
    }

    private func reportDestinations() {
        for state in destinations.values.sorted(by: { $0.key.description < $1.key.description }) {
            let waiting = state.queue.count
            guard state.configured else {
                if waiting > 0 {
                    logger.warning("outbox: destination \(state.key) is no longer configured; its \(waiting) pending deliveries wait")
                }
                continue
            }
            let name = "tenant \(state.key.tenant), destination \(state.key.id) (channel \(state.channel), tier \(state.tier))"
            if !state.enabled {
                logger.warning("outbox: \(name) is disabled since \(UTCTime.iso8601(ns: state.disabledAtNs)): \(state.disabledReason); \(waiting) deliveries wait (alphaplus outbox enable \(state.key.tenant) \(state.key.id))")
            }
            switch endpoints[state.address] {
            case .live: break
            case .dryRun: logger.notice("outbox: \(name): dry run: its deliveries are shown here, not sent")
            case .unavailable(let reason): logger.error("outbox: \(name): channel instance not running (\(reason)); \(waiting) deliveries wait")
            case nil: logger.error("outbox: \(name): no channel instance '\(state.channel)'; \(waiting) deliveries wait")
            }
        }
    }

    // MARK: - Producers

    /// A signal made on the hot path: buffered, added to the outbox on the
    /// distribution queue (one row per destination of its tenant).
    public func submit(_ signal: Signal) { take(.signal(signal)) }

    /// An exit fill (target hit, stop hit, time exit) of a tenant's position.
    public func submit(_ leg: TradeLeg, tenant: String) { take(.leg(leg, tenant: tenant)) }

    var intakeCount: Int { intakeLock.withLock { intake.count } }

    private func take(_ event: Event) {
        let first = intakeLock.withLock { () -> Bool in
            intake.append(event)
            return intake.count == 1
        }
        if first { queue.async { self.drainIntake(); self.pump() } }
    }

    /// Only on the queue.
    func drainIntake() {
        guard started else { return }
        let events = intakeLock.withLock { () -> [Event] in
            defer { intake.removeAll() }
            return intake
        }
        var deliveries: [NewDelivery] = []
        for event in events {
            switch event {
            case .signal(let signal):
                deliveries += fanOut(tenant: signal.tenant, kind: .signal, subject: signal.id, eventNs: signal.createdAtNs,
                                     fields: MessageFields(signal: signal))
            case .leg(let leg, let tenant):
                let exit = leg.reason == .takeProfit ? "target\(leg.target)" : leg.reason.rawValue
                deliveries += fanOut(tenant: tenant, kind: .outcome, subject: "\(leg.signalID)/\(exit)", eventNs: leg.exitNs,
                                     fields: MessageFields(leg: leg, tenant: tenant))
            }
        }
        store(deliveries)
    }

    /// One delivery per destination of the tenant, rendered with its tier's
    /// template, not before the event's time plus the tier's delay.
    func fanOut(tenant: String, kind: MessageKind, subject: String, eventNs: Int64, fields: MessageFields) -> [NewDelivery] {
        guard let settings = tenants[tenant] else { return [] }
        let subscribers = subscriberDestinations(tenant: tenant, settings: settings.subscribers, atNs: eventNs)
        register(subscribers, tenant: tenant)
        return (settings.destinations + subscribers).map { destination in
            let message = settings.template(tier: destination.tier, kind: kind).message(fields, tier: destination.tier)
            return NewDelivery(tenant: tenant, destination: destination.id, tier: destination.tier, kind: kind, subject: subject,
                               text: message.text, payloadJSON: message.payloadJSON,
                               notBeforeNs: eventNs + settings.delayNs(tier: destination.tier))
        }
    }

    /// Adds rows to the outbox and to their destinations' queues; rows the
    /// store refuses are kept and tried again a second later.
    func store(_ deliveries: [NewDelivery]) {
        let all = unstored + deliveries
        guard !all.isEmpty else { return }
        let now = clock.nowNs()
        do {
            let added = try outbox.enqueue(all, atNs: now)
            unstored = []
            tally.enqueued += added.count
            for entry in added {
                destinations[entry.destinationKey]?.insert(entry)
                markDirty(entry.destinationKey)
            }
        } catch {
            tally.storeErrors += 1
            logger.error("outbox: the store refused \(all.count) deliveries (kept in memory, tried again in 1 s): \(error)")
            unstored = all
            clock.wake(atNs: now + 1_000_000_000, later { $0.store([]) })
        }
    }

    // MARK: - Subscribers

    /// One destination per identity linked to a subscriber, for each channel
    /// in the tenant's `subscribers:` settings, with the tier the subscriber
    /// receives at `atNs`: a chat that is not linked receives nothing, and
    /// only a paying subscriber's chats receive a paid tier. A store that
    /// cannot be read gives none (logged): the configured destinations
    /// still receive the message.
    func subscriberDestinations(tenant: String, settings: SubscriberDeliverySettings?, atNs: Int64) -> [DestinationSettings] {
        guard let subscriptions, let settings, !settings.channels.isEmpty else { return [] }
        let records: [SubscriberRecord]
        do { records = try subscriptions.subscribers(tenant: tenant) } catch {
            tally.storeErrors += 1
            logger.error("outbox: tenant \(tenant): subscribers cannot be read, none receives this message: \(error)")
            return []
        }
        var destinations: [DestinationSettings] = []
        for record in records {
            let tier = record.tier(atNs: atNs, unpaidTier: settings.unpaidTier)
            for channel in settings.channels {
                for identity in record.identities(of: channel.identityKind) {
                    destinations.append(DestinationSettings(id: channel.destinationID(value: identity.value), channel: channel.channel,
                                                            tier: tier, targetJSON: channel.targetJSON(value: identity.value)))
                }
            }
        }
        return destinations
    }

    /// What the store is told the tenant configures: its destinations and
    /// its subscribers' chats as they are at `atNs`.
    func registrations(tenant: String, settings: DistributionSettings, atNs: Int64) -> [DestinationRegistration] {
        (settings.destinations + subscriberDestinations(tenant: tenant, settings: settings.subscribers, atNs: atNs)).map {
            DestinationRegistration(tenant: tenant, id: $0.id, channel: $0.channel, tier: $0.tier, targetJSON: $0.targetJSON)
        }
    }

    /// Registers subscriber destinations not seen before, so their rows
    /// have a destination to wait in.
    private func register(_ subscribers: [DestinationSettings], tenant: String) {
        let new = subscribers.filter { destinations[DestinationKey(tenant: tenant, id: $0.id)]?.configured != true }
        guard !new.isEmpty else { return }
        do {
            let registrations = new.map {
                DestinationRegistration(tenant: tenant, id: $0.id, channel: $0.channel, tier: $0.tier, targetJSON: $0.targetJSON)
            }
            let keys = Set(new.map { DestinationKey(tenant: tenant, id: $0.id) })
            for stored in try outbox.registerDestinations(registrations, atNs: clock.nowNs()) {
                let key = DestinationKey(tenant: stored.tenant, id: stored.id)
                guard keys.contains(key) else { continue }
                let state = DestinationState(key: key, stored: stored, configured: true)
                if let old = destinations[key] { old.queue.forEach(state.insert) }
                destinations[key] = state
            }
        } catch {
            tally.storeErrors += 1
            logger.error("outbox: tenant \(tenant): \(new.count) subscriber destinations cannot be registered: \(error)")
        }
    }

    // MARK: - Daily summary

    private func scheduleSummaries(now: Int64) {
        for (tenant, settings) in tenants where settings.dailySummary.enabled {
            let day: Int64 = 86_400_000_000_000
            let offset = Int64(settings.dailySummary.minuteOfDay) * 60_000_000_000
            var latest = (now - offset).floorDiv(day) * day + offset
            if latest > now { latest -= day }
            if now - latest < options.summaryCatchUpNs { summarize(tenant: tenant, atNs: latest) }
            scheduleSummary(tenant: tenant, atNs: latest + day)
        }
    }

    private func scheduleSummary(tenant: String, atNs: Int64) {
        clock.wake(atNs: atNs, later { distributor in
            distributor.summarize(tenant: tenant, atNs: atNs)
            distributor.scheduleSummary(tenant: tenant, atNs: atNs + 86_400_000_000_000)
        })
    }

    /// The summary of the 24 hours before `atNs`, to every destination.
    /// Its subject is the summary's time, so it goes out once.
    func summarize(tenant: String, atNs: Int64) {
        let activity: DailyActivity
        do {
            activity = try outbox.dailyActivity(tenant: tenant, fromNs: atNs - 86_400_000_000_000, toNs: atNs)
        } catch {
            tally.storeErrors += 1
            logger.error("outbox: tenant \(tenant): the daily summary cannot be made: \(error)")
            return
        }
        let date = String(UTCTime.iso8601(ns: atNs - 1).prefix(10))
        let fields = MessageFields(summary: activity, tenant: tenant, date: date, atNs: atNs)
        store(fanOut(tenant: tenant, kind: .summary, subject: String(UTCTime.iso8601(ns: atNs).prefix(16)), eventNs: atNs,
                     fields: fields))
    }

    // MARK: - Alerts

    /// Alert deliveries to the tenant's `alerts_to` destinations (but not
    /// `excluding`, the destination the alert is about), at once, whatever
    /// the tier.
    func alerts(tenant: String, message: String, subject: String, about destination: DestinationState, atNs: Int64) -> [NewDelivery] {
        guard let settings = tenants[tenant] else { return [] }
        return settings.alertsTo.compactMap { id in
            guard id != destination.key.id, let target = settings.destinations.first(where: { $0.id == id }) else { return nil }
            let fields = MessageFields(alert: message, tenant: tenant, destination: destination.key.id,
                                       channel: destination.channel, atNs: atNs)
            let rendered = settings.template(tier: target.tier, kind: .alert).message(fields, tier: target.tier)
            return NewDelivery(tenant: tenant, destination: id, tier: target.tier, kind: .alert, subject: subject,
                               text: rendered.text, payloadJSON: rendered.payloadJSON, notBeforeNs: atNs)
        }
    }

    /// A wake-up that runs `body` and then `pump` on the queue, unless the
    /// distributor is gone or stopped by then.
    func later(_ body: @escaping @Sendable (Distributor) -> Void) -> @Sendable () -> Void {
        { [weak self] in
            guard let distributor = self else { return }
            distributor.queue.async {
                guard distributor.started else { return }
                body(distributor)
                distributor.pump()
            }
        }
    }

    // MARK: - Refresh

    private func scheduleRefresh(now: Int64) {
        clock.wake(atNs: now + options.refreshIntervalNs, later { distributor in
            distributor.refresh()
            distributor.scheduleRefresh(now: distributor.clock.nowNs())
        })
    }

    /// Picks up what the operator changed in the store meanwhile: dead
    /// letters retried (pending again) and destinations enabled.
    public func refreshNow() {
        queue.sync {
            refresh()
            pump()
        }
    }

    func refresh() {
        do {
            for stored in try outbox.outboxDestinations() {
                let key = DestinationKey(tenant: stored.tenant, id: stored.id)
                guard let state = destinations[key] else { continue }
                if stored.enabled, !state.enabled {
                    logger.notice("outbox: destination \(key) is enabled again; its \(state.queue.count) pending deliveries go out")
                    state.enabled = true
                    state.disabledReason = ""
                    state.disabledAtNs = 0
                    markDirty(key)
                }
                if !state.inFlight, stored.targetJSON != state.targetJSON {
                    state.targetJSON = stored.targetJSON
                    markDirty(key)
                }
            }
            var known = Set<Int64>()
            for state in destinations.values { for entry in state.queue { known.insert(entry.id) } }
            for entry in try outbox.pendingDeliveries() where !known.contains(entry.id) {
                destinations[entry.destinationKey]?.insert(entry)
                markDirty(entry.destinationKey)
            }
        } catch {
            tally.storeErrors += 1
            logger.error("outbox: cannot read the store for changes: \(error)")
        }
    }
}

/// One destination's dispatch state. Only on the distributor's queue.
final class DestinationState {
    let key: DestinationKey
    var channel: String
    var tier: String
    var targetJSON: String
    var enabled: Bool
    var disabledReason: String
    var disabledAtNs: Int64
    /// In the tenant's current configuration (a removed one keeps its rows, unsent).
    var configured: Bool
    /// Pending rows by (not_before, id); the head may be in flight.
    var queue: [OutboxEntry] = []
    var inFlight = false
    /// Nothing is sent before this (the platform's pause).
    var heldUntilNs: Int64 = 0
    /// The channel's limits for `limitsTarget`.
    var limits: [RateLimit]?
    var limitsTarget: String?
    var askingLimits = false
    var parkedAtNs: Int64?

    init(key: DestinationKey, stored: OutboxDestination, configured: Bool) {
        self.key = key
        channel = stored.channel
        tier = stored.tier
        targetJSON = stored.targetJSON
        enabled = stored.enabled
        disabledReason = stored.disabledReason
        disabledAtNs = stored.disabledAtNs
        self.configured = configured
    }

    var address: ChannelAddress { ChannelAddress(tenant: key.tenant, instance: channel) }

    /// Keeps the queue ordered by (not_before, id), behind a head in flight.
    func insert(_ entry: OutboxEntry) {
        let start = inFlight ? 1 : 0
        var index = queue.count
        while index > start, (queue[index - 1].notBeforeNs, queue[index - 1].id) > (entry.notBeforeNs, entry.id) { index -= 1 }
        queue.insert(entry, at: index)
    }

    /// When the head may go: its time, its retry, the destination's pause.
    var headReadyNs: Int64? {
        queue.first.map { max($0.notBeforeNs, $0.nextAttemptNs, heldUntilNs) }
    }
}

/// A channel instance's deliveries in flight, and the destinations waiting
/// for one of its slots.
struct ChannelState {
    var inFlight = 0
    var waiting = WaitingLine()
}

/// Destinations in the order they came, each at most once.
struct WaitingLine {
    private var keys: [DestinationKey] = []
    /// keys[..<head] have left the line.
    private var head = 0
    private var members: Set<DestinationKey> = []

    mutating func append(_ key: DestinationKey) {
        if members.insert(key).inserted { keys.append(key) }
    }

    mutating func popFirst() -> DestinationKey? {
        guard head < keys.count else { return nil }
        let key = keys[head]
        head += 1
        members.remove(key)
        // Drops the keys that left once they are half the storage.
        if head == keys.count {
            keys.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64, head * 2 >= keys.count {
            keys.removeFirst(head)
            head = 0
        }
        return key
    }
}

extension OutboxEntry {
    var destinationKey: DestinationKey { DestinationKey(tenant: tenant, id: destination) }
}

extension Int64 {
    /// Division rounding towards −∞.
    func floorDiv(_ divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
