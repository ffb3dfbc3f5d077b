import Foundation
import SharedTestData
import XCTest

/// Builds test plugins from Fixtures/fixture_plugin.c with the toolchain's
/// C compiler, into a private temporary folder.
enum PluginFixtures {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let repository = fixtures.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let liveHeaders = repository.appendingPathComponent("sdk/include").path
    static let frozenHeaders = fixtures.appendingPathComponent("abi-1.0").path

    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("alphaplus-fixtures-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return url
    }()

    static let compiler: String = {
        if let cc = ProcessInfo.processInfo.environment["CC"], !cc.isEmpty { return cc }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
        for name in ["clang", "cc", "gcc"] {
            for dir in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(dir)/\(name)") {
                return "\(dir)/\(name)"
            }
        }
        return "cc"
    }()

    /// Compiles a variant; `defines` are -D arguments without the -D.
    static func build(_ name: String, defines: [String] = [], headers: String = liveHeaders) throws -> String {
        let output = folder.appendingPathComponent("\(name).so").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: compiler)
        process.arguments = ["-shared", "-fPIC", "-O1", "-I", headers] + defines.map { "-D\($0)" }
            + [fixtures.appendingPathComponent("fixture_plugin.c").path, "-o", output]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        process.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw NSError(domain: "fixtures", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(compiler) failed for \(name): \(message)"])
        }
        return output
    }

    /// Writes arbitrary bytes as a file in the fixture folder.
    static func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = folder.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A bundled plugin built by `swift build` (scripts/test builds first).
    static func bundled(_ product: String) throws -> String { try AlphaPlusCLI.bundledPlugin(product) }
}
