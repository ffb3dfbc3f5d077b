import Foundation
import XCTest

/// scripts/check-conflict-markers, the first stage of scripts/test: a
/// merge-conflict marker left in any tracked file fails the run, naming
/// the file and line; a markdown or YAML underline of "=" does not.
final class ConflictMarkerCheckTests: XCTestCase {
    private let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/check-conflict-markers")
    // Built, never written out, so this file holds no marker itself.
    private let ours = String(repeating: "<", count: 7), middle = String(repeating: "=", count: 7),
                theirs = String(repeating: ">", count: 7)

    private func repository(_ files: [String: String]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("conflict-check-\(getpid())-\(name.hashValue)")
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        for (path, text) in files { try text.write(to: folder.appendingPathComponent(path), atomically: true, encoding: .utf8) }
        XCTAssertEqual(try run("/usr/bin/git", ["init", "-q"], in: folder).status, 0)
        XCTAssertEqual(try run("/usr/bin/git", ["add", "."], in: folder).status, 0)
        addTeardownBlock { try? FileManager.default.removeItem(at: folder) }
        return folder
    }

    private func run(_ executable: String, _ arguments: [String], in folder: URL) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = folder
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testAConflictInATrackedFileFailsNamingFileAndLine() throws {
        let guide = ["# Guide", "", "Title", middle, "", "text", "\(ours) ours", "one way", middle, "another", "\(theirs) theirs", "end"]
        let folder = try repository(["GUIDE.md": guide.joined(separator: "\n") + "\n", "ok.yaml": "a: 1\n"])
        let result = try run(script.path, [folder.path], in: folder)
        XCTAssertEqual(result.status, 1, result.output)
        XCTAssertEqual(result.output, """
            merge-conflict markers in tracked files (resolve them, then commit):
            GUIDE.md:7: \(ours) ours
            GUIDE.md:9: \(middle)
            GUIDE.md:11: \(theirs) theirs

            """)
    }

    func testUnderlinesAndMarkersInsideALineAreNotConflicts() throws {
        let folder = try repository([
            "README.md": "Title\n\(middle)\n\nSection\n-------\n",
            "notes.txt": "a line with \(ours) inside it\n\(ours)x is not a marker either\n",
        ])
        let result = try run(script.path, [folder.path], in: folder)
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output, "no merge-conflict markers in 2 tracked files\n")
    }

    func testThisCheckoutHasNone() throws {
        let checkout = script.deletingLastPathComponent().deletingLastPathComponent()
        let result = try run(script.path, [], in: checkout)
        XCTAssertEqual(result.status, 0, result.output)
    }
}
