import AllocationCounter
import CAlphaPlus
import Foundation
import HostMetrics
import Metrics
@testable import PluginRuntime
import XCTest

/// The hot path keeps its metric handles: trades emitted through the
/// services table, ingest, candles, frames and three heads' votes (the
/// heads count their evaluations themselves) make no handle once the
/// stream and its series exist, and recording into the Prometheus registry
/// allocates no more than with metrics off. (Absolute counts need a
/// release build: the benchmarks show 0 per event there; a debug build
/// allocates in the standard library's own accessors.)
final class HotPathAllocationTests: XCTestCase {
    /// Allocations for 6,000 trades over ten minutes after two minutes of
    /// warm-up, on a live path made with `factory`.
    private func allocations(recordingInto factory: any MetricsFactory) throws
        -> (allocations: UInt64, frames: Int, handlesBefore: Int, handlesMade: Int, path: LivePath) {
        // Flat heads: no consensus, so no signal (a signal allocates: its id, the journal, the outbox).
        let path = try withMetricsFactory(factory) { try LivePath(flatHeads: true) }
        let venue = strdup("sim")!, symbol = strdup("BTC-USDT")!
        defer { free(venue); free(symbol) }
        var trade = ap_trade_event()
        trade.header = ap_event_header(struct_size: UInt32(MemoryLayout<ap_trade_event>.size), kind: AP_EVENT_TRADE.rawValue,
                                       venue: ap_str(ptr: venue, len: 3), symbol: ap_str(ptr: symbol, len: 8),
                                       exchange_ts_ns: 0, local_ts_ns: 0)
        trade.size = ap_decimal(mantissa: 150, exponent: -3)
        let context = path.feed.context.opaque
        let emit = try XCTUnwrap(path.services.api.pointee.emit_event)
        /// One trade every 100 ms from the start: 600 a minute.
        func emitTrades(_ range: Range<Int>) {
            withUnsafeMutablePointer(to: &trade) { event in
                let raw = UnsafeRawPointer(event).assumingMemoryBound(to: ap_event_header.self)
                for index in range {
                    let timeNs = LivePath.startNs + Int64(index) * 100_000_000
                    path.marketClock.nowNs = timeNs
                    event.pointee.header.exchange_ts_ns = timeNs
                    event.pointee.price = ap_decimal(mantissa: 4_700_000 + Int64((index &* 7919) % 2_000) - 1_000, exponent: -2)
                    event.pointee.sequence = UInt64(index + 1)
                    _ = emit(context, raw)
                }
            }
        }
        emitTrades(0..<1_200)  // the stream, its series and every handle are made
        let framesBefore = path.strategy.counters.framesEvaluated
        let handlesBefore = (factory as? HandleCount)?.made ?? 0
        let before = ap_allocation_count()
        emitTrades(1_200..<7_200)
        let allocations = ap_allocation_count() - before
        let handlesMade = ((factory as? HandleCount)?.made ?? 0) - handlesBefore
        return (allocations, path.strategy.counters.framesEvaluated - framesBefore, handlesBefore, handlesMade, path)
    }

    func testTheHotPathMakesNoHandleAndPrometheusAddsNoAllocation() throws {
        let off = try allocations(recordingInto: NOOPMetricsHandler.instance)
        let host = HostMetrics()
        let counting = HandleCount(host.factory)
        let prometheus = try allocations(recordingInto: counting)
        XCTAssertEqual(prometheus.frames, 10, "ten minutes closed, each voted on")
        XCTAssertGreaterThan(prometheus.handlesBefore, 0)
        XCTAssertEqual(prometheus.handlesMade, 0, "handles made while 6,000 trades went through")
        // One allocation per event would add 6,000; other threads of the
        // process may allocate a few times meanwhile.
        XCTAssertLessThanOrEqual(prometheus.allocations, off.allocations + 10, "6,000 trades, ten frames, thirty votes")

        let text = try PrometheusText(host.exposition())
        let feed = ["tenant": "acme", "plugin": "test.steady-head", "instance": "feed"]
        XCTAssertEqual(text.value("alphaplus_events_emitted_total", feed.merging(["kind": "trade"]) { $1 }), 7_200)
        XCTAssertEqual(text.value("alphaplus_market_events_total", ["venue": "sim", "kind": "trade"]), 7_200)
        XCTAssertEqual(text.value("alphaplus_head_votes_total", ["tenant": "acme", "plugin": "test.steady-head", "instance": "h0",
                                                                 "outcome": "abstained"]),
                       Double(prometheus.path.strategy.counters.framesEvaluated))
        XCTAssertEqual(text.value("alphaplus_plugin_evaluations_total", ["tenant": "acme", "plugin": "test.steady-head", "instance": "h0"]),
                       Double(prometheus.path.strategy.counters.framesEvaluated))
    }
}

/// A factory that counts the handles made through it.
final class HandleCount: MetricsFactory, @unchecked Sendable {
    private let factory: any MetricsFactory
    private let lock = NSLock()
    private var count = 0

    init(_ factory: any MetricsFactory) { self.factory = factory }

    var made: Int { lock.withLock { count } }

    private func counted<Handle>(_ make: () -> Handle) -> Handle {
        lock.withLock { count += 1 }
        return make()
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        counted { factory.makeCounter(label: label, dimensions: dimensions) }
    }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
        counted { factory.makeFloatingPointCounter(label: label, dimensions: dimensions) }
    }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
        counted { factory.makeMeter(label: label, dimensions: dimensions) }
    }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        counted { factory.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate) }
    }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        counted { factory.makeTimer(label: label, dimensions: dimensions) }
    }
    func destroyCounter(_ handler: any CounterHandler) { factory.destroyCounter(handler) }
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) { factory.destroyFloatingPointCounter(handler) }
    func destroyMeter(_ handler: any MeterHandler) { factory.destroyMeter(handler) }
    func destroyRecorder(_ handler: any RecorderHandler) { factory.destroyRecorder(handler) }
    func destroyTimer(_ handler: any TimerHandler) { factory.destroyTimer(handler) }
}
