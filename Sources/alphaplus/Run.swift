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
            if event.pointee.kind == AP_EVENT_NEWS.rawValue { strategies.deliver(event) }
            market.ingest(event)
        }
        let registry = PluginRegistry(services: services)
        registry.discover(folders: config.pluginFolders)
        logger.info("plugins loaded", metadata: ["loaded": "\(registry.plugins.count)", "refused": "\(registry.failures.count)"])
        readiness.markReady("plugins")

        let (tenants, errors) = TenantConfig.loadAll(folder: config.tenantsFolder)
        for error in errors { logger.error("tenant configuration refused: \(error)") }
        enableSubscriptions(services, store: store, tenants: tenants)
        // Create every instance first, then the strategies, then start the
        // connectors: no frame arrives before its strategy exists.
        var instances: [(instance: PluginInstance, config: InstanceConfig, tenant: TenantConfig)] = []
        var creations: [ChannelAddress: InstanceCreation] = [:]
        for tenant in tenants {
            for instance in tenant.instances {
                let creation = createInstance(instance, of: tenant, registry: registry, services: services, logger: logger)
                creations[ChannelAddress(tenant: tenant.id, instance: instance.id)] = creation
                if case .created(let created) = creation { instances.append((created, instance, tenant)) }
            }
        }
        // Webhooks reach the instances from here on; /readyz waits for the distributor.
        let http = try startIngress(config, tenants: tenants, creations: creations, registry: registry, store: store,
                                    readiness: readiness, logger: logger)
        // Distribution: signals and exits go to the outbox through a queue
        // (no I/O on the market thread) and out to the channel instances.
        let distributor = Distributor(tenants: distributions(tenants), outbox: store,
                                      endpoints: channelEndpoints(tenants, creations: creations, logger: logger), clock: WallClock(),
                                      subscriptions: store)
        do { try distributor.start() } catch {
            http?.stop()
            throw ValidationError("the outbox cannot start: \(error)")
        }
        readiness.markReady("distributor")
        // The host-wide halt switch: a file named HALT beside the store.
        let haltFile = (config.storePath as NSString).deletingLastPathComponent + "/HALT"
        let halt = GlobalHalt()
        for tenant in tenants {
            guard let settings = tenant.strategy else { continue }
            let heads = settings.heads.map { spec in
                let created = instances.first { $0.tenant.id == tenant.id && $0.config.id == spec.instance }
                return TenantStrategy.Head(spec: spec, pluginID: created?.instance.plugin.id
                                               ?? tenant.instances.first { $0.id == spec.instance }?.plugin ?? "?",
                                           instance: created?.instance)
            }
            for head in heads where head.instance == nil {
                logger.error("\(tenant.file): tenant \(tenant.id), head \(head.spec.instance) (plugin \(head.pluginID)) has no instance: it abstains on every frame")
            }
            do {
                let strategy = try TenantStrategy(tenant: tenant.id, settings: settings, heads: heads, journal: store, halt: halt,
                                                  invocation: .deadline, logger: Logger(label: "alphaplus.strategy"))
                let distributes = tenant.distribution != nil
                strategy.onSignal = { signal in
                    logger.notice("signal \(describe(signal))")
                    if distributes { distributor.submit(signal) }
                }
                strategy.onOutcome = { outcome in logger.notice("outcome \(describe(outcome))") }
                if distributes { strategy.onLeg = { [tenant = tenant.id] leg in distributor.submit(leg, tenant: tenant) } }
                strategies.add(strategy)
                logger.info("strategy ready", metadata: ["tenant": "\(tenant.id)", "heads": "\(heads.map(\.spec.instance).joined(separator: ","))"])
            } catch {
                logger.error("\(tenant.file): tenant \(tenant.id): strategy refused: \(error)")
            }
        }
        var started: [PluginInstance] = []
        for (instance, config, tenant) in instances {
            do {
                try instance.start()
                started.append(instance)
                for subscription in config.subscriptions {
                    try instance.subscribe(symbol: subscription.symbol, streams: streamFlags(subscription.streams),
                                           bookDepth: UInt32(subscription.bookDepth))
                }
                logger.info("instance started", metadata: ["tenant": "\(tenant.id)", "instance": "\(config.id)", "plugin": "\(instance.plugin.id)"])
            } catch {
                logger.error("\(tenant.file): \(error)")
            }
        }
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
                logger.info("distribution: \(describe(distributor.counters))")
            }
        }
        candleClock.resume()
        logger.info("running", metadata: ["tenants": "\(tenants.count)", "instances": "\(started.count)"])

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
        // No webhook reaches an instance once it is being destroyed: the
        // server stops first, letting the requests in progress finish.
        readiness.markNotReady("host", reason: "shutting down")
        http?.stop()
        // Nothing new goes out; deliveries the channels had not finished are
        // recorded as retries when their instances are destroyed.
        distributor.stop()
        for (instance, _, _) in instances.reversed() { instance.destroy() }
        distributor.flush()
        candleClock.cancel()
        logger.info("market data: \(market.summary)")
        market.exclusively { strategies.summaries.forEach { logger.info("\($0)") } }
        logger.info("distribution: \(describe(distributor.counters))")
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
