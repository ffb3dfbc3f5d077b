import AlphaPlusJSON
import Foundation
import SharedTestData
import XCTest

/// `alphaplus run` with an `http:` section: the server on a free port, its
/// probes, the admin API with tokens from the environment, webhooks to the
/// tenant's instances as created, and a clean stop.
final class RunCLITests: XCTestCase {
    private var folder: URL!
    private var process: Process?

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ingress-run-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        _ = try AlphaPlusCLI.bundledPlugin("ap-head-technical")
        try """
            plugins: { folders: ["\(AlphaPlusCLI.products.path)"] }
            tenants_folder: tenants
            store: { path: store.sqlite }
            http:
              listen: 127.0.0.1:0
              admin_token: ${env:INGRESS_TEST_OPERATOR_TOKEN}
            """.write(to: folder.appendingPathComponent("alphaplus.yaml"), atomically: true, encoding: .utf8)
        try """
            id: acme
            admin_token: ${env:INGRESS_TEST_ACME_TOKEN}
            instances:
              - { id: technical, plugin: com.alphaplus.head-technical }
              - { id: ghost, plugin: com.alphaplus.channel-telegram, dry_run_without_secrets: true, secrets: { bot_token: "${env:INGRESS_TEST_UNSET}" } }
            """.write(to: folder.appendingPathComponent("tenants/acme.yaml"), atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    /// Starts the host with `environment` added (the two token variables
    /// removed first); returns its port once it logged it, and its log.
    private func start(_ environment: [String: String]) throws -> (port: Int, log: () -> String) {
        let logFile = folder.appendingPathComponent("host-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try AlphaPlusCLI.executable())
        process.arguments = ["run", "--config", folder.appendingPathComponent("alphaplus.yaml").path]
        var merged = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("INGRESS_TEST_") }
        merged.merge(environment) { $1 }
        process.environment = merged
        process.standardOutput = try FileHandle(forWritingTo: logFile)
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()
        self.process = process
        let log = { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
        let deadline = Date() + 30
        while Date() < deadline, process.isRunning {
            if let match = log().firstMatch(of: #/http: listening on 127\.0\.0\.1:([0-9]+)/#), let port = Int(match.1) { return (port, log) }
            Thread.sleep(forTimeInterval: 0.05)
        }
        throw RawHTTP.Failure(description: "the host did not log its port: \(log())")
    }

    private func stop(_ log: () -> String) throws -> String {
        let process = try XCTUnwrap(process)
        process.terminate()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, log())
        return log()
    }

    func testRunServesProbesTheAdminAPIAndWebhooksOnAFreePort() throws {
        let operatorToken = "op-\(UUID().uuidString)", acmeToken = "acme-\(UUID().uuidString)"
        let (port, log) = try start(["INGRESS_TEST_OPERATOR_TOKEN": operatorToken, "INGRESS_TEST_ACME_TOKEN": acmeToken])
        func get(_ target: String, token: String? = nil) throws -> RawHTTP.Response {
            try RawHTTP.send(port: port, method: "GET", target: target, headers: token.map { [("Authorization", "Bearer \($0)")] } ?? [],
                             body: nil)
        }
        XCTAssertEqual(try get("/healthz").status, 200)
        var ready = try get("/readyz")
        let deadline = Date() + 20
        while ready.status != 200, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            ready = try get("/readyz")
        }
        XCTAssertEqual(try ready.json(), .object(["ready": .bool(true), "checks": .object([
            "store": .string("ok"), "plugins": .string("ok"), "distributor": .string("ok")])]))

        XCTAssertEqual(try get("/admin/v1/tenants", token: operatorToken).json()["tenants"].map { value -> [JSONValue?] in
            guard case .array(let tenants) = value else { return [] }
            return tenants.map { $0["id"] }
        }, [.string("acme")])
        let instances = try get("/admin/v1/tenants/acme/instances", token: acmeToken).json()
        guard case .array(let list)? = instances["instances"] else { return XCTFail("\(instances)") }
        XCTAssertEqual(list.map { $0["state"] }, [.string("running"), .string("dry_run")])
        XCTAssertEqual(try get("/admin/v1/plugins", token: acmeToken).status, 403)
        XCTAssertEqual(try get("/admin/v1/plugins", token: "nope").status, 401)

        let head = try RawHTTP.send(port: port, method: "POST", target: "/hooks/acme/technical", body: Array("{}".utf8))
        XCTAssertEqual(head.status, 404)
        XCTAssertEqual(head.error, "tenant 'acme', instance 'technical' does not take webhooks (plugin com.alphaplus.head-technical does not offer ap.webhook.v1)")
        XCTAssertEqual(try RawHTTP.send(port: port, method: "POST", target: "/hooks/acme/ghost", body: []).status, 503)
        let metrics = try get("/metrics")
        XCTAssertEqual(metrics.status, 200)
        // The Prometheus backend `run` bootstraps: the webhook requests above are counted by status.
        let exposition = String(decoding: metrics.body, as: UTF8.self)
        XCTAssertTrue(exposition.contains("# TYPE alphaplus_webhook_requests_total counter"), exposition)
        XCTAssertTrue(exposition.contains("# HELP alphaplus_webhook_requests_total Webhook requests by tenant"), exposition)
        XCTAssertTrue(exposition.split(separator: "\n").contains { $0.hasPrefix("alphaplus_webhook_requests_total{")
            && $0.contains(#"instance="technical""#) && $0.contains(#"status="404""#) && $0.hasSuffix(" 1") }, exposition)
        XCTAssertTrue(exposition.contains("# TYPE alphaplus_webhook_duration_seconds histogram"), exposition)

        let output = try stop(log)
        XCTAssertTrue(output.contains("http: stopped"), output)
        XCTAssertTrue(output.contains("[AlphaPlusHost] stopped"), output)
        XCTAssertFalse(output.contains(operatorToken) || output.contains(acmeToken), "a token is in the host's output")
    }

    func testWithoutTheTokensVariablesTheAdminAPIIsOffAndTheHostRuns() throws {
        let (port, log) = try start([:])
        let response = try RawHTTP.send(port: port, method: "GET", target: "/admin/v1/tenants",
                                        headers: [("Authorization", "Bearer anything")], body: nil)
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.error, "admin API disabled: no token configured")
        let output = try stop(log)
        XCTAssertTrue(output.contains("http: the admin token of the operator"), output)
        XCTAssertTrue(output.contains("${env:INGRESS_TEST_OPERATOR_TOKEN}, is not set: that token is disabled"), output)
        XCTAssertTrue(output.contains("${env:INGRESS_TEST_ACME_TOKEN}, is not set"), output)
        XCTAssertTrue(output.contains("http: admin API disabled: no token configured"), output)
    }

    func testAnAddressInUseStopsTheHostWithAClearError() throws {
        let (port, log) = try start([:])
        defer { _ = try? stop(log) }
        try """
            plugins: { folders: [] }
            tenants_folder: tenants
            store: { path: other.sqlite }
            http: { listen: "127.0.0.1:\(port)" }
            """.write(to: folder.appendingPathComponent("second.yaml"), atomically: true, encoding: .utf8)
        let second = try AlphaPlusCLI.run(["run", "--config", folder.appendingPathComponent("second.yaml").path, "--duration", "5"])
        XCTAssertNotEqual(second.status, 0)
        XCTAssertTrue(second.err.contains("http: cannot listen on 127.0.0.1:\(port): "), second.err)
    }
}
