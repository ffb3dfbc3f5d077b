import AlphaPlusFeeds
import AlphaPlusJSON
import ArgumentParser
import Crypto
import Dispatch
import Foundation
import HostConfig
import Logging
import Tenancy

/// The files beside the store through which a running host and its
/// operator talk: who the host is, how its last reload went, and the
/// host-wide halt switch.
struct HostControlFiles {
    let folder: String

    init(_ config: HostConfig) { folder = (config.storePath as NSString).deletingLastPathComponent }

    var pid: String { folder + "/alphaplus.pid" }
    var reloadStatus: String { folder + "/reload-status.json" }
    /// While it exists, no tenant opens a position.
    var halt: String { folder + "/HALT" }
}

/// What `run` writes after each reload (`reload-status.json`).
struct ReloadStatus: Codable {
    /// Counts reloads since the host started: `tenants reload` waits for it to grow.
    var generation: Int
    var pid: Int32
    var trigger: String
    var at: String
    var applied: Bool
    var changes: [String]
    var errors: [String]
}

/// Reloads the tenant files on SIGHUP, on `alphaplus tenants reload` (which
/// sends SIGHUP) and when the folder's files change (looked at every two
/// seconds): a change is applied once the folder has stayed the same for
/// `settleSeconds`, so a file still being written is not applied half
/// done. Reloads run one at a time. A folder with any invalid file is
/// refused whole: the running configuration stays, and every error is
/// logged and written to `reload-status.json`.
final class TenantReloads: @unchecked Sendable {
    private let config: HostConfig
    private let host: TenantHost
    /// The loaded plugins' config schemas, by plugin id.
    private let plugins: [String: JSONSchema]
    private let logger: Logger
    private let files: HostControlFiles
    private let queue = DispatchQueue(label: "alphaplus.reload")
    private var sources: [any DispatchSourceProtocol] = []
    /// How long the folder's content must stay the same before the
    /// watcher applies a change: longer than the pauses of a writer that
    /// writes a file in steps.
    static let settleSeconds = 6.0
    /// The folder's contents as last reloaded (or refused): a change to
    /// it is what the watcher reacts to. Read and written on `queue`.
    private var fingerprint: SHA256.Digest
    /// A change the watcher has seen but not yet applied: the folder's
    /// contents then, and when it first looked so. Read and written on `queue`.
    private var unsettled: (fingerprint: SHA256.Digest, since: DispatchTime)?
    private var generation = 0

    init(config: HostConfig, host: TenantHost, plugins: [String: JSONSchema], logger: Logger) {
        self.config = config
        self.host = host
        self.plugins = plugins
        self.logger = logger
        files = HostControlFiles(config)
        fingerprint = Self.fingerprint(of: config.tenantsFolder)
    }

    func start() {
        do {
            try "\(getpid())\n".write(toFile: files.pid, atomically: true, encoding: .utf8)
        } catch {
            logger.warning("reload: \(files.pid) cannot be written (\(error)); `alphaplus tenants reload` cannot find this host, SIGHUP still works")
        }
        signal(SIGHUP, SIG_IGN)
        let hangUp = DispatchSource.makeSignalSource(signal: SIGHUP, queue: queue)
        hangUp.setEventHandler { [self] in reload(trigger: "SIGHUP", fingerprint: Self.fingerprint(of: config.tenantsFolder)) }
        let watch = DispatchSource.makeTimerSource(queue: queue)
        watch.schedule(deadline: .now() + 2, repeating: 2)
        watch.setEventHandler { [self] in
            let now = Self.fingerprint(of: config.tenantsFolder)
            guard now != fingerprint else {
                unsettled = nil
                return
            }
            guard let seen = unsettled, seen.fingerprint == now else {
                unsettled = (now, .now())
                return
            }
            if DispatchTime.now() >= seen.since + Self.settleSeconds {
                reload(trigger: "a change in \(config.tenantsFolder)", fingerprint: now)
            }
        }
        for source in [hangUp, watch] as [any DispatchSourceProtocol] { source.resume() }
        sources = [hangUp, watch]
    }

    func stop() {
        queue.sync {
            for source in sources { source.cancel() }
            sources = []
        }
        // Only our own pid file: another host may have taken the folder since.
        if (try? String(contentsOfFile: files.pid, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) == "\(getpid())" {
            try? FileManager.default.removeItem(atPath: files.pid)
        }
    }

    /// On `queue`; `fingerprint` is the folder's as it is read now.
    private func reload(trigger: String, fingerprint: SHA256.Digest) {
        self.fingerprint = fingerprint
        unsettled = nil
        generation += 1
        let (tenants, errors, warnings) = TenantConfig.loadValidated(folder: config.tenantsFolder, plugins: plugins, quotas: config.quotas,
                                                                     secretFiles: config.secretFiles)
        let outcome: TenantHost.ReloadOutcome
        if errors.isEmpty {
            for warning in warnings { logger.warning("reload (\(trigger)): \(warning)") }
            outcome = host.reload(tenants)
            if outcome.changes.isEmpty {
                logger.notice("reload (\(trigger)): nothing changed")
            } else {
                for line in outcome.changes { logger.notice("reload (\(trigger)): \(line)") }
            }
        } else {
            outcome = TenantHost.ReloadOutcome(applied: false, changes: [], errors: errors.map(\.description))
            for error in errors { logger.error("reload (\(trigger)) refused: \(error)") }
            logger.error("reload (\(trigger)) refused: the running configuration stays as it was")
        }
        let status = ReloadStatus(generation: generation, pid: getpid(), trigger: trigger, at: UTCTime.iso8601(ns: wallClockNs()),
                                  applied: outcome.applied, changes: outcome.changes, errors: outcome.errors)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            try encoder.encode(status).write(to: URL(fileURLWithPath: files.reloadStatus), options: .atomic)
        } catch {
            logger.warning("reload: \(files.reloadStatus) cannot be written: \(error)")
        }
    }

    /// SHA-256 over the names and contents of the folder's tenant files;
    /// a file over the size limit (or no regular file) counts by its
    /// problem, as a reload would refuse it: never read whole.
    static func fingerprint(of folder: String) -> SHA256.Digest {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted()
        var hash = SHA256()
        for name in names {
            hash.update(data: Data(name.utf8))
            do {
                hash.update(data: try BoundedFile.read((folder as NSString).appendingPathComponent(name), limit: YAMLLimits.fileBytes))
            } catch {
                hash.update(data: Data(error.message.utf8))
            }
        }
        return hash.finalize()
    }
}

/// `alphaplus tenants reload`: asks the running host (its pid file beside
/// the store) to reload the tenant files, waits for its answer and prints it.
struct TenantsReload: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reload",
        abstract: "Make the running host reload the tenant files; prints what changed, or why the reload was refused.",
        discussion: "Exit 0 when the host applied the files, 1 when it refused them (the running configuration stays), 2 when no host answered.")
    @OptionGroup var options: ConfigOption
    @Option(help: "Seconds to wait for the host's answer.") var timeout: Double = 30

    func run() throws {
        let files = HostControlFiles(try options.load())
        guard let text = try? String(contentsOfFile: files.pid, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else {
            print("no running host: \(files.pid) is missing (is `alphaplus run` running with this --config?)")
            throw ExitCode(2)
        }
        // A status left by an earlier host (another pid) counts as none.
        let before = Self.status(files).flatMap { $0.pid == pid ? $0.generation : nil } ?? 0
        guard kill(pid, SIGHUP) == 0 else {
            print("no running host: process \(pid) from \(files.pid) cannot be signalled (\(String(cString: strerror(errno))))")
            throw ExitCode(2)
        }
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let status = Self.status(files), status.pid == pid, status.generation > before {
                if status.applied {
                    print(status.changes.isEmpty ? "reloaded: nothing changed" : "reloaded:")
                    for line in status.changes { print("  \(line)") }
                    return
                }
                print("refused: the running configuration stays as it was")
                for line in status.errors { print("  \(line)") }
                throw ExitCode(1)
            }
            Thread.sleep(forTimeInterval: 0.1)
        }
        print("host \(pid) did not answer within \(String(format: "%g", timeout)) s (see its log)")
        throw ExitCode(2)
    }

    private static func status(_ files: HostControlFiles) -> ReloadStatus? {
        guard let data = FileManager.default.contents(atPath: files.reloadStatus) else { return nil }
        return try? JSONDecoder().decode(ReloadStatus.self, from: data)
    }
}
