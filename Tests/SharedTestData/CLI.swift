import Foundation
import XCTest

/// Runs the built `alphaplus` executable as an operator would.
public enum AlphaPlusCLI {
    public struct Result {
        public var status: Int32
        public var out: String
        public var err: String
    }

    /// The build products folder the test binary runs from.
    public static let products: URL = {
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        if url.pathExtension == "xctest" { url.deleteLastPathComponent() }
        return url
    }()

    /// The `alphaplus` executable; skips the test when it is missing.
    public static func executable() throws -> String {
        let binary = products.appendingPathComponent("alphaplus").path
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw XCTSkip("\(binary) is missing: run `swift build` before `swift test` (scripts/test does)")
        }
        return binary
    }

    /// A bundled plugin (`lib<product>.so`) built by `swift build`, which
    /// scripts/test runs first; skips the test when it is missing.
    public static func bundledPlugin(_ product: String) throws -> String {
        let path = products.appendingPathComponent("lib\(product).so").path
        guard FileManager.default.fileExists(atPath: path) else {
            throw XCTSkip("\(path) is missing: run `swift build` before `swift test` (scripts/test does)")
        }
        return path
    }

    /// Runs it with `arguments`, in `folder` when given.
    public static func run(_ arguments: [String], in folder: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try executable())
        process.arguments = arguments
        if let folder { process.currentDirectoryURL = URL(fileURLWithPath: folder) }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // stdout first: the commands write little to stderr (under a pipe's 64 KiB).
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, out: String(decoding: outData, as: UTF8.self),
                      err: String(decoding: errData, as: UTF8.self))
    }
}
