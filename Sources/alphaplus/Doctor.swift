import ArgumentParser
import Foundation
import HostConfig
import HTTPClient
import PluginRuntime

/// Checks what the host needs from the system and says how to get it.
struct Doctor: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check the system libraries and servers the host needs.")
    @OptionGroup var options: ConfigOption

    struct Check: Sendable {
        let name: String
        let purpose: String
        let present: @Sendable () -> Bool
        let remedy: String
        var required = true
    }

    static let includeFolders = ["/usr/include", "/usr/local/include", "/usr/include/x86_64-linux-gnu", "/usr/include/aarch64-linux-gnu"]

    static func header(_ relative: String) -> @Sendable () -> Bool {
        { includeFolders.contains { FileManager.default.fileExists(atPath: "\($0)/\(relative)") } }
    }

    static func executable(_ name: String) -> @Sendable () -> Bool {
        {
            (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
                .contains { FileManager.default.isExecutableFile(atPath: "\($0)/\(name)") }
        }
    }

    static let checks = [
        Check(name: "SQLite (libsqlite3-dev)", purpose: "the embedded store", present: header("sqlite3.h"),
              remedy: "apt-get install libsqlite3-dev"),
        Check(name: "hiredis (libhiredis-dev)", purpose: "Redis Streams scale-out", present: header("hiredis/hiredis.h"),
              remedy: "apt-get install libhiredis-dev"),
        Check(name: "OpenSSL (libssl-dev)", purpose: "webhook signatures and TLS", present: header("openssl/ssl.h"),
              remedy: "apt-get install libssl-dev"),
        Check(name: "libcurl (libcurl4-openssl-dev)", purpose: "the host's HTTP client service", present: header("curl/curl.h"),
              remedy: "apt-get install libcurl4-openssl-dev"),
        Check(name: "redis-server", purpose: "multi-host mode and its tests (optional for the embedded default)",
              present: executable("redis-server"), remedy: "apt-get install redis-server", required: false),
    ]

    func run() throws {
        var missing = 0
        for check in Self.checks {
            let ok = check.present()
            if !ok && check.required { missing += 1 }
            print("\(ok ? "ok     " : "missing") \(check.name): \(check.purpose)\(ok ? "" : " — install: \(check.remedy)")")
        }
        do {
            let config = try HostConfig.load(options.config)
            for folder in config.pluginFolders {
                let exists = FileManager.default.fileExists(atPath: folder)
                print("\(exists ? "ok     " : "missing") plugin folder \(folder)\(exists ? "" : " — build with `swift build -c release` or create it")")
            }
        } catch {
            missing += 1
            print("error   \(error)")
        }
        print("linked \(HTTPClient.libcurlVersion)")
        print("plugin ABI \(ABI.major).\(ABI.minor), host toolchain \(ABI.swiftToolchain)")
        if missing > 0 { throw ExitCode(1) }
    }
}
