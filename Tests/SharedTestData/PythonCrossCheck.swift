import Foundation

/// Runs a cross-check script kept in the repository with python3 against an
/// independent implementation from PyPI. The input goes as JSON in a
/// temporary file (the script's one argument), the answer comes back as JSON
/// on stdout. A missing python3 or package fails the test, never skips it:
/// scripts/test installs them (scripts/lib.sh CROSS_CHECK_PYTHON_PACKAGES).
public enum PythonCrossCheck {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// `packages` names what the script imports, for the failure message.
    public static func run(_ script: URL, input: Data, packages: String) throws -> Data {
        let inputFile = FileManager.default.temporaryDirectory.appendingPathComponent("crosscheck-\(UUID().uuidString).json")
        try input.write(to: inputFile)
        defer { try? FileManager.default.removeItem(at: inputFile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", script.path, inputFile.path]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        do {
            try process.run()
        } catch {
            throw Failure(description: "cannot run python3 for \(script.lastPathComponent): \(error); the cross-checks need python3 with \(packages) (scripts/test installs them)")
        }
        // The answer is read before stderr, which the scripts write only on failure.
        let answer = out.fileHandleForReading.readDataToEndOfFile()
        let diagnostics = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "python3 \(script.lastPathComponent) exited with \(process.terminationStatus): \(diagnostics.suffix(2000))"
                + "\nthe cross-checks need python3 with \(packages): scripts/test installs them (scripts/lib.sh CROSS_CHECK_PYTHON_PACKAGES)")
        }
        return answer
    }
}
