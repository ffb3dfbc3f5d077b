import AlphaPlusTime
import AlphaPlusJSON
import Crypto
import Dispatch
import Foundation
import HostConfig
import Logging
import Tenancy
import Timekeeping

/// The files beside the store through which a running host and its
/// operator talk: who the host is, how its last reload went, and the
/// host-wide halt switch.
public struct HostControlFiles: Sendable {
    public let folder: String

    public init(_ config: HostConfig) { folder = (config.storePath as NSString).deletingLastPathComponent }

    public var pid: String { folder + "/alphaplus.pid" }
    public var reloadStatus: String { folder + "/reload-status.json" }
    /// While it exists, no tenant opens a position.
    public var halt: String { folder + "/HALT" }
}

/// What `run` writes after each reload (`reload-status.json`).
public struct ReloadStatus: Codable, Sendable {
    /// Counts reloads since the host started: `tenants reload` waits for it to grow.
    public var generation: Int
    public var pid: Int32
    public var trigger: String
    public var at: String
    public var applied: Bool
    public var changes: [String]
    public var errors: [String]
}

/// Reloads the tenant files on SIGHUP, on `alphaplus tenants reload` (which
/// sends SIGHUP) and when the folder's files change (looked at every two
/// seconds): a change is applied once the folder has stayed the same for
/// `settleSeconds`, so a file still being written is not applied half
/// done. Reloads run one at a time. A folder with any invalid file is
/// refused whole: the running configuration stays, and every error is
/// logged and written to `reload-status.json`.
// @unchecked: the sources, fingerprint and generation are touched on `queue` only.
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
        let status = ReloadStatus(generation: generation, pid: getpid(), trigger: trigger, at: UTCTime.iso8601(ns: WallClock.realtimeNs()),
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
