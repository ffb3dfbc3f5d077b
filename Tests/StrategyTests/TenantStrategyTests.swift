import AlphaPlusJSON
import AlphaPlusSDK
import Dispatch
import Foundation
import Logging
import MarketData
import Metrics
import MetricsTestKit
import PluginRuntime
import SharedTestData
import XCTest
@testable import Strategy
@testable import Trading

/// A head whose answer the test picks with its settings: a direction and
/// confidence, or one of the ways a head goes wrong.
final class ScriptedHead: HeadPlugin {
    struct Configuration: Decodable {
        var mode: String
        var confidence: Double?
    }

    static let descriptor = PluginDescriptor(id: "test.scripted-head", name: "Scripted head", version: "1.0.0",
                                             configSchema: #"{"type": "object"}"#)
    /// A `hang` head waits for this before answering.
    static let release = DispatchSemaphore(value: 0)
    /// A `switch` head fails while this is on, else votes long.
    static let switchFails = Flag()

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var on = false
        var isOn: Bool {
            get { lock.withLock { on } }
            set { lock.withLock { on = newValue } }
        }
    }

    private let mode: String
    private let confidence: Double

    init(configuration: Configuration, context: PluginContext) throws {
        mode = configuration.mode
        confidence = configuration.confidence ?? 0.9
    }

    func evaluate(_ frame: FeatureFrame) throws -> Vote {
        switch mode {
        case "long": return Vote(.long, confidence: confidence, rationale: "scripted long")
        case "short": return Vote(.short, confidence: confidence)
        case "nan": return Vote(.long, confidence: .nan)
        case "over": return Vote(.long, confidence: 1.5)
        case "fail": throw PluginError.unavailable("model file not loaded")
        case "hang":
            Self.release.wait()
            return Vote(.long, confidence: confidence)
        case "slow":
            Thread.sleep(forTimeInterval: 1)
            return Vote(.long, confidence: confidence)
        case "switch":
            if Self.switchFails.isOn { throw PluginError.unavailable("switched off") }
            return Vote(.long, confidence: confidence)
        default: return .flat
        }
    }
}

/// The scripted head's table with evaluate wrapped to write direction 7:
/// a head (in C, say) answering a direction the contract does not have.
nonisolated(unsafe) private var scriptedHeadTable: UnsafePointer<ap_head_v1> {
    let original = PluginExport.entry(ScriptedHead.self)
    return AP_CAPABILITY_HEAD_V1.withCString { id in
        original.pointee.get_capability(original, ap_str(ptr: id, len: strlen(id)))!.assumingMemoryBound(to: ap_head_v1.self)
    }
}
nonisolated(unsafe) private var badDirectionHead = ap_head_v1(
    struct_size: UInt32(MemoryLayout<ap_head_v1>.size),
    evaluate: { instance, frame, vote, error in
        let status = scriptedHeadTable.pointee.evaluate(instance, frame, vote, error)
        vote?.pointee.direction = 7
        return status
    },
    on_event: nil)
/// What a C head's rationale buffer holds after the wrapped evaluate
/// below: these bytes, then zeroes, and this `rationale_len`.
nonisolated(unsafe) private var cRationale: (bytes: [UInt8], declared: UInt32) = ([], 0)
/// The scripted head's evaluate, then its rationale overwritten as a C head
/// may leave it (`cRationale`).
nonisolated(unsafe) private var cRationaleHead = ap_head_v1(
    struct_size: UInt32(MemoryLayout<ap_head_v1>.size),
    evaluate: { instance, frame, vote, error in
        let status = scriptedHeadTable.pointee.evaluate(instance, frame, vote, error)
        withUnsafeMutableBytes(of: &vote!.pointee.rationale) { buffer in
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            buffer.copyBytes(from: cRationale.bytes)
        }
        vote?.pointee.rationale_len = cRationale.declared
        return status
    },
    on_event: nil)
/// A copy of the SDK's table whose get_capability answers another head
/// table. The SDK keeps a pointer to its plugin object right after the
/// table, so the copy carries that word too.
private func scriptedAPI(answering getCapability: @convention(c) (UnsafePointer<ap_plugin_api>?, ap_str) -> UnsafeRawPointer?) -> UnsafePointer<ap_plugin_api> {
    let original = PluginExport.entry(ScriptedHead.self)
    let size = MemoryLayout<ap_plugin_api>.stride + MemoryLayout<UnsafeRawPointer>.size
    let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: MemoryLayout<ap_plugin_api>.alignment)
    copy.copyMemory(from: original, byteCount: size)
    let table = copy.assumingMemoryBound(to: ap_plugin_api.self)
    table.pointee.get_capability = getCapability
    return UnsafePointer(table)
}
nonisolated(unsafe) private let badDirectionAPI = scriptedAPI { _, _ in UnsafeRawPointer(withUnsafePointer(to: &badDirectionHead) { $0 }) }
nonisolated(unsafe) private let cRationaleAPI = scriptedAPI { _, _ in UnsafeRawPointer(withUnsafePointer(to: &cRationaleHead) { $0 }) }

/// Records what the strategy journals, or refuses it all.
final class RecordingJournal: StrategyJournal {
    var entries: [String] = []
    var refuse = false
    struct Refused: Error {}

    func record(_ decision: RiskDecision) throws {
        if refuse { throw Refused() }
        entries.append("decision \(decision.accepted ? "accepted" : decision.rejection!.rawValue) \(decision.signalID)")
    }
    func record(_ signal: Signal) throws {
        if refuse { throw Refused() }
        entries.append("signal \(signal.id)")
    }
    func record(_ outcome: PositionOutcome) throws {
        if refuse { throw Refused() }
        entries.append("outcome \(outcome.signalID) \(outcome.finalReason.rawValue)")
    }
}

final class TenantStrategyTests: XCTestCase {
    private let services = HostServices()
    private let minute: Int64 = 60_000_000_000
    private let start: Int64 = 1_700_000_040 * 1_000_000_000 / 60_000_000_000 * 60_000_000_000

    private func plugin(_ mode: String) throws -> LoadedPlugin {
        let loader = PluginLoader(services: services)
        switch mode {
        case "bad-direction": return try loader.load(linked: badDirectionAPI, name: "bad-direction")
        case "c-rationale": return try loader.load(linked: cRationaleAPI, name: "c-rationale")
        default: return try loader.load(linked: PluginExport.entry(ScriptedHead.self), name: "scripted")
        }
    }

    /// `modes` as ScriptedHead's, plus "bad-direction": a long head whose
    /// direction is overwritten with 7, and "c-rationale": a long head whose
    /// rationale is overwritten with `cRationale`.
    private func strategy(_ modes: [String], invocation: TenantStrategy.Invocation = .direct,
                          deadlineMs: Double = 50, journal: StrategyJournal? = nil, tenant: String = "acme",
                          quota: TenantQuota = .unlimited, clock: @escaping () -> Int64 = { Int64(DispatchTime.now().uptimeNanoseconds) },
                          logger: Logger = Logger(label: "test")) throws -> TenantStrategy {
        var heads: [TenantStrategy.Head] = []
        for (index, mode) in modes.enumerated() {
            let loaded = try plugin(mode)
            let scripted = ["bad-direction", "c-rationale"].contains(mode) ? "long" : mode
            let instance = try HostedInstance(plugin: loaded, tenantID: tenant, instanceID: "h\(index)",
                                              config: try JSONValue(parsing: #"{"mode": "\#(scripted)"}"#), services: services)
            heads.append(TenantStrategy.Head(spec: HeadSpec(instance: "h\(index)"), pluginID: loaded.id, instance: instance))
        }
        var settings = StrategySettings(heads: heads.map(\.spec))
        settings.consensus.headDeadlineNs = Int64(deadlineMs * 1_000_000)
        return try TenantStrategy(tenant: tenant, settings: settings, heads: heads, journal: journal, halt: GlobalHalt(),
                                  invocation: invocation, quota: quota, clock: clock, logger: logger)
    }

    /// A 1m frame of the standard layout with the bar given and ATR 50.
    private func frame(_ buffer: FeatureFrameBuffer, minute index: Int64, open: Double, high: Double, low: Double, close: Double) -> UnsafePointer<ap_feature_frame> {
        let openNs = start + index * minute
        buffer.setCandle(ap_candle(open_time_ns: openNs, interval_s: 60, open: open, high: high, low: low, close: close,
                                   volume: 1, trade_count: 1), timestampNs: openNs + minute)
        buffer.setValue(50, at: FrameProducer.indicatorNames.firstIndex(of: "atr_14")!)
        return UnsafePointer(buffer.pointer)
    }

    private func buffer() -> FeatureFrameBuffer {
        FeatureFrameBuffer(venue: "sim", symbol: "BTC-USDT", timeframeSeconds: 60, indicatorNames: FrameProducer.indicatorNames,
                           layoutID: FrameProducer.layoutID)
    }

    func testAgreeingHeadsMakeASignalWhosePositionRunsToItsTargets() throws {
        let journal = RecordingJournal()
        let strategy = try strategy(["long", "long", "long", "flat"], journal: journal)
        var signals: [Signal] = []
        strategy.onSignal = { signals.append($0) }
        var legs: [TradeLeg] = []
        strategy.onLeg = { legs.append($0) }
        let frames = buffer()
        strategy.onFrame(frame(frames, minute: 0, open: 10_000, high: 10_010, low: 9_990, close: 10_000))
        XCTAssertEqual(signals.count, 1)
        let signal = try XCTUnwrap(signals.first)
        XCTAssertEqual(signal.side, .long)
        XCTAssertEqual(signal.stop, 10_000 - 75, accuracy: 1e-9)  // 1.5 ATR
        XCTAssertEqual(signal.targets, [10_075, 10_150, 10_225])
        XCTAssertEqual(signal.confidence, 0.9, accuracy: 1e-12)
        XCTAssertTrue(signal.highConfidence)
        XCTAssertEqual(signal.votes.map(\.direction), [.long, .long, .long, .flat])
        XCTAssertEqual(signal.votes[0].rationale, "scripted long")
        XCTAssertEqual(signal.id, "acme:sim:BTC-USDT:60:\((start + minute) / 1_000_000)")
        // The next bar reaches every target: three fills, one outcome.
        strategy.onFrame(frame(frames, minute: 1, open: 10_000, high: 10_300, low: 9_990, close: 10_250))
        XCTAssertEqual(strategy.counters.positionsClosed, 1)
        let outcome = try XCTUnwrap(strategy.trader.closedPositions.first)
        XCTAssertEqual(outcome.legs.map(\.reason), [.takeProfit, .takeProfit, .takeProfit])
        XCTAssertEqual(legs, outcome.legs, "each exit fill is reported as it happens")
        XCTAssertGreaterThan(outcome.pnl, 0)
        // The frame that closed it opened the second position, minute 2 the
        // third; at most two per symbol, so minutes 3 and 4 are refused, and recorded.
        strategy.onFrame(frame(frames, minute: 2, open: 10_250, high: 10_260, low: 10_240, close: 10_250))
        strategy.onFrame(frame(frames, minute: 3, open: 10_250, high: 10_260, low: 10_240, close: 10_250))
        strategy.onFrame(frame(frames, minute: 4, open: 10_250, high: 10_260, low: 10_240, close: 10_250))
        XCTAssertEqual(strategy.counters.signals, 3)
        XCTAssertEqual(strategy.counters.rejections(.maxOpenPerSymbol), 2)
        XCTAssertEqual(journal.entries.first, "decision accepted \(signal.id)")
        XCTAssertEqual(journal.entries[1], "signal \(signal.id)")
        XCTAssertEqual(journal.entries[2], "outcome \(signal.id) take_profit")
        XCTAssertTrue(journal.entries.last!.hasPrefix("decision max_open_per_symbol"), "\(journal.entries)")
    }

    /// A C head that sets rationale_len to the whole buffer stores its text,
    /// not NUL padding; one that declares more than fits (snprintf's
    /// return) is stored cut on a character and marked with "…". The same
    /// whether the head is called directly or on its executor.
    func testAHostStoresAHeadsRationaleUpToItsFirstNULAndMarksOneCut() throws {
        defer { cRationale = ([], 0) }
        let capacity = Int(AP_RATIONALE_CAPACITY)
        let cases: [(bytes: [UInt8], declared: Int, stored: String)] = [
            (Array("RSI 28 under EMA 50".utf8), capacity, "RSI 28 under EMA 50"),
            (Array(String(repeating: "é", count: 127).utf8) + [0xC3, 0], 300, String(repeating: "é", count: 126) + "…"),
        ]
        for invocation in [TenantStrategy.Invocation.direct, .deadline] {
            for (bytes, declared, stored) in cases {
                cRationale = (bytes, UInt32(declared))
                let strategy = try strategy(["long", "long", "c-rationale"], invocation: invocation, deadlineMs: 2000)
                var signals: [Signal] = []
                strategy.onSignal = { signals.append($0) }
                let frames = buffer()
                strategy.onFrame(frame(frames, minute: 0, open: 10_000, high: 10_010, low: 9_990, close: 10_000))
                let vote = try XCTUnwrap(signals.first?.votes[2], "\(invocation)")
                XCTAssertEqual(vote.rationale, stored, "\(invocation)")
                XCTAssertFalse(vote.rationale.contains("\0"), "\(invocation)")
                XCTAssertLessThanOrEqual(vote.rationale.utf8.count, capacity)
                XCTAssertEqual(signals.first?.votes[0].rationale, "scripted long")
            }
        }
    }

    func testBadVotesAbstainNamedByFieldAndNeverCrash() throws {
        let strategy = try strategy(["bad-direction", "long", "long", "nan", "over", "fail", "long"])
        var signals: [Signal] = []
        strategy.onSignal = { signals.append($0) }
        let frames = buffer()
        strategy.onFrame(frame(frames, minute: 0, open: 100, high: 101, low: 99, close: 100))
        let counters = strategy.counters
        // The first head is the bad-direction one; nan, over and fail are errors too.
        XCTAssertEqual((0..<7).map { counters.votes(head: $0, .error) }, [1, 0, 0, 1, 1, 1, 0])
        let votes = try XCTUnwrap(signals.first).votes
        XCTAssertEqual(votes[0].error, "vote.direction 7 is not long, short or flat")
        XCTAssertEqual(votes[3].error, "vote.confidence nan is not in [0, 1]")
        XCTAssertEqual(votes[4].error, "vote.confidence 1.5 is not in [0, 1]")
        XCTAssertTrue(votes[5].error.contains("model file not loaded"), votes[5].error)
        XCTAssertEqual(votes.filter { $0.status == .ok }.count, 3)
    }

    func testAHeadThatNeverAnswersTimesOutWithoutHoldingTheOthers() throws {
        let strategy = try strategy(["long", "long", "long", "hang"], invocation: .deadline, deadlineMs: 30)
        var signals: [Signal] = []
        strategy.onSignal = { signals.append($0) }
        let frames = buffer()
        let began = DispatchTime.now()
        strategy.onFrame(frame(frames, minute: 0, open: 100, high: 101, low: 99, close: 100))
        strategy.onFrame(frame(frames, minute: 1, open: 100, high: 101, low: 99, close: 100))
        XCTAssertLessThan(DispatchTime.now().uptimeNanoseconds - began.uptimeNanoseconds, 2_000_000_000)
        XCTAssertEqual(strategy.counters.votes(head: 3, .timeout), 2)
        XCTAssertEqual(signals.count, 2)
        XCTAssertTrue(signals[1].votes[3].error.contains("previous call is still running"), signals[1].votes[3].error)
        // Once it answers, it gets frames again.
        ScriptedHead.release.signal()
        Thread.sleep(forTimeInterval: 0.05)
        ScriptedHead.release.signal()
        strategy.onFrame(frame(frames, minute: 2, open: 100, high: 101, low: 99, close: 100))
        XCTAssertEqual(strategy.counters.votes(head: 3, .ok), 1)
    }

    func testAJournalThatFailsLosesNothingInMemory() throws {
        let journal = RecordingJournal()
        journal.refuse = true
        let strategy = try strategy(["short", "short", "short", "short"], journal: journal)
        let frames = buffer()
        strategy.onFrame(frame(frames, minute: 0, open: 100, high: 101, low: 99, close: 100))
        XCTAssertEqual(strategy.counters.signals, 1)
        XCTAssertEqual(strategy.counters.journalErrors, 1)
        XCTAssertEqual(strategy.trader.openPositionCount, 1)
    }

    func testFramesOfOtherTimeframesAdvanceNothingAndAskNoHead() throws {
        let strategy = try strategy(["long", "long", "long"])
        let fiveMinute = FeatureFrameBuffer(venue: "sim", symbol: "BTC-USDT", timeframeSeconds: 300,
                                            indicatorNames: FrameProducer.indicatorNames, layoutID: FrameProducer.layoutID)
        strategy.onFrame(frame(fiveMinute, minute: 0, open: 100, high: 101, low: 99, close: 100))
        XCTAssertEqual(strategy.counters.framesEvaluated, 0)
        XCTAssertEqual(strategy.counters.votes(head: 0, .ok), 0)
    }

    func testContradictoryLimitsAreRefusedAtCreation() throws {
        var settings = StrategySettings(heads: [HeadSpec(instance: "a")])
        settings.consensus.minAgree = 1
        settings.risk.maxOpenPerSymbol = 9
        XCTAssertThrowsError(try TenantStrategy(tenant: "acme", settings: settings, heads: [], journal: nil, halt: GlobalHalt(),
                                                invocation: .direct, logger: Logger(label: "test"))) { error in
            XCTAssertTrue("\(error)".contains("tenant acme"), "\(error)")
            XCTAssertTrue("\(error)".contains("risk.max_open_per_symbol"), "\(error)")
        }
    }

    // MARK: - Metrics

    func testVotesSignalsAndRefusalsAreCountedPerTenantHeadAndReason() throws {
        let metrics = TestMetrics()
        let strategy = try withMetricsFactory(metrics) { try self.strategy(["long", "long", "long", "flat", "fail"]) }
        let frames = buffer()
        // Minutes 0 and 1 open two positions (nothing reaches their stops or
        // targets); two per symbol at most, so minutes 2 and 3 are refused.
        for minute: Int64 in 0..<4 { strategy.onFrame(frame(frames, minute: minute, open: 100, high: 101, low: 99, close: 100)) }
        func votes(_ head: String, _ outcome: String) throws -> Int64 {
            try metrics.expectCounter("alphaplus_head_votes_total", [("tenant", "acme"), ("plugin", "test.scripted-head"),
                                                                      ("instance", head), ("outcome", outcome)]).totalValue
        }
        XCTAssertEqual(try (0..<3).map { try votes("h\($0)", "voted") }, [4, 4, 4])
        XCTAssertEqual(try votes("h3", "abstained"), 4)
        XCTAssertEqual(try votes("h4", "error"), 4)
        XCTAssertEqual(try votes("h4", "voted"), 0)
        XCTAssertEqual(try votes("h0", "timeout"), 0)
        XCTAssertEqual(metrics.counterTotal(label: "alphaplus_head_votes_total"), 20, "one outcome per head and frame")
        for head in 0..<5 {
            let durations = try metrics.expectTimer("alphaplus_head_call_duration_seconds",
                                                    [("tenant", "acme"), ("plugin", "test.scripted-head"), ("instance", "h\(head)")])
            XCTAssertEqual(durations.values.count, 4, "h\(head): one duration per call")
            XCTAssertTrue(durations.values.allSatisfy { $0 > 0 })
        }
        XCTAssertEqual(try metrics.expectCounter("alphaplus_signals_total", [("tenant", "acme"), ("direction", "long")]).totalValue, 2)
        XCTAssertEqual(try metrics.expectCounter("alphaplus_signals_total", [("tenant", "acme"), ("direction", "short")]).totalValue, 0)
        XCTAssertEqual(try metrics.expectCounter("alphaplus_risk_refusals_total",
                                                 [("tenant", "acme"), ("reason", "max_open_per_symbol")]).totalValue, 2)
        XCTAssertEqual(metrics.counterTotal(label: "alphaplus_risk_refusals_total"), 2)
        XCTAssertEqual(Int64(strategy.counters.signals), metrics.counterTotal(label: "alphaplus_signals_total"))
    }

    func testALateHeadCountsATimeoutAndItsCallStillHasItsDuration() throws {
        let metrics = TestMetrics()
        let strategy = try withMetricsFactory(metrics) {
            try self.strategy(["long", "long", "long", "hang"], invocation: .deadline, deadlineMs: 30)
        }
        // The frame's names and symbol must outlive the late call.
        let frames = buffer()
        strategy.onFrame(frame(frames, minute: 0, open: 100, high: 101, low: 99, close: 100))
        XCTAssertEqual(try metrics.expectCounter("alphaplus_head_votes_total", [("tenant", "acme"), ("plugin", "test.scripted-head"),
                                                                                ("instance", "h3"), ("outcome", "timeout")]).totalValue, 1)
        let late = try metrics.expectTimer("alphaplus_head_call_duration_seconds",
                                           [("tenant", "acme"), ("plugin", "test.scripted-head"), ("instance", "h3")])
        XCTAssertEqual(late.values.count, 0, "still running")
        Thread.sleep(forTimeInterval: 0.05)
        ScriptedHead.release.signal()
        let deadline = Date() + 5
        while late.values.isEmpty, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        XCTAssertEqual(late.values.count, 1)
        XCTAssertGreaterThanOrEqual(late.values.first ?? 0, 50_000_000, "it answered 50 ms after the strategy stopped waiting")
        withExtendedLifetime(frames) {}
    }

    // MARK: - Quarantine

    func testAHeadThatKeepsFailingIsQuarantinedWithADoublingBackoffUntilACallAnswers() throws {
        final class ManualTime { var ns: Int64 = 1_000_000_000 }
        let metrics = TestMetrics(), logs = LogLines(), time = ManualTime()
        ScriptedHead.switchFails.isOn = true
        defer { ScriptedHead.switchFails.isOn = false }
        let strategy = try withMetricsFactory(metrics) {
            try self.strategy(["long", "long", "switch"], invocation: .deadline, deadlineMs: 2000, clock: { time.ns },
                              logger: Logger(label: "test") { _ in logs })
        }
        let labels = [("tenant", "acme"), ("plugin", "test.scripted-head"), ("instance", "h2")]
        let calls = try metrics.expectTimer("alphaplus_head_call_duration_seconds", labels)
        let quarantined = try metrics.expectGauge("alphaplus_instance_quarantined", labels)
        let skipped = try metrics.expectCounter("alphaplus_head_votes_total", labels + [("outcome", "quarantined")])
        let frames = buffer()
        var minute: Int64 = 0
        func feed(_ count: Int) {
            for _ in 0..<count {
                strategy.onFrame(frame(frames, minute: minute, open: 100, high: 101, low: 99, close: 100))
                minute += 1
            }
        }
        func advance(seconds: Int64) { time.ns += seconds * 1_000_000_000 }
        let starts = { logs.messages.filter { $0.contains("h2 (plugin test.scripted-head): quarantined for") } }

        feed(4)
        XCTAssertEqual(strategy.counters.quarantines[2], 0, "4 failures are not 5")
        XCTAssertEqual(quarantined.lastValue, 0)
        feed(1)
        XCTAssertEqual(strategy.counters.quarantines[2], 1)
        XCTAssertEqual(quarantined.lastValue, 1)
        XCTAssertEqual(starts().count, 1)
        XCTAssertTrue(starts()[0].hasPrefix("error: tenant acme, head h2 (plugin test.scripted-head): quarantined for 30 s after 5 failed calls in a row (last: evaluate failed"), starts()[0])

        // Not called during the backoff: it abstains as missing.
        advance(seconds: 29)
        feed(3)
        XCTAssertEqual(calls.values.count, 5)
        XCTAssertEqual(skipped.totalValue, 3)
        XCTAssertEqual(strategy.counters.votes(head: 2, .missing), 3)
        XCTAssertEqual(strategy.counters.votes(head: 2, .error), 5)

        // After it, one trial call; it fails: the next backoff is double.
        advance(seconds: 1)
        feed(1)
        XCTAssertEqual(calls.values.count, 6)
        XCTAssertEqual(strategy.counters.quarantines[2], 2)
        XCTAssertTrue(starts().last!.contains("quarantined for 1 min after its trial call failed"), starts().last!)
        advance(seconds: 59)
        feed(1)
        XCTAssertEqual(calls.values.count, 6, "60 s this time")

        // The trial call answers: back in service.
        advance(seconds: 1)
        ScriptedHead.switchFails.isOn = false
        feed(2)
        XCTAssertEqual(calls.values.count, 8)
        XCTAssertEqual(strategy.counters.votes(head: 2, .ok), 2)
        XCTAssertEqual(quarantined.lastValue, 0)
        XCTAssertEqual(logs.messages.filter { $0.contains("h2 (plugin test.scripted-head): quarantine over (backoff was 1 min)") }.count, 1)

        // The answer reset both the count and the backoff.
        ScriptedHead.switchFails.isOn = true
        feed(4)
        XCTAssertEqual(strategy.counters.quarantines[2], 2)
        feed(1)
        XCTAssertEqual(strategy.counters.quarantines[2], 3)
        XCTAssertTrue(starts().last!.contains("quarantined for 30 s after 5 failed calls in a row"), starts().last!)
        XCTAssertEqual(starts().count, 3, "one line per quarantine")
        XCTAssertEqual(try metrics.expectCounter("alphaplus_instance_quarantines_total", labels).totalValue, 3)
        XCTAssertEqual(strategy.counters.quarantines[0] + strategy.counters.quarantines[1], 0)
    }

    /// A reload that rebuilds the strategy: a head that is still the same instance stays quarantined; a recreated one does not.
    func testAStrategyRebuiltOnTheSameHeadInstancesKeepsTheirQuarantine() throws {
        final class ManualTime { var ns: Int64 = 1_000_000_000 }
        let time = ManualTime()
        ScriptedHead.switchFails.isOn = true
        defer { ScriptedHead.switchFails.isOn = false }
        let previous = try strategy(["long", "long", "switch"], invocation: .deadline, deadlineMs: 2000, clock: { time.ns })
        let frames = buffer()
        for minute: Int64 in 0..<5 { previous.onFrame(frame(frames, minute: minute, open: 100, high: 101, low: 99, close: 100)) }
        XCTAssertEqual(previous.counters.quarantines[2], 1)

        func rebuilt(_ heads: [TenantStrategy.Head]) throws -> TenantStrategy {
            var settings = previous.settings
            settings.consensus.minAgree = 1
            let strategy = try TenantStrategy(tenant: "acme", settings: settings, heads: heads, journal: nil, halt: GlobalHalt(),
                                              invocation: .deadline, clock: { time.ns }, logger: Logger(label: "test"), continuing: previous)
            strategy.takeOver(from: previous)
            strategy.onFrame(frame(frames, minute: 5, open: 100, high: 101, low: 99, close: 100))
            return strategy
        }
        let same = try rebuilt(previous.heads)
        XCTAssertTrue(same.trader === previous.trader)
        XCTAssertEqual(same.counters.votes(head: 2, .missing), 1, "still quarantined: not called")
        XCTAssertEqual(same.counters.votes(head: 0, .ok), 1)

        let recreated = try strategy(["long", "long", "switch"], invocation: .deadline, clock: { time.ns }).heads[2]
        let other = try rebuilt([previous.heads[0], previous.heads[1], TenantStrategy.Head(spec: HeadSpec(instance: "h2"), pluginID: recreated.pluginID,
                                                                                          instance: recreated.instance)])
        XCTAssertEqual(other.counters.votes(head: 2, .error), 1, "a new instance is called")
        XCTAssertEqual(other.counters.quarantines[2], 0)
    }

    /// At start a connector backfills hours of history as fast as it can,
    /// while the machine is busiest: those frames' failures are counted and
    /// logged but never quarantine a head; live failures still do.
    func testHistoryWarmUpFailuresStartNoQuarantine() throws {
        final class ManualTime { var ns: Int64 = 1_000_000_000 }
        let logs = LogLines(), time = ManualTime()
        ScriptedHead.switchFails.isOn = true
        defer { ScriptedHead.switchFails.isOn = false }
        let strategy = try strategy(["long", "long", "switch"], invocation: .deadline, deadlineMs: 2000, clock: { time.ns },
                                    logger: Logger(label: "test") { _ in logs })
        let frames = buffer()
        for minute: Int64 in 0..<20 {
            let history = frame(frames, minute: minute, open: 100, high: 101, low: 99, close: 100)
            frames.pointer.pointee.ts_ns += 3 * 3600 * 1_000_000_000  // made three hours after its candle closed
            strategy.onFrame(history)
            time.ns += 1_000_000
        }
        XCTAssertEqual(strategy.counters.votes(head: 2, .error), 20, "every history frame called it")
        XCTAssertEqual(strategy.counters.quarantines[2], 0)
        let warnings = logs.messages.filter { $0.contains("h2 (plugin test.scripted-head): evaluate failed") }
        XCTAssertEqual(warnings.count, 3)
        XCTAssertTrue(warnings[0].hasSuffix("(error 1 time; history warm-up: not counted towards quarantine)"), warnings[0])

        for minute: Int64 in 20..<24 { strategy.onFrame(frame(frames, minute: minute, open: 100, high: 101, low: 99, close: 100)) }
        XCTAssertEqual(strategy.counters.quarantines[2], 0, "4 live failures are not 5: history added none")
        strategy.onFrame(frame(frames, minute: 24, open: 100, high: 101, low: 99, close: 100))
        XCTAssertEqual(strategy.counters.quarantines[2], 1)
        let start = try XCTUnwrap(logs.messages.first { $0.contains("quarantined for 30 s") })
        XCTAssertFalse(start.contains("head_deadline_ms"), "an error is not fixed by a longer deadline: \(start)")
    }

    /// A quarantine for timeouts names the key that set the deadline, its
    /// value and one to try: the tenant's head_deadline_ms (the default,
    /// 50 ms, is for a loaded machine), or the quota when it caps it.
    func testATimeoutQuarantineSaysWhichDeadlineToRaiseAndToWhat() throws {
        XCTAssertEqual(StrategySettings(heads: []).consensus.headDeadlineNs, 50_000_000)
        final class ManualTime { var ns: Int64 = 1_000_000_000 }
        let time = ManualTime()
        func quarantineLine(deadlineMs: Double, quota: TenantQuota) throws -> String {
            let logs = LogLines()
            let strategy = try strategy(["long", "long", "hang"], invocation: .deadline, deadlineMs: deadlineMs, quota: quota,
                                        clock: { time.ns }, logger: Logger(label: "test") { _ in logs })
            let frames = buffer()
            for minute: Int64 in 0..<5 { strategy.onFrame(frame(frames, minute: minute, open: 100, high: 101, low: 99, close: 100)) }
            XCTAssertEqual(strategy.counters.votes(head: 2, .timeout), 5)
            XCTAssertEqual(strategy.counters.quarantines[2], 1)
            ScriptedHead.release.signal()
            Thread.sleep(forTimeInterval: 0.05)  // the late call reads the frame's names
            withExtendedLifetime(frames) {}
            return try XCTUnwrap(logs.messages.first { $0.contains("h2 (plugin test.scripted-head): quarantined for 30 s") })
        }
        let tight = try quarantineLine(deadlineMs: 5, quota: .unlimited)
        XCTAssertTrue(tight.hasSuffix("; if the head is slow rather than stuck, raise strategy.consensus.head_deadline_ms in tenant acme's file (now 5; try 50)"), tight)
        let loaded = try quarantineLine(deadlineMs: 50, quota: .unlimited)
        XCTAssertTrue(loaded.hasSuffix("raise strategy.consensus.head_deadline_ms in tenant acme's file (now 50; try 100)"), loaded)
        let capped = try quarantineLine(deadlineMs: 2000, quota: TenantQuota(pluginCallNs: 2_500_000))
        XCTAssertTrue(capped.contains("(last: did not answer within 2.5 ms"), capped)
        XCTAssertTrue(capped.hasSuffix("raise plugin_call_ms in the host file's quotas.tenants.acme (or quotas.default) (now 2.5, it caps this tenant's deadline; try 50)"), capped)
    }

    func testBacktestsCallEveryHeadEveryFrame() throws {
        let strategy = try strategy(["long", "long", "fail"])
        let frames = buffer()
        for minute: Int64 in 0..<8 { strategy.onFrame(frame(frames, minute: minute, open: 100, high: 101, low: 99, close: 100)) }
        XCTAssertEqual(strategy.counters.votes(head: 2, .error), 8)
        XCTAssertEqual(strategy.counters.quarantines[2], 0)
    }

    // MARK: - Tenants side by side

    /// Each tenant has a head that answers after 1 s; "first" waits 800 ms
    /// for it, "second" 400 ms (its quota caps its 2 s deadline). Second's
    /// signal comes before first's deadline, and the frame takes first's
    /// deadline, not the sum.
    func testATenantWaitsForItsOwnHeadsNotForAnotherTenantsSlowOne() throws {
        let first = try strategy(["long", "long", "long", "slow"], invocation: .deadline, deadlineMs: 800, tenant: "first")
        let second = try strategy(["long", "long", "long", "slow"], invocation: .deadline, deadlineMs: 2000, tenant: "second",
                                  quota: TenantQuota(pluginCallNs: 400_000_000))
        XCTAssertEqual(second.headDeadlineNs, 400_000_000, "the quota caps the deadline")
        let tenants = TenantStrategies()
        tenants.add(first)
        tenants.add(second)
        var signalled: [String: UInt64] = [:]
        let start = DispatchTime.now()
        for strategy in [first, second] {
            strategy.onSignal = { signalled[$0.tenant] = DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds }
        }
        let frames = buffer()
        tenants.onFrame(frame(frames, minute: 0, open: 100, high: 101, low: 99, close: 100))
        let took = DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds
        for strategy in [first, second] {
            XCTAssertEqual((0..<3).map { strategy.counters.votes(head: $0, .ok) }, [1, 1, 1], strategy.tenant)
            XCTAssertEqual(strategy.counters.votes(head: 3, .timeout), 1, strategy.tenant)
        }
        let secondAfter = try XCTUnwrap(signalled["second"]), firstAfter = try XCTUnwrap(signalled["first"])
        XCTAssertGreaterThanOrEqual(secondAfter, 400_000_000)
        XCTAssertLessThan(secondAfter, 800_000_000, "second did not wait for first's slow head")
        XCTAssertGreaterThanOrEqual(firstAfter, 800_000_000)
        XCTAssertLessThan(took, 1_150_000_000, "the longest deadline, not the sum (1.2 s)")
        XCTAssertEqual(tenants.all.map(\.tenant), ["first", "second"])
        // The late calls read the frame's names: they answer first.
        Thread.sleep(forTimeInterval: 0.4)
        withExtendedLifetime(frames) {}
    }
}
