import AlphaPlusJSON
import AlphaPlusSDKTesting
import WebhookStripe
import XCTest

/// The plugin through the test host: signatures, responses, dedupe and
/// the subscriber changes Stripe's events make.
final class StripeWebhookTests: XCTestCase {
    static let startSeconds: Int64 = 1_700_000_000
    static let config = #"{"prices": {"price_Premium1": "premium", "price_Basic1": "basic"}}"#
    static let periodEnd: Int64 = 1_702_592_000

    private var host: TestHost!
    private var requestCount = 0

    private func start(config: String = config, secrets: [String: String] = ["signing_secret": StripeSigner.secret]) throws -> TestInstance {
        host = TestHost(nowNs: Self.startSeconds * 1_000_000_000, secrets: secrets)
        return try host.load(StripeWebhook.self).create(config: config, tenant: "demo", instance: "stripe")
    }

    private var nowSeconds: Int64 { host.nowNs / 1_000_000_000 }

    private func advance(seconds: Int64) { host.advance(byNs: seconds * 1_000_000_000) }

    /// Posts `body` with `header` (nil: none), as request "req-<n>".
    private func post(_ instance: TestInstance, _ body: [UInt8], header: String?, method: String = "POST") throws -> WebhookResponse {
        requestCount += 1
        let headers = header.map { [(name: "Stripe-Signature", value: $0)] } ?? []
        return try instance.handle(WebhookRequest(method: method, path: "", headers: [(name: "Content-Type", value: "application/json")] + headers,
                                                  body: body, requestID: "req-\(requestCount)"))
    }

    /// Posts `body` signed now with the endpoint's secret, as Stripe does.
    private func deliver(_ instance: TestInstance, _ body: [UInt8]) throws -> WebhookResponse {
        try post(instance, body, header: StripeSigner.header(body, at: nowSeconds))
    }

    private func json(_ response: WebhookResponse) throws -> JSONValue { try JSONValue(parsing: response.body) }

    private func assertReceived(_ response: WebhookResponse, duplicate: Bool = false, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(response.status, 200, String(decoding: response.body, as: UTF8.self), file: file, line: line)
        var expected: [String: JSONValue] = ["received": .bool(true)]
        if duplicate { expected["duplicate"] = .bool(true) }
        XCTAssertEqual(try json(response), .object(expected), file: file, line: line)
        XCTAssertEqual(response.headers.first?.value, "application/json", file: file, line: line)
    }

    private func subscriber(_ customer: String) -> Subscriber? { host.subscriber(for: .stripeCustomer(customer)) }

    // MARK: - Requests that are refused

    /// Every bad request: 400 naming the problem, a warning with the request
    /// id, and nothing changed (subscribers, their history, the plugin's state).
    func testBadRequestsAreRefusedWithoutChangingAnything() throws {
        let instance = try start()
        try assertReceived(deliver(instance, StripeEvents.invoice("evt_setup", created: nowSeconds - 5, customer: "cus_A",
                                                                  price: "price_Basic1", periodEnd: Self.periodEnd)))
        let subscribers = host.allSubscribers, history = host.subscriptions.history, state = host.state(of: instance)
        XCTAssertEqual(subscribers.map(\.tier), ["basic"])

        let body = StripeEvents.invoice("evt_bad", created: nowSeconds - 1, customer: "cus_A", price: "price_Premium1",
                                        periodEnd: Self.periodEnd)
        let valid = StripeSigner.signature(body, timestamp: String(nowSeconds))
        var tampered = body
        tampered[tampered.count / 2] ^= 0x20
        let notAnEvent = Array(#"{"id": "evt_1", "object": "event", "type": "invoice.paid", "created": 1700000000}"#.utf8)
        let cases: [(name: String, body: [UInt8], header: String?, problem: String)] = [
            ("forged", body, "t=\(nowSeconds),v1=\(String(repeating: "ab", count: 32))", "no v1 signature in the Stripe-Signature header matches"),
            ("tampered body", tampered, StripeSigner.header(body, at: nowSeconds), "no v1 signature in the Stripe-Signature header matches"),
            ("wrong secret", body, StripeSigner.header(body, at: nowSeconds, secret: "whsec_some_other_endpoint"), "no v1 signature"),
            ("too old", body, StripeSigner.header(body, at: nowSeconds - 301), "more than 300 s before the host's clock"),
            ("missing", body, nil, "the request has no Stripe-Signature header"),
            ("empty", body, "", "the request has no Stripe-Signature header"),
            ("no timestamp", body, "v1=\(valid)", "has no timestamp (t=...)"),
            ("no v1", body, "t=\(nowSeconds)", "has no v1 signature"),
            ("only v0", body, "t=\(nowSeconds),v0=\(valid)", "has no v1 signature"),
            ("space after comma", body, "t=\(nowSeconds), v1=\(valid)", "has no v1 signature"),
            ("uppercase keys", body, "T=\(nowSeconds),V1=\(valid)", "has no timestamp"),
            ("timestamp not a number", body, "t=now,v1=\(valid)", "has a timestamp (t) that is not an integer"),
            ("t without value", body, "t,t=\(nowSeconds),v1=\(valid)", "has an item 't' without '='"),
            ("v1 without value", body, "t=\(nowSeconds),v1", "has an item 'v1' without '='"),
            ("not JSON", Array("hello".utf8), StripeSigner.header(Array("hello".utf8), at: nowSeconds), "the body is not a Stripe event: it is not JSON"),
            ("not an event", notAnEvent, StripeSigner.header(notAnEvent, at: nowSeconds), "field 'data.object' is missing or not an object"),
        ]
        for item in cases {
            let response = try post(instance, item.body, header: item.header)
            XCTAssertEqual(response.status, 400, item.name)
            guard case .string(let error)? = try json(response)["error"] else { return XCTFail("\(item.name): no error in the body") }
            XCTAssertTrue(error.contains(item.problem), "\(item.name): \(error)")
            XCTAssertFalse(error.contains(StripeSigner.secret) || error.contains(valid), "\(item.name): \(error)")
            let warning = host.logs.last
            XCTAssertEqual(warning?.level, .warning, item.name)
            XCTAssertEqual(warning?.message, "request req-\(requestCount): refused with 400: \(error)", item.name)
        }
        let get = try post(instance, body, header: StripeSigner.header(body, at: nowSeconds), method: "GET")
        XCTAssertEqual(get.status, 405)
        XCTAssertEqual(try json(get)["error"], .string("method GET is not allowed: Stripe sends events with POST"))

        XCTAssertEqual(host.allSubscribers, subscribers)
        XCTAssertEqual(host.subscriptions.history, history)
        XCTAssertEqual(host.state(of: instance), state)
        XCTAssertFalse(host.logs.contains { $0.message.contains(StripeSigner.secret) || $0.message.contains(valid) })
    }

    /// The tolerance is the config's, and, as stripe-python, a timestamp
    /// ahead of the host's clock is accepted.
    func testTheToleranceIsConfigurableAndFutureTimestampsAreAccepted() throws {
        let instance = try start(config: #"{"prices": {"price_Premium1": "premium"}, "tolerance_seconds": 60}"#)
        let body = StripeEvents.subscription("evt_1", created: nowSeconds, customer: "cus_A", status: "active",
                                             prices: ["price_Premium1"], periodEnd: Self.periodEnd)
        XCTAssertEqual(try post(instance, body, header: StripeSigner.header(body, at: nowSeconds - 61)).status, 400)
        try assertReceived(post(instance, body, header: StripeSigner.header(body, at: nowSeconds - 59)))
        let next = StripeEvents.subscription("evt_2", created: nowSeconds + 1, customer: "cus_A", status: "canceled",
                                             prices: ["price_Premium1"], periodEnd: Self.periodEnd)
        try assertReceived(post(instance, next, header: StripeSigner.header(next, at: nowSeconds + 3_600)))
        XCTAssertEqual(subscriber("cus_A")?.status, "canceled")
    }

    // MARK: - Events

    func testACheckoutThenSubscriptionEventsMakeTheSubscriberPremium() throws {
        let instance = try start()
        let t = nowSeconds - 100
        try assertReceived(deliver(instance, StripeEvents.checkoutCompleted("evt_co", created: t, customer: "cus_A", clientReference: "acct_42")))
        XCTAssertEqual(host.subscriber(id: "acct_42"), Subscriber(id: "acct_42", tier: "free", identities: [.stripeCustomer("cus_A")]))
        XCTAssertTrue(host.logs.contains { $0.level == .info && $0.message.contains("customer cus_A linked to subscriber acct_42") })

        try assertReceived(deliver(instance, StripeEvents.subscription("evt_created", "customer.subscription.created", created: t + 1,
                                                                       customer: "cus_A", status: "incomplete", prices: ["price_Premium1"],
                                                                       periodEnd: Self.periodEnd)))
        XCTAssertEqual(host.subscriber(id: "acct_42")?.tier, "free")
        XCTAssertEqual(host.subscriber(id: "acct_42")?.status, "incomplete")
        try assertReceived(deliver(instance, StripeEvents.invoice("evt_paid", created: t + 2, customer: "cus_A", price: "price_Premium1",
                                                                  periodEnd: Self.periodEnd)))
        try assertReceived(deliver(instance, StripeEvents.subscription("evt_updated", created: t + 3, customer: "cus_A", status: "active",
                                                                       prices: ["price_Premium1"], periodEnd: Self.periodEnd)))
        XCTAssertEqual(host.subscriber(id: "acct_42"), Subscriber(id: "acct_42", tier: "premium", paidTier: "premium", status: "active",
                                                                  periodEndNs: Self.periodEnd * 1_000_000_000,
                                                                  identities: [.stripeCustomer("cus_A")]))
        XCTAssertEqual(host.allSubscribers.count, 1)
        XCTAssertEqual(Set(host.state(of: instance).keys), ["event:evt_co", "event:evt_created", "event:evt_paid", "event:evt_updated"])
        XCTAssertEqual(host.state(of: instance)["event:evt_co"], Array(String(t).utf8))
    }

    /// Both shapes of subscriptions and invoices: API versions before
    /// 2025-03-31.basil and since.
    func testBothAPIShapesGiveTheTierAndPeriod() throws {
        for legacy in [true, false] {
            let instance = try start()
            try assertReceived(deliver(instance, StripeEvents.subscription("evt_s", created: nowSeconds, customer: "cus_S", status: "active",
                                                                           prices: ["price_Other", "price_Basic1"], periodEnd: Self.periodEnd,
                                                                           legacy: legacy)))
            XCTAssertEqual(subscriber("cus_S")?.tier, "basic", "legacy \(legacy)")
            XCTAssertEqual(subscriber("cus_S")?.periodEndNs, Self.periodEnd * 1_000_000_000, "legacy \(legacy)")
            try assertReceived(deliver(instance, StripeEvents.invoice("evt_i", created: nowSeconds, customer: "cus_I", price: "price_Premium1",
                                                                      periodEnd: Self.periodEnd + 7, legacy: legacy)))
            XCTAssertEqual(subscriber("cus_I")?.tier, "premium", "legacy \(legacy)")
            XCTAssertEqual(subscriber("cus_I")?.status, "active", "legacy \(legacy)")
            XCTAssertEqual(subscriber("cus_I")?.periodEndNs, (Self.periodEnd + 7) * 1_000_000_000, "legacy \(legacy)")
            // An invoice of no subscription changes nothing.
            try assertReceived(deliver(instance, StripeEvents.invoice("evt_one_off", created: nowSeconds, customer: "cus_O",
                                                                      price: "price_Premium1", periodEnd: Self.periodEnd, legacy: legacy,
                                                                      subscription: false)))
            XCTAssertNil(subscriber("cus_O"), "legacy \(legacy)")
            XCTAssertNil(host.state(of: instance)["event:evt_one_off"])
        }
    }

    func testADuplicateEventHasOneEffect() throws {
        let instance = try start()
        let body = StripeEvents.invoice("evt_dup", created: nowSeconds, customer: "cus_A", price: "price_Premium1", periodEnd: Self.periodEnd)
        try assertReceived(deliver(instance, body))
        advance(seconds: 3_600)
        // Stripe retries with a new signature and timestamp.
        try assertReceived(deliver(instance, body), duplicate: true)
        try assertReceived(deliver(instance, body), duplicate: true)
        XCTAssertEqual(host.subscriptions.history.filter { $0.contains("(evt_dup)") }.count, 1, "\(host.subscriptions.history)")
        XCTAssertEqual(subscriber("cus_A")?.tier, "premium")
    }

    func testAnUpdateDeliveredBeforeTheCreationEndsActive() throws {
        let instance = try start()
        let t = nowSeconds - 60
        try assertReceived(deliver(instance, StripeEvents.subscription("evt_upd", created: t + 20, customer: "cus_A", status: "active",
                                                                       prices: ["price_Premium1"], periodEnd: Self.periodEnd)))
        try assertReceived(deliver(instance, StripeEvents.subscription("evt_new", "customer.subscription.created", created: t + 10,
                                                                       customer: "cus_A", status: "incomplete", prices: ["price_Basic1"],
                                                                       periodEnd: Self.periodEnd - 1)))
        XCTAssertEqual(subscriber("cus_A")?.tier, "premium")
        XCTAssertEqual(subscriber("cus_A")?.status, "active")
        XCTAssertEqual(subscriber("cus_A")?.periodEndNs, Self.periodEnd * 1_000_000_000)
    }

    func testADeletionDeliveredBeforeAnUpdateEndsCanceled() throws {
        let instance = try start()
        let t = nowSeconds - 60
        try assertReceived(deliver(instance, StripeEvents.subscription("evt_a", created: t, customer: "cus_A", status: "active",
                                                                       prices: ["price_Premium1"], periodEnd: Self.periodEnd)))
        try assertReceived(deliver(instance, StripeEvents.subscriptionDeleted("evt_del", created: t + 30, customer: "cus_A")))
        try assertReceived(deliver(instance, StripeEvents.subscription("evt_b", created: t + 20, customer: "cus_A", status: "active",
                                                                       prices: ["price_Basic1"], periodEnd: Self.periodEnd)))
        XCTAssertEqual(subscriber("cus_A")?.status, "canceled")
        XCTAssertEqual(subscriber("cus_A")?.tier, "free")
        XCTAssertEqual(subscriber("cus_A")?.paidTier, "premium")
    }

    /// The customer's subscriber, made for it alone, merges into the
    /// tenant's subscriber when the checkout arrives.
    func testAnInvoicePaidBeforeTheCheckoutEndsWithTheNamedSubscriberPremium() throws {
        let instance = try start()
        let t = nowSeconds - 60
        try assertReceived(deliver(instance, StripeEvents.invoice("evt_paid", created: t + 5, customer: "cus_B", price: "price_Premium1",
                                                                  periodEnd: Self.periodEnd)))
        try assertReceived(deliver(instance, StripeEvents.checkoutCompleted("evt_co", created: t, customer: "cus_B", clientReference: "acct_7")))
        XCTAssertEqual(host.allSubscribers.map(\.id), ["acct_7"])
        XCTAssertEqual(host.subscriber(id: "acct_7"), Subscriber(id: "acct_7", tier: "premium", paidTier: "premium", status: "active",
                                                                 periodEndNs: Self.periodEnd * 1_000_000_000,
                                                                 identities: [.stripeCustomer("cus_B")]))
    }

    /// Past due keeps the paid tier for `past_due_grace_seconds` from when
    /// the subscriber first became past due (later past_due events do not
    /// extend it), then the unpaid tier; paying again restores it.
    func testAPaymentFailureKeepsTheTierWithinTheGraceAndLosesItAfter() throws {
        let instance = try start()
        let grace: Int64 = 259_200
        try assertReceived(deliver(instance, StripeEvents.subscription("evt_active", created: nowSeconds - 10, customer: "cus_A",
                                                                       status: "active", prices: ["price_Premium1"], periodEnd: Self.periodEnd)))
        let failedAt = nowSeconds
        try assertReceived(deliver(instance, StripeEvents.invoice("evt_fail1", "invoice.payment_failed", created: failedAt, customer: "cus_A",
                                                                  price: "price_Premium1", periodEnd: Self.periodEnd)))
        XCTAssertEqual(subscriber("cus_A")?.status, "past_due")
        XCTAssertEqual(subscriber("cus_A")?.tier, "premium")
        XCTAssertEqual(subscriber("cus_A")?.graceUntilNs, (failedAt + grace) * 1_000_000_000)
        XCTAssertEqual(host.state(of: instance)["past_due_since:cus_A"], Array(String(failedAt * 1_000_000_000).utf8))

        advance(seconds: 2 * 86_400)
        // Stripe retries the payment and it fails again; the subscription says past_due again.
        try assertReceived(deliver(instance, StripeEvents.invoice("evt_fail2", "invoice.payment_failed", created: nowSeconds, customer: "cus_A",
                                                                  price: "price_Premium1", periodEnd: Self.periodEnd)))
        try assertReceived(deliver(instance, StripeEvents.subscription("evt_pd", created: nowSeconds + 1, customer: "cus_A", status: "past_due",
                                                                       prices: ["price_Premium1"], periodEnd: Self.periodEnd)))
        XCTAssertEqual(subscriber("cus_A")?.graceUntilNs, (failedAt + grace) * 1_000_000_000)
        XCTAssertEqual(subscriber("cus_A")?.tier, "premium")

        advance(seconds: grace - 2 * 86_400 - 1)
        XCTAssertEqual(subscriber("cus_A")?.tier, "premium")
        advance(seconds: 1)
        XCTAssertEqual(subscriber("cus_A")?.tier, "free")
        XCTAssertEqual(subscriber("cus_A")?.status, "past_due")

        try assertReceived(deliver(instance, StripeEvents.invoice("evt_paid", created: nowSeconds, customer: "cus_A", price: "price_Premium1",
                                                                  periodEnd: Self.periodEnd)))
        XCTAssertEqual(subscriber("cus_A")?.tier, "premium")
        XCTAssertEqual(subscriber("cus_A")?.graceUntilNs, 0)
        XCTAssertNil(host.state(of: instance)["past_due_since:cus_A"])

        // A later failure starts a new grace.
        advance(seconds: 86_400)
        try assertReceived(deliver(instance, StripeEvents.invoice("evt_fail3", "invoice.payment_failed", created: nowSeconds, customer: "cus_A",
                                                                  price: "price_Premium1", periodEnd: Self.periodEnd)))
        XCTAssertEqual(subscriber("cus_A")?.graceUntilNs, (nowSeconds + grace) * 1_000_000_000)
    }

    func testAPriceNotInTheMappingKeepsTheTierAndWarns() throws {
        let instance = try start()
        try assertReceived(deliver(instance, StripeEvents.subscription("evt_1", created: nowSeconds - 2, customer: "cus_A", status: "active",
                                                                       prices: ["price_Premium1"], periodEnd: Self.periodEnd)))
        try assertReceived(deliver(instance, StripeEvents.subscription("evt_2", created: nowSeconds - 1, customer: "cus_A", status: "active",
                                                                       prices: ["price_Gold9", "price_Seat2"], periodEnd: Self.periodEnd + 1)))
        XCTAssertEqual(subscriber("cus_A")?.tier, "premium")
        XCTAssertEqual(subscriber("cus_A")?.periodEndNs, (Self.periodEnd + 1) * 1_000_000_000)
        XCTAssertTrue(host.logs.contains {
            $0.level == .warning && $0.message == "request req-2: event evt_2 (customer.subscription.updated): its prices price_Gold9, "
                + "price_Seat2 map to no tier in the config's prices; the subscriber's tier is kept"
        }, "\(host.logs)")
        // A new customer on an unmapped price gets the status, and no paid tier.
        try assertReceived(deliver(instance, StripeEvents.invoice("evt_3", created: nowSeconds, customer: "cus_B", price: "price_Gold9",
                                                                  periodEnd: Self.periodEnd)))
        XCTAssertEqual(subscriber("cus_B")?.status, "active")
        XCTAssertEqual(subscriber("cus_B")?.paidTier, "")
        XCTAssertEqual(subscriber("cus_B")?.tier, "free")
        XCTAssertEqual(host.logs.last?.message, "request req-3: event evt_3 (invoice.paid): its price price_Gold9 maps to no tier in the "
            + "config's prices; the subscriber's tier is kept")
    }

    /// The host cannot store (AP_ERR_UNAVAILABLE): 500 so that Stripe
    /// retries, and the event is not marked as seen.
    func testAHostThatCannotStoreGets500AndTheRetryApplies() throws {
        let instance = try start()
        let body = StripeEvents.invoice("evt_1", created: nowSeconds, customer: "cus_A", price: "price_Premium1", periodEnd: Self.periodEnd)
        host.subscriptionServicesRefusal = ap_status(AP_ERR_UNAVAILABLE)
        let failed = try deliver(instance, body)
        XCTAssertEqual(failed.status, 500)
        XCTAssertEqual(try json(failed), .object(["error": .string("the event could not be stored; retry later")]))
        XCTAssertTrue(host.state(of: instance).isEmpty)
        XCTAssertTrue(host.allSubscribers.isEmpty)
        XCTAssertTrue(host.logs.contains { $0.level == .error && $0.message.hasPrefix("request req-1: event evt_1 (invoice.paid) not applied, Stripe will retry it: ") })

        host.subscriptionServicesRefusal = nil
        try assertReceived(deliver(instance, body))
        XCTAssertEqual(subscriber("cus_A")?.tier, "premium")
        XCTAssertNotNil(host.state(of: instance)["event:evt_1"])
    }

    func testEventsWithoutAnEffectAreAcknowledgedAndLogged() throws {
        let instance = try start()
        let charge = StripeEvents.event("evt_charge", "charge.succeeded", created: nowSeconds, ["id": .string("ch_1"), "object": .string("charge")])
        try assertReceived(deliver(instance, charge))
        XCTAssertEqual(host.logs.last?.level, .debug)
        XCTAssertEqual(host.logs.last?.message, "request req-1: event evt_charge (charge.succeeded): not a type this plugin handles; ignored")
        try assertReceived(deliver(instance, StripeEvents.checkoutCompleted("evt_co1", created: nowSeconds, customer: "cus_A", clientReference: nil)))
        XCTAssertEqual(host.logs.last?.level, .info)
        XCTAssertEqual(host.logs.last?.message,
                       "request req-2: event evt_co1 (checkout.session.completed) has no client_reference_id, so no subscriber to link its customer to")
        try assertReceived(deliver(instance, StripeEvents.checkoutCompleted("evt_co2", created: nowSeconds, customer: nil, clientReference: "acct_1")))
        XCTAssertEqual(host.logs.last?.message, "request req-3: event evt_co2 (checkout.session.completed) has no customer to link to subscriber acct_1")
        try assertReceived(deliver(instance, StripeEvents.checkoutCompleted("evt_co3", created: nowSeconds, customer: "cus_A", clientReference: "acct 1")))
        XCTAssertEqual(host.logs.last?.level, .warning)
        XCTAssertTrue(host.allSubscribers.isEmpty)
        XCTAssertTrue(host.state(of: instance).isEmpty)
    }

    // MARK: - The plugin

    func testDescriptorOffersTheWebhookAndAsksForSubscriptions() throws {
        let plugin = try TestHost().load(StripeWebhook.self)
        XCTAssertEqual(plugin.id, "com.alphaplus.webhook-stripe")
        XCTAssertEqual(plugin.capabilities, ["ap.webhook.v1"])
        XCTAssertEqual(plugin.services, .subscriptions)
        XCTAssertEqual(plugin.networkHosts, [])
    }

    func testTheConfigAndTheSigningSecretAreChecked() throws {
        func createError(_ config: String, secrets: [String: String] = ["signing_secret": StripeSigner.secret]) -> String {
            do {
                _ = try start(config: config, secrets: secrets)
                return "created"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertTrue(createError("{}").contains("prices"), createError("{}"))
        XCTAssertTrue(createError(#"{"prices": {}}"#).contains("prices"), createError(#"{"prices": {}}"#))
        XCTAssertEqual(createError(#"{"prices": {"price_1": "premium", "prod_X": "basic"}}"#),
                       "config field 'prices': key 'prod_X' is not a Stripe price id ('price_' and letters or digits, e.g. price_1MoBy5LkdIwHu7ixZhnattbh)")
        XCTAssertTrue(createError(#"{"prices": {"price_1": "Premium Tier"}}"#).contains("pattern"))
        XCTAssertTrue(createError(#"{"prices": {"price_1": "premium"}, "tolerance_seconds": 0}"#).contains("tolerance_seconds"))
        XCTAssertTrue(createError(#"{"prices": {"price_1": "premium"}, "past_due_grace_seconds": 2592001}"#).contains("past_due_grace_seconds"))
        XCTAssertTrue(createError(#"{"prices": {"price_1": "premium"}, "tolerance": 5}"#).contains("tolerance"))
        XCTAssertEqual(createError(#"{"prices": {"price_1": "premium"}}"#, secrets: [:]),
                       "secret 'signing_secret' is not set for this instance: the Stripe webhook needs the endpoint's signing secret (whsec_...) to verify requests")
        XCTAssertTrue(createError(#"{"prices": {"price_1": "premium"}}"#, secrets: ["signing_secret": " \t"]).hasPrefix("secret 'signing_secret' is empty"))
        XCTAssertEqual(createError(#"{"prices": {"price_1": "premium"}, "tolerance_seconds": 3600, "past_due_grace_seconds": 0}"#), "created")
    }
}
