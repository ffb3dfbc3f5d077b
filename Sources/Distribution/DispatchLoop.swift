import struct AlphaPlusSDK.Delivery
import struct AlphaPlusSDK.RateLimit
import AlphaPlusTime
import AlphaPlusJSON
import Dispatch
import Foundation
import Logging
import PluginRuntime

/// What `drain` left behind.
public struct DrainReport: Sendable, Equatable {
    /// Whether nothing due was left when it returned (false: the timeout came first).
    public var finished: Bool
    /// Since the distributor started.
    public var delivered: Int
    public var dead: Int
    public var dryRun: Int
    /// Pending rows whose tier delay has not passed yet, and the earliest one's time.
    public var future: Int
    public var earliestFutureNs: Int64?
    /// Pending rows held back, per reason ("destination demo/x is disabled: …").
    public var held: [String: Int]
    /// Due rows still waiting (a retry, a pause, a rate limit) when the timeout came.
    public var due: Int
}

extension Distributor {
    // MARK: - The dispatch loop (on the queue only)

    func markDirty(_ key: DestinationKey) {
        if dirtySet.insert(key).inserted { dirty.append(key) }
    }

    /// Sends whatever may go now, then sleeps until the next destination is ready.
    func pump() {
        guard started else { return }
        let now = clock.nowNs()
        while let top = wakes.first, top.ns <= now {
            _ = wakes.pop()
            if destinations[top.key]?.parkedAtNs == top.ns { destinations[top.key]?.parkedAtNs = nil }
            markDirty(top.key)
        }
        admitWaiting(now: now)
        while !dirty.isEmpty {
            let batch = dirty
            dirty = []
            dirtySet = []
            for key in batch { advance(key, now: now) }
        }
        scheduleWake()
    }

    /// Gives the channel slots freed since the last pump to the
    /// destinations waiting for them, longest-waiting first. One that does
    /// not take the slot (it parks for a rate limit, say) leaves the line
    /// and the next is looked at, so each waiting destination costs one
    /// look per freed slot rather than one per completion.
    private func admitWaiting(now: Int64) {
        guard !freedChannels.isEmpty else { return }
        let freed = freedChannels
        freedChannels = []
        for address in freed {
            while channelStates[address, default: ChannelState()].inFlight < options.maxInFlightPerChannel,
                  let key = channelStates[address]?.waiting.popFirst() {
                advance(key, now: now)
            }
        }
    }

    private func park(_ state: DestinationState, until ns: Int64) {
        if let parked = state.parkedAtNs, parked <= ns { return }
        state.parkedAtNs = ns
        wakes.push(ns, state.key)
    }

    private func scheduleWake() {
        guard let next = wakes.first?.ns else { return }
        if let scheduled = scheduledWakeNs, scheduled <= next { return }
        scheduledWakeNs = next
        clock.wake(atNs: next, later { distributor in
            if distributor.scheduledWakeNs == next { distributor.scheduledWakeNs = nil }
        })
    }

    /// Dispatches the destination's head if it may go now.
    private func advance(_ key: DestinationKey, now: Int64) {
        guard let state = destinations[key], state.configured, state.enabled, !state.inFlight else { return }
        let address = state.address
        while let head = state.queue.first, let ready = state.headReadyNs {
            if ready > now { return park(state, until: ready) }
            switch endpoints[address] {
            case nil, .unavailable:
                return  // waits for a restart with its channel running
            case .dryRun:
                do {
                    _ = try outbox.complete(id: head.id, .dryRun, updatedTargetJSON: nil, atNs: now)
                } catch {
                    return storeFailed(error, state, now: now, doing: "record the dry run of \(head.idempotencyKey)")
                }
                state.queue.removeFirst()
                quotas.forget(id: head.id)
                tally.dryRun += 1
                count(.dryRun, address)
                let line = head.text.split(separator: "\n", omittingEmptySubsequences: false).first.map(String.init) ?? ""
                logger.notice("would deliver: tenant \(key.tenant), destination \(key.id), channel \(state.channel), tier \(head.tier), \(head.kind.rawValue): \(line)")
            case .live(let channel):
                guard channelStates[address, default: ChannelState()].inFlight < options.maxInFlightPerChannel else {
                    channelStates[address, default: ChannelState()].waiting.append(key)
                    return
                }
                guard let limits = currentLimits(state, channel) else { return }
                let allowed = max(windows[address, default: RateWindows()].earliestSend(limits, now: now),
                                  quotas.earliestStart(tenant: key.tenant, id: head.id, now: now))
                if allowed > now { return park(state, until: allowed) }
                let attempt = head.attempts + 1
                do {
                    guard try outbox.markSending(id: head.id, attempt: attempt, atNs: now) else {
                        logger.warning("outbox: \(head.idempotencyKey) is no longer pending in the store (another alphaplus sending from it?); this host leaves it")
                        state.queue.removeFirst()
                        quotas.forget(id: head.id)
                        continue
                    }
                } catch {
                    return storeFailed(error, state, now: now, doing: "mark \(head.idempotencyKey) as sending")
                }
                windows[address, default: RateWindows()].record(limits, at: now)
                quotas.started(tenant: key.tenant, id: head.id, at: now)
                state.queue[0].attempts = attempt
                state.queue[0].state = .sending
                state.inFlight = true
                channelStates[address, default: ChannelState()].inFlight += 1
                tally.attempts += 1
                let delivery = Delivery(idempotencyKey: head.idempotencyKey, attempt: attempt, targetJSON: state.targetJSON,
                                               kind: head.kind.rawValue, tier: head.tier, text: head.text, payloadJSON: head.payloadJSON)
                let id = head.id
                channel.deliver(delivery, deadline: options.deliveryDeadline) { [weak self] report in
                    guard let distributor = self else { return }
                    distributor.queue.async { distributor.completed(key, id: id, report: report) }
                }
                return
            }
        }
    }

    private func count(_ outcome: AttemptOutcome, _ address: ChannelAddress) {
        outcomeCounters[address]?[outcome.rawValue].increment()
    }

    /// The store did not take a transition: nothing is sent, the
    /// destination tries again in a second.
    private func storeFailed(_ error: any Error, _ state: DestinationState, now: Int64, doing what: String) {
        tally.storeErrors += 1
        logger.error("outbox: cannot \(what) (tried again in 1 s): \(error)")
        park(state, until: now + 1_000_000_000)
    }

    /// The destination's limits for its current target, or nil while the
    /// channel is being asked (off the queue: a plugin must not stall the
    /// other destinations).
    private func currentLimits(_ state: DestinationState, _ channel: any DeliveryChannel) -> [RateLimit]? {
        if let limits = state.limits, state.limitsTarget == state.targetJSON { return limits }
        guard !state.askingLimits else { return nil }
        state.askingLimits = true
        limitQueries += 1
        let target = state.targetJSON, key = state.key
        DispatchQueue.global().async { [weak self] in
            let answer = Result { try channel.rateLimits(forTarget: target) }
            guard let distributor = self else { return }
            distributor.queue.async { distributor.limitsAnswered(key, target: target, answer) }
        }
        return nil
    }

    private func limitsAnswered(_ key: DestinationKey, target: String, _ answer: Result<[RateLimit]?, any Error>) {
        limitQueries -= 1
        guard let state = destinations[key] else { return }
        state.askingLimits = false
        switch answer {
        case .success(let limits):
            state.limits = limits ?? []
            state.limitsTarget = target
            if let limits, !limits.isEmpty {
                logger.info("outbox: destination \(key): rate limits \(limits.map(\.description).joined(separator: ", "))")
            }
        case .failure(let error):
            disable(state, reason: "its channel refuses its target: \(error)", deadID: nil, now: clock.nowNs())
        }
        markDirty(key)
        pump()
    }

    // MARK: - Completion

    func completed(_ key: DestinationKey, id: Int64, report: ChannelReport) {
        guard let state = destinations[key], let index = state.queue.firstIndex(where: { $0.id == id }) else { return }
        state.inFlight = false
        let address = state.address
        channelStates[address]?.inFlight -= 1
        freedChannels.insert(address)
        let now = clock.nowNs()
        let entry = state.queue[index]
        let reason = report.reason.isEmpty ? report.outcome.rawValue : report.reason
        var updatedTarget: String?
        if !report.updatedTargetJSON.isEmpty, report.updatedTargetJSON != state.targetJSON {
            if case .object = try? JSONValue(parsing: report.updatedTargetJSON) {
                updatedTarget = report.updatedTargetJSON
            } else {
                logger.error("outbox: destination \(key): the channel's updated target is not a JSON object; the target stays")
            }
        }
        if report.pauseDestinationMs > 0 { state.heldUntilNs = max(state.heldUntilNs, now + report.pauseDestinationMs * 1_000_000) }
        let maxAttempts = tenants[key.tenant]?.maxAttempts ?? DistributionSettings().maxAttempts
        let completion: OutboxCompletion
        switch report.outcome {
        case .delivered:
            completion = .delivered(externalID: report.externalID)
        case .permanentFailure:
            completion = .dead(reason: reason)
        case .destinationGone:
            return disable(state, reason: reason, deadID: id, now: now)
        case .retry where entry.attempts >= maxAttempts:
            completion = .dead(reason: "gave up after \(entry.attempts) attempts; the last: \(reason)")
        case .retry:
            // The platform's own wait, exactly; else a re-send to a moved
            // target at once; else the backoff.
            let waitNs = report.retryAfterMs > 0 ? report.retryAfterMs * 1_000_000
                : updatedTarget != nil ? 0
                : (tenants[key.tenant]?.backoff ?? BackoffPolicy()).delayNs(afterFailures: entry.attempts, using: &random)
            completion = .retry(nextAttemptNs: now + waitNs, error: reason)
        }
        do {
            _ = try outbox.complete(id: id, completion, updatedTargetJSON: updatedTarget, atNs: now)
        } catch {
            // Not recorded: the row stays `sending` in the store and goes
            // out again after a restart. In memory it ends as reported.
            tally.storeErrors += 1
            logger.error("outbox: cannot record how \(entry.idempotencyKey) ended (\(report.outcome.rawValue)): \(error)")
        }
        if let updatedTarget {
            logger.notice("outbox: destination \(key) moved: its target is now \(updatedTarget)")
            state.targetJSON = updatedTarget
        }
        switch completion {
        case .delivered:
            state.queue.remove(at: index)
            tally.delivered += 1
            count(.delivered, address)
            logger.debug("outbox: delivered \(entry.idempotencyKey) (attempt \(entry.attempts))")
        case .dead(let reason):
            state.queue.remove(at: index)
            tally.dead += 1
            count(.dead, address)
            logger.error("outbox: dead letter \(entry.idempotencyKey) after \(entry.attempts) attempt\(entry.attempts == 1 ? "" : "s"): \(reason)")
        case .retry(let next, _):
            state.queue[index].state = .pending
            state.queue[index].nextAttemptNs = next
            state.queue[index].lastError = reason
            tally.retried += 1
            count(.retried, address)
            logger.warning("outbox: \(entry.idempotencyKey) not delivered (attempt \(entry.attempts) of \(maxAttempts)): \(reason); next attempt at \(UTCTime.iso8601(ns: next))")
        case .dryRun, .destinationGone:
            break
        }
        markDirty(key)
        pump()
    }

    /// Disables a destination durably and raises an alert: an error line,
    /// alert deliveries to `alerts_to` and the counters. With `deadID`,
    /// that delivery is dead with the same reason; the destination's other
    /// rows stay pending until it is enabled again.
    private func disable(_ state: DestinationState, reason: String, deadID: Int64?, now: Int64) {
        let key = state.key
        let message = "destination \(key.id) (channel \(state.channel)) is disabled: \(reason). Its pending deliveries wait; `alphaplus outbox enable \(key.tenant) \(key.id)` sends them."
        let alerts = alerts(tenant: key.tenant, message: message, subject: "disabled/\(key.id)/\(now)", about: state, atNs: now)
        var added: [OutboxEntry] = []
        do {
            if let deadID {
                added = try outbox.complete(id: deadID, .destinationGone(reason: reason, alerts: alerts), updatedTargetJSON: nil, atNs: now)
            } else {
                added = try outbox.disableDestination(tenant: key.tenant, id: key.id, reason: reason, alerts: alerts, atNs: now)
            }
        } catch {
            tally.storeErrors += 1
            logger.error("outbox: cannot record that destination \(key) is disabled (it is, until the host restarts): \(error)")
        }
        if let deadID, let index = state.queue.firstIndex(where: { $0.id == deadID }) {
            state.queue.remove(at: index)
            tally.dead += 1
            count(.dead, state.address)
        }
        state.enabled = false
        state.disabledReason = reason
        state.disabledAtNs = now
        tally.destinationsDisabled += 1
        tally.alertsRaised += 1
        tally.enqueued += added.count
        logger.error("ALERT tenant \(key.tenant): \(message)")
        for entry in added {
            destinations[entry.destinationKey]?.insert(entry)
            markDirty(entry.destinationKey)
        }
        pump()
    }

    // MARK: - Waiting for the outbox

    /// True when nothing can happen until the clock moves: nothing being
    /// added, sent or asked, nothing ready now. Only on the queue.
    private var isIdle: Bool {
        return started && intakeCount == 0 && unstored.isEmpty && dirty.isEmpty && limitQueries == 0
            && !destinations.values.contains(where: \.inFlight)
            && (wakes.first?.ns ?? .max) > clock.nowNs()
    }

    /// Waits until the distributor has nothing to do at the clock's current
    /// time (tests: after moving a manual clock). False on timeout.
    @discardableResult
    public func settle(timeout: Double = 10) -> Bool {
        let deadline = DispatchTime.now() + timeout
        while DispatchTime.now() < deadline {
            if queue.sync(execute: { pump(); return isIdle }) { return true }
            Thread.sleep(forTimeInterval: 0.002)
        }
        return false
    }

    /// Dispatches until every delivery that is due has ended — retries,
    /// pauses and rate limits waited for — leaving only those whose tier
    /// delay has not passed and those held (destination disabled, channel
    /// not running); or until `timeout` seconds.
    public func drain(timeout: Double) -> DrainReport {
        let deadline = DispatchTime.now() + timeout
        while true {
            let late = DispatchTime.now() >= deadline
            let report = queue.sync { () -> DrainReport? in
                pump()
                let done = limitQueries == 0 && !destinations.values.contains(where: \.inFlight) && dueCount() == 0
                guard done || late else { return nil }
                var report = leftovers()
                report.finished = done
                return report
            }
            if let report { return report }
            Thread.sleep(forTimeInterval: 0.01)
        }
    }

    private func dueCount() -> Int {
        let now = clock.nowNs()
        return destinations.values.reduce(0) { count, state in
            guard state.configured, state.enabled, isRunning(state.address) else { return count }
            return count + state.queue.filter { $0.notBeforeNs <= now }.count
        }
    }

    private func isRunning(_ address: ChannelAddress) -> Bool {
        switch endpoints[address] {
        case .live, .dryRun: true
        case .unavailable, nil: false
        }
    }

    private func leftovers() -> DrainReport {
        let now = clock.nowNs()
        var report = DrainReport(finished: true, delivered: tally.delivered, dead: tally.dead, dryRun: tally.dryRun, future: 0,
                                 earliestFutureNs: nil, held: [:], due: 0)
        for state in destinations.values {
            let reason: String?
            if !state.configured {
                reason = "destination \(state.key) is no longer configured"
            } else if !state.enabled {
                reason = "destination \(state.key) is disabled: \(state.disabledReason)"
            } else {
                switch endpoints[state.address] {
                case .unavailable(let why): reason = "channel \(state.address) is not running: \(why)"
                case nil: reason = "channel \(state.address) is not configured"
                case .live, .dryRun: reason = nil
                }
            }
            for entry in state.queue {
                if let reason {
                    report.held[reason, default: 0] += 1
                } else if entry.notBeforeNs > now {
                    report.future += 1
                    report.earliestFutureNs = min(report.earliestFutureNs ?? .max, entry.notBeforeNs)
                } else {
                    report.due += 1
                }
            }
        }
        return report
    }
}
