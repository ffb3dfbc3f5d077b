import Foundation

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

/// The limits on one state entry, checked before anything is stored.
public enum InstanceStateLimits {
    /// A key is 1 to 256 bytes of UTF-8 without NUL.
    public static let maxKeyBytes = 256
    /// A value is at most 1 MiB.
    public static let maxValueBytes = 1 << 20

    /// A namespace part (plugin, tenant or instance id) the storage cannot keep apart from another.
    public struct NamespaceError: Error, CustomStringConvertible {
        public let description: String
    }
}

/// State kept in process memory: lost when the process ends.
public final class InMemoryInstanceStateStorage: InstanceStateStorage, @unchecked Sendable {
    private struct Namespace: Hashable {
        let tenant: String, plugin: String, instance: String
    }

    private let lock = NSLock()
    private var namespaces: [Namespace: [String: [UInt8]]] = [:]

    public init() {}

    public func values(tenant: String, plugin: String, instance: String) -> [String: [UInt8]] {
        lock.withLock { namespaces[Namespace(tenant: tenant, plugin: plugin, instance: instance)] ?? [:] }
    }

    public func set(tenant: String, plugin: String, instance: String, key: String, value: [UInt8]) {
        lock.withLock { namespaces[Namespace(tenant: tenant, plugin: plugin, instance: instance), default: [:]][key] = value }
    }

    public func remove(tenant: String, plugin: String, instance: String, key: String) -> Bool {
        lock.withLock { namespaces[Namespace(tenant: tenant, plugin: plugin, instance: instance)]?.removeValue(forKey: key) != nil }
    }
}
