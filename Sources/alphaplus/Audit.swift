import ArgumentParser
import Foundation
import Store
import Timekeeping

struct Audit: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check the store's hash-chained audit log.", subcommands: [Verify.self])

    /// The output is documented in docs/OPERATIONS.md ("The store"); keep the two in step.
    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the audit log's chain and the stored records against it; exit 1 listing every problem.")
        @OptionGroup var config: ConfigOption
        @Option(help: "The store file instead of the configuration's store.path.") var store: String?

        func run() throws {
            let path = try store ?? config.load().storePath
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("no store at \(path) (alphaplus creates it on first run)")
            }
            let report: AuditReport
            do {
                report = try AuditVerifier(store: HostStore(path: path, clock: WallClock.realtimeNs)).verify()
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                throw ExitCode(1)
            }
            if report.isIntact {
                print("audit log: \(counted(report.rows, "row")), chain intact" + (report.headHash.map { ", head \($0)" } ?? ""))
                return
            }
            for problem in report.problems { print(problem) }
            print("audit log: \(counted(report.rows, "row")), \(counted(report.problems.count, "problem"))")
            throw ExitCode(1)
        }
    }
}
