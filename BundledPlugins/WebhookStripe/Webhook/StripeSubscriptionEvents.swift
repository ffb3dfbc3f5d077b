import AlphaPlusJSON
import AlphaPlusSDK

/// What one event asks of the tenant's subscribers (at most one thing).
public enum StripeEffect: Equatable, Sendable {
    /// Link the Stripe customer to the tenant's subscriber (a completed checkout).
    case link(customer: String, subscriber: String)
    /// Change the customer's subscription; nil keeps a field.
    case change(customer: String, tier: String?, status: String?, periodEndNs: Int64?)
}

extension StripeEvent {
    /// The event's effect, if any, and log lines for the operator (why
    /// nothing happens, a price that maps to no tier).
    public struct Interpretation: Equatable, Sendable {
        public var effect: StripeEffect?
        public var notes: [Note]

        public init(effect: StripeEffect?, notes: [Note] = []) {
            self.effect = effect
            self.notes = notes
        }
    }

    public struct Note: Equatable, Sendable {
        public var level: LogLevel
        public var message: String

        public init(_ level: LogLevel, _ message: String) {
            self.level = level
            self.message = message
        }
    }

    /// The types that can change a subscriber; every other type is ignored.
    public static let handledTypes: [String] = [
        "checkout.session.completed", "customer.subscription.created", "customer.subscription.updated",
        "customer.subscription.deleted", "invoice.paid", "invoice.payment_failed",
    ]

    /// Stripe's subscription statuses (all of them are the host's too).
    static let statuses: Set<String> = ["incomplete", "incomplete_expired", "trialing", "active", "past_due", "canceled", "unpaid", "paused"]

    /// What this event means for the subscriber of its customer, `prices`
    /// mapping Stripe price ids to the tenant's tiers. Pure.
    public func interpreted(prices: [String: String]) -> Interpretation {
        switch type {
        case "checkout.session.completed":
            return checkoutCompleted()
        case "customer.subscription.created", "customer.subscription.updated":
            return subscriptionChanged(prices: prices)
        case "customer.subscription.deleted":
            return withCustomer { .init(effect: .change(customer: $0, tier: nil, status: "canceled", periodEndNs: nil)) }
        case "invoice.paid", "invoice.payment_failed":
            return invoiceSettled(prices: prices, paid: type == "invoice.paid")
        default:
            return Interpretation(effect: nil, notes: [Note(.debug, "\(self.name): not a type this plugin handles; ignored")])
        }
    }

    /// "event evt_1 (invoice.paid)", for log lines.
    var name: String { "event \(id) (\(type))" }

    private func withCustomer(_ body: (String) -> Interpretation) -> Interpretation {
        guard let customer = Self.stripeID(object["customer"]) else {
            return Interpretation(effect: nil, notes: [Note(.warning, "\(name) has no customer; ignored")])
        }
        return body(customer)
    }

    /// A checkout's `client_reference_id` names the tenant's subscriber
    /// (the tenant's account id, set when it created the session).
    private func checkoutCompleted() -> Interpretation {
        guard case .string(let subscriber)? = object["client_reference_id"] else {
            return Interpretation(effect: nil, notes: [Note(.info, "\(name) has no client_reference_id, so no subscriber to link its customer to")])
        }
        // The host's subscriber ids, which are also what Stripe allows in client_reference_id.
        guard subscriber.wholeMatch(of: #/[A-Za-z0-9_-]{1,200}/#) != nil else {
            return Interpretation(effect: nil, notes: [
                Note(.warning, "\(name): client_reference_id is not a subscriber id (1-200 of A-Z a-z 0-9 _ -); nothing linked"),
            ])
        }
        guard let customer = Self.stripeID(object["customer"]) else {
            return Interpretation(effect: nil, notes: [Note(.info, "\(name) has no customer to link to subscriber \(subscriber)")])
        }
        return Interpretation(effect: .link(customer: customer, subscriber: subscriber))
    }

    /// A subscription object: the tier of its first item with a mapped
    /// price, its status, its period end (top level in API versions before
    /// 2025-03-31.basil, on each item since).
    private func subscriptionChanged(prices: [String: String]) -> Interpretation {
        withCustomer { customer in
            var notes: [Note] = []
            let items = Self.objects(object["items"]?["data"])
            let itemPrice = { (item: [String: JSONValue]) in Self.stripeID(item["price"]) }
            let mapped = Self.firstMapped(items, price: itemPrice, in: prices)
            if mapped == nil { notes.append(unmappedPrices(items.compactMap(itemPrice))) }
            var status: String?
            if case .string(let text)? = object["status"] {
                if Self.statuses.contains(text) { status = text } else {
                    notes.append(Note(.warning, "\(name): status '\(text.prefix(40))' is not a Stripe subscription status this plugin knows; kept"))
                }
            }
            let periodEndNs = Self.nanoseconds(fromSeconds: object["current_period_end"])
                ?? Self.nanoseconds(fromSeconds: (mapped?.element ?? items.first)?["current_period_end"])
            return Interpretation(effect: .change(customer: customer, tier: mapped?.tier, status: status, periodEndNs: periodEndNs), notes: notes)
        }
    }

    /// A subscription's invoice: paid makes it active (with the period and
    /// tier of its line), failed makes it past due. Other invoices are ignored.
    private func invoiceSettled(prices: [String: String], paid: Bool) -> Interpretation {
        // `subscription` before API version 2025-03-31.basil, `parent.subscription_details.subscription` since.
        guard (Self.stripeID(object["subscription"]) ?? Self.stripeID(object["parent"]?["subscription_details"]?["subscription"])) != nil else {
            return Interpretation(effect: nil, notes: [Note(.debug, "\(name): not a subscription's invoice; ignored")])
        }
        return withCustomer { customer in
            guard paid else { return Interpretation(effect: .change(customer: customer, tier: nil, status: "past_due", periodEndNs: nil)) }
            let lines = Self.objects(object["lines"]?["data"])
            let mapped = Self.firstMapped(lines, price: Self.linePrice, in: prices)
            let notes = mapped == nil ? [unmappedPrices(lines.compactMap(Self.linePrice))] : []
            let periodLine = mapped?.element ?? lines.first { Self.nanoseconds(fromSeconds: $0["period"]?["end"]) != nil }
            let periodEndNs = Self.nanoseconds(fromSeconds: periodLine?["period"]?["end"])
            return Interpretation(effect: .change(customer: customer, tier: mapped?.tier, status: "active", periodEndNs: periodEndNs),
                                  notes: notes)
        }
    }

    private func unmappedPrices(_ found: [String]) -> Note {
        let kept = "the subscriber's tier is kept"
        switch found.count {
        case 0: return Note(.warning, "\(name) names no price, so no tier; \(kept)")
        case 1: return Note(.warning, "\(name): its price \(found[0].prefix(60)) maps to no tier in the config's prices; \(kept)")
        default:
            let list = found.map { $0.prefix(60) }.joined(separator: ", ")
            return Note(.warning, "\(name): its prices \(list) map to no tier in the config's prices; \(kept)")
        }
    }

    /// The first of `elements` whose price the config maps, and its tier.
    private static func firstMapped(_ elements: [[String: JSONValue]], price: ([String: JSONValue]) -> String?,
                                    in prices: [String: String]) -> (element: [String: JSONValue], tier: String)? {
        for element in elements {
            if let tier = price(element).flatMap({ prices[$0] }) { return (element, tier) }
        }
        return nil
    }

    /// An invoice line's price: `price` (an object) before API version
    /// 2025-03-31.basil, `pricing.price_details.price` (an id) since.
    private static func linePrice(_ line: [String: JSONValue]) -> String? {
        stripeID(line["price"]) ?? stripeID(line["pricing"]?["price_details"]?["price"])
    }

    /// The objects of a list's `data` array (anything else in it is skipped).
    private static func objects(_ value: JSONValue?) -> [[String: JSONValue]] {
        guard case .array(let elements)? = value else { return [] }
        return elements.compactMap { if case .object(let members) = $0 { members } else { nil } }
    }
}
