// Distribution, measured in one run over the real path: the Distributor and
// its SQLite outbox, the bundled Telegram channel plugin (linked in, called
// through the C contract), the host's libcurl HTTP service and FakeTelegram
// served on 127.0.0.1 by LoopbackServer.
//
//     swift build -c release --product DistributionBench && .build/release/DistributionBench [fanout] [single] [throughput]
//
// 1. Fan-out: one signal to 10,000 subscribers of one bot (1,000 premium,
//    3,000 basic, 6,000 free) on a manual clock moved together with the
//    fake's, from one wake-up of the distributor to the next: simulated time
//    against the ideal of 30 a second from each tier's delay, real time, the
//    fake's 429s (must be 0), the most sends of any bucket in any 1-s
//    window, exactly one message per subscriber with its tier's text, and
//    the process's peak memory.
// 2. One destination alone: deliveries one at a time, the pace of a single
//    destination (which has at most one in flight) if its platform allowed it.
// 3. Outbox throughput on the wall clock: the store's enqueue alone, then
//    5,000 messages (200 tenants, each one bot with 25 chats, so no declared
//    limit is reached) enqueued and dispatched, twice (cold, then warm):
//    messages per second, enqueue → delivered latency, HTTP connections
//    opened and SQLite transactions per delivery.
import AlphaPlusJSON
import AlphaPlusSDK
import BenchSupport
import ChannelTelegram
import Distribution
import FakeChannelServers
import Foundation
import HTTPClient
import Logging
import PluginRuntime
import Store
import Trading
import Timekeeping

func seconds(since start: UInt64) -> Double { Double(monotonicNs() - start) / 1e9 }

/// The value below which `fraction` of the sorted values fall.
func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    sorted.isEmpty ? .nan : sorted[min(sorted.count - 1, Int((Double(sorted.count) * fraction).rounded(.up)) - 1)]
}

func grouped(_ value: Int) -> String {
    let digits = String(value)
    return digits.reversed().enumerated().map { $0.offset > 0 && $0.offset % 3 == 0 ? "\($0.element)," : "\($0.element)" }
        .reversed().joined()
}

/// What the run found wrong (a bench that breaks a limit or loses a message measured nothing).
// @unchecked: written by the bench's main thread only.
final class Failures: @unchecked Sendable {
    private(set) var all: [String] = []
    func check(_ condition: Bool, _ what: @autoclosure () -> String) {
        if !condition { all.append(what()) }
    }
}

/// Warnings and errors only (the distributor logs a line per destination at info).
func quietLogger() -> Logger {
    var logger = Logger(label: "bench") { StreamLogHandler.standardError(label: $0) }
    logger.logLevel = .warning
    return logger
}

// MARK: - The fakes and the store, instrumented

/// Several bots' FakeTelegram behind one origin (the path names the bot by
/// its token), counting every answer by status.
// @unchecked: `statuses` is guarded by `lock`; the bots are thread-safe fakes.
final class TelegramBots: FakePlatform, @unchecked Sendable {
    let bots: [FakeTelegram]
    private let byToken: [String: FakeTelegram]
    private let lock = NSLock()
    private var statuses: [Int: Int] = [:]

    init(_ bots: [FakeTelegram]) {
        self.bots = bots
        byToken = Dictionary(uniqueKeysWithValues: bots.map { ($0.token, $0) })
    }

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        let first = URLComponents(string: request.url)?.path.split(separator: "/").first ?? ""
        let response = first.hasPrefix("bot") ? byToken[String(first.dropFirst(3))]?.handle(request) : nil
        let answer = response ?? HTTPResponse(status: 404, body: Array(#"{"ok":false,"error_code":404,"description":"Not Found"}"#.utf8))
        lock.withLock { statuses[answer.status, default: 0] += 1 }
        return answer
    }

    func answers(status: Int) -> Int { lock.withLock { statuses[status] ?? 0 } }
    var answersNotOK: Int { lock.withLock { statuses.filter { $0.key != 200 }.values.reduce(0, +) } }
    var messages: [FakeTelegram.Message] { bots.flatMap(\.messages) }
}

/// The store as the distributor sees it, counting the writes (each call one
/// SQLite transaction: `HostStore`'s outbox side) and the time they take.
// @unchecked: `totals` is guarded by `lock`; the store is Sendable.
final class CountingOutbox: OutboxStorage, @unchecked Sendable {
    let store: HostStore
    private let lock = NSLock()
    private var totals = Counts()

    init(_ store: HostStore) { self.store = store }

    struct Counts {
        var writes: [String: Int] = [:]
        var writeNs: UInt64 = 0
        var totalWrites: Int { writes.values.reduce(0, +) }
        static func - (lhs: Counts, rhs: Counts) -> Counts {
            Counts(writes: lhs.writes.merging(rhs.writes.mapValues { -$0 }, uniquingKeysWith: +), writeNs: lhs.writeNs - rhs.writeNs)
        }
    }

    var counts: Counts { lock.withLock { totals } }

    private func write<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
        let start = monotonicNs()
        defer {
            let elapsed = monotonicNs() - start
            lock.withLock {
                totals.writes[name, default: 0] += 1
                totals.writeNs += elapsed
            }
        }
        return try body()
    }

    func enqueue(_ deliveries: [NewDelivery], atNs: Int64) throws -> [OutboxEntry] {
        try write("enqueue") { try store.enqueue(deliveries, atNs: atNs) }
    }
    func registerDestinations(_ destinations: [DestinationRegistration], atNs: Int64) throws -> [OutboxDestination] {
        try write("register") { try store.registerDestinations(destinations, atNs: atNs) }
    }
    func requeueInterrupted(atNs: Int64) throws -> Int { try write("requeue") { try store.requeueInterrupted(atNs: atNs) } }
    func pendingDeliveries() throws -> [OutboxEntry] { try store.pendingDeliveries() }
    func outboxDestinations() throws -> [OutboxDestination] { try store.outboxDestinations() }
    func markSending(id: Int64, attempt: Int, atNs: Int64) throws -> Bool {
        try write("markSending") { try store.markSending(id: id, attempt: attempt, atNs: atNs) }
    }
    func complete(id: Int64, _ completion: OutboxCompletion, updatedTargetJSON: String?, atNs: Int64) throws -> [OutboxEntry] {
        try write("complete") { try store.complete(id: id, completion, updatedTargetJSON: updatedTargetJSON, atNs: atNs) }
    }
    func disableDestination(tenant: String, id: String, reason: String, alerts: [NewDelivery], atNs: Int64) throws -> [OutboxEntry] {
        try write("disable") { try store.disableDestination(tenant: tenant, id: id, reason: reason, alerts: alerts, atNs: atNs) }
    }
    func dailyActivity(tenant: String, fromNs: Int64, toNs: Int64) throws -> DailyActivity {
        try store.dailyActivity(tenant: tenant, fromNs: fromNs, toNs: toNs)
    }
}

// MARK: - Building blocks

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("distribution-bench-\(UUID().uuidString)")

/// A bot token of the form Telegram hands out.
func botToken(_ bot: Int) -> String { "\(7_000_000_000 + bot):AAbenchTokenForBot\(bot)" }

func makeSignal(tenant: String, n: Int, atNs: Int64) -> Signal {
    Signal(id: "\(tenant):sim:BTC-USDT:60:\(atNs / 1_000_000)-\(n)", tenant: tenant, venue: "sim", symbol: "BTC-USDT",
           timeframeSeconds: 60, side: .long, entry: 65012.34, stop: 64890.5, targets: [65100.25, 65200, 65310.75],
           scaleOut: [0.5, 0.5, 1], quantity: 0.25, confidence: 0.8123, highConfidence: false,
           votes: [
               HeadVote(head: "technical", plugin: "com.alphaplus.head-technical", status: .ok, direction: .long, confidence: 0.62,
                        calibratedConfidence: 0.6, weight: 1),
               HeadVote(head: "orderflow", plugin: "com.alphaplus.head-orderflow", status: .ok, direction: .long, confidence: 0.91,
                        calibratedConfidence: 0.88, weight: 1),
           ],
           createdAtNs: atNs, expiresAtNs: 0)
}

/// A loopback server for `platform` and host services whose Telegram origin points at it.
func serve(_ platform: any FakePlatform) throws -> (LoopbackServer, HostServices) {
    let server = try LoopbackServer(platform)
    let overrides = [try HTTPOrigin(parsing: "https://api.telegram.org"): try HTTPOrigin(parsing: server.baseURL)]
    return (server, HostServices(logger: quietLogger(), endpointOverrides: overrides))
}

func telegramPlugin(_ services: HostServices) throws -> LoadedPlugin {
    try PluginLoader(services: services).load(linked: PluginExport.entry(TelegramChannel.self), name: "channel-telegram")
}

func telegramInstance(_ plugin: LoadedPlugin, _ services: HostServices, tenant: String, bot: Int) throws -> HostedInstance {
    try HostedInstance(plugin: plugin, tenantID: tenant, instanceID: "telegram", config: .object([:]),
                                     secrets: ["bot_token": botToken(bot)], services: services)
}

func settings(chats: [(id: Int64, tier: String)]) -> DistributionSettings {
    DistributionSettings(destinations: chats.map {
        DestinationSettings(id: "chat\($0.id)", channel: "telegram", tier: $0.tier, targetJSON: #"{"chat_id":\#($0.id)}"#)
    }, dailySummary: DailySummarySettings(enabled: false))
}

func store(_ name: String, clock: @escaping @Sendable () -> Int64) throws -> HostStore {
    try HostStore(path: folder.appendingPathComponent("\(name).sqlite").path, clock: clock)
}

/// The most sends in any window of `windowSeconds` (times sorted).
func busiestWindow(_ times: [Double], windowSeconds: Double) -> Int {
    var best = 0, first = 0
    for last in times.indices {
        while times[last] - times[first] >= windowSeconds - FakeClock.tolerance { first += 1 }
        best = max(best, last - first + 1)
    }
    return best
}

/// The last send time when every message goes as early as a sliding window
/// of `capacity` per second allows, each from its release time.
func idealLastSend(releases: [Double], capacity: Int) -> Double {
    var sends: [Double] = []
    for release in releases.sorted() {
        sends.append(sends.count >= capacity ? max(release, sends[sends.count - capacity] + 1) : release)
    }
    return sends.last ?? 0
}

/// Moves the distributor's manual clock and the fake's together.
struct ManualClocks {
    let distributor: ManualClock
    let fake: FakeClock

    init(startNs: Int64) {
        distributor = ManualClock(startNs: startNs)
        fake = FakeClock(manualSeconds: Self.seconds(startNs))
    }

    static func seconds(_ ns: Int64) -> Double { Double(ns / 1_000_000_000) + Double(ns % 1_000_000_000) / 1e9 }

    func set(toNs ns: Int64) {
        fake.advance(by: Self.seconds(ns) - fake.now)  // from the target, so no rounding accumulates
        distributor.set(toNs: ns)
    }
}

/// 2026-11-21T08:00:00Z.
let t0: Int64 = 1_795_248_000_000_000_000
let secondNs: Int64 = 1_000_000_000

// MARK: - 1. Fan-out

let tiers: [(name: String, count: Int, delayNs: Int64)] = [
    ("premium", 1_000, 0), ("basic", 3_000, 60 * secondNs), ("free", 6_000, 300 * secondNs),
]
let subscriberCount = tiers.map(\.count).reduce(0, +)

/// Prints the fan-out's figures; returns its ratio lines.
func fanOut(_ failures: Failures) throws -> [String] {
    let clocks = ManualClocks(startNs: t0)
    let bot = FakeTelegram(token: botToken(0), clock: clocks.fake)
    var chats: [(id: Int64, tier: String)] = []
    for tier in tiers {
        for _ in 0..<tier.count { chats.append((Int64(chats.count + 1), tier.name)) }
    }
    for chat in chats { bot.addChat(chat.id, type: .private) }
    let platform = TelegramBots([bot])
    let (server, services) = try serve(platform)
    let instance = try telegramInstance(try telegramPlugin(services), services, tenant: "fan", bot: 0)
    let fanSettings = settings(chats: chats)
    let outbox = CountingOutbox(try store("fanout") { clocks.distributor.nowNs() })
    let distributor = Distributor(tenants: [TenantDistribution(tenant: "fan", settings: fanSettings)], outbox: outbox,
                                  endpoints: [ChannelAddress(tenant: "fan", instance: "telegram"): .live(instance)],
                                  clock: clocks.distributor, options: DistributorOptions(randomSeed: 1), logger: quietLogger())
    try distributor.start()
    let signal = makeSignal(tenant: "fan", n: 1, atNs: t0)
    let start = monotonicNs()
    distributor.submit(signal)
    var settled = distributor.settle(timeout: 60)
    // What the distributor's re-read of the store for the operator's changes
    // (every 5 s) costs its queue at this backlog.
    let refreshStart = monotonicNs()
    distributor.refreshNow()
    let refreshSeconds = seconds(since: refreshStart)
    let backlog = subscriberCount - distributor.counters.delivered
    while settled, distributor.counters.delivered + distributor.counters.dead < subscriberCount {
        guard let next = clocks.distributor.nextWakeNs, next < t0 + 3_600 * secondNs else { break }
        clocks.set(toNs: next)
        settled = distributor.settle(timeout: 60)
    }
    let realSeconds = seconds(since: start)
    let counters = distributor.counters
    distributor.stop()
    instance.destroy()
    server.stop()

    let messages = bot.messages
    let start0 = ManualClocks.seconds(t0)
    let simulated = (messages.map(\.time).max() ?? start0) - start0
    let ideal = idealLastSend(releases: chats.map { chat in ManualClocks.seconds(tiers.first { $0.name == chat.tier }!.delayNs) },
                              capacity: 30)
    let botWindow = busiestWindow(messages.map(\.time).sorted(), windowSeconds: 1)
    let byChat = Dictionary(grouping: messages, by: \.chatID)
    let chatWindow = byChat.values.map { busiestWindow($0.map(\.time).sorted(), windowSeconds: 1) }.max() ?? 0
    let tierOf = Dictionary(uniqueKeysWithValues: chats.map { ($0.id, $0.tier) })
    let fields = MessageFields(signal: signal)
    let expectedText = Dictionary(uniqueKeysWithValues: tiers.map { tier in
        (tier.name, fanSettings.template(tier: tier.name, kind: .signal).message(fields, tier: tier.name).text)
    })
    let exactlyOnce = byChat.count == subscriberCount && byChat.values.allSatisfy { $0.count == 1 }
    let tierTexts = messages.allSatisfy { $0.text == expectedText[tierOf[$0.chatID] ?? ""] }
    let earliest = Dictionary(grouping: messages) { tierOf[$0.chatID] ?? "" }.mapValues { $0.map(\.time).min()! - start0 }
    let delaysKept = tiers.allSatisfy { (earliest[$0.name] ?? -1) >= ManualClocks.seconds($0.delayNs) - FakeClock.tolerance }
    let transactions = outbox.counts
    let tooMany = platform.answers(status: 429)

    failures.check(settled, "fan-out: the distributor did not settle within 60 s of real time at one step")
    failures.check(counters.delivered == subscriberCount && counters.dead == 0,
          "fan-out: \(counters.delivered) delivered, \(counters.dead) dead of \(subscriberCount)")
    failures.check(exactlyOnce, "fan-out: \(byChat.count) chats got messages, \(byChat.values.filter { $0.count != 1 }.count) not exactly one")
    failures.check(tierTexts, "fan-out: a message's text is not its tier's")
    failures.check(delaysKept, "fan-out: a tier got its message before its delay")
    failures.check(tooMany == 0, "fan-out: the fake answered 429 \(tooMany) times")
    failures.check(platform.answersNotOK == 0, "fan-out: the fake refused \(platform.answersNotOK) requests")
    failures.check(botWindow <= 30 && chatWindow <= 1, "fan-out: a bucket went over its limit (bot \(botWindow), chat \(chatWindow))")

    print("fan-out: one signal to \(grouped(subscriberCount)) Telegram subscribers of one bot ("
        + tiers.map { "\(grouped($0.count)) \($0.name) at \($0.delayNs / secondNs) s" }.joined(separator: ", ")
        + "), manual clocks, real HTTP")
    print(String(format: "  simulated time to deliver all: %.1f s; ideal %.1f s (30 a second, each tier from its delay)", simulated, ideal))
    print(String(format: "  real time: %.1f s (%.0f simulated seconds per real second); %@ HTTP requests over %d connections",
                 realSeconds, simulated / realSeconds, grouped(server.requestCount), server.connectionCount))
    print("  429s from the fake: \(tooMany); most sends in any 1-s window: bot \(botWindow) (limit 30), a chat \(chatWindow) (limit 1)")
    print("  each subscriber exactly one message with its tier's text: \(exactlyOnce && tierTexts ? "yes" : "NO"); "
        + "first message per tier at " + tiers.map { String(format: "%@ %.0f s", $0.name, earliest[$0.name] ?? -1) }.joined(separator: ", "))
    print(String(format: "  SQLite write transactions: %.2f per delivery (%@ in all); the store re-read every 5 s: %.0f ms with %@ destinations and %@ rows pending; peak memory %.0f MiB",
                 Double(transactions.totalWrites) / Double(max(counters.delivered, 1)), grouped(transactions.totalWrites),
                 refreshSeconds * 1e3, grouped(subscriberCount), grouped(backlog), peakMemoryMiB()))
    return [String(format: "fan-out: simulated %.1f s / ideal %.1f s = %.3fx; real %.1f s", simulated, ideal, simulated / ideal, realSeconds),
            "429s: \(tooMany)"]
}

// MARK: - 2. One destination alone

/// Prints one destination's pace; returns its messages per second.
func singleDestination(_ failures: Failures) throws -> Double {
    let clocks = ManualClocks(startNs: t0)
    let bot = FakeTelegram(token: botToken(0), clock: clocks.fake)
    bot.addChat(1, type: .private)
    let platform = TelegramBots([bot])
    let (server, services) = try serve(platform)
    let instance = try telegramInstance(try telegramPlugin(services), services, tenant: "solo", bot: 0)
    let distributor = Distributor(tenants: [TenantDistribution(tenant: "solo", settings: settings(chats: [(1, "premium")]))],
                                  outbox: try store("solo") { clocks.distributor.nowNs() },
                                  endpoints: [ChannelAddress(tenant: "solo", instance: "telegram"): .live(instance)],
                                  clock: clocks.distributor, options: DistributorOptions(randomSeed: 1), logger: quietLogger())
    try distributor.start()
    let rounds = 300, warmUp = 20
    var latencies: [Double] = []
    for n in 0..<rounds {
        // A second apart on the clocks: the chat's limit of one a second.
        clocks.set(toNs: t0 + Int64(n + 1) * secondNs)
        failures.check(distributor.settle(timeout: 10), "single destination: the distributor did not settle")
        let start = monotonicNs()
        distributor.submit(makeSignal(tenant: "solo", n: n, atNs: clocks.distributor.nowNs()))
        while distributor.counters.delivered <= n, seconds(since: start) < 10 { usleep(20) }
        if n >= warmUp { latencies.append(seconds(since: start)) }
    }
    distributor.stop()
    instance.destroy()
    server.stop()
    failures.check(bot.messages.count == rounds && platform.answersNotOK == 0,
          "single destination: \(bot.messages.count) of \(rounds) delivered, \(platform.answersNotOK) refused")
    latencies.sort()
    let mean = latencies.reduce(0, +) / Double(latencies.count)
    print(String(format: "one destination alone: %d deliveries one at a time (submit → delivered recorded): p50 %.2f ms, p99 %.2f ms, mean %.2f ms = a ceiling of %.0f messages/s per destination",
                 latencies.count, percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3, mean * 1e3, 1 / mean))
    return 1 / mean
}

// MARK: - 3. Outbox throughput

let tenantCount = 200, chatsPerTenant = 25
let messageCount = tenantCount * chatsPerTenant

/// Tenant `tenant` of the throughput run: its chats, all premium (no tier delay).
func tenantSettings(_ tenant: Int) -> DistributionSettings {
    settings(chats: (0..<chatsPerTenant).map { (Int64(tenant * 1_000 + $0 + 1), "premium") })
}

/// A signal's deliveries to the tenant's chats, as the distributor renders them.
func deliveries(of signal: Signal, _ settings: DistributionSettings) -> [NewDelivery] {
    let message = settings.template(tier: "premium", kind: .signal).message(MessageFields(signal: signal), tier: "premium")
    return settings.destinations.map { destination in
        NewDelivery(tenant: signal.tenant, destination: destination.id, tier: destination.tier, kind: .signal, subject: signal.id,
                    text: message.text, payloadJSON: message.payloadJSON, notBeforeNs: signal.createdAtNs)
    }
}

/// Prints the outbox's throughput; returns its ratio lines.
func throughput(_ failures: Failures, singleDestinationCeiling: Double) throws -> [String] {
    print("outbox throughput: \(grouped(messageCount)) messages to \(tenantCount) tenants × \(chatsPerTenant) Telegram chats (a bot each: "
        + "\(chatsPerTenant) sends stay under its 30 a second), wall clock, real HTTP")

    // The store's enqueue alone, as the distributor calls it.
    let registrations = (0..<tenantCount).flatMap { tenant in
        tenantSettings(tenant).destinations.map {
            DestinationRegistration(tenant: "t\(tenant)", id: $0.id, channel: $0.channel, tier: $0.tier, targetJSON: $0.targetJSON)
        }
    }
    let all = (0..<tenantCount).flatMap { deliveries(of: makeSignal(tenant: "t\($0)", n: 0, atNs: t0), tenantSettings($0)) }
    var enqueueLines: [String] = []
    for (label, size) in [("one row per transaction", 1), ("\(chatsPerTenant) rows per transaction (a signal to a tenant's chats)", chatsPerTenant),
                          ("\(grouped(messageCount)) rows in one transaction", messageCount)] {
        let target = try store("enqueue-\(size)") { t0 }
        _ = try target.registerDestinations(registrations, atNs: t0)
        let start = monotonicNs()
        var added = 0
        for offset in stride(from: 0, to: all.count, by: size) {
            added += try target.enqueue(Array(all[offset..<min(offset + size, all.count)]), atNs: t0).count
        }
        let elapsed = seconds(since: start)
        failures.check(added == messageCount, "enqueue: \(added) of \(messageCount) rows added")
        enqueueLines.append(String(format: "%.0f rows/s %@", Double(messageCount) / elapsed, label))
    }
    print("  enqueue into the outbox: " + enqueueLines.joined(separator: "; "))

    // Enqueue plus dispatch, end to end.
    let bots = (0..<tenantCount).map { FakeTelegram(token: botToken($0)) }
    for (tenant, bot) in bots.enumerated() {
        for chat in 0..<chatsPerTenant { bot.addChat(Int64(tenant * 1_000 + chat + 1), type: .private) }
    }
    let platform = TelegramBots(bots)
    let (server, services) = try serve(platform)
    let plugin = try telegramPlugin(services)
    var tenants: [TenantDistribution] = []
    var endpoints: [ChannelAddress: ChannelEndpoint] = [:]
    var instances: [HostedInstance] = []
    for tenant in 0..<tenantCount {
        let name = "t\(tenant)"
        tenants.append(TenantDistribution(tenant: name, settings: tenantSettings(tenant)))
        let instance = try telegramInstance(plugin, services, tenant: name, bot: tenant)
        instances.append(instance)
        endpoints[ChannelAddress(tenant: name, instance: "telegram")] = .live(instance)
    }
    let wall = WallClock()
    let outboxStore = try store("throughput") { wall.nowNs() }
    let outbox = CountingOutbox(outboxStore)
    let distributor = Distributor(tenants: tenants, outbox: outbox, endpoints: endpoints, clock: wall,
                                  options: DistributorOptions(randomSeed: 1), logger: quietLogger())
    try distributor.start()

    var warmRate = 0.0
    for (round, label) in ["cold (rate limits asked, connections opened)", "warm"].enumerated() {
        if round > 0 { usleep(1_100_000) }  // every chat's one-a-second window has passed
        let before = outbox.counts, connectionsBefore = server.connectionCount, requestsBefore = server.requestCount
        let startWall = wall.nowNs()
        let start = monotonicNs()
        for tenant in 0..<tenantCount { distributor.submit(makeSignal(tenant: "t\(tenant)", n: round, atNs: wall.nowNs())) }
        let goal = messageCount * (round + 1)
        while distributor.counters.delivered + distributor.counters.dead < goal, seconds(since: start) < 300 { usleep(500) }
        let elapsed = seconds(since: start)
        let rate = Double(messageCount) / elapsed
        if round > 0 { warmRate = rate }
        let transactions = outbox.counts - before
        let rows = try outboxStore.outboxEntries(state: .delivered).filter { $0.createdNs >= startWall }
        let latencies = rows.map { Double($0.updatedNs - $0.createdNs) / 1e9 }.sorted()
        failures.check(rows.count == messageCount, "throughput round \(round + 1): \(rows.count) of \(messageCount) delivered")
        print(String(format: "  %@: %.0f messages/s enqueue + dispatch (%.2f s); enqueue → delivered p50 %.0f ms, p99 %.0f ms; "
                         + "%d HTTP connections opened for %@ requests; SQLite write transactions %.2f per delivery (%@), "
                         + "%.0f µs per delivery of the distributor's queue",
                     label, rate, elapsed, percentile(latencies, 0.5) * 1e3, percentile(latencies, 0.99) * 1e3,
                     server.connectionCount - connectionsBefore, grouped(server.requestCount - requestsBefore),
                     Double(transactions.totalWrites) / Double(max(rows.count, 1)),
                     transactions.writes.filter { $0.value != 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
                     Double(transactions.writeNs) / 1e3 / Double(max(rows.count, 1))))
    }
    let counters = distributor.counters
    distributor.stop()
    instances.forEach { $0.destroy() }
    server.stop()
    let perChat = Dictionary(grouping: platform.messages, by: \.chatID).mapValues(\.count)
    failures.check(perChat.count == messageCount && perChat.values.allSatisfy { $0 == 2 },
          "throughput: \(perChat.count) chats got messages, \(perChat.values.filter { $0 != 2 }.count) not exactly two")
    failures.check(counters.dead == 0 && platform.answersNotOK == 0,
          "throughput: \(counters.dead) dead, the fake refused \(platform.answersNotOK) (429s: \(platform.answers(status: 429)))")
    print("  429s from the fakes: \(platform.answers(status: 429)); HTTP connections in all: \(server.connectionCount) "
        + "(the client's limit per host: \(HTTPClient.Configuration().maxConnectionsPerHost))")
    return [String(format: "throughput (warm) / one destination alone: %.0f messages/s / %.0f = %.1fx",
                   warmRate, singleDestinationCeiling, warmRate / singleDestinationCeiling),
            String(format: "throughput (warm) / the %d bots' declared ceiling (%d × 30/s): %.2fx",
                   tenantCount, tenantCount, warmRate / Double(tenantCount * 30))]
}

let failures = Failures()
do {
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    // The fan-out first, so that the peak memory it reports is its own.
    let parts = CommandLine.arguments.count > 1 ? Set(CommandLine.arguments.dropFirst()) : ["fanout", "single", "throughput"]
    var ratios = parts.contains("fanout") ? try fanOut(failures) : []
    let ceiling = parts.contains("single") ? try singleDestination(failures) : .nan
    if parts.contains("throughput") { ratios += try throughput(failures, singleDestinationCeiling: ceiling) }
    print("ratios:")
    for line in ratios { print("  " + line) }
} catch {
    failures.check(false, "\(error)")
}
for failure in failures.all { print("FAILED: \(failure)") }
exit(failures.all.isEmpty ? 0 : 1)
