import AlphaPlusSDK
import Dispatch
import Foundation
import Logging
import PluginRuntime
import SharedTestData
import Store
import Trading
import XCTest
@testable import Distribution
import Timekeeping

/// What a scripted channel does with one delivery.
enum ChannelAction {
    /// Calls done at once, inside deliver.
    case answer(DeliveryResult)
    /// Never calls done.
    case silence
    /// Calls done from a host timer after `seconds` of wall time.
    case later(DeliveryResult, seconds: Double)
    /// Throws from deliver (done is never called).
    case refuse(String)
}

/// One delivery a scripted channel received.
struct Sent: Equatable {
    var target: String
    var key: String
    var attempt: Int
    /// The manual clock when the plugin got it.
    var atNs: Int64
    var kind: String
    var tier: String
    var text: String
    var payload: String
}

/// A test's channel behaviour: how each delivery is answered, which limits
/// each target has, and what was sent. Instances find theirs by the name
/// in their settings (`{"script": "…"}`).
final class ChannelScript: @unchecked Sendable {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var scripts: [String: ChannelScript] = [:]

    let name = UUID().uuidString
    let clock: ManualClock
    private let lock = NSLock()
    private var sentLog: [Sent] = []
    private var limitQueryLog: [String] = []
    /// Decides each delivery (default: delivered, external id "m<n>").
    var decide: (Delivery, Int) -> ChannelAction = { _, n in .answer(DeliveryResult(.delivered, externalID: "m\(n)")) }
    var limits: (String) throws -> [RateLimit] = { _ in [] }

    init(clock: ManualClock) {
        self.clock = clock
        Self.lock.withLock { Self.scripts[name] = self }
    }

    static func named(_ name: String) -> ChannelScript? { lock.withLock { scripts[name] } }

    var sent: [Sent] { lock.withLock { sentLog } }
    var limitQueries: [String] { lock.withLock { limitQueryLog } }

    func record(_ delivery: Delivery) -> ChannelAction {
        let count = lock.withLock { () -> Int in
            sentLog.append(Sent(target: delivery.targetJSON, key: delivery.idempotencyKey, attempt: delivery.attempt,
                                atNs: clock.nowNs(), kind: delivery.kind, tier: delivery.tier, text: delivery.text,
                                payload: delivery.payloadJSON))
            return sentLog.count
        }
        return decide(delivery, count)
    }

    func limits(for target: String) throws -> [RateLimit] {
        lock.withLock { limitQueryLog.append(target) }
        return try limits(target)
    }
}

/// A channel plugin (linked into the test binary) that does what its script says.
final class ScriptedChannel: RateLimitedChannel {
    struct Configuration: Decodable { var script: String }

    static let descriptor = PluginDescriptor(id: "test.scripted-channel", name: "Scripted channel", version: "1.0.0",
                                             configSchema: #"{"type": "object", "required": ["script"]}"#)

    private let script: ChannelScript
    private let context: PluginContext

    init(configuration: Configuration, context: PluginContext) throws {
        guard let script = ChannelScript.named(configuration.script) else { throw PluginError.invalidConfig("no script \(configuration.script)") }
        self.script = script
        self.context = context
    }

    func deliver(_ delivery: Delivery, completion: DeliveryCompletion) throws {
        switch script.record(delivery) {
        case .answer(let result): completion(result)
        case .silence: break
        case .later(let result, let seconds):
            _ = try context.startTimer(after: .milliseconds(Int(seconds * 1000))) { completion(result) }
        case .refuse(let message): throw PluginError.invalidConfig(message)
        }
    }

    func rateLimits(forTarget targetJSON: String) throws -> [RateLimit] { try script.limits(for: targetJSON) }
}

/// 2026-11-21T08:00:00Z: far from a summary time.
let t0: Int64 = 1_795_248_000_000_000_000
let second: Int64 = 1_000_000_000

/// A temporary store, a manual clock, a scripted channel instance and the
/// distributors built on them.
final class Harness {
    let folder: URL
    let clock = ManualClock(startNs: t0)
    let script: ChannelScript
    let logs = LogLines()
    let services: HostServices
    private(set) var store: HostStore
    private var instances: [HostedInstance] = []
    private var distributors: [Distributor] = []

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("dist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        store = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: { t0 })
        script = ChannelScript(clock: clock)
        let logs = logs
        services = HostServices(logger: Logger(label: "test") { _ in logs })
    }

    deinit {
        for distributor in distributors { distributor.stop() }
        for instance in instances { instance.destroy() }
        try? FileManager.default.removeItem(at: folder)
    }

    var logger: Logger {
        let logs = logs
        return Logger(label: "test.distribution") { _ in logs }
    }

    /// A channel instance of the scripted plugin.
    func channel(tenant: String = "t", id: String = "chat") throws -> HostedInstance {
        let plugin = try PluginLoader(services: services).load(linked: PluginExport.entry(ScriptedChannel.self), name: "scripted-channel")
        let instance = try HostedInstance(plugin: plugin, tenantID: tenant, instanceID: id,
                                                        config: .object(["script": .string(script.name)]), services: services)
        instances.append(instance)
        return instance
    }

    /// A started distributor for one tenant "t" whose destinations all use
    /// one scripted channel instance "chat" (unless `endpoints` says otherwise).
    func distributor(_ settings: DistributionSettings, endpoints: [ChannelAddress: ChannelEndpoint]? = nil,
                     options: DistributorOptions = DistributorOptions(randomSeed: 7),
                     quotas: [String: TenantQuota] = [:]) throws -> Distributor {
        let endpoints = try endpoints ?? [ChannelAddress(tenant: "t", instance: "chat"): .live(channel())]
        let distributor = Distributor(tenants: [TenantDistribution(tenant: "t", settings: settings)], outbox: store,
                                      endpoints: endpoints, clock: clock, subscriptions: store, options: options, quotas: quotas,
                                      logger: logger)
        try distributor.start()
        distributors.append(distributor)
        return distributor
    }

    /// The store opened again, as a restarted host does.
    func reopenStore() throws {
        store = try HostStore(path: store.path, clock: { t0 })
    }

    /// Moves the clock from wake-up to wake-up of `distributor` until
    /// nothing is left before `limitNs`, letting it settle at each.
    func run(_ distributor: Distributor, untilNs limitNs: Int64) {
        XCTAssertTrue(distributor.settle())
        while let next = distributor.queue.sync(execute: { distributor.wakes.first?.ns }), next <= limitNs {
            clock.set(toNs: next)
            XCTAssertTrue(distributor.settle())
        }
        clock.set(toNs: limitNs)
        XCTAssertTrue(distributor.settle())
    }

    /// Waits until `distributor` has nothing to do now but wait for
    /// `inFlight` deliveries (a plugin that never answers).
    func settle(_ distributor: Distributor, inFlight: Int) {
        let deadline = Date() + 10
        while Date() < deadline {
            let done = distributor.queue.sync { () -> Bool in
                distributor.pump()
                return distributor.intakeCount == 0 && distributor.dirty.isEmpty && distributor.limitQueries == 0
                    && distributor.destinations.values.filter(\.inFlight).count == inFlight
                    && (distributor.wakes.first?.ns ?? .max) > clock.nowNs()
            }
            if done { return }
            Thread.sleep(forTimeInterval: 0.002)
        }
        XCTFail("the distributor did not settle with \(inFlight) deliveries in flight")
    }

    /// Waits until the plugin received `count` deliveries.
    func waitForSends(_ count: Int) {
        let deadline = Date() + 10
        while script.sent.count < count, Date() < deadline { Thread.sleep(forTimeInterval: 0.002) }
        XCTAssertEqual(script.sent.count, count)
    }

    func rows(state: OutboxState? = nil) throws -> [OutboxEntry] { try store.outboxEntries(state: state) }
}

/// Settings with destinations on channel "chat", no summaries.
func settings(_ destinations: [(id: String, tier: String, target: String)], maxAttempts: Int = 8,
              backoff: BackoffPolicy = BackoffPolicy(), alertsTo: [String] = []) -> DistributionSettings {
    DistributionSettings(destinations: destinations.map { DestinationSettings(id: $0.id, channel: "chat", tier: $0.tier, targetJSON: $0.target) },
                         maxAttempts: maxAttempts, backoff: backoff, dailySummary: DailySummarySettings(enabled: false), alertsTo: alertsTo)
}

func makeSignal(_ n: Int, tenant: String = "t", atNs: Int64 = t0, side: Trading.Side = .long, symbol: String = "BTC-USDT") -> Signal {
    Signal(id: "\(tenant):sim:\(symbol):60:\(atNs / 1_000_000 + Int64(n))", tenant: tenant, venue: "sim", symbol: symbol,
           timeframeSeconds: 60, side: side, entry: 65012.34, stop: 64890.5, targets: [65100.25, 65200, 65310.75],
           scaleOut: [0.5, 0.5, 1], quantity: 0.25, confidence: 0.8123, highConfidence: false,
           votes: [
               HeadVote(head: "technical", plugin: "p", status: .ok, direction: side == .long ? .long : .short, confidence: 0.6,
                        calibratedConfidence: 0.6, weight: 1),
               HeadVote(head: "orderflow", plugin: "p", status: .ok, direction: side == .long ? .long : .short, confidence: 0.91,
                        calibratedConfidence: 0.91, weight: 1),
               HeadVote(head: "sentiment", plugin: "p", status: .ok, direction: .flat, confidence: 0, calibratedConfidence: 0, weight: 1),
           ],
           createdAtNs: atNs, expiresAtNs: 0)
}
