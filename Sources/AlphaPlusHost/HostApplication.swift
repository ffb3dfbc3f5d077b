import CAlphaPlus
import Dispatch
import Foundation
import HostConfig
import Ingress
import Logging
import MarketData
import PluginRuntime
import ServiceLifecycle
import Store
import Strategy
import Trading
import Synchronization
import Tenancy
import Timekeeping

/// The host as a value: built from a validated configuration, a clock and
/// its adapters, started, driven and stopped as one object. It owns the
/// market data, the tenants' strategies, instances and distribution, the
/// HTTP ingress, the reload triggers, the halt switch and the candle tick;
/// `alphaplus run` is a thin shell around it, and tests drive it on a
/// manual clock (`HostHarness`: `HostApplication(config:clock:)`, then
/// the clock moved wake-up by wake-up).
///
/// The path of one market event: an exchange instance's `emit_event` →
/// `HostServices` → the event sink set here → `MarketPipeline.ingest`
/// (checks, books, candles) → a closed candle's frame → `TenantStrategies`
/// → each tenant's `TenantStrategy` (heads, consensus, risk, paper book) →
/// a signal → the store and the `Distributor` → the channel instances.
///
/// Thread-safety: `start` and `shutdown` are called by one owner (or by
/// `run`); everything else may be read from any thread.
public final class HostApplication: Service, Sendable {
    /// What the host is built with besides its configuration.
    public struct Options: Sendable {
        /// How long a stop may take: deliveries in flight finish and plugin
        /// calls return within it, or they are abandoned and named.
        public var shutdownTimeout: Duration
        /// The tenant files reload on SIGHUP, `alphaplus tenants reload` and
        /// any change to the folder; off for a host embedded in a test.
        public var reloadTriggers: Bool
        /// Called (from a thread of its own) when a stop is still running at
        /// `shutdownTimeout`, with the plugin calls running then:
        /// the last word of a process that must exit within its bound
        /// (`alphaplus run` logs them and exits 1). Nil: the stop just ends late.
        public var onShutdownOverrun: (@Sendable ([RunningCall]) -> Void)?

        public init(shutdownTimeout: Duration = .seconds(10), reloadTriggers: Bool = true,
                    onShutdownOverrun: (@Sendable ([RunningCall]) -> Void)? = nil) {
            self.shutdownTimeout = shutdownTimeout
            self.reloadTriggers = reloadTriggers
            self.onShutdownOverrun = onShutdownOverrun
        }
    }

    /// What a stop did.
    public struct ShutdownReport: Sendable {
        /// Plugin calls that had not returned when the stop gave up on
        /// them, each naming plugin, version, tenant, instance and call.
        public var abandoned: [RunningCall]
        /// False when the stop itself ran past `shutdownTimeout`.
        public var finishedInTime: Bool
    }

    public let config: HostConfig
    public let clock: any HostClock
    public let options: Options
    public let store: HostStore
    public let services: HostServices
    public let registry: PluginRegistry
    public let market: MarketPipeline
    public let strategies: TenantStrategies
    public let halt: GlobalHalt
    public let tenants: TenantHost
    /// What /readyz reports.
    public let readiness: Readiness
    /// While this file exists, no tenant opens a position.
    private let haltFile: String
    private let logger: Logger
    private let makeLogger: @Sendable (String) -> Logger
    private let lifecycle = Mutex(Lifecycle())

    private struct Lifecycle {
        var started = false
        var stopped = false
        var ingress: IngressServer?
        var reloads: TenantReloads?
        var tick: Tick?
    }

    /// Opens the store (or takes `store`) and loads the plugins of the
    /// configured folders; nothing runs until `start`. Throws when the
    /// store cannot be opened.
    ///
    /// `makeLogger` makes every logger of the host by its label
    /// (`alphaplus`, `alphaplus.plugins`, `alphaplus.market`, ...): swift-log's
    /// system by default; a test passes its own to read what the host logs.
    public init(config: HostConfig, clock: any HostClock = WallClock(), store: HostStore? = nil, options: Options = Options(),
                makeLogger: @escaping @Sendable (String) -> Logger = { Logger(label: $0) }) throws {
        self.config = config
        self.clock = clock
        self.options = options
        self.makeLogger = makeLogger
        haltFile = HostControlFiles(config).halt
        let logger = makeLogger("alphaplus")
        self.logger = logger
        readiness = Readiness(waitingFor: [("store", "not open yet"), ("plugins", "not loaded yet"),
                                           ("distributor", "not started yet")])
        // First: instances load their key/value state from it.
        do { self.store = try store ?? HostStore(path: config.storePath, clock: clock.nowNs) } catch {
            throw HostError(description: "the store \(config.storePath) cannot be opened: \(error)")
        }
        logger.info("store open", metadata: ["path": "\(config.storePath)"])
        readiness.markReady("store")
        services = HostServices.make(config, store: self.store, clock: clock, logger: logger, pluginLogger: makeLogger("alphaplus.plugins"))
        // Market data: what exchange instances emit becomes candles and
        // feature frames; each frame goes to every tenant's strategy, each
        // news event to every head that takes raw events.
        let strategies = TenantStrategies()
        self.strategies = strategies
        market = MarketPipeline(clock: clock.nowNs, logger: makeLogger("alphaplus.market")) { frame in strategies.onFrame(frame) }
        services.setEventSink { [market] _, event in
            if event.pointee.kind == AP_EVENT_NEWS.rawValue { strategies.deliverNews(event) }
            market.ingest(event)
        }
        registry = PluginRegistry(services: services)
        registry.discover(folders: config.pluginFolders)
        logger.info("plugins loaded", metadata: ["loaded": "\(registry.plugins.count)", "refused": "\(registry.failures.count)"])
        readiness.markReady("plugins")
        halt = GlobalHalt()
        tenants = TenantHost(services: services, registry: registry, store: self.store, strategies: strategies, halt: halt,
                             quotas: config.quotas, logger: logger, clock: clock, makeLogger: makeLogger)
        tenants.onSignal = { signal in logger.notice("signal \(describe(signal))") }
        tenants.onOutcome = { outcome in logger.notice("outcome \(describe(outcome))") }
    }

    /// The HTTP server's port (nil without an `http:` section or before `start`).
    public var httpPort: Int? { lifecycle.withLock { $0.ingress?.port } }

    /// Starts every tenant whose file is valid (instances, strategy,
    /// distribution; connectors last, so no frame arrives before its
    /// strategy exists), then the ingress, the reload triggers and the
    /// candle tick. A tenant file with any error does not run; the others do.
    public func start() throws {
        let (configs, errors, warnings) = TenantConfig.loadValidated(folder: config.tenantsFolder, plugins: registry.configSchemas,
                                                                     quotas: config.quotas, secretFiles: config.secretFiles)
        for error in errors { logger.error("tenant configuration refused: \(error)") }
        for warning in warnings { logger.warning("\(warning)") }
        do { try tenants.start(configs) } catch { throw HostError(description: "the outbox cannot start: \(error)") }
        readiness.markReady("distributor")
        // Webhooks reach the instances from here on; a reload shows the ingress its new catalog.
        let ingress = try startIngress(config, running: tenants.running, registry: registry, store: store, readiness: readiness,
                                       clock: clock, logger: logger, serverLogger: makeLogger("alphaplus.http"))
        if let ingress {
            tenants.onChange = { [registry, logger] running in
                ingress.replaceCatalog(ingressCatalog(running, registry: registry, logger: logger))
            }
        }
        let reloads = options.reloadTriggers
            ? TenantReloads(config: config, host: tenants, plugins: registry.configSchemas, logger: logger) : nil
        reloads?.start()
        let tick = Tick(startNs: clock.nowNs())
        lifecycle.withLock {
            $0.started = true
            $0.ingress = ingress
            $0.reloads = reloads
            $0.tick = tick
        }
        tick.schedule(self)
        let instances = Set(tenants.running.flatMap { tenant in
            tenant.instances.values.compactMap { creation -> ObjectIdentifier? in
                if case .created(let instance) = creation { ObjectIdentifier(instance) } else { nil }
            }
        })
        logger.info("running", metadata: ["tenants": "\(configs.count)", "instances": "\(instances.count)"])
    }

    /// The `Service` of swift-service-lifecycle: starts, runs until the
    /// service group shuts down gracefully (SIGTERM, SIGINT), then stops
    /// within `options.shutdownTimeout`.
    public func run() async throws {
        try start()
        try? await gracefulShutdown()
        let report = await withCheckedContinuation { continuation in
            Thread.detachNewThread { continuation.resume(returning: self.shutdown()) }
        }
        if !report.abandoned.isEmpty || !report.finishedInTime { throw report }
    }

    /// Stops in the order the host depends on, each step within what is
    /// left of `options.shutdownTimeout`:
    /// 1. readiness off, the candle tick and the reload triggers stopped;
    /// 2. the HTTP server: no new request, those in progress finish;
    /// 3. the tenants: connectors first (no market data comes in), then the
    ///    distributor, whose deliveries in flight end and are recorded, then
    ///    every other instance;
    /// 4. the last summaries.
    /// A plugin call that never returns does not hold the stop: its
    /// instance is abandoned and the call named in the report and the log.
    /// Safe to call once; later calls report nothing.
    @discardableResult
    public func shutdown() -> ShutdownReport {
        let started = DispatchTime.now()
        let bound = started + .nanoseconds(Int(options.shutdownTimeout.nanoseconds))
        /// How long the stop has waited so far: what a call it gives up on has run for at least.
        let waitedNs: @Sendable () -> UInt64 = { DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds }
        // Calls that have not returned are given up on a little before the
        // bound (a tenth of it, half a second at most), so that the last
        // summaries are written and the process has exited by the bound.
        let deadline = bound - .nanoseconds(Int(min(options.shutdownTimeout.nanoseconds / 10, 500_000_000)))
        let parts = lifecycle.withLock { state -> Lifecycle? in
            guard state.started, !state.stopped else { return nil }
            state.stopped = true
            return state
        }
        guard let parts else { return ShutdownReport(abandoned: [], finishedInTime: true) }
        logger.info("shutting down", metadata: ["within": "\(options.shutdownTimeout)"])
        let finished = DispatchSemaphore(value: 0)
        defer { finished.signal() }
        if let overrun = options.onShutdownOverrun {
            // A step that waits on a plugin without a deadline of its own
            // (a reload stuck in a create) cannot hold the process past the bound.
            Thread.detachNewThread { [services] in
                if finished.wait(timeout: bound) == .timedOut { overrun(services.runningCalls(forAtLeastNs: waitedNs())) }
            }
        }
        readiness.markNotReady("host", reason: "shutting down")
        parts.tick?.cancel()
        parts.reloads?.stop()
        // No webhook reaches an instance once it is being destroyed.
        parts.ingress?.stop()
        let abandoned = tenants.shutdown(before: deadline).compactMap { $0.runningCall(forAtLeastNs: waitedNs()) }
        for call in abandoned { logger.error("shutdown: abandoned a call that did not return: \(call)") }
        logSummaries()
        let inTime = DispatchTime.now() <= bound
        if !inTime { logger.error("shutdown took longer than \(options.shutdownTimeout)") }
        logger.info("stopped")
        return ShutdownReport(abandoned: abandoned, finishedInTime: inTime)
    }

    /// One tick of the candle clock (every second of the host's clock):
    /// the halt file, buckets the clock closes, the minute's summaries.
    fileprivate func tick(lastSummaryNs: inout Int64) {
        let halted = FileManager.default.fileExists(atPath: haltFile)
        if halted != halt.isHalted {
            halt.set(halted)
            logger.warning(halted ? "trading halted: \(haltFile) exists; no tenant opens a position" : "trading resumed: \(haltFile) is gone")
        }
        let now = clock.nowNs()
        market.advanceClock(to: now)
        if now - lastSummaryNs >= 60_000_000_000 {
            lastSummaryNs = now
            logSummaries()
        }
    }

    private func logSummaries() {
        logger.info("market data: \(market.summary)")
        strategies.withStrategies { $0.map(summary).forEach { logger.info("\($0)") } }
        tenants.distributor.map { logger.info("distribution: \(describe($0.counters))") }
    }
}

/// Why the host could not start, or a stop that abandoned plugin calls.
public struct HostError: Error, CustomStringConvertible {
    public let description: String
}

extension HostApplication.ShutdownReport: Error, CustomStringConvertible {
    public var description: String {
        (finishedInTime ? "" : "the shutdown ran past its bound; ")
            + "abandoned: " + (abandoned.isEmpty ? "none" : abandoned.map(\.description).joined(separator: "; "))
    }
}

/// The candle clock: every whole second of the host's clock, on its own
/// queue (a manual clock runs it as the test moves the clock).
private final class Tick: Sendable {
    private struct State {
        var cancelled = false
        var lastSummaryNs: Int64
    }

    private let queue = DispatchQueue(label: "alphaplus.tick")
    private let state: Mutex<State>

    init(startNs: Int64) { state = Mutex(State(lastSummaryNs: startNs)) }

    func schedule(_ host: HostApplication) {
        let next = (host.clock.nowNs() / 1_000_000_000 + 1) * 1_000_000_000
        host.clock.wake(atNs: next, on: queue) { [weak host, self] in
            guard let host else { return }
            let running = state.withLock { state -> Bool in
                guard !state.cancelled else { return false }
                host.tick(lastSummaryNs: &state.lastSummaryNs)
                return true
            }
            if running { schedule(host) }
        }
    }

    func cancel() { state.withLock { $0.cancelled = true } }
}

extension HostServices {
    /// The host services with the configuration's endpoint overrides, each
    /// logged, and instances' key/value state kept in the store: what `run`
    /// and `outbox drain` send goes to the same places, and both see the
    /// same state. Plugins log through `pluginLogger`.
    public static func make(_ config: HostConfig, store: HostStore, clock: any HostClock, logger: Logger,
                            pluginLogger: Logger = Logger(label: "alphaplus.plugins")) -> HostServices {
        for (platform, local) in config.endpointOverrides.sorted(by: { $0.key.description < $1.key.description }) {
            logger.info("endpoint override: requests to \(platform) go to \(local)")
        }
        return HostServices(logger: pluginLogger, clock: clock, endpointOverrides: config.endpointOverrides, state: store)
    }
}

extension Duration {
    var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
}
