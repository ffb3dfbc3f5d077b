import CAlphaPlus

/// The contract's version and the ABI 1.0 minimum size of each struct the
/// host reads: the end of its last ABI 1.0 field. Structs only grow at the
/// end, so these stay fixed when the header gains minor additions.
public enum ABI {
    public static let major = UInt16(AP_ABI_MAJOR)
    public static let minor = UInt16(AP_ABI_MINOR)

    static let pluginAPISize = end(\ap_plugin_api.get_capability)
    static let descriptorSize = end(\ap_plugin_descriptor.permissions)
    static let permissionsSize = end(\ap_permissions.network_host_count)
    /// `services` (1.2) is read only when struct_size covers it.
    static let permissionsServicesEnd = end(\ap_permissions.services)
    /// The ap_service_permission flags this host knows.
    static let knownServicePermissions = UInt64(AP_PERMISSION_SUBSCRIPTIONS.rawValue)
    static let headSize = end(\ap_head_v1.on_event)
    static let exchangeSize = end(\ap_exchange_v1.unsubscribe)
    static let channelSize = end(\ap_channel_v1.deliver)
    static let webhookSize = end(\ap_webhook_v1.handle)
    static let rateLimitsSize = end(\ap_rate_limits_v1.limits_for_target)
    /// A delivery result up to its ABI 1.0 end; `pause_destination_ms` (1.1) is read only beyond it.
    static let deliveryResultSize = end(\ap_delivery_result.updated_target_json)
    static let deliveryResultPauseEnd = end(\ap_delivery_result.pause_destination_ms)
    /// ap_subscription_update came with 1.2, whole.
    static let subscriptionUpdateSize = end(\ap_subscription_update.reference)

    /// Capability ids this host knows, with their tables' minimum sizes
    /// (ABI 1.0, or the minor version that added the capability).
    static let capabilities: [String: Int] = [
        AP_CAPABILITY_HEAD_V1: headSize,
        AP_CAPABILITY_EXCHANGE_V1: exchangeSize,
        AP_CAPABILITY_CHANNEL_V1: channelSize,
        AP_CAPABILITY_WEBHOOK_V1: webhookSize,
        AP_CAPABILITY_RATE_LIMITS_V1: rateLimitsSize,  // ABI 1.1
    ]

    /// The host's Swift toolchain, spelt as the SDK records it in descriptors
    /// (`swiftToolchain` in AlphaPlusSDK). Kept as a copy because the host
    /// does not link the plugin-side SDK; a test compares the two spellings.
    public static let swiftToolchain: String = {
        #if compiler(>=7.0)
        return "swift-7+"
        #elseif compiler(>=6.4)
        return "swift-6.4"
        #elseif compiler(>=6.3)
        return "swift-6.3"
        #elseif compiler(>=6.2)
        return "swift-6.2"
        #elseif compiler(>=6.1)
        return "swift-6.1"
        #else
        return "swift-6.0"
        #endif
    }()

    private static func end<Root, Value>(_ field: KeyPath<Root, Value>) -> Int {
        MemoryLayout<Root>.offset(of: field)! + MemoryLayout<Value>.size
    }
}

extension ap_str {
    var string: String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
    }
}

/// Lends `text` as an ap_str for the duration of `body`.
func withAPStr<R>(_ text: String, _ body: (ap_str) throws -> R) rethrows -> R {
    var text = text
    return try text.withUTF8 { utf8 in
        try body(ap_str(ptr: UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self), len: utf8.count))
    }
}

extension ap_error {
    /// A caller-side error buffer, ready to pass to a plugin.
    public static func empty() -> ap_error {
        var error = ap_error()
        error.struct_size = UInt32(MemoryLayout<ap_error>.size)
        return error
    }

    /// The message a plugin wrote.
    public var text: String {
        withUnsafeBytes(of: message) {
            String(decoding: UnsafeRawBufferPointer(rebasing: $0[..<min(Int(message_len), $0.count)]), as: UTF8.self)
        }
    }
}
