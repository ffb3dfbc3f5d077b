import AlphaPlusSDK
import FakeChannelServers
import Foundation
import XCTest

/// `openssl s_server` on 127.0.0.1 with a certificate no authority signed:
/// a client that verifies certificates must refuse it.
final class SelfSignedTLSServer {
    let port: UInt16
    private let process = Process()

    init() throws {
        let openssl = "/usr/bin/openssl"
        guard FileManager.default.isExecutableFile(atPath: openssl) else {
            throw XCTSkip("\(openssl) is missing (apt-get install openssl): the TLS verification test needs it to serve a self-signed certificate")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("alphaplus-tls-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let key = folder.appendingPathComponent("key.pem").path, certificate = folder.appendingPathComponent("cert.pem").path
        let generate = Process()
        generate.executableURL = URL(fileURLWithPath: openssl)
        generate.arguments = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate,
                              "-subj", "/CN=127.0.0.1", "-days", "1"]
        generate.standardError = FileHandle.nullDevice
        try generate.run()
        generate.waitUntilExit()
        guard generate.terminationStatus == 0 else { throw XCTSkip("openssl could not make a self-signed certificate") }

        // A port the kernel just handed out and nobody holds any more.
        let probe = try LoopbackServer(ScriptedPlatform { _ in HTTPResponse(status: 200) })
        port = probe.port
        probe.stop()

        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", certificate, "-key", key, "-www"]
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        // s_server prints ACCEPT once it listens.
        let ready = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            var seen = ""
            while !seen.contains("ACCEPT") {
                let data = output.fileHandleForReading.availableData
                if data.isEmpty { return }
                seen += String(decoding: data, as: UTF8.self)
            }
            ready.signal()
        }
        guard ready.wait(timeout: .now() + 10) == .success else {
            stop()
            throw NSError(domain: "tls", code: 1, userInfo: [NSLocalizedDescriptionKey: "openssl s_server did not start on port \(port)"])
        }
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        process.waitUntilExit()
    }
}
