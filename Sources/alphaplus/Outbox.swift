import AlphaPlusHost
import AlphaPlusTime
import ArgumentParser
import Distribution
import Foundation
import HostConfig
import Logging
import PluginRuntime
import Store
import Tenancy
import Timekeeping

/// The output is documented in docs/OPERATIONS.md ("The outbox"); keep the two in step.
struct OutboxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "outbox", abstract: "Inspect and operate the distribution outbox.",
        subcommands: [Status.self, Dead.self, Retry.self, Enable.self, Drain.self])

    /// `--config` / `--store`: which store file.
    struct StoreOption: ParsableArguments {
        @OptionGroup var config: ConfigOption
        @Option(help: "The store file instead of the configuration's store.path.") var store: String?

        func open() throws -> HostStore {
            let path = try store ?? config.load().storePath
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no store at \(path) (alphaplus creates it on first run)")
            }
            do { return try HostStore(path: path, clock: WallClock.realtimeNs) } catch { throw ValidationError("\(error)") }
        }
    }

    struct Status: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deliveries by state per destination, disabled destinations with their reasons, the oldest pending.")
        @OptionGroup var store: StoreOption
        @Option(help: "Only this tenant.") var tenant: String?

        func run() throws {
            let statuses = try store.open().outboxStatus(tenant: tenant)
            if statuses.isEmpty { print("outbox: no destinations" + (tenant.map { " for tenant \($0)" } ?? "")) }
            for status in statuses {
                let destination = status.destination
                let counts = OutboxState.allCases.compactMap { state in status.counts[state].map { "\(state.rawValue) \($0)" } }
                var line = "\(destination.tenant)/\(destination.id) (channel \(destination.channel), tier \(destination.tier)): "
                    + (counts.isEmpty ? "no deliveries" : counts.joined(separator: ", "))
                if let oldest = status.oldestPendingNs { line += "; oldest pending due \(UTCTime.iso8601(ns: oldest))" }
                if !destination.enabled {
                    line += "; DISABLED since \(UTCTime.iso8601(ns: destination.disabledAtNs)): \(destination.disabledReason)"
                }
                print(line)
            }
        }
    }

    struct Dead: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the dead letters with their reasons.")
        @OptionGroup var store: StoreOption
        @Option(help: "Only this tenant.") var tenant: String?

        func run() throws {
            let dead = try store.open().outboxEntries(tenant: tenant, state: .dead)
            for entry in dead {
                print("\(entry.id) \(entry.tenant)/\(entry.destination) \(entry.kind.rawValue) \(entry.subject): "
                      + "\(entry.attempts) attempt\(entry.attempts == 1 ? "" : "s"), dead since \(UTCTime.iso8601(ns: entry.updatedNs)): \(entry.lastError)")
            }
            print("\(dead.count) dead letter\(dead.count == 1 ? "" : "s")")
        }
    }

    struct Retry: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a dead letter (or every one) back to pending; the running host sends it within 5 s.")
        @OptionGroup var store: StoreOption
        @Argument(help: "The dead letter's id (from `outbox dead`).") var id: Int64?
        @Flag(help: "Every dead letter.") var allDead = false
        @Option(help: "With --all-dead: only this tenant's.") var tenant: String?

        func validate() throws {
            guard (id == nil) != !allDead else { throw ValidationError("give a dead letter's id or --all-dead (one of the two)") }
        }

        func run() throws {
            let opened = try store.open()
            do {
                if let id {
                    try opened.retryDeadLetter(id: id, atNs: WallClock.realtimeNs())
                    print("dead letter \(id) is pending again")
                } else {
                    let count = try opened.retryDeadLetters(tenant: tenant, atNs: WallClock.realtimeNs())
                    print("\(count) dead letter\(count == 1 ? " is" : "s are") pending again")
                }
            } catch { throw ValidationError("\(error)") }
        }
    }

    struct Enable: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Enable a disabled destination; its pending deliveries go out (the running host within 5 s).")
        @OptionGroup var store: StoreOption
        @Argument var tenant: String
        @Argument var destination: String

        func run() throws {
            do {
                let changed = try store.open().enableDestination(tenant: tenant, id: destination, atNs: WallClock.realtimeNs())
                print(changed ? "destination \(tenant)/\(destination) is enabled" : "destination \(tenant)/\(destination) was enabled already")
            } catch { throw ValidationError("\(error)") }
        }
    }

    struct Drain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Send every pending delivery that is due through the tenants' channel instances, then exit.",
            discussion: "Exit 0 once only deliveries not due yet (tier delays) or held (destination disabled, channel not running) remain; 1 when --timeout comes first.")
        @OptionGroup var options: ConfigOption
        @Option(help: "Give up after this many seconds.") var timeout: Double = 600

        func run() throws {
            let config = try options.load()
            bootstrapLogging(level: config.logLevel)
            let logger = Logger(label: "alphaplus")
            let clock = WallClock()
            let store: HostStore
            do { store = try HostStore(path: config.storePath, clock: clock.nowNs) } catch { throw ValidationError("\(error)") }
            let services = HostServices.make(config, store: store, clock: clock, logger: logger)
            let registry = PluginRegistry(services: services)
            registry.discover(folders: config.pluginFolders)
            let (tenants, errors) = TenantConfig.loadAll(folder: config.tenantsFolder)
            for error in errors { logger.error("tenant configuration refused: \(error)") }
            enableSubscriptions(services, store: store, tenants: tenants)
            // Only the channel instances: nothing else runs.
            var creations: [ChannelAddress: InstanceCreation] = [:]
            var created: [HostedInstance] = []
            for tenant in tenants {
                let channels = tenant.distribution?.channelInstances ?? []
                for instance in tenant.instances where channels.contains(instance.id) {
                    let creation = createInstance(instance, tenant: tenant.id, file: tenant.file, registry: registry, services: services, logger: logger)
                    creations[ChannelAddress(tenant: tenant.id, instance: instance.id)] = creation
                    if case .created(let channel) = creation { created.append(channel) }
                }
            }
            let distributor = Distributor(tenants: distributions(tenants), outbox: store,
                                          endpoints: channelEndpoints(tenants, creations: creations, logger: logger), clock: clock,
                                          subscriptions: store, options: DistributorOptions(dailySummaries: false),
                                          quotas: config.quotas.quotas(tenants: tenants.map(\.id)))
            do { try distributor.start() } catch { throw ValidationError("the outbox cannot start: \(error)") }
            let report = distributor.drain(timeout: timeout)
            distributor.stop()
            for instance in created.reversed() { instance.destroy() }
            distributor.flush()
            print("outbox drain: \(report.delivered) delivered, \(report.dead) dead letter\(report.dead == 1 ? "" : "s"), \(report.dryRun) dry run")
            if report.future > 0, let earliest = report.earliestFutureNs {
                print("not due yet: \(report.future) (the earliest at \(UTCTime.iso8601(ns: earliest)))")
            }
            for (reason, count) in report.held.sorted(by: { $0.key < $1.key }) { print("held: \(count) (\(reason))") }
            guard report.finished else {
                print("timed out after \(String(format: "%g", timeout)) s with \(report.due) deliveries still due")
                throw ExitCode(1)
            }
        }
    }
}
