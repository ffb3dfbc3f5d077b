/// What the operator allows one tenant (`quotas:` in the host
/// configuration). nil: no limit.
public struct TenantQuota: Sendable, Equatable {
    /// Distinct symbols the tenant's strategy and exchange subscriptions
    /// may name together.
    public var symbols: Int?
    /// Deliveries the distributor starts for the tenant in any 60 s; the
    /// rest wait their turn.
    public var deliveriesPerMinute: Int?
    /// The longest a head call may take: it caps the tenant's
    /// `consensus.head_deadline_ms`, and a call over it is a timeout
    /// (which counts towards the head's quarantine).
    public var pluginCallNs: Int64?

    public init(symbols: Int? = nil, deliveriesPerMinute: Int? = nil, pluginCallNs: Int64? = nil) {
        self.symbols = symbols
        self.deliveriesPerMinute = deliveriesPerMinute
        self.pluginCallNs = pluginCallNs
    }

    /// No limit at all.
    public static let unlimited = TenantQuota()
}
