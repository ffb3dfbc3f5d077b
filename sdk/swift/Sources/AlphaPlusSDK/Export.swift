import CAlphaPlus
import Foundation

/// Exports a Swift type as an AlphaPlus plugin. In the plugin's library:
///
///     @_cdecl("ap_plugin_entry")
///     public func ap_plugin_entry() -> UnsafePointer<ap_plugin_api> { PluginExport.entry(MyHead.self) }
public enum PluginExport {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var exports: [ObjectIdentifier: UnsafePointer<ap_plugin_api>] = [:]

    /// The plugin table for `type`, built once and kept for the process's life.
    public static func entry<P: PluginInstance>(_ type: P.Type) -> UnsafePointer<ap_plugin_api> {
        lock.lock()
        defer { lock.unlock() }
        if let table = exports[ObjectIdentifier(type)] { return table }
        let table = ExportedPlugin.makeTable(ExportedPlugin(type))
        exports[ObjectIdentifier(type)] = table
        return table
    }
}

/// The SDK side of one exported plugin type. Its table is allocated with a
/// pointer back to this object right after it, so every plugin-level
/// function finds its plugin from `self`.
// @unchecked: the init count and host table are guarded by `lock`; the rest is immutable.
final class ExportedPlugin: @unchecked Sendable {
    let capabilities: [(id: String, table: UnsafeRawPointer)]
    let descriptor: UnsafePointer<ap_plugin_descriptor>
    private let factory: (Data, PluginContext) throws -> any PluginInstance
    private let lock = NSLock()
    private var initCount = 0
    private(set) var host: UnsafePointer<ap_host_api>?

    init<P: PluginInstance>(_ type: P.Type) {
        var capabilities: [(String, UnsafeRawPointer)] = []
        if P.self is any HeadPlugin.Type { capabilities.append((AP_CAPABILITY_HEAD_V1, CapabilityTables.head)) }
        if P.self is any ExchangePlugin.Type { capabilities.append((AP_CAPABILITY_EXCHANGE_V1, CapabilityTables.exchange)) }
        if P.self is any ChannelPlugin.Type { capabilities.append((AP_CAPABILITY_CHANNEL_V1, CapabilityTables.channel)) }
        if P.self is any WebhookPlugin.Type { capabilities.append((AP_CAPABILITY_WEBHOOK_V1, CapabilityTables.webhook)) }
        if P.self is any RateLimitedChannel.Type {
            capabilities.append((AP_CAPABILITY_RATE_LIMITS_V1, CapabilityTables.rateLimits))
        }
        self.capabilities = capabilities
        self.descriptor = P.descriptor.makePermanent(capabilities: capabilities.map(\.0))
        self.factory = { json, context in
            let configuration = try JSONDecoder().decode(P.Configuration.self, from: json)
            return try P(configuration: configuration, context: context)
        }
    }

    static func makeTable(_ plugin: ExportedPlugin) -> UnsafePointer<ap_plugin_api> {
        let tableSize = MemoryLayout<ap_plugin_api>.stride
        let memory = UnsafeMutableRawPointer.allocate(byteCount: tableSize + MemoryLayout<UnsafeRawPointer>.stride,
                                                      alignment: MemoryLayout<ap_plugin_api>.alignment)
        memory.storeBytes(of: UnsafeRawPointer(Unmanaged.passRetained(plugin).toOpaque()), toByteOffset: tableSize,
                          as: UnsafeRawPointer.self)
        let table = memory.bindMemory(to: ap_plugin_api.self, capacity: 1)
        table.initialize(to: ap_plugin_api(
            struct_size: UInt32(MemoryLayout<ap_plugin_api>.size),
            abi_major: UInt16(AP_ABI_MAJOR), abi_minor: UInt16(AP_ABI_MINOR),
            descriptor: plugin.descriptor,
            init: { me, host, _, err in ExportedPlugin.from(me).retain(host: host!, err: err) },
            deinit: { me in ExportedPlugin.from(me).release() },
            create: { me, args, out, err in ExportedPlugin.from(me).create(args!, out!, err) },
            destroy: { _, instance in
                guard let instance else { return }
                let box = Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance))
                // The host has cancelled the timers; drop their handlers, which
                // typically capture the instance and would keep it alive.
                box.takeUnretainedValue().context.removeAllTimers()
                box.release()
            },
            get_capability: { me, id in
                let wanted = id.string
                return ExportedPlugin.from(me).capabilities.first { $0.id == wanted }?.table
            }))
        return UnsafePointer(table)
    }

    static func from(_ table: UnsafePointer<ap_plugin_api>?) -> ExportedPlugin {
        let back = UnsafeRawPointer(table!).load(fromByteOffset: MemoryLayout<ap_plugin_api>.stride, as: UnsafeRawPointer.self)
        return Unmanaged<ExportedPlugin>.fromOpaque(back).takeUnretainedValue()
    }

    private func retain(host: UnsafePointer<ap_host_api>, err: UnsafeMutablePointer<ap_error>?) -> ap_status {
        guard host.pointee.abi_major == AP_ABI_MAJOR else {
            err?.set("host ABI \(host.pointee.abi_major).\(host.pointee.abi_minor) is not ABI \(AP_ABI_MAJOR).x")
            return ap_status(AP_ERR_UNSUPPORTED)
        }
        lock.lock()
        defer { lock.unlock() }
        initCount += 1
        self.host = host
        return ap_status(AP_OK)
    }

    private func release() {
        lock.lock()
        defer { lock.unlock() }
        initCount = max(0, initCount - 1)
        if initCount == 0 { host = nil }
    }

    private func create(_ args: UnsafePointer<ap_create_args>, _ out: UnsafeMutablePointer<OpaquePointer?>,
                        _ err: UnsafeMutablePointer<ap_error>?) -> ap_status {
        guard let host else {
            err?.set("create called before init")
            return ap_status(AP_ERR_WRONG_STATE)
        }
        let a = args.pointee
        let context = PluginContext(api: host, raw: a.host_context, tenantID: a.tenant_id.string,
                                    instanceID: a.instance_id.string)
        let json = a.config_json.len == 0 ? Data("{}".utf8)
            : Data(bytes: a.config_json.ptr, count: a.config_json.len)
        do {
            let instance = try factory(json, context)
            out.pointee = OpaquePointer(Unmanaged.passRetained(InstanceBox(instance, context: context)).toOpaque())
            return ap_status(AP_OK)
        } catch {
            let failure = PluginError.from(error)
            err?.set(failure.message)
            return failure.status
        }
    }
}

/// What the host's opaque ap_instance points to.
final class InstanceBox {
    let instance: any PluginInstance
    let head: (any HeadPlugin)?
    let exchange: (any ExchangePlugin)?
    let channel: (any ChannelPlugin)?
    let webhook: (any WebhookPlugin)?
    let context: PluginContext

    init(_ instance: any PluginInstance, context: PluginContext) {
        self.instance = instance
        self.head = instance as? any HeadPlugin
        self.exchange = instance as? any ExchangePlugin
        self.channel = instance as? any ChannelPlugin
        self.webhook = instance as? any WebhookPlugin
        self.context = context
    }

    @inline(__always)
    static func from(_ instance: OpaquePointer?) -> InstanceBox {
        Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance!)).takeUnretainedValue()
    }
}

/// Runs `body`, turning a thrown error into a status and message.
@inline(__always)
private func guarded(_ err: UnsafeMutablePointer<ap_error>?, _ body: () throws -> Void) -> ap_status {
    do {
        try body()
        return ap_status(AP_OK)
    } catch {
        return failed(error, err)
    }
}

/// Reports a thrown error through the contract: its message into `err`,
/// its status returned. Kept out of line: it is the cold path.
@inline(never)
private func failed(_ error: any Error, _ err: UnsafeMutablePointer<ap_error>?) -> ap_status {
    let failure = PluginError.from(error)
    err?.set(failure.message)
    return failure.status
}

/// One table per capability, shared by every exported type: they dispatch
/// through the instance, so they need no per-type state.
enum CapabilityTables {
    nonisolated(unsafe) static let head: UnsafeRawPointer = permanent(ap_head_v1(
        struct_size: UInt32(MemoryLayout<ap_head_v1>.size),
        evaluate: { instance, frame, vote, err in
            // A guaranteed reference: no retain/release of the box per frame.
            Unmanaged<InstanceBox>.fromOpaque(UnsafeRawPointer(instance!))._withUnsafeGuaranteedRef { box in
                do {
                    try box.head!.evaluate(FeatureFrame(frame!)).write(to: vote!)
                    return ap_status(AP_OK)
                } catch {
                    return failed(error, err)
                }
            }
        },
        on_event: { instance, event in
            guard let event = MarketEvent(event!) else { return }
            InstanceBox.from(instance).head!.onEvent(event)
        }))

    nonisolated(unsafe) static let exchange: UnsafeRawPointer = permanent(ap_exchange_v1(
        struct_size: UInt32(MemoryLayout<ap_exchange_v1>.size),
        start: { instance, err in guarded(err) { try InstanceBox.from(instance).exchange!.start() } },
        stop: { instance in InstanceBox.from(instance).exchange!.stop() },
        subscribe: { instance, subscription, err in
            guarded(err) { try InstanceBox.from(instance).exchange!.subscribe(Subscription(subscription!)) }
        },
        unsubscribe: { instance, symbol, err in
            guarded(err) { try InstanceBox.from(instance).exchange!.unsubscribe(symbol: symbol.string) }
        }))

    nonisolated(unsafe) static let channel: UnsafeRawPointer = permanent(ap_channel_v1(
        struct_size: UInt32(MemoryLayout<ap_channel_v1>.size),
        deliver: { instance, delivery, done, doneContext, err in
            let completion = DeliveryCompletion(done: done!, doneContext: doneContext)
            let status = guarded(err) {
                try InstanceBox.from(instance).channel!.deliver(Delivery(delivery!), completion: completion)
            }
            // An error status means done is never called: the host may already
            // have released done_context, so a kept completion must stay inert.
            if status != AP_OK { completion.disarm() }
            return status
        }))

    nonisolated(unsafe) static let rateLimits: UnsafeRawPointer = permanent(ap_rate_limits_v1(
        struct_size: UInt32(MemoryLayout<ap_rate_limits_v1>.size),
        limits_for_target: { instance, target, fn, user, err in
            guarded(err) {
                let limits = try (InstanceBox.from(instance).channel as! any RateLimitedChannel).rateLimits(forTarget: target.string)
                RateLimit.withCLimits(limits) { fn!(user, $0, $1) }
            }
        }))

    nonisolated(unsafe) static let webhook: UnsafeRawPointer = permanent(ap_webhook_v1(
        struct_size: UInt32(MemoryLayout<ap_webhook_v1>.size),
        handle: { instance, request, response, err in
            guarded(err) { try InstanceBox.from(instance).webhook!.handle(WebhookRequest(request!)).send(through: response!) }
        }))

    private static func permanent<T>(_ table: T) -> UnsafeRawPointer {
        let memory = UnsafeMutablePointer<T>.allocate(capacity: 1)
        memory.initialize(to: table)
        return UnsafeRawPointer(memory)
    }
}
