import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// init/deinit counting, create's preconditions and destroy, through the raw table.
final class LifecycleTests: XCTestCase {
    func testCreateBeforeAnyInitIsWrongState() {
        let table = PluginExport.entry(NeverInitPlugin.self)
        let context = RawContext()
        // get_capability works before init.
        XCTAssertNotNil(capability(table, "ap.head.v1"))

        let before = rawCreate(table, context: context, instance: "early", config: "{}")
        XCTAssertEqual(before.status, ap_status(AP_ERR_WRONG_STATE))
        XCTAssertNil(before.instance)
        XCTAssertEqual(before.message, "create called before init")

        // An init the plugin refuses (incompatible host ABI) does not count.
        var err = emptyError()
        XCTAssertEqual(table.pointee.`init`(table, RawHost.futureAPI, context.opaque, &err), ap_status(AP_ERR_UNSUPPORTED))
        XCTAssertTrue(message(err).contains("ABI"), message(err))
        XCTAssertEqual(rawCreate(table, context: context, instance: "still-early", config: "{}").status,
                       ap_status(AP_ERR_WRONG_STATE))
    }

    func testInitIsCounted() {
        let table = PluginExport.entry(CountedPlugin.self)
        let context = RawContext()
        var err = emptyError()

        XCTAssertEqual(table.pointee.`init`(table, RawHost.api, context.opaque, &err), ap_status(AP_OK))
        XCTAssertEqual(table.pointee.`init`(table, RawHost.api, context.opaque, &err), ap_status(AP_OK))
        table.pointee.deinit(table)

        // One init is still outstanding: create works.
        let first = rawCreate(table, context: context, instance: "one", config: "{}")
        XCTAssertEqual(first.status, ap_status(AP_OK), first.message)
        XCTAssertNotNil(first.instance)
        table.pointee.destroy(table, first.instance)

        // The last deinit: create is refused again.
        table.pointee.deinit(table)
        let afterLast = rawCreate(table, context: context, instance: "two", config: "{}")
        XCTAssertEqual(afterLast.status, ap_status(AP_ERR_WRONG_STATE))
        XCTAssertEqual(afterLast.message, "create called before init")

        // init after the last deinit works again.
        XCTAssertEqual(table.pointee.`init`(table, RawHost.api, context.opaque, &err), ap_status(AP_OK))
        let again = rawCreate(table, context: context, instance: "three", config: "{}")
        XCTAssertEqual(again.status, ap_status(AP_OK), again.message)
        table.pointee.destroy(table, again.instance)
        table.pointee.deinit(table)
        XCTAssertEqual(rawCreate(table, context: context, instance: "four", config: "{}").status,
                       ap_status(AP_ERR_WRONG_STATE))
    }

    func testDestroyReleasesTheInstance() throws {
        let host = TestHost()
        let plugin = try host.load(SimExchange.self)
        var instance: TestInstance? = try plugin.create(config: #"{"venue": "sim", "tick_ms": 1000}"#, instance: "released")
        weak let exchange = Live.get(SimExchange.self, instance: "released")
        XCTAssertNotNil(exchange)
        // Its timers hold closures that capture the instance.
        try instance!.start()
        host.advance(byNs: 1_000_000_000)
        XCTAssertEqual(exchange?.fired, ["tick@1000ms"])

        instance = nil // destroy
        XCTAssertNil(exchange, "destroy must release the plugin object (timer handlers kept it alive)")
        XCTAssertNil(Live.get(SimExchange.self, instance: "released"))
    }

    func testTimersOfADestroyedInstanceNeverFire() throws {
        let host = TestHost()
        let plugin = try host.load(SimExchange.self)
        let source = EventSource(venue: "sim", symbol: "BTC-USDT", exchangeTimeNs: 1)
        do {
            let instance = try plugin.create(config: #"{"venue": "sim", "tick_ms": 1000}"#, instance: "gone")
            try instance.start()
            Live.get(SimExchange.self, instance: "gone")!.script = Array(
                repeating: .trade(source, price: ExactDecimal(mantissa: 1, exponent: 0), size: ExactDecimal(mantissa: 1, exponent: 0),
                                  aggressor: .buy, tradeID: "t", sequence: 0),
                count: 5)
            host.advance(byNs: 1_000_000_000)
            XCTAssertEqual(host.emitted.count, 1)
        } // the instance is destroyed here without being stopped
        host.advance(byNs: 10_000_000_000)
        XCTAssertEqual(host.emitted.count, 1, "a destroyed instance's timers fired")
        XCTAssertEqual(host.logs.map(\.message), [])
    }

    /// Two hosts in one process: the host table passed to init is [load];
    /// dropping one TestHost must not leave the plugin pointing at freed memory.
    func testAHostTableOutlivesItsTestHost() throws {
        let first = TestHost()
        let plugin = try first.load(EchoWebhook.self)
        do {
            let second = TestHost()
            _ = try second.load(EchoWebhook.self)
        }
        let instance = try plugin.create(instance: "survivor")
        let response = try instance.handle(WebhookRequest(method: "POST", path: "/telemetry"))
        XCTAssertEqual(response.status, 204)
        XCTAssertEqual(first.logs.map(\.message), ["trace line", "debug line", "info line", "warning line", "error line"])
    }
}
