import Dispatch
import AlphaPlusJSON
import CAlphaPlus
import Crypto
import Foundation
import HostConfig
import Logging
import PluginRuntime

/// Market-data connectors shared by every tenant that wants them: tenants'
/// exchange instances with the same plugin, settings, secret references
/// and dry-run choice are one connector, and each symbol is subscribed on
/// it once, with the union of the streams its users want (and the deepest
/// book). A tenant added on symbols already subscribed opens nothing new;
/// a symbol nobody wants any more is unsubscribed, a connector nobody uses
/// is destroyed. The connector is the host's, not one tenant's: its
/// context's tenant is `ConnectorPool.tenantID` and its instance id names
/// its configuration (`connector-<digest>`), so its key/value state
/// outlives any one tenant. Not thread-safe: the tenant host calls it
/// under its own lock.
public final class ConnectorPool {
    /// The tenant of shared connectors' contexts (in logs and metrics); no
    /// tenant id can take it (tenant ids start with a letter or digit).
    public static let tenantID = "_shared"

    struct Key: Hashable {
        var plugin: String
        var settings: JSONValue
        /// Secret name → its reference, as written (`${env:NAME}`).
        var secrets: [String: String]
        var dryRun: Bool
    }

    /// What one symbol is subscribed with.
    struct Wanted: Equatable {
        var streams: UInt32
        var bookDepth: UInt32
    }

    final class Connector {
        let key: Key
        let id: String
        let creation: InstanceCreation
        /// Each user's subscriptions, by "tenant/instance".
        var users: [String: [SubscriptionConfig]] = [:]
        var subscribed: [String: Wanted] = [:]
        var started = false

        init(key: Key, id: String, creation: InstanceCreation) {
            self.key = key
            self.id = id
            self.creation = creation
        }

        /// Per symbol, the union of what every user wants.
        var wanted: [String: Wanted] {
            var result: [String: Wanted] = [:]
            for subscription in users.values.joined() {
                let flags = streamFlags(subscription.streams)
                let current = result[subscription.symbol] ?? Wanted(streams: 0, bookDepth: 0)
                result[subscription.symbol] = Wanted(streams: current.streams | flags,
                                                     bookDepth: max(current.bookDepth, UInt32(subscription.bookDepth)))
            }
            return result
        }
    }

    private let registry: PluginRegistry
    private let services: HostServices
    private let logger: Logger
    private var connectors: [Key: Connector] = [:]
    /// Calls made to connectors since the pool was made.
    public private(set) var subscribeCalls = 0
    public private(set) var unsubscribeCalls = 0

    public init(registry: PluginRegistry, services: HostServices, logger: Logger) {
        self.registry = registry
        self.services = services
        self.logger = logger
    }

    /// Whether an instance of `plugin` is a market-data connector (shared).
    public func isConnector(_ plugin: String) -> Bool { registry.plugin(id: plugin)?.exchange != nil }

    /// Connectors made (created, dry or failed), and symbols subscribed over all.
    public var connectorCount: Int { connectors.count }
    public var subscribedSymbols: Int { connectors.values.reduce(0) { $0 + $1.subscribed.count } }

    /// Adds a tenant's exchange instance as a user of its connector, made
    /// (not started) when it is the first; what it wants is subscribed by
    /// the next `sync`.
    public func attach(_ config: InstanceConfig, of tenant: TenantConfig) -> InstanceCreation {
        let key = Key(plugin: config.plugin, settings: config.settings, secrets: config.secrets.mapValues(\.description), dryRun: config.dryRunWithoutSecrets)
        let user = "\(tenant.id)/\(config.id)"
        if let connector = connectors[key] {
            connector.users[user] = config.subscriptions
            logger.info("market: tenant \(tenant.id), instance \(config.id) shares connector \(connector.id) (plugin \(config.plugin)) with \(connector.users.keys.filter { $0 != user }.sorted().joined(separator: ", "))")
            return connector.creation
        }
        let id = "connector-" + Self.digest(key)
        var shared = config
        shared.id = id
        let creation = createInstance(shared, tenant: Self.tenantID, file: tenant.file, registry: registry, services: services, logger: logger)
        let connector = Connector(key: key, id: id, creation: creation)
        connector.users[user] = config.subscriptions
        connectors[key] = connector
        logger.info("market: connector \(id) (plugin \(config.plugin)) made for tenant \(tenant.id), instance \(config.id)")
        return creation
    }

    /// Removes a user; its symbols are unsubscribed by the next `sync` when
    /// no one else wants them.
    public func detach(tenant: String, instance: String) {
        for connector in connectors.values { connector.users["\(tenant)/\(instance)"] = nil }
    }

    /// Brings every connector in line with its users: starts new ones,
    /// subscribes what is newly wanted (a symbol whose streams grew is
    /// subscribed again with the union), unsubscribes what no one wants,
    /// destroys connectors without users. Each failure is logged naming
    /// the connector and its users; the others go on.
    public func sync() {
        for (key, connector) in connectors.sorted(by: { $0.value.id < $1.value.id }) {
            guard case .created(let instance) = connector.creation else {
                if connector.users.isEmpty { connectors[key] = nil }
                continue
            }
            if connector.users.isEmpty {
                instance.destroy()
                connectors[key] = nil
                logger.info("market: connector \(connector.id) (plugin \(key.plugin)) destroyed: no tenant uses it")
                continue
            }
            let users = connector.users.keys.sorted().joined(separator: ", ")
            if !connector.started {
                do { try instance.start() } catch {
                    logger.error("market: connector \(connector.id) (used by \(users)): \(error)")
                    continue
                }
                connector.started = true
                logger.info("instance started", metadata: ["tenant": "\(Self.tenantID)", "instance": "\(connector.id)",
                                                           "plugin": "\(key.plugin)", "users": "\(users)"])
            }
            let wanted = connector.wanted
            for (symbol, want) in wanted.sorted(by: { $0.key < $1.key }) where connector.subscribed[symbol] != want {
                subscribeCalls += 1
                do {
                    try instance.subscribe(symbol: symbol, streams: want.streams, bookDepth: want.bookDepth)
                    connector.subscribed[symbol] = want
                } catch {
                    logger.error("market: connector \(connector.id) (used by \(users)): \(error)")
                }
            }
            for symbol in connector.subscribed.keys.sorted() where wanted[symbol] == nil {
                unsubscribeCalls += 1
                do { try instance.unsubscribe(symbol: symbol) } catch {
                    logger.error("market: connector \(connector.id): \(error)")
                }
                connector.subscribed[symbol] = nil
            }
        }
    }

    /// Destroys every connector (shutdown), waiting for each at most until
    /// `deadline`; returns those abandoned (`HostedInstance.destroy(before:)`).
    public func destroyAll(before deadline: DispatchTime) -> [HostedInstance] {
        defer { connectors = [:] }
        return connectors.values.compactMap { connector in
            guard case .created(let instance) = connector.creation else { return nil }
            return instance.destroy(before: deadline) ? nil : instance
        }
    }

    /// Eight bytes of SHA-256 over the key's canonical form, in hex: the
    /// same configuration names the same connector (and state) after a restart.
    private static func digest(_ key: Key) -> String {
        let secrets = key.secrets.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\n")
        let text = "\(key.plugin)\n\(key.settings.jsonText)\n\(secrets)\n\(key.dryRun)"
        return SHA256.hash(data: Data(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
    }
}

/// The contract's ap_stream_flags for the configured stream names.
public func streamFlags(_ names: [String]) -> UInt32 {
    names.reduce(0) { flags, name in
        switch name {
        case "trades": flags | AP_STREAM_TRADES.rawValue
        case "quotes": flags | AP_STREAM_QUOTES.rawValue
        case "book": flags | AP_STREAM_BOOK.rawValue
        case "candles": flags | AP_STREAM_CANDLES.rawValue
        default: flags | AP_STREAM_NEWS.rawValue
        }
    }
}
