import AlphaPlusHost
import ArgumentParser
import Foundation
import HostMetrics
import Logging
import ServiceLifecycle

/// The main job: the host (`HostApplication`) on the wall clock under one
/// service group, until SIGINT or SIGTERM (or `--duration`), then a stop
/// bounded by `--shutdown-timeout`.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the host until SIGINT or SIGTERM.",
        discussion: """
            Exit 0 after a clean stop; 1 when the stop abandoned a plugin call that did not return (each is logged \
            with its plugin, version, tenant, instance and call) or ran past --shutdown-timeout.
            """)
    @OptionGroup var options: ConfigOption
    @Option(help: "Stop by itself after this many seconds (for smoke tests).") var duration: Double?
    @Option(help: "Seconds a stop may take before plugin calls that have not returned are abandoned.")
    var shutdownTimeout: Double = 10

    func run() async throws {
        guard shutdownTimeout > 0, shutdownTimeout.isFinite else {
            throw ValidationError("--shutdown-timeout \(shutdownTimeout) is not a positive number of seconds")
        }
        let config = try options.load()
        bootstrapLogging(level: config.logLevel)
        // First: what records metrics keeps the factory current when it is
        // made. The /metrics route serves `HostMetrics.exposition()`.
        HostMetrics.bootstrap()
        let logger = Logger(label: "alphaplus")
        let host: HostApplication
        do {
            host = try HostApplication(config: config, options: .init(shutdownTimeout: .seconds(shutdownTimeout), onShutdownOverrun: { calls in
                for call in calls { logger.critical("shutdown: still waiting for \(call)") }
                logger.critical("shutdown: not done within \(shutdownTimeout) s; exiting")
                Foundation.exit(1)
            }))
        } catch {
            throw ValidationError("\(error)")
        }
        var groupLogger = logger  // the service group's own lines: only its problems
        groupLogger.logLevel = max(logger.logLevel, .warning)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [host], gracefulShutdownSignals: [.sigterm, .sigint], logger: groupLogger))
        if let duration {
            Task {
                try await Task.sleep(for: .seconds(duration))
                await group.triggerGracefulShutdown()
            }
        }
        do {
            try await group.run()
        } catch let error as HostError {
            throw ValidationError("\(error)")
        } catch is HostApplication.ShutdownReport {
            throw ExitCode(1)
        }
    }
}
