import CAlphaPlus
import enum AlphaPlusSDK.StateLimits
import Foundation
import GRDB
import Logging
@testable import PluginRuntime
import SharedTestData
import Store
import XCTest

/// Plugins' key/value state as a plugin reaches it (the services table),
/// kept in a real store: it survives a restart and stays in its namespace.
final class PluginStateTests: XCTestCase {
    /// One instance's context; released when the test ends.
    private func instance(_ services: HostServices, tenant: String = "t1", plugin: String = "com.test.state",
                          instance: String = "i1") throws -> OpaquePointer {
        let context = try services.instanceContext(pluginID: plugin, pluginVersion: "1.0.0", tenantID: tenant, instanceID: instance, secrets: [:], networkHosts: [], servicePermissions: 0)
        addTeardownBlock { services.release(context) }
        return context.opaque
    }

    func testValuesSurviveANewHostOnTheReopenedStore() throws {
        let store = try makeStore(self)
        let first = HostServices(state: store)
        let context = try instance(first)
        XCTAssertEqual(set(first, context, "progress", [1, 2, 3]), ap_status(AP_OK))
        XCTAssertEqual(set(first, context, "progress", [4, 5]), ap_status(AP_OK), "a second set replaces the value")
        XCTAssertEqual(set(first, context, "empty", []), ap_status(AP_OK))
        XCTAssertEqual(set(first, context, "gone", [9]), ap_status(AP_OK))
        XCTAssertEqual(delete(first, context, "gone"), ap_status(AP_OK))

        let reopened = try HostStore(path: store.path, clock: { 0 })
        let second = HostServices(state: reopened)
        let restarted = try instance(second)
        XCTAssertEqual(get(second, restarted, "progress"), .success([4, 5]))
        XCTAssertEqual(get(second, restarted, "empty"), .success([]))
        XCTAssertEqual(get(second, restarted, "gone"), .failure(ap_status(AP_ERR_NOT_FOUND)))
        XCTAssertEqual(delete(second, restarted, "gone"), ap_status(AP_ERR_NOT_FOUND))
        XCTAssertEqual(try reopened.values(tenant: "t1", plugin: "com.test.state", instance: "i1"), ["progress": [4, 5], "empty": []])
    }

    func testAnotherTenantPluginOrInstanceNeverSeesTheValues() throws {
        let store = try makeStore(self)
        let writer = HostServices(state: store)
        XCTAssertEqual(set(writer, try instance(writer), "k", Array("mine".utf8)), ap_status(AP_OK))

        let services = HostServices(state: try HostStore(path: store.path, clock: { 0 }))
        for (tenant, plugin, id) in [("t2", "com.test.state", "i1"), ("t1", "com.test.other", "i1"), ("t1", "com.test.state", "i2")] {
            let other = try instance(services, tenant: tenant, plugin: plugin, instance: id)
            XCTAssertEqual(get(services, other, "k"), .failure(ap_status(AP_ERR_NOT_FOUND)), "\(tenant)/\(plugin)/\(id)")
            XCTAssertEqual(delete(services, other, "k"), ap_status(AP_ERR_NOT_FOUND), "\(tenant)/\(plugin)/\(id)")
            XCTAssertEqual(set(services, other, "k", Array(id.utf8)), ap_status(AP_OK))
        }
        XCTAssertEqual(get(services, try instance(services), "k"), .success(Array("mine".utf8)))
        let rows = try rawConnection(store).read { try Int.fetchOne($0, sql: "SELECT count(*) FROM plugin_state") }
        XCTAssertEqual(rows, 4)
    }

    func testKeysAndValuesOutsideTheLimitsAreRefusedAndLogged() throws {
        let log = LogLines()
        let store = try makeStore(self)
        let services = HostServices(logger: Logger(label: "test") { _ in log }, state: store)
        let context = try instance(services)
        let longest = String(repeating: "k", count: StateLimits.maxKeyBytes)
        XCTAssertEqual(set(services, context, longest, [1]), ap_status(AP_OK))
        XCTAssertEqual(set(services, context, "big", [UInt8](repeating: 7, count: StateLimits.maxValueBytes)), ap_status(AP_OK))

        XCTAssertEqual(set(services, context, longest + "k", [1]), ap_status(AP_ERR_INVALID_ARGUMENT))
        XCTAssertTrue(log.contains("state key refused: the key is 257 bytes"), "\(log.messages)")
        XCTAssertEqual(set(services, context, "", [1]), ap_status(AP_ERR_INVALID_ARGUMENT))
        XCTAssertTrue(log.contains("state key refused: the key is 0 bytes"), "\(log.messages)")
        XCTAssertEqual(get(services, context, longest + "k"), .failure(ap_status(AP_ERR_INVALID_ARGUMENT)))
        XCTAssertEqual(delete(services, context, ""), ap_status(AP_ERR_INVALID_ARGUMENT))
        XCTAssertEqual(call(services, context, key: [0x61, 0xFF], value: [1]), ap_status(AP_ERR_INVALID_ARGUMENT), "not UTF-8")
        XCTAssertTrue(log.contains("state key refused: the key is not UTF-8"), "\(log.messages)")
        XCTAssertEqual(set(services, context, "huge", [UInt8](repeating: 7, count: StateLimits.maxValueBytes + 1)),
                       ap_status(AP_ERR_INVALID_ARGUMENT))
        XCTAssertTrue(log.contains("state 'huge' refused: the value is 1048577 bytes, more than 1048576"), "\(log.messages)")
        let keys = try store.values(tenant: "t1", plugin: "com.test.state", instance: "i1").keys.sorted()
        XCTAssertEqual(keys, ["big", longest])
    }

    func testAStorageThatFailsGivesUnavailableAndKeepsNothing() throws {
        let log = LogLines()
        let storage = FailingStorage()
        let services = HostServices(logger: Logger(label: "test") { _ in log }, state: storage)
        let context = try instance(services)
        XCTAssertEqual(set(services, context, "kept", Array("first".utf8)), ap_status(AP_OK))

        storage.failing = true
        XCTAssertEqual(set(services, context, "kept", Array("secret-value".utf8)), ap_status(AP_ERR_UNAVAILABLE))
        XCTAssertEqual(delete(services, context, "kept"), ap_status(AP_ERR_UNAVAILABLE))
        XCTAssertEqual(get(services, context, "kept"), .success(Array("first".utf8)), "memory keeps what the storage has")
        let warnings = log.messages.filter { $0.hasPrefix("warning:") }
        XCTAssertEqual(warnings.count, 2, "\(warnings)")
        for warning in warnings {
            for part in ["'kept'", "plugin com.test.state", "tenant t1", "instance i1", "disk full"] {
                XCTAssertTrue(warning.contains(part), "\(part) in \(warning)")
            }
            XCTAssertFalse(warning.contains("secret-value") || warning.contains("first"), warning)
        }
    }

    func testAnInstanceWhoseStateCannotBeLoadedIsNotCreated() throws {
        let storage = FailingStorage()
        storage.failing = true
        let services = HostServices(state: storage)
        XCTAssertThrowsError(try services.instanceContext(pluginID: "p", pluginVersion: "1.0.0", tenantID: "t", instanceID: "i", secrets: [:], networkHosts: [], servicePermissions: 0))
    }

    // MARK: Tenants apart (issue 7): one plugin, one instance id, two tenants

    /// Both storages: the in-memory one of tests and backtests, the store of `alphaplus run`.
    private func storages() throws -> [(name: String, storage: any InstanceStateStorage)] {
        [("in memory", InMemoryInstanceStateStorage()), ("SQLite", try makeStore(self))]
    }

    private func context(_ services: HostServices, _ tenant: String, _ instance: String = "market", plugin: String = "com.test.state",
                         secrets: [String: String] = [:]) throws -> HostContext {
        try services.instanceContext(pluginID: plugin, pluginVersion: "1.0.0", tenantID: tenant, instanceID: instance, secrets: secrets, networkHosts: [],
                                     servicePermissions: 0)
    }

    func testTwoTenantsInstancesOfOnePluginReadOnlyTheirOwnStateAndSecrets() throws {
        for (name, storage) in try storages() {
            let services = HostServices(state: storage)
            let a = try context(services, "tenant-a", secrets: ["api_key": "key-of-a", "only_a": "a-alone"])
            let b = try context(services, "tenant-b", secrets: ["api_key": "key-of-b"])
            defer { [a, b].forEach(services.release) }
            XCTAssertEqual(set(services, a.opaque, "cursor", Array("a".utf8)), ap_status(AP_OK))
            XCTAssertEqual(set(services, b.opaque, "cursor", Array("b".utf8)), ap_status(AP_OK))
            XCTAssertEqual(set(services, a.opaque, "a-only", [1]), ap_status(AP_OK))

            XCTAssertEqual(get(services, a.opaque, "cursor"), .success(Array("a".utf8)), name)
            XCTAssertEqual(get(services, b.opaque, "cursor"), .success(Array("b".utf8)), name)
            XCTAssertEqual(get(services, b.opaque, "a-only"), .failure(ap_status(AP_ERR_NOT_FOUND)), name)
            XCTAssertEqual(delete(services, b.opaque, "a-only"), ap_status(AP_ERR_NOT_FOUND), name)
            XCTAssertEqual(get(services, a.opaque, "a-only"), .success([1]), "\(name): b's delete reached a")
            XCTAssertEqual(secret(services, a.opaque, "api_key"), .success("key-of-a"), name)
            XCTAssertEqual(secret(services, b.opaque, "api_key"), .success("key-of-b"), name)
            XCTAssertEqual(secret(services, b.opaque, "only_a"), .failure(ap_status(AP_ERR_NOT_FOUND)), name)
        }
    }

    /// Namespaces and keys whose parts, joined with any separator, would read the same.
    func testNamespacesAreNotConfusedBySeparatorsInTheirParts() throws {
        let entries: [(tenant: String, plugin: String, instance: String, key: String)] = [
            ("a", "p", "b-c", "k"), ("a-b", "p", "c", "k"),
            ("a", "p", "b/c", "k"), ("a/b", "p", "c", "k"), ("a", "p/b", "c", "k"),
            ("a", "p", "b:c", "k"), ("a:b", "p", "c", "k"), ("a", "p:b", "c", "k"),
            ("a", "p", "i", "x/y"), ("a", "p", "i/x", "y"), ("a", "p", "i", "x:y"), ("a", "p", "i:x", "y"), ("a", "p", "i", "x"),
        ]
        for (name, storage) in try storages() {
            let services = HostServices(state: storage)
            for (index, entry) in entries.enumerated() {
                let writer = try context(services, entry.tenant, entry.instance, plugin: entry.plugin)
                XCTAssertEqual(set(services, writer.opaque, entry.key, [UInt8(index)]), ap_status(AP_OK), "\(name): \(entry)")
                services.release(writer)
            }
            // Made again, each context loads exactly its namespace's entries from the storage.
            for (namespace, mine) in Dictionary(grouping: entries.enumerated(), by: { "\($0.element.tenant)|\($0.element.plugin)|\($0.element.instance)" }) {
                let entry = mine[0].element
                let reader = try context(services, entry.tenant, entry.instance, plugin: entry.plugin)
                XCTAssertEqual(reader.stateSnapshot, Dictionary(uniqueKeysWithValues: mine.map { ($0.element.key, [UInt8($0.offset)]) }),
                               "\(name): \(namespace)")
                services.release(reader)
            }
        }
    }

    /// The store cuts text at a NUL: a key or an id holding one would share another's entries.
    func testANulInAKeyOrANamespaceIsRefused() throws {
        for (name, storage) in try storages() {
            let log = LogLines()
            let services = HostServices(logger: Logger(label: "test") { _ in log }, state: storage)
            let instance = try context(services, "a", "i")
            defer { services.release(instance) }
            XCTAssertEqual(set(services, instance.opaque, "x", [1]), ap_status(AP_OK))
            XCTAssertEqual(set(services, instance.opaque, "x\u{0}y", [2]), ap_status(AP_ERR_INVALID_ARGUMENT), name)
            XCTAssertEqual(get(services, instance.opaque, "x\u{0}y"), .failure(ap_status(AP_ERR_INVALID_ARGUMENT)), name)
            XCTAssertEqual(delete(services, instance.opaque, "x\u{0}y"), ap_status(AP_ERR_INVALID_ARGUMENT), name)
            XCTAssertTrue(log.contains("state key refused: the key holds NUL at byte 1; a key is 1 to 256 bytes of UTF-8 without NUL"), "\(log.messages)")
            XCTAssertEqual(get(services, instance.opaque, "x"), .success([1]), "\(name): the key 'x' kept its value")
            for (tenant, plugin, id, part) in [("a", "com.test.state", "i\u{0}x", "instance id 'i\\0x'"), ("a\u{0}b", "com.test.state", "i", "tenant id 'a\\0b'"),
                                               ("a", "com.test.state\u{0}", "i", "plugin id 'com.test.state\\0'")] {
                XCTAssertThrowsError(try context(services, tenant, id, plugin: plugin), name) {
                    XCTAssertEqual("\($0)", "the \(part) contains NUL")
                }
            }
        }
    }

    func testStateSurvivesRecreateAndIsNotAnotherPluginsWithTheSameInstanceID() throws {
        for (name, storage) in try storages() {
            let services = HostServices(state: storage)
            let first = try context(services, "t", "feed", plugin: "com.test.exchange")
            XCTAssertEqual(set(services, first.opaque, "cursor", [42]), ap_status(AP_OK))
            services.release(first)

            let recreated = try context(services, "t", "feed", plugin: "com.test.exchange")
            let otherPlugin = try context(services, "t", "feed", plugin: "com.test.exchange-v2")
            defer { [recreated, otherPlugin].forEach(services.release) }
            XCTAssertEqual(get(services, recreated.opaque, "cursor"), .success([42]), name)
            XCTAssertEqual(get(services, otherPlugin.opaque, "cursor"), .failure(ap_status(AP_ERR_NOT_FOUND)), name)
        }
    }

    func testAReleasedContextReadsNoStateAndNoSecret() throws {
        for (name, storage) in try storages() {
            let services = HostServices(state: storage)
            let released = try context(services, "t", secrets: ["token": "released-secret"])
            XCTAssertEqual(set(services, released.opaque, "k", [1]), ap_status(AP_OK))
            XCTAssertEqual(secret(services, released.opaque, "token"), .success("released-secret"))
            services.release(released)

            XCTAssertEqual(get(services, released.opaque, "k"), .failure(ap_status(AP_ERR_INVALID_ARGUMENT)), name)
            XCTAssertEqual(secret(services, released.opaque, "token"), .failure(ap_status(AP_ERR_INVALID_ARGUMENT)), name)
            XCTAssertEqual(set(services, released.opaque, "k", [2]), ap_status(AP_ERR_INVALID_ARGUMENT), name)
            XCTAssertEqual(delete(services, released.opaque, "k"), ap_status(AP_ERR_INVALID_ARGUMENT), name)
            XCTAssertEqual(try storage.values(tenant: "t", plugin: "com.test.state", instance: "market"), ["k": [1]],
                           "\(name): a released context changed the storage")
        }
    }

    // MARK: The services table, as a plugin calls it

    private func call(_ services: HostServices, _ context: OpaquePointer, key: [UInt8], value: [UInt8]) -> ap_status {
        key.withUnsafeBufferPointer { k in
            value.withUnsafeBufferPointer { v in
                services.api.pointee.state_set(context, ap_str(ptr: UnsafeRawPointer(k.baseAddress)?.assumingMemoryBound(to: CChar.self),
                                                               len: k.count), v.baseAddress, v.count)
            }
        }
    }

    private func set(_ services: HostServices, _ context: OpaquePointer, _ key: String, _ value: [UInt8]) -> ap_status {
        call(services, context, key: Array(key.utf8), value: value)
    }

    private func delete(_ services: HostServices, _ context: OpaquePointer, _ key: String) -> ap_status {
        var key = key
        return key.withUTF8 { services.api.pointee.state_delete(context, ap_str(ptr: UnsafeRawPointer($0.baseAddress)?.assumingMemoryBound(to: CChar.self), len: $0.count)) }
    }

    private func get(_ services: HostServices, _ context: OpaquePointer, _ key: String) -> Result<[UInt8], StatusError> {
        final class Box { var bytes: [UInt8]? }
        let box = Box()
        var key = key
        let status = key.withUTF8 { k in
            services.api.pointee.state_get(context, ap_str(ptr: UnsafeRawPointer(k.baseAddress)?.assumingMemoryBound(to: CChar.self), len: k.count),
                                           { user, bytes, len in
                                               Unmanaged<Box>.fromOpaque(user!).takeUnretainedValue().bytes = Array(UnsafeBufferPointer(start: bytes, count: len))
                                           }, Unmanaged.passUnretained(box).toOpaque())
        }
        guard status == ap_status(AP_OK), let bytes = box.bytes else { return .failure(StatusError(status: status)) }
        return .success(bytes)
    }
    /// The value of secret `name` as `secret_get` hands it to the plugin.
    private func secret(_ services: HostServices, _ context: OpaquePointer, _ name: String) -> Result<String, StatusError> {
        final class Box { var text: String? }
        let box = Box()
        var name = name
        let status = name.withUTF8 { n in
            services.api.pointee.secret_get(context, ap_str(ptr: UnsafeRawPointer(n.baseAddress)?.assumingMemoryBound(to: CChar.self), len: n.count),
                                            { user, bytes, len in
                                                Unmanaged<Box>.fromOpaque(user!).takeUnretainedValue().text =
                                                    String(decoding: UnsafeRawBufferPointer(start: bytes, count: len), as: UTF8.self)
                                            }, Unmanaged.passUnretained(box).toOpaque())
        }
        guard status == ap_status(AP_OK), let text = box.text else { return .failure(StatusError(status: status)) }
        return .success(text)
    }
}

/// A status other than AP_OK, so results compare with XCTAssertEqual.
struct StatusError: Error, Equatable {
    let status: ap_status
}

extension Result where Failure == StatusError {
    static func failure(_ status: ap_status) -> Self { .failure(StatusError(status: status)) }
}

/// State storage that works until told to fail, as a full disk would.
private final class FailingStorage: InstanceStateStorage, @unchecked Sendable {
    struct DiskFull: Error, CustomStringConvertible { var description: String { "disk full" } }
    private let memory = InMemoryInstanceStateStorage()
    var failing = false

    func values(tenant: String, plugin: String, instance: String) throws -> [String: [UInt8]] {
        if failing { throw DiskFull() }
        return memory.values(tenant: tenant, plugin: plugin, instance: instance)
    }

    func set(tenant: String, plugin: String, instance: String, key: String, value: [UInt8]) throws {
        if failing { throw DiskFull() }
        memory.set(tenant: tenant, plugin: plugin, instance: instance, key: key, value: value)
    }

    func remove(tenant: String, plugin: String, instance: String, key: String) throws -> Bool {
        if failing { throw DiskFull() }
        return memory.remove(tenant: tenant, plugin: plugin, instance: instance, key: key)
    }
}
