import AlphaPlusJSON
import Foundation
import Logging

/// The plugins this host has loaded, by id, and the files it refused.
public final class PluginRegistry: @unchecked Sendable {
    public let loader: PluginLoader
    private let lock = NSLock()
    private var byID: [String: LoadedPlugin] = [:]
    private var byPath: [String: LoadedPlugin] = [:]
    private var refused: [PluginLoadError] = []

    public init(services: HostServices) {
        loader = PluginLoader(services: services)
    }

    public var plugins: [LoadedPlugin] { lock.withLock { byID.values.sorted { $0.id < $1.id } } }
    public var failures: [PluginLoadError] { lock.withLock { refused } }

    public func plugin(id: String) -> LoadedPlugin? { lock.withLock { byID[id] } }

    /// The loaded plugins' config schemas by plugin id, as tenant
    /// validation (`TenantConfig.loadValidated`) takes them.
    public var configSchemas: [String: JSONSchema] {
        lock.withLock { byID.mapValues(\.configSchema) }
    }

    /// Loads every `*.so` in the folders (in name order), recording each
    /// refusal; one bad file never stops the others. Missing folders are
    /// skipped (a folder the build has not produced yet is normal).
    public func discover(folders: [String]) {
        for folder in folders {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names.sorted() where name.hasSuffix(".so") {
                do {
                    try load((folder as NSString).appendingPathComponent(name))
                } catch {
                    lock.withLock { refused.append(error) }
                    loader.services.logger.error("plugin refused: \(error)")
                }
            }
        }
    }

    /// Loads one file; a second plugin with an id already loaded from
    /// another file is refused.
    @discardableResult
    public func load(_ path: String) throws(PluginLoadError) -> LoadedPlugin {
        let canonical = URL(fileURLWithPath: path).resolvingSymlinksInPath().path
        if let loaded = lock.withLock({ byPath[canonical] }) { return loaded }
        let plugin = try loader.load(canonical)
        let existing: LoadedPlugin? = lock.withLock {
            if let existing = byID[plugin.id] { return existing }
            byID[plugin.id] = plugin
            byPath[canonical] = plugin
            return nil
        }
        if let existing {
            plugin.table.pointee.deinit(plugin.table)
            throw PluginLoadError(path, "plugin id '\(plugin.id)' is already loaded from \(existing.path)")
        }
        loader.services.logger.info("plugin loaded", metadata: [
            "plugin": "\(plugin.id)", "version": "\(plugin.version)", "path": "\(canonical)",
            "capabilities": "\(plugin.capabilities.joined(separator: ","))"])
        return plugin
    }
}
