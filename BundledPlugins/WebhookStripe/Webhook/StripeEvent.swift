import AlphaPlusJSON

/// A Stripe event as a webhook delivers it (channels.md §4):
/// `{"id": "evt_...", "object": "event", "type": ..., "created": <seconds>,
/// "data": {"object": {...}}, ...}`. Only the envelope is checked here;
/// `interpreted(prices:)` reads `data.object`.
public struct StripeEvent: Equatable, Sendable {
    public var id: String
    public var type: String
    /// When it happened at Stripe, ns since the epoch (`created` is in seconds).
    public var createdNs: Int64
    /// `data.object`: the checkout session, subscription or invoice.
    public var object: [String: JSONValue]

    /// Why a body is not a Stripe event; names the field at fault.
    public struct DecodingError: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    public init(json body: [UInt8]) throws(DecodingError) {
        func refuse(_ problem: String) -> DecodingError { DecodingError(description: "the body is not a Stripe event: \(problem)") }
        let document: JSONValue
        do {
            document = try JSONValue(parsing: body)
        } catch {
            throw refuse("it is not JSON (\(error))")
        }
        guard case .object(let members) = document else { throw refuse("it is not a JSON object") }
        guard members["object"] == .string("event") else { throw refuse("field 'object' is not \"event\"") }
        guard case .string(let id)? = members["id"] else { throw refuse("field 'id' is missing or not a string") }
        // The id goes into a state key ("event:<id>", at most 256 bytes) and the subscriber's history.
        guard (1...200).contains(id.utf8.count), id.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw refuse("field 'id' is not 1-200 printable ASCII characters")
        }
        guard case .string(let type)? = members["type"], !type.isEmpty else { throw refuse("field 'type' is missing or not a non-empty string") }
        guard let createdNs = Self.nanoseconds(fromSeconds: members["created"]) else {
            throw refuse("field 'created' is missing or not a whole number of seconds since 1970")
        }
        guard case .object(let object)? = members["data"]?["object"] else { throw refuse("field 'data.object' is missing or not an object") }
        self.id = id
        self.type = type
        self.createdNs = createdNs
        self.object = object
    }

    /// A Stripe timestamp (whole seconds since the epoch) in ns; nil when
    /// absent, not a whole non-negative number or beyond Int64's ns.
    static func nanoseconds(fromSeconds value: JSONValue?) -> Int64? {
        guard case .number(let seconds)? = value, seconds.isFinite, seconds == seconds.rounded(),
              (0...Double(Int64.max / 1_000_000_000)).contains(seconds) else { return nil }
        return Int64(seconds) * 1_000_000_000
    }

    /// The id of an expandable field: the id itself, or the expanded object's `id`.
    static func stripeID(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let id)? where !id.isEmpty: return id
        case .object(let members)?:
            guard case .string(let id)? = members["id"], !id.isEmpty else { return nil }
            return id
        default: return nil
        }
    }
}
