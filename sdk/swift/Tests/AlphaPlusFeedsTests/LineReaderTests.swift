import AlphaPlusFeeds
import Foundation
import XCTest

final class LineReaderTests: XCTestCase {
    private func lines(of path: String) throws -> [String] {
        var result: [String] = []
        try LineReader(path: path).forEachLine { line, number in
            XCTAssertEqual(number, result.count + 1)
            result.append(String(decoding: line, as: UTF8.self))
            return true
        }
        return result
    }

    private func temporaryFile(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "line-reader-\(UUID().uuidString).txt"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    func testSplitsLinesDropsCarriageReturnsAndKeepsAnUnterminatedLastLine() throws {
        let path = try temporaryFile("a,b\r\n\nlast")
        XCTAssertEqual(try lines(of: path), ["a,b", "", "last"])
    }

    func testLinesLongerThanTheBufferAndAcrossRefillsArriveWhole() throws {
        let long = String(repeating: "x", count: 700_000)
        let many = (0..<50_000).map { "row \($0)" }
        let path = try temporaryFile(([long] + many).joined(separator: "\n") + "\n")
        let read = try lines(of: path)
        XCTAssertEqual(read.count, 50_001)
        XCTAssertEqual(read.first, long)
        XCTAssertEqual(Array(read.dropFirst()), many)
    }

    func testReadsGzip() throws {
        let plain = try temporaryFile("one\ntwo\n")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-k", plain]
        try process.run()
        process.waitUntilExit()
        addTeardownBlock { try? FileManager.default.removeItem(atPath: plain + ".gz") }
        XCTAssertEqual(try lines(of: plain + ".gz"), ["one", "two"])
    }

    func testStopsWhenTheBodySaysSo() throws {
        let path = try temporaryFile("1\n2\n3\n")
        var seen = 0
        try LineReader(path: path).forEachLine { _, _ in seen += 1; return seen < 2 }
        XCTAssertEqual(seen, 2)
    }

    func testAMissingFileIsAnErrorNamingIt() {
        XCTAssertThrowsError(try LineReader(path: "/nonexistent/bars.csv").forEachLine { _, _ in true }) { error in
            XCTAssertEqual("\(error)", "/nonexistent/bars.csv:0: cannot open the file")
        }
    }
}
