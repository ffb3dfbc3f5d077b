import CAlphaPlus
import Foundation
import PluginRuntime
import XCTest

/// Every bad plugin file is refused with a message naming the file and the
/// reason, and the host goes on working (each test loads a good plugin
/// into the same registry afterwards).
final class LoaderRefusalTests: XCTestCase {
    private var registry: PluginRegistry!

    override func setUp() {
        registry = PluginRegistry(services: HostServices())
    }

    override func tearDownWithError() throws {
        // The host still loads a good plugin after refusing a bad one.
        let good = try PluginFixtures.build("good-\(name.filter(\.isLetter))", defines: ["FIX_ID=\"com.test.after-\(name.filter(\.isLetter).lowercased().suffix(20))\""])
        XCTAssertNoThrow(try registry.load(good))
    }

    private func assertRefused(_ path: String, _ reason: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let plugin = try registry.load(path)
            XCTFail("\(path) loaded as \(plugin.id); expected refusal: \(reason)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.path, path, file: file, line: line)
            XCTAssertTrue(error.reason.contains(reason), "reason '\(error.reason)' lacks '\(reason)'", file: file, line: line)
            XCTAssertTrue(error.description.hasPrefix(path + ": "), file: file, line: line)
            XCTAssertFalse(error.description.contains("\n"), "one line", file: file, line: line)
        }
    }

    func testRandomBytesNamedSo() throws {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<4096).map { _ in UInt8.random(in: 0...255, using: &generator) }
        assertRefused(try PluginFixtures.write("random.so", [0x00] + bytes), "is not an ELF file")
    }

    func testTextFile() throws {
        assertRefused(try PluginFixtures.write("notes.so", Array("this is not a plugin\n".utf8)), "is not an ELF file")
    }

    func testTruncatedELF() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: try PluginFixtures.build("whole")))
        assertRefused(try PluginFixtures.write("truncated.so", Array(whole.prefix(whole.count / 2))), "truncated ELF")
        assertRefused(try PluginFixtures.write("header-only.so", Array(whole.prefix(40))), "truncated ELF")
    }

    func testELFForAnotherMachine() throws {
        var bytes = Array(try Data(contentsOf: URL(fileURLWithPath: try PluginFixtures.build("other-machine-source"))))
        bytes[18] = 183 // e_machine = EM_AARCH64 (little-endian UInt16)
        bytes[19] = 0
        #if arch(arm64)
        bytes[18] = 62
        assertRefused(try PluginFixtures.write("other-machine.so", bytes), "built for x86-64")
        #else
        assertRefused(try PluginFixtures.write("other-machine.so", bytes), "built for AArch64")
        #endif
    }

    func testSharedObjectWithoutEntrySymbol() throws {
        assertRefused(try PluginFixtures.build("no-entry", defines: ["FIX_NO_ENTRY"]), "does not export 'ap_plugin_entry'")
    }

    func testABIMajorTooNew() throws {
        assertRefused(try PluginFixtures.build("major-new", defines: ["FIX_ABI_MAJOR=\(AP_ABI_MAJOR + 1)"]), "a newer major version")
    }

    func testABIMajorTooOld() throws {
        assertRefused(try PluginFixtures.build("major-old", defines: ["FIX_ABI_MAJOR=\(AP_ABI_MAJOR - 1)"]), "an older major version")
    }

    func testABIMinorNewerThanHost() throws {
        assertRefused(try PluginFixtures.build("minor-new", defines: ["FIX_ABI_MINOR=\(AP_ABI_MINOR + 1)"]), "newer than this host's")
    }

    func testPluginTableStructSizeTooSmall() throws {
        assertRefused(try PluginFixtures.build("small-table", defines: ["FIX_TABLE_SIZE=16"]), "struct_size 16 is smaller than the ABI 1.0 size")
    }

    func testCapabilityTableStructSizeTooSmall() throws {
        assertRefused(try PluginFixtures.build("small-head", defines: ["FIX_HEAD_SIZE=4"]), "ap.head.v1 table struct_size 4 is smaller")
    }

    func testMissingID() throws {
        assertRefused(try PluginFixtures.build("no-id", defines: ["FIX_ID=\"\""]), "descriptor has no id")
    }

    func testIDNotReverseDNS() throws {
        assertRefused(try PluginFixtures.build("bad-id", defines: ["FIX_ID=\"MyPlugin\""]), "is not reverse-DNS")
    }

    func testVersionNotSemver() throws {
        for (index, version) in ["1.0", "v1.0.0", "01.0.0", "1.0.0-", ""].enumerated() {
            assertRefused(try PluginFixtures.build("bad-version-\(index)", defines: ["FIX_ID=\"com.test.v\(index)\"", "FIX_VERSION=\"\(version)\""]),
                          "version '\(version)' is not semantic versioning")
        }
    }

    func testUnknownCapability() throws {
        assertRefused(try PluginFixtures.build("unknown-capability", defines: ["FIX_CAPABILITY=\"ap.head.v9\""]), "unknown capability 'ap.head.v9'")
    }

    func testSchemaThatDoesNotCompile() throws {
        assertRefused(try PluginFixtures.build("bad-schema", defines: [#"FIX_SCHEMA="{\"type\":\"object\",\"requried\":[]}""#]), "config schema is invalid")
    }

    func testInitFailureMessageReachesOperator() throws {
        assertRefused(try PluginFixtures.build("init-fails", defines: ["FIX_INIT_FAILS"]), "init failed (status 6): fixture init refuses to start")
    }

    func testTwoPluginsWithOneID() throws {
        let first = try PluginFixtures.build("dup-a", defines: ["FIX_ID=\"com.test.duplicate\""])
        let second = try PluginFixtures.build("dup-b", defines: ["FIX_ID=\"com.test.duplicate\""])
        XCTAssertNoThrow(try registry.load(first))
        assertRefused(second, "plugin id 'com.test.duplicate' is already loaded from \(first)")
    }

    func testWorldWritableFile() throws {
        let path = try PluginFixtures.build("world-writable")
        XCTAssertEqual(chmod(path, 0o666), 0)
        assertRefused(path, "is world-writable")
    }

    func testWorldWritableFolder() throws {
        let folder = PluginFixtures.folder.appendingPathComponent("open-folder")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        XCTAssertEqual(chmod(folder.path, 0o777), 0)
        let path = folder.appendingPathComponent("plugin.so").path
        try FileManager.default.copyItem(atPath: try PluginFixtures.build("in-open-folder"), toPath: path)
        assertRefused(path, "is in a world-writable folder")
    }

    func testNotARegularFile() throws {
        assertRefused(PluginFixtures.folder.path, "is not a regular file")
    }

    func testDiscoveryRefusesBadFilesAndLoadsTheRest() throws {
        let folder = PluginFixtures.folder.appendingPathComponent("mixed")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try Data("text".utf8).write(to: folder.appendingPathComponent("a-text.so"))
        try FileManager.default.copyItem(atPath: try PluginFixtures.build("mixed-major", defines: ["FIX_ABI_MAJOR=9"]),
                                         toPath: folder.appendingPathComponent("b-major.so").path)
        try FileManager.default.copyItem(atPath: try PluginFixtures.build("mixed-good", defines: ["FIX_ID=\"com.test.mixed\""]),
                                         toPath: folder.appendingPathComponent("c-good.so").path)
        try Data("ignored".utf8).write(to: folder.appendingPathComponent("readme.txt"))
        registry.discover(folders: [folder.path, "/nonexistent/folder"])
        XCTAssertEqual(registry.plugins.map(\.id), ["com.test.mixed"])
        XCTAssertEqual(registry.failures.map { ($0.path as NSString).lastPathComponent }, ["a-text.so", "b-major.so"])
    }
}
