import ArgumentParser
import Foundation
import HostConfig

struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "config", abstract: "Check the configuration.",
                                                    subcommands: [Validate.self])

    struct Validate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the host file and every tenant file against the loaded plugins: every error and warning, a summary line; exit 1 on an error.")
        @OptionGroup var options: ConfigOption

        func run() throws {
            bootstrapLogging(level: "critical")
            let config: HostConfig
            do { config = try HostConfig.load(options.config) } catch {
                print(error)
                print("\(options.config): 1 error (the tenants were not checked)")
                throw ExitCode(1)
            }
            let plugins = loadPluginSchemas(config)
            // A refused plugin file stops no tenant by itself: an instance of it is an error of its own.
            for failure in plugins.refused { print("\(failure.path): warning: plugin refused: \(failure.reason)") }
            let folder = TenantFolder(validating: config.tenantsFolder, plugins: plugins.schemas, quotas: config.quotas, secretFiles: config.secretFiles)
            let unknownQuotas = folder.quotaWarnings
            for problem in folder.problems { print(problem) }
            for warning in unknownQuotas { print("\(warning.file):\(warning.line):\(warning.column): warning: \(warning.message)") }
            for file in folder.files {
                for line in file.diagnostics { print(line) }
            }
            let errors = folder.errors.count, warnings = folder.warnings.count + plugins.refused.count + unknownQuotas.count
            let checked = "\(options.config) and \(counted(folder.files.count, "tenant file")) (\(counted(plugins.schemas.count, "plugin")) loaded)"
            let warned = warnings == 0 ? "" : ", \(counted(warnings, "warning"))"
            guard errors == 0 else {
                print("\(checked): \(counted(errors, "error"))\(warned)")
                throw ExitCode(1)
            }
            print("\(checked): valid\(warned)")
        }
    }
}
