import AlphaPlusJSON
import Foundation
import Logging
import Synchronization

/// The plugins this host has loaded, by id, and the files it refused.
public final class PluginRegistry: Sendable {
    private struct Loaded {
        var byID: [String: LoadedPlugin] = [:]
        var byPath: [String: LoadedPlugin] = [:]
        var refused: [PluginLoadError] = []
    }

    public let loader: PluginLoader
    private let loaded = Mutex(Loaded())

    public init(services: HostServices) {
        loader = PluginLoader(services: services)
    }

    public var plugins: [LoadedPlugin] { loaded.withLock { $0.byID.values.sorted { $0.id < $1.id } } }
    public var failures: [PluginLoadError] { loaded.withLock { $0.refused } }

    public func plugin(id: String) -> LoadedPlugin? { loaded.withLock { $0.byID[id] } }

    /// The loaded plugins' config schemas by plugin id, as tenant
    /// validation (`TenantConfig.loadValidated`) takes them.
    public var configSchemas: [String: JSONSchema] {
        loaded.withLock { $0.byID.mapValues(\.configSchema) }
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
                    loaded.withLock { $0.refused.append(error) }
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
        if let known = loaded.withLock({ $0.byPath[canonical] }) { return known }
        let plugin = try loader.load(canonical)
        let existing: LoadedPlugin? = loaded.withLock { loaded in
            if let existing = loaded.byID[plugin.id] { return existing }
            loaded.byID[plugin.id] = plugin
            loaded.byPath[canonical] = plugin
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
