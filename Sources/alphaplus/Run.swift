import ArgumentParser
import CAlphaPlus
import Dispatch
import Foundation
import HostConfig
import Logging
import MarketData
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
        // Market data: what exchange instances emit becomes candles and
        // feature frames (heads are asked for votes by the strategy layer).
        let market = MarketPipeline(clock: wallClockNs, logger: Logger(label: "alphaplus.market")) { _ in }
        services.setEventSink { _, event in market.ingest(event) }
        let candleClock = DispatchSource.makeTimerSource(queue: .global())
        candleClock.schedule(deadline: .now() + 1, repeating: 1)
        var lastSummaryNs = wallClockNs()
        candleClock.setEventHandler {
            market.advanceClock(to: wallClockNs())
            if wallClockNs() - lastSummaryNs >= 60_000_000_000 {
                lastSummaryNs = wallClockNs()
                logger.info("market data: \(market.summary)")
            }
        }
        candleClock.resume()
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
                    for subscription in instance.subscriptions {
                        try created.subscribe(symbol: subscription.symbol, streams: streamFlags(subscription.streams),
                                              bookDepth: UInt32(subscription.bookDepth))
                    }
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
        candleClock.cancel()
        logger.info("market data: \(market.summary)")
        logger.info("stopped")
    }
}

func wallClockNs() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}

/// The contract's ap_stream_flags for the configured stream names.
func streamFlags(_ names: [String]) -> UInt32 {
    names.reduce(0) { flags, name in
        switch name {
        case "trades": flags | AP_STREAM_TRADES.rawValue
        case "quotes": flags | AP_STREAM_QUOTES.rawValue
        case "book": flags | AP_STREAM_BOOK.rawValue
        case "candles": flags | AP_STREAM_CANDLES.rawValue
        default: flags | AP_STREAM_NEWS.rawValue
        }
    }
}
