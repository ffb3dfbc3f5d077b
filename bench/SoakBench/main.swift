// A real `alphaplus run` under load: busy clients (/healthz, the admin API,
// forged Stripe webhooks), idle connections held open, and a tenant reload
// every 10 s. Checks that the host stays up, /healthz answers throughout,
// RSS stays bounded and market data keeps flowing; prints the figures and
// exits 1 when a check fails.
//
//   swift build -c release && .build/release/SoakBench               # 30 minutes
//   SOAK_SECONDS=120 .build/release/SoakBench                         # 2 minutes (CI)
//   .build/release/SoakBench --seconds 300 --busy 50 --idle 2000
//
// It runs the alphaplus and plugins built beside it, on 127.0.0.1 only.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

// MARK: - Options

struct Options {
    var seconds = Int(ProcessInfo.processInfo.environment["SOAK_SECONDS"] ?? "") ?? 1800
    var busy = 50
    var idle = 2000
    /// RSS above this fails the soak.
    var maxRSSMB = Int(ProcessInfo.processInfo.environment["SOAK_MAX_RSS_MB"] ?? "") ?? 1024

    init(_ arguments: [String]) {
        var rest = arguments[...]
        func value(_ flag: String) -> Int {
            guard let text = rest.popFirst(), let number = Int(text), number >= 0 else { fail("\(flag) takes a whole number") }
            return number
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--seconds": seconds = value(flag)
            case "--busy": busy = value(flag)
            case "--idle": idle = value(flag)
            case "--max-rss-mb": maxRSSMB = value(flag)
            default: fail("unknown argument \(flag); usage: SoakBench [--seconds N] [--busy N] [--idle N] [--max-rss-mb N] (or SOAK_SECONDS=N)")
            }
        }
        guard seconds >= 10 else { fail("--seconds: at least 10") }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("SoakBench: \(message)\n".utf8))
    exit(2)
}

// MARK: - Raw HTTP on loopback

/// Idle connections come from several loopback addresses, each under the host's per-source cap (256 by default).
let idlePerSource = 200

func connectSocket(port: Int, from source: String, timeoutSeconds: Int = 5) -> Int32? {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    func address(_ ip: String, _ port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(ip)
        return address
    }
    var local = address(source, 0), remote = address("127.0.0.1", port)
    let size = socklen_t(MemoryLayout<sockaddr_in>.size)
    let ok = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) } } == 0
        && withUnsafePointer(to: &remote) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, size) } } == 0
    guard ok else {
        close(fd)
        return nil
    }
    return fd
}

/// One request on a new connection (`Connection: close`): the status, or nil when none came.
func request(port: Int, _ method: String, _ target: String, headers: [String] = [], body: String = "") -> Int? {
    guard let fd = connectSocket(port: port, from: "127.0.0.1") else { return nil }
    defer { close(fd) }
    let head = "\(method) \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers.map { $0 + "\r\n" }.joined()
        + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n" + body
    let bytes = Array(head.utf8)
    var sent = 0
    while sent < bytes.count {
        let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        if n <= 0 { return nil }
        sent += n
    }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 16_384)
    while received.count < 1 << 20 {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { received += buffer[..<n] } else if n == 0 || errno != EINTR { break }
    }
    let statusLine = String(decoding: received.prefix(32), as: UTF8.self).split(separator: " ")
    return statusLine.count >= 2 && statusLine[0].hasPrefix("HTTP/1.") ? Int(statusLine[1]) : nil
}

/// The /metrics text, or "" when it did not come.
func metricsText(port: Int) -> String {
    guard let fd = connectSocket(port: port, from: "127.0.0.1") else { return "" }
    defer { close(fd) }
    let head = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
    _ = head.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    var received: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 65_536)
    while received.count < 16 << 20 {
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if n > 0 { received += buffer[..<n] } else if n == 0 || errno != EINTR { break }
    }
    return String(decoding: received, as: UTF8.self)
}

/// The sum of a metric's series, by one label's value when `label` is given.
func metricSums(_ text: String, _ name: String, by label: String? = nil) -> [String: Double] {
    var sums: [String: Double] = [:]
    for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
        guard let value = line.split(separator: " ").last.flatMap({ Double($0) }) else { continue }
        var key = ""
        if let label, let match = line.firstMatch(of: try! Regex("\(label)=\"([^\"]*)\"")), let captured = match.output[1].substring {
            key = String(captured)
        }
        sums[key, default: 0] += value
    }
    return sums
}

func rssKB(of pid: Int32) -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    return status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first.flatMap { Int($0) }
}

// MARK: - Counts shared by the client threads

// @unchecked: `counts` is guarded by `lock`.
final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    func add(_ key: String, _ count: Int = 1) { lock.withLock { counts[key, default: 0] += count } }
    subscript(_ key: String) -> Int { lock.withLock { counts[key, default: 0] } }
    var all: [String: Int] { lock.withLock { counts } }
}

// MARK: - The run

let options = Options(Array(CommandLine.arguments.dropFirst()))
let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
let alphaplus = products.appendingPathComponent("alphaplus").path
guard FileManager.default.isExecutableFile(atPath: alphaplus) else {
    fail("\(alphaplus) is missing: build everything first (swift build -c release)")
}

// Files: the idle and busy sockets here, the host's connections and its own files (inherited by the host).
var limit = rlimit()
getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
let needed = rlim_t(options.idle + options.busy + 1024)
let hostNeeds = rlim_t(options.idle + options.busy + 256 + 256)
guard limit.rlim_max >= max(needed, hostNeeds) else {
    fail("the hard open-file limit (\(limit.rlim_max)) is below the \(max(needed, hostNeeds)) files this soak needs: raise it, or pass --idle lower")
}
limit.rlim_cur = min(limit.rlim_max, max(limit.rlim_cur, needed, rlim_t(8192)))
guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { fail("setrlimit(RLIMIT_NOFILE, \(limit.rlim_cur)): \(String(cString: strerror(errno)))") }

let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alphaplus-soak-\(getpid())")
try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
let config = folder.appendingPathComponent("alphaplus.yaml").path
try """
    plugins: { folders: ["\(products.path)"] }
    tenants_folder: tenants
    store: { path: store.sqlite }
    log_level: info
    http:
      listen: 127.0.0.1:0
      admin_token: ${env:SOAK_ADMIN_TOKEN}
      max_connections: \(options.idle + options.busy + 1024)
    """.write(toFile: config, atomically: true, encoding: .utf8)

/// The tenant: a synthetic market, a head and a strategy, a Stripe webhook. Reloads flip the webhook's tolerance.
func writeTenant(tolerance: Int) throws {
    let text = """
        id: soak
        strategy:
          symbols: [BTC-USDT]
          timeframes: [60]
          initial_equity: 10000
          heads: [{ instance: technical }]
          consensus: { min_agree: 1 }
        instances:
          - { id: technical, plugin: com.alphaplus.head-technical }
          - id: market
            plugin: com.alphaplus.exchange-sim
            settings:
              seed: 7
              mode: realtime
              events_per_second: 50
              history_seconds: 600
              symbols: [{ symbol: BTC-USDT, start_price: "65000.00", tick_size: "0.01", lot_size: "0.0001" }]
            subscribe: [{ symbol: BTC-USDT, streams: [trades, quotes, book], book_depth: 10 }]
          - id: stripe
            plugin: com.alphaplus.webhook-stripe
            settings: { prices: { price_soak: premium }, tolerance_seconds: \(tolerance) }
            secrets: { signing_secret: "${env:SOAK_STRIPE_SECRET}" }

        """
    // Written beside, then renamed into place: the host never sees half a file.
    let staging = folder.appendingPathComponent("soak.yaml.new")
    try text.write(to: staging, atomically: false, encoding: .utf8)
    guard rename(staging.path, folder.appendingPathComponent("tenants/soak.yaml").path) == 0 else {
        throw CocoaError(.fileWriteUnknown)
    }
}
try writeTenant(tolerance: 300)

let adminToken = UUID().uuidString
let logFile = folder.appendingPathComponent("host.log")
_ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
let host = Process()
host.executableURL = URL(fileURLWithPath: alphaplus)
host.arguments = ["run", "--config", config]
host.environment = ProcessInfo.processInfo.environment.merging(
    ["SOAK_ADMIN_TOKEN": adminToken, "SOAK_STRIPE_SECRET": "whsec_soak_\(UUID().uuidString)"]) { $1 }
host.standardOutput = try FileHandle(forWritingTo: logFile)
host.standardError = try FileHandle(forWritingTo: logFile)
try host.run()
let hostLog = { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

/// The port the host logs it listens on, or nil when it did not within 60 s.
func listeningPort() -> Int? {
    let startDeadline = Date() + 60
    while Date() < startDeadline, host.isRunning {
        if let match = hostLog().firstMatch(of: #/http: listening on 127\.0\.0\.1:([0-9]+)/#) { return Int(match.1) }
        Thread.sleep(forTimeInterval: 0.1)
    }
    return nil
}
guard let port = listeningPort() else {
    if host.isRunning { host.terminate() }
    fail("the host did not start listening within 60 s:\n\(hostLog().suffix(4000))")
}
print("soak: \(options.seconds) s against alphaplus run (pid \(host.processIdentifier), port \(port)): \(options.busy) busy clients, \(options.idle) idle connections, a tenant reload every 10 s")

let started = Date()
let deadline = started + Double(options.seconds)
let tally = Tally()

// Busy clients: /healthz, the tenant's signals with the operator's token, a forged Stripe event (the plugin answers 400).
let busyThreads = (0..<options.busy).map { index in
    Thread {
        var round = index
        while Date() < deadline {
            let status: Int?
            let kind: String
            switch round % 3 {
            case 0:
                kind = "healthz"
                status = request(port: port, "GET", "/healthz")
            case 1:
                kind = "admin"
                status = request(port: port, "GET", "/admin/v1/tenants/soak/signals?limit=5", headers: ["Authorization: Bearer \(adminToken)"])
            default:
                kind = "webhook"
                let t = Int(Date().timeIntervalSince1970)
                status = request(port: port, "POST", "/hooks/soak/stripe",
                                 headers: ["Content-Type: application/json", "Stripe-Signature: t=\(t),v1=\(String(repeating: "0", count: 64))"],
                                 body: #"{"id":"evt_soak","type":"ping"}"#)
            }
            tally.add("\(kind) \(status.map(String.init) ?? "no answer")")
            round += 1
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}
busyThreads.forEach { $0.start() }

// Idle connections: opened from 127.0.0.2, .3, …, never sent a byte; reopened every 2 s when the host closed them.
let idleThread = Thread {
    var sockets: [(fd: Int32, source: String)] = []
    func open(_ index: Int) -> (Int32, String)? {
        let source = "127.0.0.\(2 + index / idlePerSource)"
        return connectSocket(port: port, from: source).map { ($0, source) }
    }
    for index in 0..<options.idle { if let opened = open(index) { sockets.append(opened) } else { tally.add("idle connect failed") } }
    tally.add("idle opened", sockets.count)
    while Date() < deadline {
        Thread.sleep(forTimeInterval: 2)
        for (position, entry) in sockets.enumerated() {
            var byte: UInt8 = 0
            let n = recv(entry.fd, &byte, 1, Int32(MSG_DONTWAIT | MSG_PEEK))
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) { continue }
            tally.add(n > 0 ? "idle refused" : "idle closed by the host")
            close(entry.fd)
            if let reopened = connectSocket(port: port, from: entry.source) { sockets[position] = (reopened, entry.source) } else {
                tally.add("idle connect failed")
            }
        }
    }
    sockets.forEach { close($0.fd) }
}
idleThread.start()

// The monitor: /healthz and RSS every second, a reload and the market's counters every 10 s.
var probes = 0, probeFailures = 0, slowestProbe = 0.0
var rssSamples: [(second: Int, kb: Int)] = []
var marketSamples: [Double] = []
var reloads = 0, reloadsApplied = 0, slowestReload = 0.0
var tolerance = 300
var hostDied = false
var lastTick = started
while Date() < deadline {
    Thread.sleep(until: min(deadline, lastTick + 1))
    lastTick = Date()
    guard host.isRunning else {
        hostDied = true
        break
    }
    let second = Int(lastTick.timeIntervalSince(started))
    let probeStart = Date()
    probes += 1
    if request(port: port, "GET", "/healthz") != 200 { probeFailures += 1 }
    slowestProbe = max(slowestProbe, Date().timeIntervalSince(probeStart))
    if let kb = rssKB(of: host.processIdentifier) { rssSamples.append((second, kb)) }
    guard second > 0, second % 10 == 0 else { continue }
    marketSamples.append(metricSums(metricsText(port: port), "alphaplus_market_events_total")[""] ?? 0)
    tolerance = tolerance == 300 ? 301 : 300
    try writeTenant(tolerance: tolerance)
    let reload = Process()
    reload.executableURL = URL(fileURLWithPath: alphaplus)
    reload.arguments = ["tenants", "reload", "--config", config, "--timeout", "30"]
    reload.standardOutput = FileHandle.nullDevice
    let reloadStart = Date()
    try reload.run()
    reload.waitUntilExit()
    reloads += 1
    if reload.terminationStatus == 0 { reloadsApplied += 1 }
    slowestReload = max(slowestReload, Date().timeIntervalSince(reloadStart))
}
let elapsed = Date().timeIntervalSince(started)
let finalMetrics = hostDied ? "" : metricsText(port: port)
while busyThreads.contains(where: { $0.isExecuting }) || idleThread.isExecuting { Thread.sleep(forTimeInterval: 0.1) }

if host.isRunning {
    host.terminate()
    let stopDeadline = Date() + 30
    while host.isRunning, Date() < stopDeadline { Thread.sleep(forTimeInterval: 0.1) }
    if host.isRunning { kill(host.processIdentifier, SIGKILL) }
}
host.waitUntilExit()
let exitStatus = host.terminationReason == .exit ? host.terminationStatus : -host.terminationStatus

// MARK: - Figures and checks

func megabytes(_ kb: Int) -> String { String(format: "%.0f MB", Double(kb) / 1024) }
let counts = tally.all
let busyTotal = counts.filter { ["healthz", "admin", "webhook"].contains($0.key.split(separator: " ").first ?? "") }.values.reduce(0, +)
let byKind = counts.keys.filter { $0.hasPrefix("healthz") || $0.hasPrefix("admin") || $0.hasPrefix("webhook") }.sorted()
    .map { "\($0): \(counts[$0]!)" }.joined(separator: ", ")
let firstRSS = rssSamples.first { $0.second >= 10 } ?? rssSamples.first
let maxRSS = rssSamples.map(\.kb).max() ?? 0
let lastRSS = rssSamples.last?.kb ?? 0
let marketGrowth = zip(marketSamples.dropFirst(), marketSamples).map { $0 - $1 }
// Market data flows when no 30 s went without a new event.
var stalled = 0, longestStall = 0
for growth in marketGrowth {
    stalled = growth > 0 ? 0 : stalled + 1
    longestStall = max(longestStall, stalled)
}
let logBytes = (try? FileManager.default.attributesOfItem(atPath: logFile.path)[.size] as? Int) ?? 0
let logLines = hostLog().split(separator: "\n").count
let refusals = metricSums(finalMetrics, "alphaplus_http_refusals_total", by: "reason").filter { $0.value > 0 }
    .sorted { $0.key < $1.key }.map { "\($0.key) \(Int($0.value))" }.joined(separator: ", ")

print(String(format: "  ran %.0f s; host up throughout: %@; exit status after SIGTERM: %d", elapsed, hostDied ? "NO" : "yes", exitStatus))
print(String(format: "  /healthz probes: %d, failed %d, slowest %.0f ms", probes, probeFailures, slowestProbe * 1000))
print("  busy requests: \(busyTotal) (\(byKind))")
print("  idle connections: \(counts["idle opened"] ?? 0) opened; closed by the host (idle timeout) and reopened: \(counts["idle closed by the host"] ?? 0); refused: \(counts["idle refused"] ?? 0); connects failed: \(counts["idle connect failed"] ?? 0)")
print(String(format: "  reloads: %d, applied %d, slowest %.1f s", reloads, reloadsApplied, slowestReload))
print("  RSS: \(firstRSS.map { "\(megabytes($0.kb)) at \($0.second) s" } ?? "-"), max \(megabytes(maxRSS)), at the end \(megabytes(lastRSS)) (limit \(options.maxRSSMB) MB)")
print("  market events: \(Int(marketSamples.first ?? 0)) → \(Int(marketSamples.last ?? 0)) over \(marketGrowth.count) windows of 10 s; longest without a new event: \(longestStall * 10) s")
print("  refusals (alphaplus_http_refusals_total): \(refusals.isEmpty ? "none" : refusals)")
print("  host log: \(logBytes / 1024) KB, \(logLines) lines")

var failures: [String] = []
if hostDied { failures.append("the host stopped during the soak:\n\(hostLog().suffix(4000))") }
if exitStatus != 0 { failures.append("the host exited with \(exitStatus) after SIGTERM") }
if probeFailures > 0 { failures.append("/healthz failed \(probeFailures) times") }
if maxRSS > options.maxRSSMB * 1024 { failures.append("RSS reached \(megabytes(maxRSS)), over \(options.maxRSSMB) MB") }
if marketGrowth.isEmpty || longestStall >= 3 { failures.append("market data stalled for \(longestStall * 10) s") }
if reloadsApplied < reloads { failures.append("\(reloads - reloadsApplied) of \(reloads) reloads were not applied") }
if (counts["idle opened"] ?? 0) < options.idle { failures.append("only \(counts["idle opened"] ?? 0) of \(options.idle) idle connections opened") }
if failures.isEmpty {
    print("result: PASS")
    try? FileManager.default.removeItem(at: folder)
} else {
    print("result: FAIL (the host's files are kept in \(folder.path))")
    failures.forEach { print("  - \($0)") }
    exit(1)
}
