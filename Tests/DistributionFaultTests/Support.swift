import AlphaPlusJSON
import AlphaPlusSDK
import Distribution
import FakeChannelServers
import Foundation
import HTTPClient
import Logging
import PluginRuntime
import SharedTestData
import Store
import XCTest
import Timekeeping

/// The checkout: `alphaplus run` reads the demo's news file relative to it.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// 2026-11-21T08:00:00Z, the manual clocks' start.
let t0: Int64 = 1_795_248_000_000_000_000
let second: Int64 = 1_000_000_000

/// The built `alphaplus` running in the background as an operator starts
/// it. Its output goes to files: a long run writes more than a pipe holds.
final class HostProcess {
    let process = Process()
    private let outFile: URL
    private let errFile: URL

    /// `environment` is added to this process's, without the variables in `removing`.
    init(_ arguments: [String], environment: [String: String] = [:], removing: [String] = [], in folder: URL) throws {
        let id = UUID().uuidString
        outFile = folder.appendingPathComponent("host-\(id).out")
        errFile = folder.appendingPathComponent("host-\(id).err")
        _ = FileManager.default.createFile(atPath: outFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: try AlphaPlusCLI.executable())
        process.arguments = arguments
        process.currentDirectoryURL = repository
        var merged = ProcessInfo.processInfo.environment.filter { !removing.contains($0.key) }
        merged.merge(environment) { $1 }
        process.environment = merged
        process.standardOutput = try FileHandle(forWritingTo: outFile)
        process.standardError = try FileHandle(forWritingTo: errFile)
        try process.run()
    }

    var out: String { (try? String(contentsOf: outFile, encoding: .utf8)) ?? "" }
    var err: String { (try? String(contentsOf: errFile, encoding: .utf8)) ?? "" }

    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// The exit status once it exited (a signal's number when it was
    /// killed), nil when `timeout` seconds pass first.
    func wait(timeout: Double) -> Int32? {
        let deadline = Date() + timeout
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        guard !process.isRunning else { return nil }
        return process.terminationStatus
    }

    /// Kills it if it still runs (a failed test's leftover).
    func end() {
        guard process.isRunning else { return }
        send(SIGKILL)
        process.waitUntilExit()
    }
}

/// Waits until `condition` holds, checking every `interval` seconds; false on timeout.
func eventually(timeout: Double, interval: Double = 0.05, _ condition: () throws -> Bool) rethrows -> Bool {
    let deadline = Date() + timeout
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: interval)
    }
    return try condition()
}

/// A host configuration in `folder`: the bundled plugins as `swift build`
/// left them, tenants in `folder/tenants`, the store in `folder`, and
/// each platform origin sent to a loopback server. With `adminToken` (a
/// secret reference), the HTTP ingress listens on a free loopback port.
func writeHostConfig(in folder: URL, overrides: [String: LoopbackServer], logLevel: String = "info",
                     adminToken: String? = nil) throws -> URL {
    try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
    var text = """
        plugins: { folders: ["\(AlphaPlusCLI.products.path)"] }
        tenants_folder: tenants
        store: { path: store.sqlite }
        log_level: \(logLevel)

        """
    if !overrides.isEmpty {
        text += "network:\n  endpoint_overrides:\n"
        for (origin, server) in overrides.sorted(by: { $0.key < $1.key }) { text += "    \"\(origin)\": \"\(server.baseURL)\"\n" }
    }
    if let adminToken { text += "http:\n  listen: 127.0.0.1:0\n  admin_token: \(adminToken)\n" }
    let config = folder.appendingPathComponent("alphaplus.yaml")
    try text.write(to: config, atomically: true, encoding: .utf8)
    return config
}

/// `http://127.0.0.1:<port>` once the host logs where its HTTP ingress
/// listens; nil when it exits or `timeout` seconds pass first.
func listeningBase(of host: HostProcess, timeout: Double = 60) -> String? {
    var base: String?
    _ = eventually(timeout: timeout) {
        if let match = host.err.firstMatch(of: #/http: listening on (127\.0\.0\.1:[0-9]+)/#) { base = "http://\(match.1)" }
        return base != nil || !host.process.isRunning
    }
    return base
}

/// config/tenants/demo.yaml copied to `folder/tenants/<name>` with each
/// `(original, replacement)` made, each original found exactly once (so a
/// changed demo fails here, clearly).
func demoCopy(in folder: URL, named name: String = "demo.yaml", _ edits: [(String, String)]) throws -> URL {
    let copy = folder.appendingPathComponent("tenants/\(name)")
    try demoText(edits).write(to: copy, atomically: true, encoding: .utf8)
    return copy
}

/// The text of config/tenants/demo.yaml with each `(original, replacement)` made, as `demoCopy` writes it.
func demoText(_ edits: [(String, String)]) throws -> String {
    var text = try String(contentsOf: repository.appendingPathComponent("config/tenants/demo.yaml"), encoding: .utf8)
    for (original, replacement) in edits {
        XCTAssertEqual(text.components(separatedBy: original).count, 2, "config/tenants/demo.yaml should hold '\(original)' once")
        text = text.replacingOccurrences(of: original, with: replacement)
    }
    return text
}

/// Test only: a signal on every fresh candle of every symbol, so that an
/// end-to-end test gets signals at the start (from the history's last
/// candles) and at every minute's close after it, not whenever the
/// synthetic market lines up (the demo asks 3 of 4 heads at 70%). The rules
/// head gets a last rule that always holds and a weight that outvotes the
/// three other heads together, one head at 35% makes a signal, and the risk
/// limits let a position open on each one. The other rules and heads still
/// vote, so the side and confidence still come from the market.
let promptSignals: [(String, String)] = [
    ("  timeframes: [60]\n", "  timeframes: [60]\n  consensus: { min_agree: 1, min_confidence: 0.35 }\n  \(promptRisk)\n"),
    ("    - { instance: rules }\n", "    - { instance: rules, weight: \(promptRulesWeight) }\n"),
    ruleThatAlwaysHolds,
]

/// Half an hour of the demo market's history instead of three: enough to
/// warm the stop's ATR(14), and a sixth of the events to go through first.
let shortHistory = ("      history_seconds: 10800\n", "      history_seconds: 1800\n")

/// The demo's rules with a last one that always holds.
let ruleThatAlwaysHolds = (#"        - "ema_12 < ema_26 and macd_hist_12_26_9 < 0 and close < ema_50 -> short 0.75"\#n"#,
                           #"        - "ema_12 < ema_26 and macd_hist_12_26_9 < 0 and close < ema_50 -> short 0.75"\#n"#
                               + #"        - "close > 0 -> long 0.9"\#n"#)
/// More than the three other heads' weights together.
let promptRulesWeight = 5
/// A position on every signal.
let promptRisk = "risk: { max_open_positions: 100, max_open_per_symbol: 50, max_consecutive_losses: 100, cooldown_s: 0 }"

/// A temporary folder, removed by `remove()`.
func temporaryFolder(_ prefix: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}

/// The channel plugins and a Distributor in this process, put together as
/// `alphaplus run` does (the `.so` files `swift build` made, loaded by the
/// registry; requests through the host's curl client and its endpoint
/// overrides), on a manual clock that the fakes' clock follows.
final class InProcessHost {
    let folder: URL
    let clock = ManualClock(startNs: t0)
    /// The fakes' clock: manual, at t0.
    let fakeClock: FakeClock
    let logs = LogLines()
    let services: HostServices
    let registry: PluginRegistry
    let store: HostStore
    private var instances: [HostedInstance] = []
    private(set) var distributor: Distributor?

    /// `fakeClock`: the fakes' clock, manual at t0 (`FakeClock(manualSeconds: Double(t0) / 1e9)`);
    /// `overrides`: platform origin → the loopback server playing it.
    init(fakeClock: FakeClock, overrides: [String: LoopbackServer]) throws {
        precondition(fakeClock.now == Double(t0) / 1e9, "the fakes' clock starts where the distributor's does")
        self.fakeClock = fakeClock
        folder = try temporaryFolder("fault-host")
        var origins: [HTTPOrigin: HTTPOrigin] = [:]
        for (platform, server) in overrides {
            origins[try HTTPOrigin(parsing: platform)] = try HTTPOrigin(parsing: server.baseURL)
        }
        let logs = logs
        services = HostServices(logger: Logger(label: "test.plugins") { _ in logs }, endpointOverrides: origins)
        registry = PluginRegistry(services: services)
        store = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: { t0 })
    }

    /// An instance of a bundled channel plugin (`ap-channel-discord`, …).
    func channel(_ product: String, id: String, tenant: String, secrets: [String: String]) throws -> HostedInstance {
        let plugin = try registry.load(try AlphaPlusCLI.bundledPlugin(product))
        let instance = try HostedInstance(plugin: plugin, tenantID: tenant, instanceID: id, config: .object([:]), secrets: secrets,
                                          services: services)
        instances.append(instance)
        return instance
    }

    /// Registers the destinations, adds `rows` to the outbox, then starts
    /// the distributor (which loads them) and lets it settle at the clock's time.
    /// With `subscribers`, the distributor reads the tenant's subscribers from the store.
    func start(tenant: String, settings: DistributionSettings, channels: [String: HostedInstance],
               rows: [NewDelivery], subscribers: Bool = false) throws -> Distributor {
        _ = try store.registerDestinations(settings.destinations.map {
            DestinationRegistration(tenant: tenant, id: $0.id, channel: $0.channel, tier: $0.tier, targetJSON: $0.targetJSON)
        }, atNs: clock.nowNs())
        _ = try store.enqueue(rows, atNs: clock.nowNs())
        let logs = logs
        let distributor = Distributor(
            tenants: [TenantDistribution(tenant: tenant, settings: settings)], outbox: store,
            endpoints: Dictionary(uniqueKeysWithValues: channels.map { (ChannelAddress(tenant: tenant, instance: $0.key), .live($0.value)) }),
            clock: clock, subscriptions: subscribers ? store : nil, options: DistributorOptions(randomSeed: 5),
            logger: Logger(label: "test.distribution") { _ in logs })
        try distributor.start()
        self.distributor = distributor
        XCTAssertTrue(distributor.settle(), "the distributor did not settle at start")
        return distributor
    }

    /// Moves the fakes' clock and then the distributor's to `ns` (the
    /// wake-ups due run) and waits until every delivery this started has
    /// ended, over real HTTP.
    func advance(toNs ns: Int64) {
        fakeClock.advance(by: Double(ns) / 1e9 - fakeClock.now)
        clock.set(toNs: ns)
        XCTAssertTrue(distributor?.settle() ?? true, "the distributor did not settle at \(ns)")
    }

    func close() {
        distributor?.stop()
        for instance in instances.reversed() { instance.destroy() }
        distributor?.flush()
        try? FileManager.default.removeItem(at: folder)
    }
}

/// Settings with `destinations` (id, channel, tier, target), every tier at once, no daily summary.
func distribution(_ destinations: [(id: String, channel: String, target: String)], alertsTo: [String] = []) -> DistributionSettings {
    DistributionSettings(tierDelaysNs: ["premium": 0],
                         destinations: destinations.map { DestinationSettings(id: $0.id, channel: $0.channel, tier: "premium", targetJSON: $0.target) },
                         dailySummary: DailySummarySettings(enabled: false), alertsTo: alertsTo)
}

/// A premium signal row for `destination`.
func row(_ tenant: String, _ destination: String, _ subject: String, _ text: String, atNs: Int64 = t0) -> NewDelivery {
    NewDelivery(tenant: tenant, destination: destination, tier: "premium", kind: .signal, subject: subject, text: text, payloadJSON: "{}",
                notBeforeNs: atNs)
}

