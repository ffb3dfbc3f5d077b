import ArgumentParser
import Foundation
import HostConfig
import Logging
import PluginRuntime

@main
struct AlphaPlus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alphaplus",
        abstract: "A plugin-hosting strategy runtime.",
        subcommands: [Plugins.self, Run.self, Tenants.self, ConfigCommand.self, Backtest.self, Book.self, Doctor.self, DataCommand.self, IndicatorsCommand.self, Audit.self, OutboxCommand.self, Version.self])
}

struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "The host configuration file.")
    var config = "config/alphaplus.yaml"

    func load() throws -> HostConfig {
        do { return try HostConfig.load(config) } catch { throw ValidationError("\(error)") }
    }
}

/// Logs go to stderr so that `--json` output on stdout stays clean.
func bootstrapLogging(level: String) {
    LoggingSystem.bootstrap { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = Logger.Level(rawValue: level) ?? .info
        return handler
    }
}

func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

struct Version: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print the host's version and plugin ABI.")
    static let hostVersion = "0.1.0"

    func run() {
        print("alphaplus \(Self.hostVersion) (plugin ABI \(ABI.major).\(ABI.minor), \(ABI.swiftToolchain))")
    }
}
