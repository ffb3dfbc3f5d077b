import Foundation
import Synchronization

/// Where the host keeps instances' key/value state (the contract's
/// `state_get`/`state_set`/`state_delete`). A namespace is one
/// (tenant, plugin, instance): the same instance id of the same plugin in the
/// same tenant sees its values again after a restart; nothing else does.
/// `alphaplus run` and `outbox drain` use the SQLite store; tests and
/// backtests the in-memory default.
public protocol InstanceStateStorage: AnyObject, Sendable {
    /// Every value of one namespace.
    func values(tenant: String, plugin: String, instance: String) throws -> [String: [UInt8]]
    /// Sets one value, replacing any before it; durable when it returns.
    func set(tenant: String, plugin: String, instance: String, key: String, value: [UInt8]) throws
    /// Removes one value; false when there was none.
    func remove(tenant: String, plugin: String, instance: String, key: String) throws -> Bool
}

/// A namespace part (plugin, tenant or instance id) the storage cannot keep
/// apart from another. The limits of one entry are the contract's
/// (`AlphaPlusSDK.StateLimits`).
public struct InstanceStateNamespaceError: Error, CustomStringConvertible {
    public let description: String
}

/// State kept in process memory: lost when the process ends.
public final class InMemoryInstanceStateStorage: InstanceStateStorage {
    private struct Namespace: Hashable {
        let tenant: String, plugin: String, instance: String
    }

    private let namespaces = Mutex<[Namespace: [String: [UInt8]]]>([:])

    public init() {}

    public func values(tenant: String, plugin: String, instance: String) -> [String: [UInt8]] {
        namespaces.withLock { $0[Namespace(tenant: tenant, plugin: plugin, instance: instance)] ?? [:] }
    }

    public func set(tenant: String, plugin: String, instance: String, key: String, value: [UInt8]) {
        namespaces.withLock { $0[Namespace(tenant: tenant, plugin: plugin, instance: instance), default: [:]][key] = value }
    }

    public func remove(tenant: String, plugin: String, instance: String, key: String) -> Bool {
        namespaces.withLock { $0[Namespace(tenant: tenant, plugin: plugin, instance: instance)]?.removeValue(forKey: key) != nil }
    }
}
