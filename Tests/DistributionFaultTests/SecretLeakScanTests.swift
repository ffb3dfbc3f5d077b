import AlphaPlusSDK
import ChannelTwitter
import Distribution
import FakeChannelServers
import Foundation
import HTTPClient
import SharedTestData
import Store
import XCTest

/// Issue 7: no secret reaches any output. The whole demo runs with every
/// secret it references set to a distinctive value, on fakes that also
/// answer errors; it gets forged and good webhooks and every admin route
/// with good and wrong tokens, stops on SIGTERM, then crashes (SIGABRT)
/// in a second run so the Swift runtime writes its crash report. The CLI
/// commands run on the same configuration. Every output is scanned for
/// every secret, as it is and in its obvious encodings (SecretScanner).
final class SecretLeakScanTests: XCTestCase {
    private var folder: URL!
    private var servers: [LoopbackServer] = []
    private var hosts: [HostProcess] = []
    private let client = HTTPClient()

    override func setUpWithError() throws { folder = try temporaryFolder("leak-scan") }

    override func tearDown() {
        hosts.forEach { $0.end() }
        servers.forEach { $0.stop() }
        client.shutdown()
        try? FileManager.default.removeItem(at: folder)
    }

    private let premiumChat: Int64 = 5_100_001
    private let freeChat: Int64 = 5_100_002

    /// Every `${env:NAME}` in `texts`, sorted.
    static func referencedVariables(in texts: [String]) -> [String] {
        Set(texts.flatMap { $0.matches(of: #/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/#).map { String($0.output.1) } }).sorted()
    }

    /// A value no output has by chance.
    private static func distinctive(_ prefix: String) -> String {
        prefix + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
    }

    func testTheScannerFindsASecretInEachEncoding() {
        let secret = "7300000011:AAH/sec+ret=value?x"
        let hidden = [
            "as is": "token \(secret) here",
            "percent-encoded": "url /bot7300000011%3AAAH%2Fsec%2Bret%3Dvalue%3Fx/sendMessage",
            "JSON-escaped": #"{"u":"7300000011:AAH\/sec+ret=value?x"}"#,
            "base64 at offset 1": "Basic " + Data(("u:" + secret).utf8).base64EncodedString(),
            "base64 at offset 2": Data(("ab:" + secret).utf8).base64EncodedString(),
            "hex": Array(secret.utf8).map { String(format: "%02x", $0) }.joined(),
        ]
        var scanner = SecretScanner(secrets: ["BOT": secret])
        for (name, text) in hidden { scanner.scan(text, named: name) }
        scanner.scan("7300000011:AAH only the start", named: "clean")
        XCTAssertEqual(Set(scanner.findings.map(\.output)), Set(hidden.keys), "\(scanner.findings)")
        XCTAssertEqual(scanner.scanned.count, hidden.count + 1)

        scanner.scan("rdx 0x00007ffea534c3e0  ret=value?x 7300000011:A", named: "a register's memory", pieces: true)
        XCTAssertEqual(scanner.findings.last, .init(output: "a register's memory", secret: "BOT", form: "12 bytes from byte 0"))
        scanner.scan("rdx 0x00007ffea534c3e0  ret=value?x 7300000011:", named: "11 bytes", pieces: true)
        XCTAssertNotEqual(scanner.findings.last?.output, "11 bytes")
    }

    func testNoSecretOfTheDemoReachesAnyOutput() throws {
        let discord = FakeDiscord()
        let webhook = discord.createWebhook()
        let telegram = FakeTelegram(token: "7300000011:AAH\(Self.distinctive(""))")
        let account = OAuth1Credentials(consumerKey: Self.distinctive("ck"), consumerSecret: Self.distinctive("cs"),
                                        accessToken: Self.distinctive("at"), accessTokenSecret: Self.distinctive("ats"))
        let x = FakeX(clock: FakeClock(), accounts: [account])
        for fake in [discord, telegram, x] as [any FakePlatform] { servers.append(try LoopbackServer(fake)) }
        telegram.addChat(-1001000000001, type: .supergroup)
        telegram.addChat(-1001000000002, type: .channel, username: "alphaplus_demo_free")
        for chat in [premiumChat, freeChat] { telegram.addChat(chat, type: .private) }
        // Errors first, so that the channels' error paths log: 5xx and 429 are retried, 401 makes a dead letter.
        let failures: [(fake: String, statuses: [Int])] = [("discord", [500, 429]), ("telegram", [500, 429, 401]), ("x", [503, 401])]
        discord.failNext(1, status: 500)
        discord.failNext(1, status: 429)
        for status in [500, 429, 401] { telegram.failNext(1, status: status) }
        for status in [503, 401] { x.failNext(1, status: status) }

        let config = try writeHostConfig(in: folder, overrides: ["https://discord.com": servers[0], "https://api.telegram.org": servers[1],
                                                                 "https://api.x.com": servers[2]],
                                         logLevel: "trace", adminToken: "${env:ALPHAPLUS_ADMIN_TOKEN}")
        let tenantFile = try demoCopy(in: folder, promptSignals + [
            ("  tiers: { premium: 0, basic: 60, free: 300 }", "  tiers: { premium: 0, basic: 1, free: 2 }   # test only: every tier within the run"),
        ])

        // Every secret the files reference; those the fakes check get the fakes' values.
        let variables = Self.referencedVariables(in: [try String(contentsOf: config, encoding: .utf8),
                                                      try String(contentsOf: tenantFile, encoding: .utf8)])
        let platformValues = ["DEMO_DISCORD_WEBHOOK_SIGNALS": webhook.url, "DEMO_TELEGRAM_BOT_TOKEN": telegram.token,
                              "DEMO_X_CONSUMER_KEY": account.consumerKey, "DEMO_X_CONSUMER_SECRET": account.consumerSecret,
                              "DEMO_X_ACCESS_TOKEN": account.accessToken, "DEMO_X_ACCESS_TOKEN_SECRET": account.accessTokenSecret,
                              "DEMO_STRIPE_SIGNING_SECRET": Self.distinctive("whsec_")]
        for name in platformValues.keys.sorted() where !variables.contains(name) { XCTFail("the demo no longer references ${env:\(name)}") }
        let environment = Dictionary(uniqueKeysWithValues: variables.map { ($0, platformValues[$0] ?? Self.distinctive("lk")) })
        let secrets = Secrets(environment)
        var scanner = SecretScanner(secrets: environment.merging([
            "DEMO_DISCORD_WEBHOOK_SIGNALS (the webhook's token)": webhook.token,
            "DEMO_TELEGRAM_BOT_TOKEN (after the bot id)": String(telegram.token.split(separator: ":")[1]),
        ]) { $1 })

        // Run 1: signals, deliveries through the errors, webhooks and the admin API; then SIGTERM.
        let started = Date()
        let host = try HostProcess(["run", "--config", config.path, "--duration", "150"], environment: environment, in: folder)
        hosts.append(host)
        let base = try XCTUnwrap(listeningBase(of: host), "the host did not listen: \(host.err.suffix(3000))")
        let calls = Calls(client: client, base: base)
        try sendWebhooks(calls, secrets)
        try callEveryAdminRoute(calls, secrets)

        let store = try HostStore(path: folder.appendingPathComponent("store.sqlite").path, clock: { 0 })
        // Until every error was answered, and Discord and Telegram delivered after theirs.
        let errorsAnswered = try eventually(timeout: 80, interval: 0.5) {
            let delivered = Set(try store.outboxEntries(tenant: "demo").filter { $0.state == .delivered }.map(\.destination))
            return !host.process.isRunning
                || zip(failures, servers).allSatisfy { $1.requestCount > $0.statuses.count }
                && delivered.contains("discord-premium") && delivered.contains { $0.hasPrefix("telegram") }
        }
        let requestCounts = zip(failures, servers).map { "\($0.fake) \($1.requestCount)" }.joined(separator: ", ")
        XCTAssertTrue(errorsAnswered, "not every queued error was answered, or nothing was delivered after them: requests \(requestCounts)")
        host.send(SIGTERM)
        XCTAssertEqual(host.wait(timeout: 30), 0, "alphaplus run did not stop cleanly: \(host.err.suffix(3000))")
        let run1Seconds = Date().timeIntervalSince(started)
        scanner.scan(host.out, named: "run 1 stdout")
        scanner.scan(host.err, named: "run 1 stderr (the log, at trace)")
        for (name, response) in calls.responses { scanner.scan(response, named: name) }

        let rows = try store.outboxEntries(tenant: "demo")
        let signals = try store.signals(tenant: "demo", limit: 500).items
        XCTAssertFalse(signals.isEmpty, "no signal: the scan saw no delivery")
        XCTAssertGreaterThanOrEqual(rows.filter { $0.state == .dead }.count, 1, "no 401 made a dead letter")
        XCTAssertTrue(host.err.contains("Telegram refused the bot token"), "the Telegram 401's reason is not in the log")
        scanner.scan(rows.map { "\($0.destination) \($0.tier) \($0.state.rawValue) \($0.externalID)\n\($0.text)\n\($0.payloadJSON)\n\($0.lastError)" }
                         .joined(separator: "\n"), named: "outbox rows (\(rows.count): text, payload, last error)")

        // The CLI on the same configuration, with the same environment.
        let commandsStarted = Date()
        let commands: [(arguments: [String], existsAfterMerge: Bool)] = [
            (["tenants", "show", "demo"], true), (["tenants", "list"], true), (["config", "validate"], true),
            (["tenants", "validate", tenantFile.path], true),
            (["plugins", "list"], false), (["plugins", "list", "--json"], false), (["outbox", "status"], false), (["outbox", "dead"], false),
            (["outbox", "drain", "--timeout", "20"], false), (["audit", "verify"], false),
        ]
        for command in commands {
            let cli = try HostProcess(command.arguments + ["--config", config.path], environment: environment, in: folder)
            hosts.append(cli)
            let status = cli.wait(timeout: 60)
            let name = "alphaplus " + command.arguments.joined(separator: " ").replacingOccurrences(of: folder.path, with: "<folder>")
            XCTAssertEqual(status, 0, "\(name)\(command.existsAfterMerge ? " (the tenants/config commands' branch adds it)" : ""): \(cli.err.suffix(1000))")
            scanner.scan(cli.out, named: "\(name): stdout")
            scanner.scan(cli.err, named: "\(name): stderr")
        }

        let commandSeconds = Date().timeIntervalSince(commandsStarted)

        // Run 2: SIGABRT, and the crash report the Swift runtime's backtracer writes to stderr. On Linux the
        // backtracer also handles a SIGABRT sent by kill(2); the process goes on after the report, so it is then killed.
        let crashStarted = Date()
        let crashing = try HostProcess(["run", "--config", config.path, "--duration", "120"],
                                       environment: environment.merging(["SWIFT_BACKTRACE": "enable=yes,interactive=no,threads=all,registers=all,images=all"]) { $1 },
                                       in: folder)
        hosts.append(crashing)
        XCTAssertNotNil(listeningBase(of: crashing), "run 2 did not start: \(crashing.err.suffix(3000))")
        crashing.send(SIGABRT)
        let reportWritten = eventually(timeout: 60, interval: 0.2) { crashing.err.contains(#/Backtrace took [0-9.]+s\n/#) || !crashing.process.isRunning }
        let survived = crashing.process.isRunning
        crashing.end()
        let crashLog = crashing.err
        let reportStart = crashLog.firstRange(of: "*** Signal 6: Backtracing")?.lowerBound
        let reportEnd = reportStart.flatMap { crashLog[$0...].firstRange(of: #/Backtrace took [0-9.]+s\n/#)?.upperBound }
        guard let reportStart, let reportEnd else {
            return XCTFail("no whole crash report from the Swift runtime (written: \(reportWritten)): \(crashLog.suffix(3000))")
        }
        let report = String(crashLog[reportStart..<reportEnd])
        XCTAssertTrue(report.contains("*** Program crashed: Aborted"), String(report.prefix(500)))
        scanner.scan(crashing.out, named: "run 2 stdout")
        scanner.scan(String(crashLog[..<reportStart]) + String(crashLog[reportEnd...]), named: "run 2 stderr (the log)")
        scanner.scan(report, named: "run 2 stderr (the crash report; also any \(SecretScanner.pieceLength) bytes of a secret)", pieces: true)
        let crashSeconds = Date().timeIntervalSince(crashStarted)

        // Every file the runs and commands left: the configuration, the store and its journal.
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL } ?? []
        for file in files.sorted(by: { $0.path < $1.path }) where !file.lastPathComponent.hasPrefix("host-") {
            guard let bytes = FileManager.default.contents(atPath: file.path) else { continue }
            scanner.scan(bytes, named: "file \(file.path.replacingOccurrences(of: folder.path + "/", with: ""))")
        }

        for finding in scanner.findings { XCTFail("\(finding)") }
        let timing = String(format: "run 1 %.0f s, the commands %.0f s, run 2 and its crash report %.0f s", run1Seconds, commandSeconds, crashSeconds)
        print("leak scan: \(variables.count) secrets (\(variables.joined(separator: ", "))) and 2 parts of them, "
              + "\(scanner.scanned.count) outputs, \(scanner.scanned.map(\.bytes).reduce(0, +)) bytes; \(signals.count) signals, "
              + "outbox \(Dictionary(grouping: rows, by: \.state.rawValue).mapValues(\.count).sorted { $0.key < $1.key }); "
              + "requests \(requestCounts); after the crash report the host \(survived ? "went on" : "had ended"); \(timing); "
              + "\(scanner.findings.count) findings\n\(scanner.coverage)")
    }

    // MARK: What the running host is sent

    /// The secrets the requests need, by what they are.
    private struct Secrets {
        let operatorToken, tenantToken, telegramWebhook, telegramLink, stripeSigning: String

        init(_ environment: [String: String]) {
            func value(_ name: String) -> String {
                guard let value = environment[name] else {
                    XCTFail("the demo or the host configuration no longer references ${env:\(name)}")
                    return ""
                }
                return value
            }
            operatorToken = value("ALPHAPLUS_ADMIN_TOKEN")
            tenantToken = value("DEMO_ADMIN_TOKEN")
            telegramWebhook = value("DEMO_TELEGRAM_WEBHOOK_SECRET")
            telegramLink = value("DEMO_TELEGRAM_LINK_SECRET")
            stripeSigning = value("DEMO_STRIPE_SIGNING_SECRET")
        }
    }

    /// Requests to the host, each answer kept whole (status, headers,
    /// body) under a name saying what was asked.
    private final class Calls {
        let client: HTTPClient
        let base: String
        private(set) var responses: [(name: String, text: String)] = []

        init(client: HTTPClient, base: String) {
            self.client = client
            self.base = base
        }

        @discardableResult
        func send(_ name: String, _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) throws -> Int {
            let response = try client.response(HTTPRequest(method: method, url: base + path, headers: headers.map { HTTPHeader($0.key, $0.value) },
                                                           body: body, timeoutMs: 10_000))
            let head = response.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
            responses.append(("HTTP \(method) \(path) (\(name))", "\(response.status)\n\(head)\n\n\(response.bodyText)"))
            return response.status
        }
    }

    private func sendWebhooks(_ calls: Calls, _ secrets: Secrets) throws {
        let now = Int(Date().timeIntervalSince1970)
        func stripeEvent(_ id: String, _ type: String, _ object: String) -> [UInt8] {
            Array(#"{"id":"\#(id)","object":"event","api_version":"2024-06-20","created":\#(now),"livemode":false,"pending_webhooks":1,"type":"\#(type)","data":{"object":\#(object)}}"#.utf8)
        }
        let subscription = #"{"id":"sub_leak","object":"subscription","customer":"cus_leak","status":"active","current_period_end":\#(now + 86_400),"items":{"object":"list","data":[{"id":"si_leak","price":{"id":"price_1DemoPremium"}}]}}"#
        let checkout = #"{"id":"cs_leak","object":"checkout.session","mode":"subscription","client_reference_id":"u_leak","customer":"cus_leak","subscription":"sub_leak","payment_status":"paid"}"#
        func signature(_ body: [UInt8], secret: String? = nil, at time: Int? = nil) -> String {
            WebhookRequests.stripeSignature(body, secret: secret ?? secrets.stripeSigning, at: time ?? now)
        }
        let telegramHeaders = ["X-Telegram-Bot-Api-Secret-Token": secrets.telegramWebhook, "Content-Type": "application/json"]
        func update(_ id: Int, _ chat: Int64, _ text: String) -> [UInt8] { WebhookRequests.telegramUpdate(910_000 + id, chat: chat, text: text, date: now) }

        // Forged and malformed: refused.
        let forged = stripeEvent("evt_forged", "customer.subscription.created", subscription)
        let refusals: [(name: String, path: String, headers: [String: String], body: [UInt8], status: Int)] = [
            ("a zero signature", "/hooks/demo/stripe", ["Stripe-Signature": "t=\(now),v1=\(String(repeating: "0", count: 64))"], forged, 400),
            ("signed with another secret", "/hooks/demo/stripe", ["Stripe-Signature": signature(forged, secret: "whsec_wrong")], forged, 400),
            ("signed 301 s ago", "/hooks/demo/stripe", ["Stripe-Signature": signature(forged, at: now - 301)], forged, 400),
            ("no signature", "/hooks/demo/stripe", [:], forged, 400),
            ("a tampered body", "/hooks/demo/stripe", ["Stripe-Signature": signature(forged)], forged + [0x20], 400),
            ("a wrong secret token", "/hooks/demo/telegram", ["X-Telegram-Bot-Api-Secret-Token": "wrong"], update(1, premiumChat, "/start"), 401),
            ("no secret token", "/hooks/demo/telegram", [:], update(2, premiumChat, "/start"), 401),
            ("another tenant", "/hooks/nobody/stripe", ["Stripe-Signature": signature(forged)], forged, 404),
        ]
        for refusal in refusals {
            XCTAssertEqual(try calls.send(refusal.name, "POST", refusal.path, headers: refusal.headers, body: refusal.body), refusal.status,
                           "\(refusal.path): \(refusal.name)")
        }
        // Good: a free chat and a paying one (the website's deep link), then its payment.
        let link = WebhookRequests.linkToken("u_leak", secret: secrets.telegramLink)
        for (id, chat, text) in [(3, freeChat, "/start"), (4, premiumChat, "/start \(link)"), (5, premiumChat, "/status")] {
            XCTAssertEqual(try calls.send("Telegram \(text.prefix(7))", "POST", "/hooks/demo/telegram", headers: telegramHeaders,
                                          body: update(id, chat, text)), 200, text)
        }
        for (id, type, object) in [("evt_checkout", "checkout.session.completed", checkout), ("evt_created", "customer.subscription.created", subscription)] {
            let body = stripeEvent(id, type, object)
            XCTAssertEqual(try calls.send("Stripe \(type)", "POST", "/hooks/demo/stripe", headers: ["Stripe-Signature": signature(body)], body: body),
                           200, type)
        }
    }

    /// Every path docs/admin-api.yaml lists, with the operator's token, the
    /// tenant's, wrong ones and none; a tenant path for the demo and for a
    /// tenant that does not exist.
    private func callEveryAdminRoute(_ calls: Calls, _ secrets: Secrets) throws {
        let document = try String(contentsOf: repository.appendingPathComponent("docs/admin-api.yaml"), encoding: .utf8)
        var routes: [(path: String, tags: [String])] = []
        for line in document.components(separatedBy: "\n") {
            if let path = line.wholeMatch(of: #/  (/\S*):/#) {
                routes.append((String(path.output.1), []))
            } else if let tags = line.wholeMatch(of: #/ {6}tags: \[(.*)\]/#), let last = routes.indices.last, routes[last].tags.isEmpty {
                routes[last].tags = tags.output.1.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            }
        }
        XCTAssertGreaterThanOrEqual(routes.count, 10, "docs/admin-api.yaml's paths: \(routes.map(\.path))")
        let tokens: [(name: String, header: String?)] = [
            ("operator token", "Bearer \(secrets.operatorToken)"), ("tenant demo's token", "Bearer \(secrets.tenantToken)"),
            ("a wrong token", "Bearer wrong-\(UUID().uuidString)"), ("another secret as token", "Bearer \(secrets.telegramWebhook)"),
            ("the operator token, not as Bearer", "Basic \(secrets.operatorToken)"), ("no token", nil),
        ]
        for route in routes {
            if route.tags == ["probes"] {
                for token in tokens { try calls.send(token.name, "GET", route.path, headers: token.header.map { ["Authorization": $0] } ?? [:]) }
                continue
            }
            for tenant in route.path.contains("{tenant}") ? ["demo", "nobody"] : [""] {
                let path = route.path.replacingOccurrences(of: "{tenant}", with: tenant)
                for token in tokens {
                    let expected = switch token.name {
                    case "operator token": tenant == "nobody" ? 404 : 200
                    case "tenant demo's token": route.tags == ["operator"] || tenant == "nobody" ? 403 : 200
                    default: 401
                    }
                    let status = try calls.send(token.name, "GET", path, headers: token.header.map { ["Authorization": $0] } ?? [:])
                    XCTAssertEqual(status, expected, "GET \(path) with the \(token.name)")
                }
                if tenant != "nobody" {
                    XCTAssertEqual(try calls.send("operator token", "GET", path + "?token=\(UUID().uuidString)",
                                                  headers: ["Authorization": "Bearer \(secrets.operatorToken)"]), 400, "\(path): an unlisted parameter")
                }
            }
        }
        XCTAssertEqual(try calls.send("operator token", "GET", "/admin/v1/tenants/demo/signals?limit=1",
                                      headers: ["Authorization": "Bearer \(secrets.operatorToken)"]), 200)
    }
}
