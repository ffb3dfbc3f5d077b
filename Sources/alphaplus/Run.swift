import ArgumentParser
import Dispatch
import Foundation
import HostConfig
import Logging
import PluginRuntime

/// The main job: load the configuration and plugins, create every tenant's
/// instances, run until SIGINT or SIGTERM, then shut down in order.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the host until SIGINT or SIGTERM.")
    @OptionGroup var options: ConfigOption
    @Option(help: "Stop by itself after this many seconds (for smoke tests).") var duration: Double?

    func run() throws {
        let config = try options.load()
        bootstrapLogging(level: config.logLevel)
        let logger = Logger(label: "alphaplus")
        let services = HostServices()
        let registry = PluginRegistry(services: services)
        registry.discover(folders: config.pluginFolders)
        logger.info("plugins loaded", metadata: ["loaded": "\(registry.plugins.count)", "refused": "\(registry.failures.count)"])

        let (tenants, errors) = TenantConfig.loadAll(folder: config.tenantsFolder)
        for error in errors { logger.error("tenant configuration refused: \(error)") }
        var instances: [PluginInstance] = []
        for tenant in tenants {
            for instance in tenant.instances {
                guard let plugin = registry.plugin(id: instance.plugin) else {
                    logger.error("\(tenant.file): tenant \(tenant.id), instance \(instance.id): no loaded plugin '\(instance.plugin)'")
                    continue
                }
                do {
                    let created = try PluginInstance(plugin: plugin, tenantID: tenant.id, instanceID: instance.id,
                                                     config: instance.settings, services: services)
                    try created.start()
                    instances.append(created)
                    logger.info("instance started", metadata: ["tenant": "\(tenant.id)", "instance": "\(instance.id)", "plugin": "\(plugin.id)"])
                } catch {
                    logger.error("\(tenant.file): \(error)")
                }
            }
        }
        logger.info("running", metadata: ["tenants": "\(tenants.count)", "instances": "\(instances.count)"])

        let stopSignal = DispatchSemaphore(value: 0)
        var sources: [any DispatchSourceSignal] = []
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { stopSignal.signal() }
            source.resume()
            sources.append(source)
        }
        if let duration {
            _ = stopSignal.wait(timeout: .now() + duration)
        } else {
            stopSignal.wait()
        }
        logger.info("shutting down", metadata: ["instances": "\(instances.count)"])
        for instance in instances.reversed() { instance.destroy() }
        logger.info("stopped")
    }
}
