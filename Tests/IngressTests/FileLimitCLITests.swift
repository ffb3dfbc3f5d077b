import Foundation
import SharedTestData
import XCTest

/// `alphaplus run` started with an open-file limit of 400: more connections
/// than the limit are opened against it. The server holds no more than the
/// limit less `reserved_files`, refuses the rest at once with a 503, and
/// stays up: /healthz answers again once the held connections close.
final class FileLimitCLITests: XCTestCase {
    private static let fileLimit = 400
    private var folder: URL!
    private var process: Process?
    private var sockets: [Int32] = []

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ingress-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("tenants"), withIntermediateDirectories: true)
        _ = try AlphaPlusCLI.bundledPlugin("ap-head-technical")
        try """
            plugins: { folders: ["\(AlphaPlusCLI.products.path)"] }
            tenants_folder: tenants
            store: { path: store.sqlite }
            http:
              listen: 127.0.0.1:0
              admin_token: ${env:INGRESS_TEST_OPERATOR_TOKEN}
              max_connections: 1024
              max_connections_per_source: 1024
              reserved_files: 256
            """.write(to: folder.appendingPathComponent("alphaplus.yaml"), atomically: true, encoding: .utf8)
        try """
            id: acme
            instances:
              - { id: technical, plugin: com.alphaplus.head-technical }
            """.write(to: folder.appendingPathComponent("tenants/acme.yaml"), atomically: true, encoding: .utf8)
    }

    override func tearDown() {
        sockets.forEach { close($0) }
        if let process, process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    func testAtItsFileLimitTheServerRefusesNewConnectionsAtOnceAndStaysUp() throws {
        let token = "op-\(UUID().uuidString)"
        let logFile = folder.appendingPathComponent("host.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -n \(Self.fileLimit) && exec \"$0\" \"$@\"", try AlphaPlusCLI.executable(),
                             "run", "--config", folder.appendingPathComponent("alphaplus.yaml").path]
        process.environment = ProcessInfo.processInfo.environment.merging(["INGRESS_TEST_OPERATOR_TOKEN": token]) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: logFile)
        process.standardError = try FileHandle(forWritingTo: logFile)
        try process.run()
        self.process = process
        let log = { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }
        var port = 0
        XCTAssertTrue(eventually(timeout: 30) {
            guard let match = log().firstMatch(of: #/http: listening on 127\.0\.0\.1:([0-9]+)/#) else { return !process.isRunning }
            port = Int(match.1) ?? 0
            return true
        })
        XCTAssertNotEqual(port, 0, log())
        let cap = Self.fileLimit - 256
        XCTAssertTrue(eventually { log().contains("http: at most \(cap) connections (max_connections 1024; open-file limit 400 less 256 reserved), 1024 per source") },
                      log())
        XCTAssertEqual(try RawHTTP.send(port: port, method: "GET", target: "/healthz", body: nil).status, 200)

        // More connections than the host has files: the first `cap` are held, every other one refused at once.
        for _ in 0..<(Self.fileLimit + 100) { sockets.append(try RawHTTP.connect(port: port, timeout: 5)) }
        var refused = Set<Int32>()
        XCTAssertTrue(eventually(timeout: 20) {
            for socket in self.sockets where !refused.contains(socket) {
                var buffer = [UInt8](repeating: 0, count: 512)
                let n = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
                if n > 0, String(decoding: buffer[..<n], as: UTF8.self).hasPrefix("HTTP/1.1 503 ") { refused.insert(socket) }
            }
            return refused.count >= self.sockets.count - cap
        }, "\(refused.count) refused of \(sockets.count)")
        XCTAssertEqual(refused.count, sockets.count - cap, "exactly the connections over the cap are refused")
        XCTAssertTrue(process.isRunning, log())
        XCTAssertEqual(try RawHTTP.send(port: port, method: "GET", target: "/healthz", body: nil).status, 503, "at the cap, refused")

        sockets.forEach { close($0) }
        sockets = []
        XCTAssertTrue(eventually(timeout: 10) { (try? RawHTTP.send(port: port, method: "GET", target: "/healthz", body: nil).status) == 200 },
                      log())
        XCTAssertEqual(try RawHTTP.send(port: port, method: "GET", target: "/admin/v1/tenants",
                                        headers: [("Authorization", "Bearer \(token)")], body: nil).status, 200)
        let refusalLines = log().components(separatedBy: "\n").filter { $0.contains("refused: \(cap) connections are open, the server's limit") }
        XCTAssertEqual(refusalLines.count, 5, "the first refusals in full, the rest counted")
        process.terminate()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, log())
        // The summary at the stop: every refusal but the 5 logged (and /healthz asked while the closes were on their way).
        let summary = try XCTUnwrap(log().firstMatch(of: #/more refusals not logged in the last 60 s \(connection_limit: ([0-9]+)\)/#), log())
        XCTAssertGreaterThanOrEqual(Int(summary.1) ?? 0, refused.count + 1 - 5)
    }
}
