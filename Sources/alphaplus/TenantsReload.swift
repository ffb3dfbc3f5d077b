import AlphaPlusHost
import ArgumentParser
import Foundation

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
