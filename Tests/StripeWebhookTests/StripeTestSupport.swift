import AlphaPlusJSON
import Crypto

/// Signs requests as Stripe does, with swift-crypto's HMAC (independent of
/// the plugin's verifier and of the test host's HMAC).
enum StripeSigner {
    static let secret = "whsec_test_secret"

    static func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    /// The v1 signature of `body` at `timestamp` (the text signed).
    static func signature(_ body: [UInt8], timestamp: String, secret: String = secret) -> String {
        hex(hmac(Array(secret.utf8), Array((timestamp + ".").utf8) + body))
    }

    /// Lowercase hex digits.
    static func hex(_ bytes: [UInt8]) -> String {
        let alphabet = Array("0123456789abcdef".unicodeScalars)
        var text = String.UnicodeScalarView()
        for byte in bytes {
            text.append(alphabet[Int(byte >> 4)])
            text.append(alphabet[Int(byte & 0x0F)])
        }
        return String(text)
    }

    /// `t=<seconds>,v1=<signature>`.
    static func header(_ body: [UInt8], at seconds: Int64, secret: String = secret) -> String {
        "t=\(seconds),v1=\(signature(body, timestamp: String(seconds), secret: secret))"
    }
}

/// Stripe events as webhooks deliver them (channels.md §4), in the shapes of
/// API versions before 2025-03-31.basil (`legacy`) and since.
enum StripeEvents {
    static func event(_ id: String, _ type: String, created: Int64, _ object: [String: JSONValue]) -> [UInt8] {
        let event: JSONValue = .object([
            "id": .string(id), "object": .string("event"), "api_version": .string("2025-03-31.basil"),
            "created": .number(Double(created)), "livemode": .bool(false), "pending_webhooks": .number(1),
            "request": .object(["id": .null, "idempotency_key": .null]), "type": .string(type),
            "data": .object(["object": .object(object)]),
        ])
        return Array(event.jsonText.utf8)
    }

    static func checkoutCompleted(_ id: String, created: Int64, customer: String?, clientReference: String?) -> [UInt8] {
        event(id, "checkout.session.completed", created: created, [
            "id": .string("cs_test_\(id)"), "object": .string("checkout.session"), "mode": .string("subscription"),
            "payment_status": .string("paid"), "subscription": .string("sub_1"),
            "customer": customer.map(JSONValue.string) ?? .null,
            "client_reference_id": clientReference.map(JSONValue.string) ?? .null,
        ])
    }

    static func subscription(_ id: String, _ type: String = "customer.subscription.updated", created: Int64, customer: String,
                             status: String, prices: [String], periodEnd: Int64, legacy: Bool = false) -> [UInt8] {
        let items: [JSONValue] = prices.map { price in
            var item: [String: JSONValue] = [
                "id": .string("si_\(price)"), "object": .string("subscription_item"),
                "price": .object(["id": .string(price), "object": .string("price"), "unit_amount": .number(1900)]),
            ]
            if !legacy { item["current_period_end"] = .number(Double(periodEnd)) }
            return .object(item)
        }
        var object: [String: JSONValue] = [
            "id": .string("sub_1"), "object": .string("subscription"), "customer": .string(customer), "status": .string(status),
            "items": .object(["object": .string("list"), "data": .array(items)]),
        ]
        if legacy { object["current_period_end"] = .number(Double(periodEnd)) }
        return event(id, type, created: created, object)
    }

    static func subscriptionDeleted(_ id: String, created: Int64, customer: String) -> [UInt8] {
        event(id, "customer.subscription.deleted", created: created, [
            "id": .string("sub_1"), "object": .string("subscription"), "customer": .string(customer), "status": .string("canceled"),
        ])
    }

    /// `invoice.paid` or `invoice.payment_failed` of a subscription (or of
    /// none: `subscription: false`), one line with `price` for `periodEnd`.
    static func invoice(_ id: String, _ type: String = "invoice.paid", created: Int64, customer: String, price: String?,
                        periodEnd: Int64, legacy: Bool = false, subscription: Bool = true) -> [UInt8] {
        var line: [String: JSONValue] = [
            "id": .string("il_1"), "object": .string("line_item"),
            "period": .object(["start": .number(Double(periodEnd - 2_592_000)), "end": .number(Double(periodEnd))]),
        ]
        var object: [String: JSONValue] = [
            "id": .string("in_\(id)"), "object": .string("invoice"), "customer": .string(customer),
            "status": .string(type == "invoice.paid" ? "paid" : "open"),
        ]
        if legacy {
            if let price { line["price"] = .object(["id": .string(price), "object": .string("price")]) }
            object["subscription"] = subscription ? .string("sub_1") : .null
        } else {
            if let price { line["pricing"] = .object(["type": .string("price_details"), "price_details": .object(["price": .string(price)])]) }
            object["parent"] = subscription
                ? .object(["type": .string("subscription_details"), "subscription_details": .object(["subscription": .string("sub_1")])])
                : .object(["type": .string("quote_details")])
        }
        object["lines"] = .object(["object": .string("list"), "data": .array([.object(line)])])
        return event(id, type, created: created, object)
    }
}
