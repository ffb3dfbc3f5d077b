import AlphaPlusSDK
import CAlphaPlus
import Dispatch
import Foundation
import Logging
import Metrics
import PluginRuntime
import Trading

/// One tenant's strategy on the live path and in backtests alike: every
/// feature frame first advances the paper positions (frames of the
/// symbol's finest timeframe are its bars), then, for the tenant's symbols
/// and timeframes, asks the heads for votes, forms the consensus, passes
/// it through the risk gate and opens the signal's paper position. Every
/// decision goes to the journal. One thread at a time (the market
/// pipeline's); after a stream's first frame nothing allocates unless a
/// signal is made (or a head fails). Live (`deadline`), a frame is handled
/// in two halves, `beginFrame` and `finishFrame`, so that several tenants'
/// heads run at once (`TenantStrategies`), and a head that keeps failing
/// is quarantined (`HeadQuarantinePolicy`). Votes, call durations,
/// signals, risk refusals and quarantines are counted in swift-metrics
/// (`StrategyMetrics`) with the factory current when the strategy is made.
// @unchecked: made on a reload's thread, then used by one frame at a time
// under `TenantStrategies`' lock (or by a backtest's one thread).
public final class TenantStrategy: @unchecked Sendable {
    /// How heads are called.
    public enum Invocation: Sendable {
        /// On the caller's thread, timed: a call over its deadline is
        /// counted as slow but its vote counts, so a backtest gives the
        /// same result however loaded the machine is. For instances nothing
        /// else calls (a backtest's own): no executor hop.
        case direct
        /// On each head's executor, concurrently, waiting until the
        /// deadline: a late head abstains (timeout) and gets no frame until
        /// its call returns. A head that keeps failing is quarantined. The
        /// live host uses this.
        case deadline
    }

    /// A configured head and its instance (nil when it could not be created).
    public struct Head {
        public var spec: HeadSpec
        public var pluginID: String
        public var instance: HostedInstance?

        public init(spec: HeadSpec, pluginID: String, instance: HostedInstance?) {
            self.spec = spec
            self.pluginID = pluginID
            self.instance = instance
        }
    }

    /// What happened so far, for the operator and the reports.
    public struct Counters: Sendable {
        public var framesEvaluated = 0
        /// Frames that reached a consensus but whose candle closed long
        /// before the frame (backfilled history): no signal.
        public var staleFrames = 0
        public var signals = 0
        public var positionsClosed = 0
        public var shortfalls = [Int](repeating: 0, count: ConsensusResult.Shortfall.allCases.count)
        public var rejections = [Int](repeating: 0, count: RiskRejection.allCases.count)
        /// Per head (tenant order), per `VoteStatus.allCases`.
        public var votes: [[Int]]
        /// Calls over the deadline that still counted (`direct`).
        public var slowCalls: [Int]
        /// Per head: quarantines it entered (`deadline`).
        public var quarantines: [Int]
        public var journalErrors = 0
        /// Bars the paper trader refused (inconsistent prices, out of order).
        public var refusedBars = 0

        public func rejections(_ reason: RiskRejection) -> Int { rejections[rejectionOrder.firstIndex(of: reason)!] }
        public func shortfalls(_ reason: ConsensusResult.Shortfall) -> Int {
            shortfalls[shortfallOrder.firstIndex(of: reason)!]
        }
        public func votes(head: Int, _ status: VoteStatus) -> Int { votes[head][voteStatusOrder.firstIndex(of: status)!] }
    }

    public let tenant: String
    public let settings: StrategySettings
    public let heads: [Head]
    public let trader: PaperTrader
    public private(set) var counters: Counters
    /// How long this tenant waits for its heads: the consensus'
    /// `head_deadline_ms`, capped by the quota's `plugin_call_ms`.
    public let headDeadlineNs: Int64
    /// Whether the quota's `plugin_call_ms`, not `head_deadline_ms`, set it.
    private let quotaCapsDeadline: Bool
    /// Called with every signal made, after it is journaled.
    public var onSignal: ((Signal) -> Void)?
    /// Called with every position closed, after it is journaled.
    public var onOutcome: ((PositionOutcome) -> Void)?
    /// Called with every exit fill (a target hit, the stop, a time exit),
    /// before the outcome of a position it closes.
    public var onLeg: ((TradeLeg) -> Void)?

    private let consensus: Consensus
    private let risk: RiskGate
    private let journal: StrategyJournal?
    private let invocation: Invocation
    private let logger: Logger
    private let metrics: TenantMetrics
    private let votes: UnsafeMutableBufferPointer<VoteSlot>
    private let rawVotes: UnsafeMutablePointer<ap_vote>
    private let rawError = UnsafeMutablePointer<ap_error>.allocate(capacity: 1)
    private let calls: [HeadCall?]
    private let evaluators: [HeadEvaluator?]
    private var headErrors: [String]
    /// Per head: what `beginFrame` did with this frame's call (`deadline`).
    private var turns: [HeadTurn]
    private var health: [HeadHealth]
    /// Per head: why it is quarantined, made when the quarantine starts.
    private var quarantineReasons: [String]
    private let quarantine: HeadQuarantinePolicy
    /// Monotonic ns, for quarantines.
    private let clock: () -> Int64
    /// The frame `beginFrame` started, for `finishFrame`.
    private var pending: (stream: StreamState, closeNs: Int64, started: DispatchTime)?
    /// Whether the frame being collected is backfilled history (warm-up):
    /// its failures are counted but start no quarantine.
    private var collectingHistory = false
    private var streams: [UnsafeRawPointer: StreamState] = [:]
    private var finestTimeframe: [String: Int64] = [:]
    private let symbols: Set<String>
    private let timeframes: Set<Int64>
    /// The stop distance's volatility, resolved once per frame layout.
    private let atrKey = IndicatorKey("atr_14")

    /// Throws when the settings contradict each other (naming the field).
    /// `quota` caps the head deadline; `clock` (monotonic ns, uptime by
    /// default) times quarantines. A strategy rebuilt on a reload
    /// `continuing` the tenant's previous one takes over its paper book
    /// (open positions, equity) when the initial equity and the costs are
    /// the same.
    public init(tenant: String, settings: StrategySettings, heads: [Head], journal: StrategyJournal?, halt: GlobalHalt,
                invocation: Invocation, quota: TenantQuota = .unlimited, quarantine: HeadQuarantinePolicy = HeadQuarantinePolicy(),
                clock: @escaping () -> Int64 = { Int64(DispatchTime.now().uptimeNanoseconds) }, logger: Logger,
                continuing previous: TenantStrategy? = nil) throws {
        self.tenant = tenant
        self.settings = settings
        self.heads = heads
        self.journal = journal
        self.invocation = invocation
        self.quarantine = quarantine
        self.clock = clock
        self.logger = logger
        headDeadlineNs = min(settings.consensus.headDeadlineNs, quota.pluginCallNs ?? .max)
        quotaCapsDeadline = headDeadlineNs < settings.consensus.headDeadlineNs
        if let problem = settings.problems.first {
            throw PaperTradeError(tenant: tenant, subject: "strategy", field: problem.field, problem: problem.problem)
        }
        if let previous, previous.trader.initialEquity == settings.initialEquity, previous.trader.costs == settings.costs {
            trader = previous.trader
        } else {
            trader = try PaperTrader(tenant: tenant, initialEquity: settings.initialEquity, costs: settings.costs)
        }
        consensus = Consensus(policy: settings.consensus, weights: heads.map(\.spec.weight))
        risk = RiskGate(limits: settings.risk, halt: halt)
        votes = .allocate(capacity: heads.count)
        votes.initialize(repeating: VoteSlot())
        rawVotes = .allocate(capacity: max(heads.count, 1))
        rawVotes.initialize(repeating: ap_vote(), count: max(heads.count, 1))
        rawError.initialize(to: ap_error.empty())
        let metrics = TenantMetrics(tenant: tenant, heads: heads, factory: MetricsSystem.factory)
        self.metrics = metrics
        calls = heads.indices.map { index in
            guard invocation == .deadline, let instance = heads[index].instance else { return nil }
            return HeadCall(instance: instance, duration: metrics.callDurations[index])
        }
        evaluators = heads.map { head in invocation == .direct ? head.instance?.exclusiveHeadEvaluator() : nil }
        headErrors = Array(repeating: "", count: heads.count)
        turns = Array(repeating: .missing, count: heads.count)
        health = Array(repeating: HeadHealth(), count: heads.count)
        quarantineReasons = Array(repeating: "", count: heads.count)
        counters = Counters(votes: Array(repeating: Array(repeating: 0, count: VoteStatus.allCases.count), count: heads.count),
                            slowCalls: Array(repeating: 0, count: heads.count), quarantines: Array(repeating: 0, count: heads.count))
        if invocation == .deadline { metrics.quarantined.forEach { $0.record(0) } }
        symbols = Set(settings.symbols)
        timeframes = Set(settings.timeframes)
    }

    deinit {
        votes.deallocate()
        rawVotes.deallocate()
        rawError.deallocate()
    }

    /// Whether the risk gate halted the tenant (maximum drawdown), and why.
    public var haltReason: String? { risk.haltReason }

    /// Carries over what `previous` (this tenant's strategy before a reload)
    /// learnt and this one must not forget: the risk gate's record when the
    /// paper book carried over (`continuing`), and the health (failures,
    /// quarantine) of each head that is still the same instance. Call it
    /// where no frame runs, just before this strategy replaces `previous`.
    public func takeOver(from previous: TenantStrategy) {
        if previous.trader === trader { risk.takeOverRecord(of: previous.risk) }
        for index in heads.indices {
            guard let instance = heads[index].instance,
                  let before = previous.heads.firstIndex(where: { $0.instance === instance }) else { continue }
            health[index] = previous.health[before]
            quarantineReasons[index] = previous.quarantineReasons[before]
            if invocation == .deadline { metrics.quarantined[index].record(health[index].quarantined ? 1 : 0) }
        }
    }

    // MARK: - Frames

    public func onFrame(_ frame: UnsafePointer<ap_feature_frame>) {
        beginFrame(frame, at: .now())
        finishFrame(frame)
    }

    /// The first half of `onFrame`: advances the paper positions and, for
    /// a frame the tenant trades, starts the head calls (`deadline`),
    /// whose deadline runs from `start`. `finishFrame` with the same frame
    /// must follow before the next frame.
    public func beginFrame(_ frame: UnsafePointer<ap_feature_frame>, at start: DispatchTime) {
        let stream = state(for: frame)
        let candle = frame.pointee.candle
        let closeNs = candle.open_time_ns + candle.interval_s * 1_000_000_000
        if frame.pointee.timeframe_s == finestTimeframe[stream.symbol] {
            let bar = MarketBar(venue: stream.venue, symbol: stream.symbol, openTimeNs: candle.open_time_ns,
                                closeTimeNs: closeNs, open: candle.open, high: candle.high, low: candle.low, close: candle.close)
            do { try trader.onBar(bar, onLeg: exited, onClose: closed) } catch {
                counters.refusedBars += 1
                logger.error("\(error); the bar is skipped")
            }
        }
        guard stream.traded else { return }
        counters.framesEvaluated += 1
        pending = (stream, closeNs, start)
        if invocation == .deadline { beginCalls(frame) }
    }

    /// The second half of `onFrame`: collects the votes (waiting at most
    /// until the head deadline from `beginFrame`'s start), forms the
    /// consensus and proposes the signal. Nothing when the frame is not
    /// one the tenant trades.
    public func finishFrame(_ frame: UnsafePointer<ap_feature_frame>) {
        guard let begun = pending else { return }
        pending = nil
        let stream = begun.stream, closeNs = begun.closeNs
        collectingHistory = Self.isHistory(frame, closeNs: closeNs)
        collectVotes(frame, deadline: begun.started + .nanoseconds(Int(headDeadlineNs)))
        let result = consensus.decide(UnsafeBufferPointer(votes))
        guard let side = result.side else {
            counters.shortfalls[shortfallOrder.firstIndex(of: result.shortfall!)!] += 1
            return
        }
        // History a connector backfilled warms the heads but makes no signal.
        if collectingHistory {
            counters.staleFrames += 1
            return
        }
        propose(side: side, result: result, frame: frame, stream: stream, closeNs: closeNs)
    }

    /// Backfilled history: a frame made more than two candles after its
    /// candle closed (a connector's warm-up, replayed as fast as it goes).
    /// It warms the heads but makes no signal and starts no quarantine.
    static func isHistory(_ frame: UnsafePointer<ap_feature_frame>, closeNs: Int64) -> Bool {
        frame.pointee.ts_ns - closeNs > 2 * frame.pointee.timeframe_s * 1_000_000_000
    }

    /// Closes every open position at its symbol's last close (end of a
    /// backtest's data).
    public func finish(atNs: Int64) {
        trader.closeAll(atNs: atNs, onLeg: exited, onClose: closed)
    }

    // MARK: - Votes

    /// What `beginFrame` did with a head's call.
    private enum HeadTurn {
        /// No instance.
        case missing
        case quarantined
        /// Its previous call is still running: no frame.
        case busy
        case called
    }

    /// Starts every head's call that may start (`deadline`).
    private func beginCalls(_ frame: UnsafePointer<ap_feature_frame>) {
        let now = clock()
        for index in heads.indices {
            guard let call = calls[index] else { turns[index] = .missing; continue }
            if health[index].resting(atNs: now) {
                turns[index] = .quarantined
            } else {
                turns[index] = call.begin(frame) ? .called : .busy
            }
        }
    }

    private func collectVotes(_ frame: UnsafePointer<ap_feature_frame>, deadline: DispatchTime) {
        switch invocation {
        case .direct:
            for index in heads.indices {
                guard let evaluator = evaluators[index] else { setMissing(index); continue }
                let vote = rawVotes + index
                let started = DispatchTime.now().uptimeNanoseconds
                let status = evaluator.evaluate(frame, vote, rawError)
                let elapsed = Int64(DispatchTime.now().uptimeNanoseconds - started)
                metrics.callDurations[index].recordNanoseconds(elapsed)
                if elapsed > headDeadlineNs {
                    counters.slowCalls[index] += 1
                }
                accept(index, status: status, vote: vote, error: rawError)
            }
        case .deadline:
            for index in heads.indices {
                switch turns[index] {
                case .missing:
                    setMissing(index)
                case .quarantined:
                    setQuarantined(index)
                case .busy:
                    fail(index, .timeout, "did not answer within \(describeMilliseconds(headDeadlineNs)) ms (its previous call is still running)")
                case .called:
                    let call = calls[index]!
                    if call.wait(until: deadline) {
                        accept(index, status: call.status, vote: call.vote, error: call.error)
                        rawVotes[index] = call.vote.pointee
                    } else {
                        fail(index, .timeout, "did not answer within \(describeMilliseconds(headDeadlineNs)) ms")
                    }
                }
            }
        }
    }

    /// Checks one head's answer and fills its slot.
    private func accept(_ index: Int, status: ap_status, vote: UnsafeMutablePointer<ap_vote>, error: UnsafeMutablePointer<ap_error>) {
        guard status == AP_OK else {
            let text = error.pointee.text
            error.pointee = ap_error.empty()
            return fail(index, .error, "evaluate failed with status \(status)\(text.isEmpty ? "" : ": \(text)")")
        }
        let direction: VoteDirection
        switch vote.pointee.direction {
        case AP_DIRECTION_LONG.rawValue: direction = .long
        case AP_DIRECTION_SHORT.rawValue: direction = .short
        case AP_DIRECTION_FLAT.rawValue: direction = .flat
        default: return fail(index, .error, "vote.direction \(vote.pointee.direction) is not long, short or flat")
        }
        let confidence = vote.pointee.confidence
        guard confidence >= 0, confidence <= 1 else {
            return fail(index, .error, "vote.confidence \(confidence) is not in [0, 1]")
        }
        let calibrated = heads[index].spec.calibration?.apply(confidence) ?? confidence
        votes[index] = VoteSlot(status: .ok, direction: direction, confidence: confidence, calibrated: calibrated)
        counters.votes[index][0] += 1
        metrics.votes[index][(direction == .flat ? VoteOutcome.abstained : .voted).rawValue].increment()
        if invocation == .deadline, let backoff = health[index].answered() { endQuarantine(index, backoffNs: backoff) }
    }

    private func setMissing(_ index: Int) {
        votes[index] = VoteSlot(status: .missing)
        counters.votes[index][voteStatusOrder.firstIndex(of: .missing)!] += 1
        metrics.votes[index][VoteOutcome.missing.rawValue].increment()
    }

    /// The head abstains on this frame; the first few failures of each
    /// head are logged, then every 10,000th, so a broken head cannot flood
    /// the log (the counters keep every one).
    private func fail(_ index: Int, _ status: VoteStatus, _ reason: String) {
        votes[index] = VoteSlot(status: status)
        let statusIndex = voteStatusOrder.firstIndex(of: status)!
        counters.votes[index][statusIndex] += 1
        metrics.votes[index][(status == .timeout ? VoteOutcome.timeout : .error).rawValue].increment()
        headErrors[index] = reason
        let failures = counters.votes[index][statusIndex]
        if failures <= 3 || failures % 10_000 == 0 {
            let head = heads[index]
            let warmUp = invocation == .deadline && collectingHistory ? "; history warm-up: not counted towards quarantine" : ""
            logger.warning("tenant \(tenant), head \(head.spec.instance) (plugin \(head.pluginID)): \(reason); the head abstains (\(status.rawValue) \(failures) time\(failures == 1 ? "" : "s")\(warmUp))")
        }
        if invocation == .deadline, !collectingHistory, health[index].failed(atNs: clock(), policy: quarantine) {
            startQuarantine(index, status, reason)
        }
    }

    // MARK: - Quarantine

    /// A quarantined head abstains like a missing one (`VoteStatus.missing`,
    /// its error says why); the metrics count it as `quarantined`.
    private func setQuarantined(_ index: Int) {
        votes[index] = VoteSlot(status: .missing)
        counters.votes[index][voteStatusOrder.firstIndex(of: .missing)!] += 1
        metrics.votes[index][VoteOutcome.quarantined.rawValue].increment()
        headErrors[index] = quarantineReasons[index]
    }

    private func startQuarantine(_ index: Int, _ status: VoteStatus, _ reason: String) {
        let head = heads[index], state = health[index]
        let backoff = describeSeconds(state.backoffNs)
        let cause = state.quarantinesInARow > 1 ? "its trial call failed" : "\(state.consecutiveFailures) failed calls in a row"
        quarantineReasons[index] = "quarantined for \(backoff) after \(cause) (last: \(reason))"
        counters.quarantines[index] += 1
        metrics.quarantined[index].record(1)
        metrics.quarantines[index].increment()
        let remedy = status == .timeout ? "; if the head is slow rather than stuck, \(deadlineRemedy)" : ""
        logger.error("tenant \(tenant), head \(head.spec.instance) (plugin \(head.pluginID)): quarantined for \(backoff) after \(cause) (last: \(reason)); it is not called until then, then tried once (quarantine \(state.quarantinesInARow) in a row)\(remedy)")
    }

    /// What to change when heads time out: the key that set the deadline
    /// (the tenant's `head_deadline_ms`, or the quota capping it) and a
    /// value to try, `ConsensusPolicy.loadedMachineHeadDeadlineNs` or,
    /// when the deadline is already that long, twice the deadline.
    private var deadlineRemedy: String {
        let suggestedNs = headDeadlineNs < ConsensusPolicy.loadedMachineHeadDeadlineNs
            ? ConsensusPolicy.loadedMachineHeadDeadlineNs : 2 * headDeadlineNs
        let now = describeMilliseconds(headDeadlineNs), suggested = describeMilliseconds(suggestedNs)
        if quotaCapsDeadline {
            return "raise plugin_call_ms in the host file's quotas.tenants.\(tenant) (or quotas.default) (now \(now), it caps this tenant's deadline; try \(suggested))"
        }
        return "raise strategy.consensus.head_deadline_ms in tenant \(tenant)'s file (now \(now); try \(suggested))"
    }

    private func describeMilliseconds(_ ns: Int64) -> String {
        ns % 1_000_000 == 0 ? "\(ns / 1_000_000)" : "\(Double(ns) / 1e6)"
    }

    private func endQuarantine(_ index: Int, backoffNs: Int64) {
        let head = heads[index]
        metrics.quarantined[index].record(0)
        logger.notice("tenant \(tenant), head \(head.spec.instance) (plugin \(head.pluginID)): quarantine over (backoff was \(describeSeconds(backoffNs))): its trial call answered; the next backoff starts again at \(describeSeconds(quarantine.firstBackoffNs))")
    }

    private func describeSeconds(_ ns: Int64) -> String {
        if ns % 60_000_000_000 == 0 { return "\(ns / 60_000_000_000) min" }
        return ns % 1_000_000_000 == 0 ? "\(ns / 1_000_000_000) s" : "\(Double(ns) / 1e9) s"
    }

    // MARK: - Risk and signals

    private func propose(side: Trading.Side, result: ConsensusResult, frame: UnsafePointer<ap_feature_frame>, stream: StreamState, closeNs: Int64) {
        let close = frame.pointee.candle.close
        let atr = FeatureFrame(frame)[atrKey]
        let proposal = TradeProposal(symbol: stream.symbol, side: side, confidence: result.confidence, entry: close,
                                     atr: atr, atNs: closeNs)
        let signalID = "\(tenant):\(stream.venue):\(stream.symbol):\(frame.pointee.timeframe_s):\(closeNs / 1_000_000)"
        let verdict = risk.evaluate(proposal, portfolio: trader)
        var decision = RiskDecision(tenant: tenant, venue: stream.venue, symbol: stream.symbol,
                                    timeframeSeconds: frame.pointee.timeframe_s, side: side, confidence: result.confidence,
                                    accepted: false, rejection: nil, detail: "", signalID: signalID, atNs: closeNs)
        switch verdict {
        case .rejected(let rejection, let detail):
            decision.rejection = rejection
            decision.detail = detail
            let reasonIndex = rejectionOrder.firstIndex(of: rejection)!
            counters.rejections[reasonIndex] += 1
            metrics.riskRefusals[reasonIndex].increment()
            write { try $0.record(decision) }
        case .accepted(let quantity, let stop, let targets, let detail):
            decision.accepted = true
            decision.detail = detail
            let holdNs = Int64(settings.risk.maxHoldBars) * frame.pointee.timeframe_s * 1_000_000_000
            let signal = Signal(id: signalID, tenant: tenant, venue: stream.venue, symbol: stream.symbol,
                                timeframeSeconds: frame.pointee.timeframe_s, side: side, entry: close, stop: stop,
                                targets: targets, scaleOut: settings.risk.scaleOut, quantity: quantity,
                                confidence: result.confidence, highConfidence: result.high, votes: headVotes(),
                                createdAtNs: closeNs, expiresAtNs: holdNs > 0 ? closeNs + holdNs : 0)
            do { try trader.open(signal) } catch {
                // The gate sized it from the same frame: a refusal here is a
                // bug, reported loudly, never a crash.
                logger.error("\(error); signal \(signalID) not opened")
                return
            }
            counters.signals += 1
            metrics.signals[side == .long ? 0 : 1].increment()
            write { journal in
                try journal.record(decision)
                try journal.record(signal)
            }
            onSignal?(signal)
        }
    }

    /// The frame's votes with their strings, for a signal.
    private func headVotes() -> [HeadVote] {
        heads.indices.map { index in
            let slot = votes[index], head = heads[index]
            // Up to its declared length and first NUL, marked when cut.
            let rationale = slot.status == .ok ? Vote.rationaleText(of: rawVotes + index) : ""
            return HeadVote(head: head.spec.instance, plugin: head.pluginID, status: slot.status, direction: slot.direction,
                            confidence: slot.confidence, calibratedConfidence: slot.calibrated, weight: head.spec.weight,
                            rationale: rationale, error: slot.status == .ok ? "" : headErrors[index])
        }
    }

    private func exited(_ leg: TradeLeg) {
        onLeg?(leg)
    }

    private func closed(_ outcome: PositionOutcome) {
        risk.record(outcome, portfolio: trader)
        counters.positionsClosed += 1
        write { try $0.record(outcome) }
        onOutcome?(outcome)
    }

    /// A journal failure is logged and counted; the strategy goes on with
    /// what it holds in memory.
    private func write(_ body: (StrategyJournal) throws -> Void) {
        guard let journal else { return }
        do { try body(journal) } catch {
            counters.journalErrors += 1
            logger.error("tenant \(tenant): the store refused a record: \(error)")
        }
    }

    // MARK: - Streams

    /// Per frame producer (its frame lives at a stable address): names and
    /// whether the tenant trades it, worked out once.
    private final class StreamState {
        let venue: String
        let symbol: String
        let traded: Bool

        init(venue: String, symbol: String, traded: Bool) {
            self.venue = venue
            self.symbol = symbol
            self.traded = traded
        }
    }

    private func state(for frame: UnsafePointer<ap_feature_frame>) -> StreamState {
        let key = UnsafeRawPointer(frame)
        let timeframe = frame.pointee.timeframe_s
        // A producer's frame keeps its address for the producer's lifetime.
        if let known = streams[key] { return known }
        let symbol = frame.pointee.symbol.string
        let stream = StreamState(venue: frame.pointee.venue.string, symbol: symbol,
                                 traded: (symbols.isEmpty || symbols.contains(symbol)) && timeframes.contains(timeframe))
        streams[key] = stream
        finestTimeframe[symbol] = min(finestTimeframe[symbol] ?? .max, timeframe)
        return stream
    }
}

extension PaperTrader: PortfolioState {}

// `allCases` builds a new array on every use; counters index these instead.
private let shortfallOrder = ConsensusResult.Shortfall.allCases
private let rejectionOrder = RiskRejection.allCases
private let voteStatusOrder = VoteStatus.allCases
