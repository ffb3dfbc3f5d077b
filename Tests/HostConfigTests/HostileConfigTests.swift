import AlphaPlusJSON
import Foundation
import HostConfig
import SharedTestData
import XCTest

/// Configuration files as an attacker or a careless operator writes them:
/// too deep, alias bombs, too large, not regular files, ids that would
/// become paths or forge log lines, secrets outside the tenant's folders.
/// Each is refused with an error naming the file (and line and column),
/// in bounded time and memory, never a crash.
final class HostileConfigTests: XCTestCase {
    private var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("hostile-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDown() {
        try? FileManager.default.removeItem(at: folder)
    }

    @discardableResult
    private func write(_ text: String, as name: String = "acme.yaml") throws -> String {
        let path = folder.appendingPathComponent(name).path
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// The file's only error, as `file:line:column: message`.
    private func onlyError(_ path: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        let parsed = TenantFile(parsing: path)
        XCTAssertEqual(parsed.errors.count, 1, "\(parsed.errors)", file: file, line: line)
        return parsed.errors.first?.description ?? ""
    }

    /// The process's peak resident size so far, in bytes.
    private var peakResidentBytes: Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss * 1024
    }

    // MARK: Finding 2: depth, aliases and size, checked before the YAML library composes the file

    func testAFileOf5000NestedBracketsIsRefusedAtTheDepthLimit() throws {
        let path = try write("id: acme\nx: " + String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000) + "\n")
        // The top-level mapping is the first level: the 64th list, at column 4 + 63, is the 65th.
        XCTAssertEqual(onlyError(path), "\(path):2:67: nests mappings and lists deeper than 64 levels, the limit of a configuration file")

        // Block style counts the same: 65 nested mappings.
        let block = (0..<65).map { String(repeating: "  ", count: $0) + "k\($0):" }.joined(separator: "\n") + " x\n"
        let blockPath = try write("id: acme\n" + block, as: "block.yaml")
        XCTAssertTrue(onlyError(blockPath).contains("deeper than 64 levels"), onlyError(blockPath))

        // 64 levels (the mapping and 63 lists), the limit itself, are read.
        let deepest = try write("id: acme\nx: " + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "\n", as: "deepest.yaml")
        let file = TenantFile(parsing: deepest)
        XCTAssertEqual(file.errors.first?.message.contains("deeper"), false, "\(file.errors)")
    }

    func testAnAliasBombIsRefusedInBoundedTimeAndMemory() throws {
        // 439 bytes that expand to 9^9 values.
        var lines = ["id: acme", "a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
        for level in 1...8 {
            lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 9).joined(separator: ", ") + "]")
        }
        let path = try write(lines.joined(separator: "\n") + "\n")
        let peakBefore = peakResidentBytes
        let start = Date()
        // 9^5 nodes are over the limit: refused on the line of a5.
        XCTAssertEqual(onlyError(path), "\(path):7:10: expands to more than 100000 nodes (aliases included), the limit of a configuration file")
        XCTAssertLessThan(Date().timeIntervalSince(start), 2)
        XCTAssertLessThan(peakResidentBytes - peakBefore, 64 << 20, "the bomb was expanded")

        // Few nodes, large values: 40 aliases of a 512 KiB value are 20 MiB.
        let large = String(repeating: "x", count: 512 << 10)
        let wide = try write("id: acme\nbig: &big \(large)\ncopies: [" + Array(repeating: "*big", count: 40).joined(separator: ", ") + "]\n",
                             as: "wide.yaml")
        XCTAssertTrue(onlyError(wide).hasSuffix("expands to more than 16 MiB of values (aliases included), the limit of a configuration file"),
                      onlyError(wide))

        // Aliases within the limits are what YAML is for: read.
        let modest = try write("""
            id: acme
            instances:
              - { id: one, plugin: com.alphaplus.head-rules, settings: &rules { rules: ["rsi_14 < 30 -> long 0.8"] } }
              - { id: two, plugin: com.alphaplus.head-rules, settings: *rules }

            """, as: "modest.yaml")
        let file = TenantFile(parsing: modest)
        XCTAssertEqual(file.errors, [])
        XCTAssertEqual(file.tenant?.instances.map(\.settings), file.tenant.map { Array(repeating: $0.instances[0].settings, count: 2) })
    }

    func testAFileOverTheSizeLimitOrNotARegularFileIsRefusedUnread() throws {
        let path = folder.appendingPathComponent("acme.yaml").path
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data("id: acme\n".utf8)))
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.truncate(atOffset: UInt64(100 << 20))  // sparse: 100 MiB that are never read
        try handle.close()
        XCTAssertEqual(onlyError(path), "\(path): is larger than 1 MiB, the limit")

        // A FIFO would block a plain read until a writer came: refused at once.
        let fifo = folder.appendingPathComponent("fifo.yaml").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        XCTAssertEqual(onlyError(fifo), "\(fifo): is not a regular file")

        // The host file is held to the same limits.
        XCTAssertEqual(HostConfigFiles.failure("log_level: " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)),
                       "1:75: nests mappings and lists deeper than 64 levels, the limit of a configuration file")
    }

    // MARK: Finding 4: one identifier rule

    func testIDsThatWouldBePathsOrForgeLogLinesAreRefusedAtTheirLine() throws {
        let text = """
            id: acme
            instances:
              - { id: "../../x", plugin: com.alphaplus.head-rules }
              - { id: "", plugin: com.alphaplus.head-rules }
              - { id: "rules\\n[2026-01-01] forged line", plugin: com.alphaplus.head-rules }
              - { id: Rules, plugin: com.alphaplus.head-rules }
              - { id: channel, plugin: com.alphaplus.channel-discord }
            distribution:
              tiers: { "pre mium": 0 }

            """
        let path = try write(text)
        let file = TenantFile(parsing: path)
        let rule = "is not a valid identifier (\(Identifier.rule))"
        XCTAssertEqual(file.errors.map(\.description), [
            "\(path):3:11: instance id \"../../x\" \(rule)",
            "\(path):4:11: instance id \"\" \(rule)",
            "\(path):5:11: instance id \"rules\\n[2026-01-01] forged line\" \(rule)",
            "\(path):6:11: instance id \"Rules\" \(rule)",
            "\(path):9:12: tier name \"pre mium\" \(rule)",
        ])
        XCTAssertFalse(file.diagnostics.joined().contains("\n"), "an error is one line")

        let destinations = try write("""
            id: acme
            instances:
              - { id: channel, plugin: com.alphaplus.channel-discord }
            distribution:
              tiers: { free: 0 }
              destinations:
                - { id: ../x, channel: channel, tier: free, target: {} }

            """, as: "destinations.yaml")
        XCTAssertEqual(onlyError(destinations), "\(destinations):7:13: destination id \"../x\" \(rule)")

        XCTAssertEqual(HostConfigFiles.failure("quotas:\n  tenants: { \"../acme\": { symbols: 1 } }\n"),
                       "2:14: quotas.tenants: tenant id \"../acme\" \(rule)")
        XCTAssertTrue(Identifier.isValid("acme-2_b"))
        XCTAssertFalse(Identifier.isValid(String(repeating: "a", count: 64)))
    }

    // MARK: Finding 5: secret files confined to the tenant's folders, bounded

    /// A host file in `folder` with the default secret folders
    /// (`secrets/{tenant}` beside it), and the acme tenant file naming
    /// `reference` as its bot token.
    private func validateSecret(_ reference: String, environment: [String: String] = [:]) throws -> TenantFile {
        let host = try write("tenants_folder: tenants\n", as: "alphaplus.yaml")
        let config = try HostConfig.load(host)
        XCTAssertEqual(config.secretFiles.folders(of: "acme"), [folder.appendingPathComponent("secrets/acme").path])
        let path = try write("""
            id: acme
            instances:
              - id: telegram
                plugin: com.alphaplus.channel-telegram
                secrets:
                  bot_token: \(reference)

            """, as: "tenants/acme.yaml")
        var file = TenantFile(parsing: path)
        file.validate(plugins: ["com.alphaplus.channel-telegram": try JSONSchema(parsing: "{}")], environment: environment,
                      secretFiles: config.secretFiles)
        return file
    }

    func testASecretFileOutsideTheTenantsFolderIsRefusedNamingTheReference() throws {
        let ownSecret = try write("123:own-token\n", as: "secrets/acme/bot_token")
        XCTAssertEqual(try validateSecret("${file:../secrets/acme/bot_token}").errors, [], "the tenant's own folder")
        XCTAssertEqual(try TenantConfig.load(folder.appendingPathComponent("tenants/acme.yaml").path).instances[0]
                        .resolveSecrets(tenant: "acme", environment: [:]), ["bot_token": "123:own-token"])

        let otherTenants = try write("123:beta-token\n", as: "secrets/beta/bot_token")
        let outside = try write("123:outside\n", as: "elsewhere/bot_token")
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("secrets/acme/link").path, withDestinationPath: otherTenants)
        try FileManager.default.createSymbolicLink(atPath: folder.appendingPathComponent("secrets/acme/environ").path,
                                                   withDestinationPath: "/proc/self/environ")
        let refused = [
            "${file:/proc/self/environ}",
            "${file:\(otherTenants)}",
            "${file:\(outside)}",
            "${file:../secrets/acme/../beta/bot_token}",  // `..` out of the folder
            "${file:../secrets/acme/link}",  // a link out of it
            "${file:../secrets/acme/environ}",
        ]
        for reference in refused {
            let file = try validateSecret(reference)
            XCTAssertEqual(file.errors.count, 1, "\(reference): \(file.errors)")
            let error = file.errors.first?.description ?? ""
            XCTAssertTrue(error.hasPrefix("\(file.path):6:18: tenant acme, instance telegram (plugin com.alphaplus.channel-telegram): secret 'bot_token': ${file:"),
                          error)
            XCTAssertTrue(error.contains("is not a file in the tenant's secret folders (\(folder.appendingPathComponent("secrets/acme").path))"), error)
            for content in ["123:beta-token", "123:outside", "PATH="] { XCTAssertFalse(error.contains(content), error) }
        }
        XCTAssertEqual(try String(contentsOfFile: ownSecret, encoding: .utf8), "123:own-token\n")

        // A folder that is not the tenant's own is refused in the host file.
        XCTAssertEqual(HostConfigFiles.failure("secrets: { files: [/run/secrets] }\n"),
                       "1:20: secrets.files: '/run/secrets' has no {tenant}: each tenant's secret files are in a folder of its own, e.g. secrets/{tenant}")
        XCTAssertEqual(try HostConfigFiles.load("secrets:\n  files:\n    - /run/secrets/{tenant}\n    - \"/srv/{tenant}/keys\"\n").secretFiles.folders(of: "acme"),
                       ["/run/secrets/acme", "/srv/acme/keys"])
    }

    func testAnOverSizeSecretFileIsRefusedWithoutReadingItWholeOrShowingIt() throws {
        let path = try write("", as: "secrets/acme/bot_token")
        let handle = try XCTUnwrap(FileHandle(forWritingAtPath: path))
        try handle.write(contentsOf: Data("SECRET-MARKER".utf8))
        try handle.truncate(atOffset: UInt64(100 << 20))  // 100 MiB, sparse
        try handle.close()
        let peakBefore = peakResidentBytes
        let file = try validateSecret("${file:../secrets/acme/bot_token}")
        XCTAssertLessThan(peakResidentBytes - peakBefore, 32 << 20, "the file was read whole")
        XCTAssertEqual(file.errors.map(\.description), [
            "\(file.path):6:18: tenant acme, instance telegram (plugin com.alphaplus.channel-telegram): secret 'bot_token' is not set "
                + "(${file:\(path)} is larger than 64 KiB, the limit)",
        ])
        let instance = try XCTUnwrap(file.tenant?.instances.first)
        XCTAssertThrowsError(try instance.resolveSecrets(tenant: "acme", environment: [:])) { error in
            XCTAssertTrue("\(error)".contains("is larger than 64 KiB, the limit"), "\(error)")
            XCTAssertFalse("\(error)".contains("SECRET-MARKER"), "\(error)")
        }

        // 64 KiB is the limit itself; a FIFO is refused at once instead of waiting for a writer.
        try Data(repeating: UInt8(ascii: "k"), count: 64 << 10).write(to: URL(fileURLWithPath: path))
        XCTAssertEqual(try instance.resolveSecrets(tenant: "acme", environment: [:])["bot_token"]?.utf8.count, 64 << 10)
        try FileManager.default.removeItem(atPath: path)
        XCTAssertEqual(mkfifo(path, 0o600), 0)
        XCTAssertTrue(try validateSecret("${file:../secrets/acme/bot_token}").errors.first?.message.hasSuffix("is not a regular file)") == true)
    }
}
