import AlphaPlusJSON
import AlphaPlusSDK

/// `webhook-stripe`: the endpoint a tenant gives Stripe
/// (`/hooks/<tenant>/<instance>`). It verifies each request's
/// `Stripe-Signature` with the endpoint's signing secret, then turns
/// subscription events into the host's subscriber changes: a checkout links
/// the customer to the tenant's subscriber, subscription and invoice events
/// set the tier (through the config's price → tier map), status and period.
///
/// Each event is applied once: its id is kept in the instance's state after
/// its effect, so a retry after a failure re-applies it (harmlessly: the
/// host applies a change as of the event's `created`, ignoring one older
/// than the last applied) and a duplicate does nothing.
public final class StripeWebhook: WebhookPlugin {
    public struct Configuration: Decodable, Sendable {
        /// Stripe price id → the tenant's tier its subscribers receive.
        public var prices: [String: String]
        /// How old a signature's timestamp may be (stripe-python's default).
        public var toleranceSeconds: Int64 = 300
        /// How long a past-due subscriber keeps the paid tier, from when it
        /// first became past due (default three days).
        public var pastDueGraceSeconds: Int64 = 259_200

        enum CodingKeys: String, CodingKey {
            case prices, toleranceSeconds = "tolerance_seconds", pastDueGraceSeconds = "past_due_grace_seconds"
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            prices = try c.decode([String: String].self, forKey: .prices)
            toleranceSeconds = try c.decodeIfPresent(Int64.self, forKey: .toleranceSeconds) ?? toleranceSeconds
            pastDueGraceSeconds = try c.decodeIfPresent(Int64.self, forKey: .pastDueGraceSeconds) ?? pastDueGraceSeconds
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.webhook-stripe",
        name: "Stripe webhook",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Receives Stripe webhook events (Stripe-Signature verified) and keeps the tenant's subscribers' tiers and statuses.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "required": ["prices"],
          "properties": {
            "prices": {"type": "object", "minProperties": 1,
                       "additionalProperties": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,62}$"},
                       "description": "Stripe price id (price_...) to the tenant's tier its subscribers receive"},
            "tolerance_seconds": {"type": "integer", "minimum": 1, "maximum": 3600, "default": 300,
                                  "description": "How old a Stripe-Signature timestamp may be, in seconds"},
            "past_due_grace_seconds": {"type": "integer", "minimum": 0, "maximum": 2592000, "default": 259200,
                                       "description": "How long a past-due subscriber keeps the paid tier, in seconds"}
          }
        }
        """,
        services: [.subscriptions])

    /// The instance secret holding the endpoint's signing secret (`whsec_...`).
    public static let secretName = "signing_secret"

    private let context: PluginContext
    private let secret: String
    private let prices: [String: String]
    private let toleranceSeconds: Int64
    private let pastDueGraceNs: Int64

    public init(configuration: Configuration, context: PluginContext) throws {
        // The schema cannot say it (no propertyNames): every key is a price id.
        for price in configuration.prices.keys.sorted() where price.wholeMatch(of: #/price_[A-Za-z0-9]+/#) == nil {
            throw PluginError.invalidConfig("config field 'prices': key '\(price.prefix(80))' is not a Stripe price id "
                + "('price_' and letters or digits, e.g. price_1MoBy5LkdIwHu7ixZhnattbh)")
        }
        let secret = context.secret(Self.secretName)
        // stripe-python refuses a secret of white space alone too.
        guard let secret, secret.contains(where: { !$0.isWhitespace }) else {
            throw PluginError.invalidConfig("secret '\(Self.secretName)' is \(secret == nil ? "not set" : "empty") for this instance: "
                + "the Stripe webhook needs the endpoint's signing secret (whsec_...) to verify requests")
        }
        // Fail now rather than at the first request on a host without HMAC.
        _ = try context.hmac(.sha256, key: [], message: [])
        self.context = context
        self.secret = secret
        prices = configuration.prices
        toleranceSeconds = configuration.toleranceSeconds
        pastDueGraceNs = configuration.pastDueGraceSeconds * 1_000_000_000
    }

    public func handle(_ request: WebhookRequest) throws -> WebhookResponse {
        guard request.method.uppercased() == "POST" else {
            return refuse(request, status: 405, "method \(request.method.prefix(16)) is not allowed: Stripe sends events with POST")
        }
        let context = self.context
        let event: StripeEvent
        do {
            try StripeSignature.verify(header: request.header("Stripe-Signature"), body: request.body, secret: secret,
                                       nowNs: context.nowNs, toleranceSeconds: toleranceSeconds,
                                       hmac: { try context.hmac(.sha256, key: $0, message: $1) })
            event = try StripeEvent(json: request.body)
        } catch let refusal as StripeSignature.Refusal {
            return refuse(request, status: 400, refusal.description)
        } catch let error as StripeEvent.DecodingError {
            return refuse(request, status: 400, error.description)
        }

        let seenKey = "event:" + event.id
        if context.state(seenKey) != nil {
            context.debug("request \(request.requestID): \(event.name) was handled before; ignored")
            return Self.answer(200, ["received": .bool(true), "duplicate": .bool(true)])
        }
        let interpretation = event.interpreted(prices: prices)
        for note in interpretation.notes { context.log(note.level, "request \(request.requestID): \(note.message)") }
        if let effect = interpretation.effect {
            do {
                try apply(effect, of: event)
                try context.setState(seenKey, Array(String(event.createdNs / 1_000_000_000).utf8))
            } catch {
                // Not marked as seen: Stripe retries a 5xx, and applying again is harmless.
                context.error("request \(request.requestID): \(event.name) not applied, Stripe will retry it: \(error)")
                return Self.answer(500, ["error": .string("the event could not be stored; retry later")])
            }
        }
        return Self.answer(200, ["received": .bool(true)])
    }

    private func apply(_ effect: StripeEffect, of event: StripeEvent) throws {
        switch effect {
        case .link(let customer, let subscriber):
            try context.linkSubscriber(subscriber, to: .stripeCustomer(customer), reference: event.id)
            context.info("\(event.name): customer \(customer) linked to subscriber \(subscriber)")
        case .change(let customer, let tier, let status, let periodEndNs):
            // The grace runs from when the customer first became past due, so
            // later past_due events do not extend it; any other status ends it.
            let pastDueKey = "past_due_since:" + customer
            let pastDueSinceNs = context.state(pastDueKey).flatMap { Int64(String(decoding: $0, as: UTF8.self)) }
            var graceUntilNs: Int64 = 0
            if status == "past_due" {
                graceUntilNs = (pastDueSinceNs ?? event.createdNs) + pastDueGraceNs
            } else if status == nil, let pastDueSinceNs {
                graceUntilNs = pastDueSinceNs + pastDueGraceNs
            }
            let applied = try context.updateSubscription(SubscriptionChange(
                identity: .stripeCustomer(customer), tier: tier, status: status, periodEndNs: periodEndNs,
                graceUntilNs: graceUntilNs, asOfNs: event.createdNs, reference: event.id))
            guard applied else {
                context.debug("\(event.name): older than the last change applied to customer \(customer); the host kept the newer")
                return
            }
            if status == "past_due", pastDueSinceNs == nil {
                try context.setState(pastDueKey, Array(String(event.createdNs).utf8))
            } else if let status, status != "past_due", pastDueSinceNs != nil {
                try context.removeState(pastDueKey)
            }
        }
    }

    /// A 4xx with `{"error": ...}` and a warning naming the request; no
    /// state changes.
    private func refuse(_ request: WebhookRequest, status: Int32, _ problem: String) -> WebhookResponse {
        context.warning("request \(request.requestID): refused with \(status): \(problem)")
        return Self.answer(status, ["error": .string(problem)])
    }

    private static func answer(_ status: Int32, _ members: [String: JSONValue]) -> WebhookResponse {
        WebhookResponse(status: status, text: JSONValue.object(members).jsonText)
    }
}
