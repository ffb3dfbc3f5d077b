import AlphaPlusSDK
import Foundation
import XCTest

/// A bare host for driving a plugin table by hand, without TestHost: a
/// permanent ([load]) ap_host_api whose services log into a `RawContext`
/// and refuse everything else.
final class RawContext {
    var logs: [String] = []
    /// Timers are accepted (and never fire).
    var timersStarted = 0
    var opaque: OpaquePointer { OpaquePointer(Unmanaged.passUnretained(self).toOpaque()) }
}

enum RawHost {
    nonisolated(unsafe) static let api: UnsafePointer<ap_host_api> = permanent(makeAPI(abiMajor: UInt16(AP_ABI_MAJOR)))
    /// The same services claiming a future, incompatible ABI.
    nonisolated(unsafe) static let futureAPI: UnsafePointer<ap_host_api> = permanent(makeAPI(abiMajor: UInt16(AP_ABI_MAJOR) + 1))

    private static func permanent(_ api: ap_host_api) -> UnsafePointer<ap_host_api> {
        let memory = UnsafeMutablePointer<ap_host_api>.allocate(capacity: 1)
        memory.initialize(to: api)
        return UnsafePointer(memory)
    }

    private static func makeAPI(abiMajor: UInt16) -> ap_host_api {
        ap_host_api(
            struct_size: UInt32(MemoryLayout<ap_host_api>.size), abi_major: abiMajor, abi_minor: UInt16(AP_ABI_MINOR),
            log: { ctx, _, message in
                Unmanaged<RawContext>.fromOpaque(UnsafeRawPointer(ctx!)).takeUnretainedValue().logs.append(message.string)
            },
            now_ns: { _ in 0 },
            timer_start: { ctx, _, _, _, _, outID in
                let context = Unmanaged<RawContext>.fromOpaque(UnsafeRawPointer(ctx!)).takeUnretainedValue()
                context.timersStarted += 1
                outID?.pointee = UInt64(context.timersStarted)
                return ap_status(AP_OK)
            },
            timer_cancel: { _, _ in ap_status(AP_ERR_NOT_FOUND) },
            state_get: { _, _, _, _ in ap_status(AP_ERR_NOT_FOUND) },
            state_set: { _, _, _, _ in ap_status(AP_ERR_UNSUPPORTED) },
            state_delete: { _, _ in ap_status(AP_ERR_NOT_FOUND) },
            secret_get: { _, _, _, _ in ap_status(AP_ERR_NOT_FOUND) },
            metric_record: { _, _, _, _ in },
            emit_event: { _, _ in ap_status(AP_ERR_UNSUPPORTED) },
            http_request: nil, http_cancel: nil, ws_connect: nil, ws_send: nil, ws_close: nil, crypto_hmac: nil,
            subscriber_link: nil, subscriber_unlink: nil, subscription_update: nil, subscriber_get: nil)
    }
}

/// An ap_error as a caller prepares it.
func emptyError() -> ap_error {
    var err = ap_error()
    err.struct_size = UInt32(MemoryLayout<ap_error>.size)
    return err
}

func message(_ err: ap_error) -> String {
    withUnsafeBytes(of: err.message) {
        String(decoding: UnsafeRawBufferPointer(rebasing: $0[..<min(Int(err.message_len), $0.count)]), as: UTF8.self)
    }
}

/// Strings of an ap_str array.
func strings(_ array: UnsafePointer<ap_str>?, _ count: Int) -> [String] {
    guard let array else { return [] }
    return UnsafeBufferPointer(start: array, count: count).map(\.string)
}

/// The table get_capability returns for `id`, nil for none.
func capability(_ table: UnsafePointer<ap_plugin_api>, _ id: String) -> UnsafeRawPointer? {
    withAPStr(id) { table.pointee.get_capability(table, $0) }
}

/// Calls the raw create; `config` nil passes an absent string.
func rawCreate(_ table: UnsafePointer<ap_plugin_api>, context: RawContext, tenant: String = "raw", instance: String,
               config: String?) -> (status: ap_status, instance: OpaquePointer?, message: String) {
    var err = emptyError()
    // A sentinel: create must leave *out_instance untouched when it fails.
    var out: OpaquePointer? = OpaquePointer(bitPattern: 0xA11CE)
    let status = withAPStr(tenant) { tenant in
        withAPStr(instance) { instance in
            func call(_ json: ap_str) -> ap_status {
                var args = ap_create_args(struct_size: UInt32(MemoryLayout<ap_create_args>.size),
                                          host_context: context.opaque, tenant_id: tenant, instance_id: instance,
                                          config_json: json)
                return table.pointee.create(table, &args, &out, &err)
            }
            guard let config else { return call(ap_str(ptr: nil, len: 0)) }
            return withAPStr(config) { call($0) }
        }
    }
    if status != AP_OK {
        XCTAssertEqual(out, OpaquePointer(bitPattern: 0xA11CE), "a failed create must leave *out_instance untouched")
        return (status, nil, message(err))
    }
    return (status, out, message(err))
}

/// Records every call of a delivery's done function.
final class DoneRecorder {
    var results: [DeliveryResult] = []
    var opaque: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static let done: ap_delivery_done_fn = { context, result in
        Unmanaged<DoneRecorder>.fromOpaque(context!).takeUnretainedValue().results.append(DeliveryResult(result!))
    }
}
