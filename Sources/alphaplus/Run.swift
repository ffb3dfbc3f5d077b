import ArgumentParser
import CAlphaPlus
import Dispatch
import Distribution
import Foundation
import HostConfig
import HostMetrics
import Ingress
import Logging
import MarketData
import PluginRuntime
import Store
import Strategy
import Tenancy

/// The main job: load the configuration and plugins, create every tenant's
/// instances, run until SIGINT or SIGTERM, then shut down in order.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the host until SIGINT or SIGTERM.")
    @OptionGroup var options: ConfigOption
    @Option(help: "Stop by itself after this many seconds (for smoke tests).") var duration: Double?

    func run() throws {
        let config = try options.load()
        bootstrapLogging(level: config.logLevel)
        // First: what records metrics keeps the factory current when it is
        // made. The /metrics route serves `HostMetrics.exposition()`.
        HostMetrics.bootstrap()
        let logger = Logger(label: "alphaplus")
        // What /readyz reports (when the http section starts a server).
        let readiness = Readiness(waitingFor: [("store", "not open yet"), ("plugins", "not loaded yet"),
                                               ("distributor", "not started yet")])
        // Open first: instances load their key/value state from it.
        let store: SignalStore
        do { store = try SignalStore(path: config.storePath, clock: wallClockNs) } catch {
            throw ValidationError("\(error)")
        }
        logger.info("store open", metadata: ["path": "\(config.storePath)"])
        readiness.markReady("store")
        let services = hostServices(config, store: store, logger: logger)
        // Market data: what exchange instances emit becomes candles and
        // feature frames; each frame goes to every tenant's strategy.
        let strategies = StrategyRouter()
        let market = MarketPipeline(clock: wallClockNs, logger: Logger(label: "alphaplus.market")) { frame in
            strategies.onFrame(frame)
        }
        services.setEventSink { _, event in
            if event.pointee.kind == AP_EVENT_NEWS.rawValue { StrategyRouter.deliver(event, to: market.exclusively { strategies.strategies }) }
            market.ingest(event)
        }
        let registry = PluginRegistry(services: services)
        registry.discover(folders: config.pluginFolders)
        logger.info("plugins loaded", metadata: ["loaded": "\(registry.plugins.count)", "refused": "\(registry.failures.count)"])
        readiness.markReady("plugins")

        // Every tenant's instances, strategy and distribution; connectors
        // start last, so no frame arrives before its strategy exists.
        // A tenant file with any error (a schema violation, an unknown plugin, an unset secret, over its quota) does not run.
        let (tenants, errors, warnings) = TenantConfig.loadValidated(folder: config.tenantsFolder, plugins: configSchemas(registry),
                                                                         quotas: config.quotas, secretFiles: config.secretFiles)
        for error in errors { logger.error("tenant configuration refused: \(error)") }
        for warning in warnings { logger.warning("\(warning)") }
        let halt = GlobalHalt()
        let host = TenantHost(services: services, registry: registry, store: store, market: market, strategies: strategies, halt: halt,
                              quotas: config.quotas, logger: logger, nowNs: wallClockNs)
        host.onSignal = { signal in logger.notice("signal \(describe(signal))") }
        host.onOutcome = { outcome in logger.notice("outcome \(describe(outcome))") }
        do { try host.start(tenants) } catch { throw ValidationError("the outbox cannot start: \(error)") }
        readiness.markReady("distributor")
        // Webhooks reach the instances from here on; a reload shows the ingress its new catalog.
        let http = try startIngress(config, running: host.running, registry: registry, store: store, readiness: readiness, logger: logger)
        if let http {
            host.onChange = { running in http.replaceCatalog(ingressCatalog(running, registry: registry, logger: logger)) }
        }
        // Tenant files reload on SIGHUP, `alphaplus tenants reload` and any change to the folder.
        let reloads = TenantReloads(config: config, host: host, plugins: configSchemas(registry), logger: logger)
        reloads.start()
        let haltFile = HostControlFiles(config).halt
        let candleClock = DispatchSource.makeTimerSource(queue: .global())
        candleClock.schedule(deadline: .now() + 1, repeating: 1)
        var lastSummaryNs = wallClockNs()
        candleClock.setEventHandler {
            let halted = FileManager.default.fileExists(atPath: haltFile)
            if halted != halt.isHalted {
                halt.set(halted)
                logger.warning(halted ? "trading halted: \(haltFile) exists; no tenant opens a position" : "trading resumed: \(haltFile) is gone")
            }
            market.advanceClock(to: wallClockNs())
            if wallClockNs() - lastSummaryNs >= 60_000_000_000 {
                lastSummaryNs = wallClockNs()
                logger.info("market data: \(market.summary)")
                market.exclusively { strategies.summaries.forEach { logger.info("\($0)") } }
                host.distributor.map { logger.info("distribution: \(describe($0.counters))") }
            }
        }
        candleClock.resume()
        let instances = Set(host.running.flatMap { tenant in
            tenant.instances.values.compactMap { creation -> ObjectIdentifier? in
                if case .created(let instance) = creation { ObjectIdentifier(instance) } else { nil }
            }
        })
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
        logger.info("shutting down")
        reloads.stop()
        // No webhook reaches an instance once it is being destroyed: the
        // server stops first, letting the requests in progress finish.
        readiness.markNotReady("host", reason: "shutting down")
        http?.stop()
        // Nothing new goes out; deliveries the channels had not finished are
        // recorded as retries when their instances are destroyed.
        host.shutdown()
        candleClock.cancel()
        logger.info("market data: \(market.summary)")
        market.exclusively { strategies.summaries.forEach { logger.info("\($0)") } }
        host.distributor.map { logger.info("distribution: \(describe($0.counters))") }
        logger.info("stopped")
    }
}

/// The host services with the configuration's endpoint overrides, each
/// logged, and instances' key/value state kept in the store: what `run` and
/// `outbox drain` send goes to the same places, and both see the same state.
func hostServices(_ config: HostConfig, store: SignalStore, logger: Logger) -> HostServices {
    for (platform, local) in config.endpointOverrides.sorted(by: { $0.key.description < $1.key.description }) {
        logger.info("endpoint override: requests to \(platform) go to \(local)")
    }
    return HostServices(endpointOverrides: config.endpointOverrides, state: store)
}

func wallClockNs() -> Int64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return Int64(spec.tv_sec) * 1_000_000_000 + Int64(spec.tv_nsec)
}
