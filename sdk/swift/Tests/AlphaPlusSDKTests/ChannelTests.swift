import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// ap.channel.v1 through the channel table.
final class ChannelTests: XCTestCase {
    private let host = TestHost()

    private func delivery(_ key: String, kind: String = "signal", result: DeliveryResult, attempt: Int = 1) -> Delivery {
        Delivery(idempotencyKey: key, attempt: attempt, targetJSON: #"{"chat_id": -100123}"#, kind: kind, tier: "premium",
                 text: "BTC-USDT long 0.72 ✓", payloadJSON: ScriptedResult.payload(result))
    }

    func testDeliverCompletesWithTheResultPassed() throws {
        let instance = try host.load(EchoChannel.self).create(instance: "echo")
        let channel = try XCTUnwrap(Live.get(EchoChannel.self, instance: "echo"))
        let results = [
            DeliveryResult(.delivered, externalID: "msg-981"),
            DeliveryResult(.retry, retryAfterMs: 1500, reason: "429 Too Many Requests",
                           updatedTargetJSON: #"{"chat_id": -100999}"#),
            DeliveryResult(.permanentFailure, reason: "message too long"),
            DeliveryResult(.destinationGone, externalID: "", reason: "bot was blocked by the user"),
            DeliveryResult(.retry, retryAfterMs: 0, updatedTargetJSON: #"{"webhook_url": "https://discord.com/api/webhooks/2"}"#),
        ]
        var sent: [Delivery] = []
        for (index, result) in results.enumerated() {
            let message = delivery("key-\(index)", result: result, attempt: index + 1)
            sent.append(message)
            XCTAssertEqual(try instance.deliver(message), result, "delivery \(index)")
        }
        // The plugin saw every field of every delivery.
        XCTAssertEqual(channel.received, sent)
        XCTAssertEqual(host.completions, zip(sent, results).map { TestHost.Completion(idempotencyKey: $0.idempotencyKey, result: $1) })
    }

    func testACompletionFromATimerReachesTheHost() throws {
        let instance = try host.load(EchoChannel.self).create(instance: "later")
        let result = DeliveryResult(.delivered, externalID: "late-1")
        XCTAssertNil(try instance.deliver(delivery("late", kind: "later", result: result)), "not completed yet")
        XCTAssertEqual(host.completions, [])
        host.advance(byNs: 999_999_999)
        XCTAssertEqual(host.completions, [])
        host.advance(byNs: 1)
        XCTAssertEqual(host.completions, [TestHost.Completion(idempotencyKey: "late", result: result)])
    }

    func testCompletingTwiceDeliversOnce() throws {
        let instance = try host.load(EchoChannel.self).create(instance: "twice")
        let result = DeliveryResult(.delivered, externalID: "first")
        XCTAssertEqual(try instance.deliver(delivery("twice", kind: "twice", result: result)), result)
        XCTAssertEqual(host.completions, [TestHost.Completion(idempotencyKey: "twice", result: result)])

        // The same through the raw table, counting calls of done.
        let (table, raw, instanceRaw) = try rawChannel(instance: "raw-twice")
        defer { table.pointee.destroy(table, instanceRaw); table.pointee.deinit(table) }
        let recorder = DoneRecorder()
        var err = emptyError()
        let status = delivery("raw-twice", kind: "twice", result: result).withCDelivery {
            raw.pointee.deliver(instanceRaw, $0, DoneRecorder.done, recorder.opaque, &err)
        }
        XCTAssertEqual(status, ap_status(AP_OK))
        XCTAssertEqual(recorder.results, [result])
    }

    func testAThrowingDeliverFailsAndNeverCompletes() throws {
        let instance = try host.load(EchoChannel.self).create(instance: "fail")
        let channel = try XCTUnwrap(Live.get(EchoChannel.self, instance: "fail"))
        let result = DeliveryResult(.delivered, externalID: "never")
        XCTAssertThrowsError(try instance.deliver(delivery("doomed", kind: "fail", result: result))) { error in
            XCTAssertEqual((error as? PluginError)?.status, ap_status(AP_ERR_UNAVAILABLE))
            XCTAssertEqual((error as? PluginError)?.message, "platform refused doomed")
        }
        XCTAssertEqual(host.completions, [])
        // The plugin kept the completion; calling it after failing must do nothing.
        channel.kept.forEach { $0(result) }
        XCTAssertEqual(host.completions, [])

        // The same through the raw table, counting calls of done.
        let (table, raw, instanceRaw) = try rawChannel(instance: "raw-fail")
        defer { table.pointee.destroy(table, instanceRaw); table.pointee.deinit(table) }
        let recorder = DoneRecorder()
        var err = emptyError()
        let status = delivery("raw-doomed", kind: "fail", result: result).withCDelivery {
            raw.pointee.deliver(instanceRaw, $0, DoneRecorder.done, recorder.opaque, &err)
        }
        XCTAssertEqual(status, ap_status(AP_ERR_UNAVAILABLE))
        XCTAssertEqual(message(err), "platform refused raw-doomed")
        XCTAssertEqual(recorder.results, [])
        let rawChannelObject = try XCTUnwrap(Live.get(EchoChannel.self, tenant: "raw", instance: "raw-fail"))
        rawChannelObject.kept.forEach { $0(result) }
        XCTAssertEqual(recorder.results, [], "done was called after deliver returned an error")
    }

    func testAMalformedPayloadFailsTheDelivery() throws {
        let instance = try host.load(EchoChannel.self).create(instance: "malformed")
        var message = delivery("bad", result: DeliveryResult(.delivered))
        message.payloadJSON = "not json"
        XCTAssertThrowsError(try instance.deliver(message)) { error in
            // A DecodingError outside create is still reported, not unwound.
            XCTAssertNotEqual((error as? PluginError)?.status, ap_status(AP_OK))
        }
        XCTAssertEqual(host.completions, [])
    }

    func testOneTypeOffersChannelAndWebhook() throws {
        let plugin = try host.load(BotPlugin.self)
        XCTAssertEqual(plugin.capabilities, ["ap.channel.v1", "ap.webhook.v1"])
        let bot = try plugin.create(config: #"{"prefix": "tg"}"#, instance: "bot")
        XCTAssertEqual(try bot.handle(WebhookRequest(method: "POST", path: "/update")).body, Array("tg sent 0".utf8))
        XCTAssertEqual(try bot.deliver(delivery("m1", result: DeliveryResult(.delivered))), DeliveryResult(.delivered, externalID: "tg-1"))
        XCTAssertEqual(try bot.deliver(delivery("m2", result: DeliveryResult(.delivered))), DeliveryResult(.delivered, externalID: "tg-2"))
        // Both tables reach the same instance.
        let response = try bot.handle(WebhookRequest(method: "POST", path: "/update"))
        XCTAssertEqual(response.status, 200)
        XCTAssertEqual(response.headers.map(\.name), ["Content-Type"])
        XCTAssertEqual(response.headers.map(\.value), ["text/plain"])
        XCTAssertEqual(String(decoding: response.body, as: UTF8.self), "tg sent 2")
        // Not a head or an exchange.
        XCTAssertThrowsError(try bot.evaluate(TestFrame())) { error in
            XCTAssertEqual((error as? PluginError)?.status, ap_status(AP_ERR_UNSUPPORTED))
        }
        XCTAssertThrowsError(try bot.start())
    }

    /// EchoChannel created through its raw table with the raw host.
    private func rawChannel(instance: String) throws
        -> (UnsafePointer<ap_plugin_api>, UnsafePointer<ap_channel_v1>, OpaquePointer?) {
        let table = PluginExport.entry(EchoChannel.self)
        var err = emptyError()
        XCTAssertEqual(table.pointee.`init`(table, RawHost.api, rawContext.opaque, &err), ap_status(AP_OK))
        let created = rawCreate(table, context: rawContext, instance: instance, config: "{}")
        XCTAssertEqual(created.status, ap_status(AP_OK), created.message)
        let channel = try XCTUnwrap(capability(table, "ap.channel.v1")).assumingMemoryBound(to: ap_channel_v1.self)
        return (table, channel, created.instance)
    }

    private let rawContext = RawContext()
}
