import Foundation
import MarketData
import XCTest

/// sdk/include/alphaplus/frame_layout.h is how a C author learns the
/// standard frame columns: it must say what the host makes
/// (`FrameProducer.indicatorNames`, `FrameProducer.layoutID`), so the two
/// cannot drift apart.
final class FrameLayoutHeaderTests: XCTestCase {
    private var header: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("sdk/include/alphaplus/frame_layout.h")
    }

    func testTheHeaderListsTheHostsColumnsLayoutIDAndCount() throws {
        let text = try String(contentsOf: header, encoding: .utf8)
        let host = FrameProducer.indicatorNames

        // `#define AP_IND_<NAME> <index> /* "<name>" ...`, in file order.
        let constants = try NSRegularExpression(pattern: #"^#define AP_IND_\w+ (\d+)\s+/\* "([^"]+)""#, options: .anchorsMatchLines)
        let listed = constants.matches(in: text, range: NSRange(text.startIndex..., in: text)).map { match in
            (index: Int(text[Range(match.range(at: 1), in: text)!])!, name: String(text[Range(match.range(at: 2), in: text)!]))
        }
        XCTAssertEqual(listed.map(\.name), host, "the AP_IND_ constants' names, in order")
        XCTAssertEqual(listed.map(\.index), Array(host.indices), "each AP_IND_ constant is its name's index in the host's frames")

        let namesMacro = try XCTUnwrap(text.range(of: "#define AP_STANDARD_INDICATOR_NAMES {").map { text[$0.upperBound...] })
        let body = String(namesMacro[..<namesMacro.firstIndex(of: "}")!])
        let quoted = try NSRegularExpression(pattern: #""([^"]+)""#)
        XCTAssertEqual(quoted.matches(in: body, range: NSRange(body.startIndex..., in: body)).map { String(body[Range($0.range(at: 1), in: body)!]) },
                       host, "AP_STANDARD_INDICATOR_NAMES")

        XCTAssertTrue(text.contains("#define AP_STANDARD_LAYOUT_ID 0x\(String(FrameProducer.layoutID, radix: 16))ULL\n"),
                      "AP_STANDARD_LAYOUT_ID is not the host's 0x\(String(FrameProducer.layoutID, radix: 16))")
        XCTAssertTrue(text.contains("#define AP_STANDARD_INDICATOR_COUNT \(host.count)\n"), "AP_STANDARD_INDICATOR_COUNT is not \(host.count)")
    }

    /// What a C compiler makes of the header: the names array and the
    /// constants, printed by a program built against it alone.
    func testACProgramBuiltAgainstTheHeaderSeesTheHostsLayout() throws {
        guard let compiler = ["/usr/bin/cc", "/usr/bin/clang", "/usr/bin/gcc"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("no C compiler: the header was not compiled")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("frame-layout-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let source = folder.appendingPathComponent("layout.c"), program = folder.appendingPathComponent("layout")
        try """
        #include <stdio.h>
        #include <alphaplus/frame_layout.h>
        static const char *const names[] = AP_STANDARD_INDICATOR_NAMES;
        int main(void) {
            printf("%llx %d %d %d %d\\n", AP_STANDARD_LAYOUT_ID, AP_STANDARD_INDICATOR_COUNT, (int)(sizeof names / sizeof *names),
                   AP_IND_ATR_14, AP_IND_TRADE_FLOW_IMBALANCE);
            for (int i = 0; i < AP_STANDARD_INDICATOR_COUNT; i++) printf("%s\\n", names[i]);
            return 0;
        }
        """.write(to: source, atomically: true, encoding: .utf8)
        XCTAssertEqual(try run(compiler, ["-std=c11", "-Wall", "-Werror", "-I", header.deletingLastPathComponent().deletingLastPathComponent().path,
                                          source.path, "-o", program.path]).status, 0)
        let output = try run(program.path, [])
        let host = FrameProducer.indicatorNames
        XCTAssertEqual(output.text, "\(String(FrameProducer.layoutID, radix: 16)) \(host.count) \(host.count) "
                       + "\(host.firstIndex(of: "atr_14")!) \(host.firstIndex(of: "trade_flow_imbalance")!)\n"
                       + host.map { $0 + "\n" }.joined())
    }

    private func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, text: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: data, as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, text)
        return (process.terminationStatus, text)
    }
}
