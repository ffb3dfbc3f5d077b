import AlphaPlusJSON
import struct AlphaPlusSDK.Candle
import Backtesting
import CAlphaPlus
import Foundation
import MarketData
import PluginRuntime
import Strategy
import Trading
import Timekeeping
import XCTest

/// The host's clock as a plugin sees it: `now_ns` and timers follow the
/// clock the services were made with, so in a backtest they follow the data.
final class PluginClockTests: XCTestCase {
    private static let minuteNs: Int64 = 60_000_000_000

    private func number(_ instance: HostedInstance, _ key: String) -> Int64? {
        instance.context.stateSnapshot[key].flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
    }

    func testInABacktestAPluginsNowIsTheBarsTimeAndItsTimersFireOnDataTime() throws {
        // 2022-01-05 00:00 UTC; the first bar is known at its close.
        let firstOpenNs: Int64 = 1_641_340_800_000_000_000
        let clock = ManualClock(startNs: firstOpenNs + Self.minuteNs)
        let services = HostServices(clock: clock)
        let registry = PluginRegistry(services: services)
        let plugin = try registry.load(try PluginFixtures.build("clock", defines: [
            "FIX_ID=\"com.test.clock\"", "FIX_TIMER_NS=\(Self.minuteNs)",
        ]))
        let instance = try HostedInstance(plugin: plugin, tenantID: "acme", instanceID: "clock", config: .object([:]),
                                          services: services)
        XCTAssertNil(number(instance, "timer_fired"), "no data time has passed since create")
        let head = TenantStrategy.Head(spec: HeadSpec(instance: "clock"), pluginID: plugin.id, instance: instance)
        let strategy = try TenantStrategy(tenant: "acme", settings: StrategySettings(symbols: ["BTC-USDT"], heads: [head.spec],
                                                                                     consensus: ConsensusPolicy(minAgree: 1)),
                                          heads: [head], journal: nil, halt: GlobalHalt(), invocation: .direct,
                                          logger: .init(label: "test"))
        let runner = BacktestRunner(strategy: strategy, clock: clock)
        let wallBefore = WallClock.realtimeNs()
        for minute in 0..<5 {
            let openNs = firstOpenNs + Int64(minute) * Self.minuteNs
            let price = 100 + Double(minute)
            runner.feedBar(venue: "replay", symbol: "BTC-USDT", Candle(openTimeNs: openNs, intervalSeconds: 60, open: price,
                                                                        high: price + 1, low: price - 1, close: price, volume: 1))
            let closeNs = openNs + Self.minuteNs
            XCTAssertEqual(number(instance, "now_ns"), closeNs, "evaluate at minute \(minute) reads the bar's close, not the wall clock")
            XCTAssertEqual(number(instance, "frame_ts_ns"), closeNs)
            // Created at the first close; every further minute of data fires the timer once, between two bars.
            XCTAssertEqual(number(instance, "timer_fired") ?? 0, Int64(minute), "after minute \(minute)")
            if minute > 0 { XCTAssertEqual(number(instance, "timer_now_ns"), closeNs) }
        }
        XCTAssertLessThan(number(instance, "now_ns")!, wallBefore, "2022, not today")
        // A jump of an hour in the data fires the minute timer once, then it keeps its period.
        let laterOpenNs = firstOpenNs + 65 * Self.minuteNs
        runner.feedBar(venue: "replay", symbol: "BTC-USDT", Candle(openTimeNs: laterOpenNs, intervalSeconds: 60, open: 100, high: 101,
                                                                    low: 99, close: 100, volume: 1))
        XCTAssertEqual(number(instance, "timer_fired"), 5)
        clock.advance(byNs: Self.minuteNs - 1)
        XCTAssertEqual(number(instance, "timer_fired"), 5, "not a minute since the last firing yet")
        clock.advance(byNs: 1)
        XCTAssertEqual(number(instance, "timer_fired"), 6)
        XCTAssertEqual(number(instance, "timer_now_ns"), laterOpenNs + 2 * Self.minuteNs)
        instance.destroy()
    }

    func testLiveAPluginsNowIsTheWallClock() throws {
        let services = HostServices()
        let registry = PluginRegistry(services: services)
        let plugin = try registry.load(try PluginFixtures.build("wall-clock", defines: ["FIX_ID=\"com.test.wall-clock\""]))
        let instance = try HostedInstance(plugin: plugin, tenantID: "acme", instanceID: "wall", config: .object([:]), services: services)
        let frame = FeatureFrameBuffer(venue: "sim", symbol: "BTC-USDT", timeframeSeconds: 60, indicatorNames: ["x"], layoutID: 1)
        frame.setValue(0.5, at: 0)
        var vote = ap_vote()
        let before = WallClock.realtimeNs()
        try instance.evaluate(frame.pointer, into: &vote)
        let after = WallClock.realtimeNs()
        let now = try XCTUnwrap(number(instance, "now_ns"))
        XCTAssertTrue((before...after).contains(now), "\(now) not within [\(before), \(after)]")
        instance.destroy()
    }
}
