import AlphaPlusJSON
import ArgumentParser
import Foundation
import HostConfig
import PluginRuntime

struct Plugins: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, inspect and validate plugins.",
        subcommands: [List.self, Inspect.self, Validate.self])

    /// What `list` and `inspect` print for one plugin.
    struct Summary: Encodable {
        let id, name, version, vendor, description, toolchain, path: String
        let abi: String
        let capabilities: [String]
        let permissions: Permissions
        let configSchema: JSONText?

        struct Permissions: Encodable { let networkHosts: [String] }

        init(_ plugin: LoadedPlugin, withSchema: Bool) {
            id = plugin.id
            name = plugin.name
            version = plugin.version
            vendor = plugin.vendor
            description = plugin.summary
            toolchain = plugin.toolchain
            path = plugin.path
            abi = "\(plugin.abiMajor).\(plugin.abiMinor)"
            capabilities = plugin.capabilities
            permissions = Permissions(networkHosts: plugin.networkHosts)
            configSchema = withSchema ? JSONText(plugin.configSchemaText) : nil
        }
    }

    /// Embeds already-valid JSON text in encoded output.
    struct JSONText: Encodable {
        let value: JSONValue
        init?(_ text: String) {
            guard let value = try? JSONValue(parsing: text) else { return nil }
            self.value = value
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch value {
            case .null: try container.encodeNil()
            case .bool(let b): try container.encode(b)
            case .number(let n): try container.encode(n)
            case .string(let s): try container.encode(s)
            case .array(let a): try container.encode(a.map { JSONText(value: $0) })
            case .object(let o): try container.encode(o.mapValues { JSONText(value: $0) })
            }
        }
        private init(value: JSONValue) { self.value = value }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Load every plugin in the configured folders and list them.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let config = try options.load()
            bootstrapLogging(level: json ? "warning" : config.logLevel)
            let registry = PluginRegistry(services: HostServices())
            registry.discover(folders: config.pluginFolders)
            if json {
                struct Listing: Encodable {
                    let plugins: [Summary]
                    let refused: [Refusal]
                    let folders: [String]
                }
                struct Refusal: Encodable { let path, reason: String }
                try printJSON(Listing(plugins: registry.plugins.map { Summary($0, withSchema: false) },
                                      refused: registry.failures.map { Refusal(path: $0.path, reason: $0.reason) },
                                      folders: config.pluginFolders))
            } else {
                for plugin in registry.plugins {
                    print("\(plugin.id) \(plugin.version)  [\(plugin.capabilities.joined(separator: ", "))]  \(plugin.path)")
                }
                for failure in registry.failures { print("refused: \(failure)") }
                if registry.plugins.isEmpty { print("no plugins found in \(config.pluginFolders.joined(separator: ", "))") }
            }
        }
    }

    struct Inspect: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a plugin's descriptor, capabilities, schema and permissions.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "A plugin file, or the id of a plugin in the configured folders.") var plugin: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            bootstrapLogging(level: "warning")
            let registry = PluginRegistry(services: HostServices())
            let loaded: LoadedPlugin
            if FileManager.default.fileExists(atPath: plugin) {
                // A refused file is an answer, not a usage error: the
                // refusal (file and reason) as `validate` prints it.
                do { loaded = try registry.load(plugin) } catch {
                    FileHandle.standardError.write(Data("\(error)\n".utf8))
                    throw ExitCode(1)
                }
            } else {
                registry.discover(folders: try options.load().pluginFolders)
                guard let found = registry.plugin(id: plugin) else {
                    throw ValidationError("no plugin file or loaded plugin id '\(plugin)'")
                }
                loaded = found
            }
            let summary = Summary(loaded, withSchema: true)
            if json { return try printJSON(summary) }
            print("""
            id:           \(summary.id)
            name:         \(summary.name)
            version:      \(summary.version)
            vendor:       \(summary.vendor)
            description:  \(summary.description)
            abi:          \(summary.abi)
            toolchain:    \(summary.toolchain)
            path:         \(summary.path)
            capabilities: \(summary.capabilities.joined(separator: ", "))
            network:      \(summary.permissions.networkHosts.isEmpty ? "(none)" : summary.permissions.networkHosts.joined(separator: ", "))
            config schema:
            \(loaded.configSchemaText)
            """)
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that a plugin file loads: exit 0, or one line naming the file and the reason.")
        @Argument(help: "The plugin file.") var file: String

        func run() throws {
            bootstrapLogging(level: "critical")
            do {
                let plugin = try PluginRegistry(services: HostServices()).load(file)
                print("\(file): ok (\(plugin.id) \(plugin.version), \(plugin.capabilities.joined(separator: ", ")))")
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
        }
    }
}
