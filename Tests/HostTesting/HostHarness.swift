import AlphaPlusHost
import Foundation
import HostConfig
import Logging
import SharedTestData
import Store
import Synchronization
import Timekeeping

/// A whole host in the test's process, in the style of HummingbirdTesting:
/// built from configuration text in a temporary folder, on a manual clock,
/// so that minutes of candles, tier delays, a platform's "retry in 60 s"
/// and daily summaries pass in milliseconds. The plugins are the `.so`
/// files `swift build` made; HTTP goes through the host's real client to
/// the fakes the configuration's endpoint overrides name.
///
///     let harness = try HostHarness(hostConfig: "...", tenants: ["acme": "..."])
///     try harness.start()
///     harness.advance(bySeconds: 120)   // two minutes of market, at once
///     try harness.store.outboxEntries(tenant: "acme")
///     harness.shutdown()
public final class HostHarness {
    public let folder: URL
    public let clock: ManualClock
    public let host: HostApplication
    /// Called with the clock's new time each time it moves (a fake's own
    /// clock follows the host's this way).
    public var followers: [(Int64) -> Void] = []
    /// Every line the host logged, as `label level: message metadata`.
    public let logs = CapturedLog()

    /// `hostConfig` is the text of `alphaplus.yaml` (paths in it relative
    /// to the temporary folder; `plugins`, `tenants_folder` and `store`
    /// default to the build's plugins, `tenants/` and `store.sqlite`);
    /// `tenants` maps each tenant id to its file's text.
    public init(hostConfig: String = "", tenants: [String: String], startNs: Int64 = 1_795_248_000_000_000_000,
                options: HostApplication.Options = HostApplication.Options(reloadTriggers: false)) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("host-harness-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        var text = hostConfig
        if !text.contains("plugins:") { text += "\nplugins: { folders: [\"\(AlphaPlusCLI.products.path)\"] }" }
        if !text.contains("tenants_folder:") { text += "\ntenants_folder: tenants" }
        if !text.contains("store:") { text += "\nstore: { path: store.sqlite }" }
        let configFile = folder.appendingPathComponent("alphaplus.yaml")
        try text.write(to: configFile, atomically: true, encoding: .utf8)
        for (id, tenant) in tenants {
            try tenant.write(to: folder.appendingPathComponent("tenants/\(id).yaml"), atomically: true, encoding: .utf8)
        }
        clock = ManualClock(startNs: startNs)
        host = try HostApplication(config: HostConfig.load(configFile.path), clock: clock, options: options) { [logs] label in
            Logger(label: label) { _ in CapturedLog.Handler(label: label, log: logs) }
        }
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    /// Starts the host and lets what the start set off settle (a
    /// connector's history, the deliveries its signals made).
    public func start() throws {
        try host.start()
        settle()
    }

    /// Moves the clock `seconds` ahead through every wake-up on the way,
    /// in time order, letting each one's work settle before the next: a
    /// minute of a market at 20 events a second is 1,200 steps.
    public func advance(bySeconds seconds: Double) {
        let target = clock.nowNs() + Int64(seconds * 1e9)
        while let next = clock.nextWakeNs, next <= target {
            move(to: next)
        }
        move(to: target)
    }

    /// Waits (real time, at most `timeout` seconds) until nothing that can
    /// run at the clock's current time is still running: timers already
    /// due, the distributor's deliveries over HTTP. False on timeout.
    @discardableResult
    public func settle(timeout: Double = 30) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while !clock.isIdle {
            guard Date() < deadline else { return false }
            Thread.sleep(forTimeInterval: 0.001)
        }
        return host.tenants.distributor?.settle(timeout: max(0, deadline.timeIntervalSinceNow)) ?? true
    }

    @discardableResult
    public func shutdown() -> HostApplication.ShutdownReport { host.shutdown() }

    public var store: HostStore { host.store }

    private func move(to ns: Int64) {
        for follower in followers { follower(ns) }
        clock.set(toNs: ns)
        settle()
    }
}

/// The lines a harnessed host logged (every level), in order.
public final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    public var text: String { lines.withLock { $0.joined(separator: "\n") } }

    public func contains(_ text: String) -> Bool { lines.withLock { $0.contains { $0.contains(text) } } }

    struct Handler: LogHandler {
        let label: String
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
            let line = "\(label) \(event.level): \(event.message)" + (fields.isEmpty ? "" : " " + fields.joined(separator: " "))
            log.lines.withLock { $0.append(line) }
        }
    }
}
