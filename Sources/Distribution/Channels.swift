import struct AlphaPlusSDK.Delivery
import struct AlphaPlusSDK.RateLimit
import PluginRuntime

/// What the distributor sends through: a channel plugin's instance, or a
/// stand-in in tests.
public protocol DeliveryChannel: AnyObject, Sendable {
    /// The channel plugin's id (a label of the delivery metrics).
    var pluginID: String { get }
    /// Starts one delivery; `completion` runs exactly once, on any thread.
    func deliver(_ delivery: Delivery, deadline: Duration, completion: @escaping @Sendable (ChannelReport) -> Void)
    /// The platform limits for a target, nil when the channel declares none.
    func rateLimits(forTarget targetJSON: String) throws -> [RateLimit]?
}

extension HostedInstance: DeliveryChannel {}

/// A tenant's channel instance as the distributor finds it.
public enum ChannelEndpoint: Sendable {
    case live(any DeliveryChannel)
    /// Created without its secrets by the tenant's choice
    /// (`dry_run_without_secrets`): deliveries are shown, recorded as
    /// `dry_run`, never sent. `plugin` is the instance's plugin id.
    case dryRun(plugin: String)
    /// Not running (its plugin is not loaded, create failed, a secret is
    /// missing): its destinations' deliveries wait.
    case unavailable(reason: String)
}

/// A tenant's channel instance.
public struct ChannelAddress: Hashable, Sendable, CustomStringConvertible {
    public var tenant: String
    public var instance: String

    public init(tenant: String, instance: String) {
        self.tenant = tenant
        self.instance = instance
    }

    public var description: String { "\(tenant)/\(instance)" }
}

/// A tenant's destination.
public struct DestinationKey: Hashable, Sendable, CustomStringConvertible {
    public var tenant: String
    public var id: String

    public init(tenant: String, id: String) {
        self.tenant = tenant
        self.id = id
    }

    public var description: String { "\(tenant)/\(id)" }
}
