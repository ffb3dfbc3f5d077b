import AlphaPlusJSON
import ArgumentParser
import Foundation
import HostConfig
import PluginRuntime

struct Tenants: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, validate and show the tenants of config/tenants; make the running host reload them.",
        subcommands: [List.self, Validate.self, Show.self, TenantsReload.self])

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Every tenant file: id, file, instances, symbols and whether it is valid against the loaded plugins.")
        @OptionGroup var options: ConfigOption
        @Flag(help: "Print JSON.") var json = false

        struct Row: Encodable {
            let id: String?
            let file: String
            let instances: Int
            let symbols: [String]
            let status: String
            let errors, warnings: Int
        }

        func run() throws {
            let config = try options.load()
            bootstrapLogging(level: "critical")
            let folder = TenantFolder(validating: config.tenantsFolder, plugins: loadPluginSchemas(config).schemas, quotas: config.quotas,
                                         secretFiles: config.secretFiles)
            let rows = folder.files.map { file in
                let tenant = file.tenant
                // The strategy's symbols; without a strategy, what the connectors subscribe to.
                let subscribed = tenant?.instances.flatMap { $0.subscriptions.map(\.symbol) } ?? []
                let symbols = tenant?.strategy?.symbols ?? subscribed.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
                return Row(id: tenant?.id, file: file.path, instances: tenant?.instances.count ?? 0, symbols: symbols,
                           status: file.errors.isEmpty ? "valid" : counted(file.errors.count, "error"),
                           errors: file.errors.count, warnings: file.warnings.count)
            }
            if json {
                struct Listing: Encodable {
                    let tenants: [Row]
                    let folder: String
                    let problems: [String]
                }
                return try printJSON(Listing(tenants: rows, folder: folder.path, problems: folder.problems.map(\.description)))
            }
            for problem in folder.problems { print(problem) }
            printTable([["ID", "FILE", "INSTANCES", "SYMBOLS", "STATUS"]] + rows.map { row in
                [row.id ?? "-", row.file, "\(row.instances)", row.symbols.isEmpty ? "-" : row.symbols.joined(separator: ","), row.status]
            })
        }
    }

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a tenant file against the loaded plugins and the tenants folder: every error and warning as file:line:column: message; exit 1 on an error.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The tenant file.") var file: String

        func run() throws {
            let config = try options.load()
            bootstrapLogging(level: "critical")
            var tenantFile = TenantFile(parsing: file)
            tenantFile.checkPlacement(among: TenantFolder(loading: config.tenantsFolder).files)
            tenantFile.validate(plugins: loadPluginSchemas(config).schemas, environment: ProcessInfo.processInfo.environment,
                                secretFiles: config.secretFiles)
            tenantFile.check(quotas: config.quotas)
            for line in tenantFile.diagnostics { print(line) }
            let warnings = tenantFile.warnings.isEmpty ? "" : " (\(counted(tenantFile.warnings.count, "warning")))"
            guard tenantFile.errors.isEmpty else {
                print("\(file): \(counted(tenantFile.errors.count, "error"))\(warnings)")
                throw ExitCode(1)
            }
            print("\(file): valid\(warnings)")
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A tenant's effective configuration, defaults filled in; secrets as their references and whether they are set, never values.")
        @OptionGroup var options: ConfigOption
        @Argument(help: "The tenant's id.") var id: String
        @Flag(help: "Print JSON.") var json = false

        func run() throws {
            let config = try options.load()
            let folder = TenantFolder(loading: config.tenantsFolder)
            guard let file = folder.file(of: id), let tenant = file.tenant else {
                let ids = folder.files.compactMap(\.tenant?.id)
                throw ValidationError("no tenant '\(id)' in \(config.tenantsFolder); tenants: \(ids.isEmpty ? "none" : ids.joined(separator: ", "))")
            }
            // What could not be read is left out of what follows: say so.
            for error in file.errors { FileHandle.standardError.write(Data("\(error)\n".utf8)) }
            let effective = tenant.effectiveConfiguration(environment: ProcessInfo.processInfo.environment)
            if json { return try printJSON(Plugins.JSONText(effective.jsonText)) }
            print("# \(file.path)")
            print(effective.yamlText, terminator: "")
        }
    }
}

/// The config schemas of the plugins in the host config's folders, by
/// plugin id (as tenant validation takes them), and the plugin files refused.
func loadPluginSchemas(_ config: HostConfig) -> (schemas: [String: JSONSchema], refused: [PluginLoadError]) {
    let registry = PluginRegistry(services: HostServices())
    registry.discover(folders: config.pluginFolders)
    return (registry.configSchemas, registry.failures)
}

/// "1 error", "3 errors".
func counted(_ count: Int, _ noun: String) -> String { "\(count) \(noun)\(count == 1 ? "" : "s")" }

/// Rows in left-aligned columns two spaces apart.
func printTable(_ rows: [[String]]) {
    let widths = rows.reduce(into: [Int]()) { widths, row in
        for (index, cell) in row.enumerated() {
            if index < widths.count { widths[index] = max(widths[index], cell.count) } else { widths.append(cell.count) }
        }
    }
    for row in rows {
        let cells = row.enumerated().map { index, cell in index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }
        print(cells.joined(separator: "  "))
    }
}
