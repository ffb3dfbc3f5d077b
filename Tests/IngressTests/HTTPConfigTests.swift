import Foundation
import HostConfig
import Ingress
import XCTest

/// The host config's `http:` section and a tenant's `admin_token`.
final class HTTPConfigTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("http-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    private func load(_ yaml: String) throws -> HostConfig {
        let file = folder.appendingPathComponent("alphaplus.yaml")
        try Data(yaml.utf8).write(to: file)
        return try HostConfig.load(file.path)
    }

    private func failure(_ yaml: String) -> String {
        do {
            _ = try load(yaml)
            return "loaded"
        } catch {
            return "\(error)".components(separatedBy: ".yaml:").last ?? "\(error)"
        }
    }

    func testTheSectionWithItsDefaults() throws {
        XCTAssertNil(try load("log_level: info\n").http, "no section, no server")
        XCTAssertEqual(try load("http:\n  listen: 127.0.0.1:8080\n").http, HTTPSettings(host: "127.0.0.1", port: 8080))
        XCTAssertEqual(try load("http:\n  listen: 127.0.0.1:8080\n").http?.maxBodyBytes, 1_048_576)
        XCTAssertEqual(try load("http:\n  listen: 127.0.0.1:8080\n").http?.requestDeadlineMs, 10_000)
        let full = try load("""
            http:
              listen: "[::1]:0"
              max_body_bytes: 65536
              request_deadline_ms: 2500
              admin_token: ${env:ALPHAPLUS_ADMIN_TOKEN}
            """)
        XCTAssertEqual(full.http, HTTPSettings(host: "::1", port: 0, maxBodyBytes: 65_536, requestDeadlineMs: 2500,
                                               adminToken: .environment("ALPHAPLUS_ADMIN_TOKEN")))
        XCTAssertEqual(try load("http: { listen: localhost:9, admin_token: \"${file:secrets/admin}\" }\n").http?.adminToken,
                       .file(folder.appendingPathComponent("secrets/admin").path))
    }

    func testBadValuesNameTheKeyTheLineAndWhatIsWrong() {
        let hint = "write host:port, e.g. 127.0.0.1:8080 ([::1]:8080 for IPv6, port 0 for any free port)"
        XCTAssertEqual(failure("http:\n  listen: 8080\n"), "2:11: http.listen: '8080' has no port; \(hint)")
        XCTAssertEqual(failure("http:\n  listen: 127.0.0.1:80800\n"), "2:11: http.listen: '127.0.0.1:80800' has no port from 0 to 65535; \(hint)")
        XCTAssertEqual(failure("http:\n  listen: \"127.0.0.1:\"\n"), "2:11: http.listen: '127.0.0.1:' has no port from 0 to 65535; \(hint)")
        XCTAssertEqual(failure("http:\n  listen: \":8080\"\n"), "2:11: http.listen: ':8080' does not start with a host name or IP address; \(hint)")
        XCTAssertEqual(failure("http:\n  listen: \"::1:8080\"\n"), "2:11: http.listen: '::1:8080' is an IPv6 address without brackets; \(hint)")
        XCTAssertEqual(failure("http:\n  listen: \"[::1]8080\"\n"), "2:11: http.listen: '[::1]8080' has no ]:port after its IPv6 address; \(hint)")
        XCTAssertEqual(failure("http:\n  listen: \"127.0.0.1:+80\"\n"), "2:11: http.listen: '127.0.0.1:+80' has no port from 0 to 65535; \(hint)")
        XCTAssertEqual(failure("http:\n  max_body_bytes: 10\n"), "2:3: http: missing field 'listen' (e.g. listen: 127.0.0.1:8080)")
        XCTAssertEqual(failure("http:\n  listen: 127.0.0.1:1\n  max_body_bytes: 0\n"),
                       "3:19: http.max_body_bytes: expected a whole number from 1 to 67108864")
        XCTAssertEqual(failure("http:\n  listen: 127.0.0.1:1\n  request_deadline_ms: 1.5\n"),
                       "3:24: http.request_deadline_ms: expected a whole number from 1 to 600000")
        XCTAssertEqual(failure("http:\n  listen: 127.0.0.1:1\n  admin_token: hunter2\n"),
                       "3:16: secret 'http.admin_token' must be a reference, ${env:NAME} or ${file:path}; a secret's value never goes into a config file")
        XCTAssertEqual(failure("http:\n  listen: 127.0.0.1:1\n  admin-token: x\n"),
                       "3:3: unknown key 'admin-token' (did you mean 'admin_token'?); allowed: listen, max_body_bytes, request_deadline_ms, admin_token, idle_timeout_ms, header_timeout_ms, body_timeout_ms, max_connections, max_connections_per_source, reserved_files, auth_failures_allowed, auth_backoff_ms, auth_backoff_max_ms, refusal_log_interval_ms")
        XCTAssertEqual(failure("http:\n  listen: 127.0.0.1:1\n  max_connections: 0\n"),
                       "3:20: http.max_connections: expected a whole number from 1 to 1000000")
        XCTAssertEqual(failure("http:\n  listen: 127.0.0.1:1\n  idle_timeout_ms: -5\n"),
                       "3:20: http.idle_timeout_ms: expected a whole number from 1 to 3600000")
        XCTAssertEqual(failure("http:\n  listen: 127.0.0.1:1\n  auth_backoff_ms: 5000\n  auth_backoff_max_ms: 1000\n"),
                       "4:24: http.auth_backoff_max_ms: 1000 is below auth_backoff_ms (5000); the longest throttle cannot be shorter than the first")
    }

    func testTheServerLimitsAndTheirDefaultsWhichAreTheServers() throws {
        let defaults = HTTPSettings.Limits()
        XCTAssertEqual(try load("http:\n  listen: 127.0.0.1:8080\n").http?.limits, defaults)
        // The config's defaults are the ones the server takes without a config (tests, other hosts).
        XCTAssertEqual(Self.serverLimits(defaults), ServerLimits())
        let limits = try XCTUnwrap(try load("""
            http:
              listen: 127.0.0.1:0
              idle_timeout_ms: 5000
              header_timeout_ms: 2000
              body_timeout_ms: 3000
              max_connections: 4096
              max_connections_per_source: 64
              reserved_files: 128
              auth_failures_allowed: 5
              auth_backoff_ms: 500
              auth_backoff_max_ms: 60000
              refusal_log_interval_ms: 10000
            """).http?.limits)
        XCTAssertEqual(Self.serverLimits(limits), ServerLimits(
            idleTimeout: .seconds(5), headerTimeout: .seconds(2), bodyTimeout: .seconds(3), maxConnections: 4096, maxConnectionsPerSource: 64,
            reservedFiles: 128, authFailuresAllowed: 5, authBackoff: .milliseconds(500), authBackoffMax: .seconds(60),
            refusalLogInterval: .seconds(10)))
    }

    /// As `alphaplus run` turns the section into the server's limits.
    private static func serverLimits(_ limits: HTTPSettings.Limits) -> ServerLimits {
        ServerLimits(idleTimeout: .milliseconds(limits.idleTimeoutMs), headerTimeout: .milliseconds(limits.headerTimeoutMs),
                     bodyTimeout: .milliseconds(limits.bodyTimeoutMs), maxConnections: limits.maxConnections,
                     maxConnectionsPerSource: limits.maxConnectionsPerSource, reservedFiles: limits.reservedFiles,
                     authFailuresAllowed: limits.authFailuresAllowed, authBackoff: .milliseconds(limits.authBackoffMs),
                     authBackoffMax: .milliseconds(limits.authBackoffMaxMs), refusalLogInterval: .milliseconds(limits.refusalLogIntervalMs))
    }

    func testATenantsAdminTokenIsAReference() throws {
        let file = folder.appendingPathComponent("acme.yaml")
        try Data("id: acme\nadmin_token: ${env:ACME_ADMIN_TOKEN}\n".utf8).write(to: file)
        XCTAssertEqual(try TenantConfig.load(file.path).adminToken, .environment("ACME_ADMIN_TOKEN"))
        try Data("id: acme\n".utf8).write(to: file)
        XCTAssertNil(try TenantConfig.load(file.path).adminToken)
        try Data("id: acme\nadmin_token: s3cret-value\n".utf8).write(to: file)
        XCTAssertThrowsError(try TenantConfig.load(file.path)) { error in
            XCTAssertTrue("\(error)".hasSuffix("2:14: secret 'admin_token' must be a reference, ${env:NAME} or ${file:path}; a secret's value never goes into a config file"), "\(error)")
            XCTAssertFalse("\(error)".contains("s3cret-value"))
        }
    }

    func testTheShippedConfigListensOnLoopbackWithTheOperatorsTokenFromTheEnvironment() throws {
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try HostConfig.load(checkout.appendingPathComponent("config/alphaplus.yaml").path)
        XCTAssertEqual(config.http, HTTPSettings(host: "127.0.0.1", port: 8080, adminToken: .environment("ALPHAPLUS_ADMIN_TOKEN")))
        let demo = try TenantConfig.load(checkout.appendingPathComponent("config/tenants/demo.yaml").path)
        XCTAssertEqual(demo.adminToken, .environment("DEMO_ADMIN_TOKEN"))
    }
}
