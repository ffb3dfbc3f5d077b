import AlphaPlusSDK
import Foundation

/// Every request the echo webhooks handled, by the `log` name in their
/// settings, so a test compares what arrived with what it sent.
public enum WebhookLog {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var requests: [String: [WebhookRequest]] = [:]

    public static func requests(_ name: String) -> [WebhookRequest] { lock.withLock { requests[name] ?? [] } }

    static func append(_ request: WebhookRequest, to name: String) { lock.withLock { requests[name, default: []].append(request) } }
}

/// `ap.webhook.v1` for the ingress tests. Settings: `{"log": "<name>"}`.
/// By path: `/slow/<ms>` answers after sleeping; `/fail` throws;
/// `/status/<n>` answers status n; `/headers` answers hop-by-hop and
/// other headers; anything else echoes: 200 with the method, path, query
/// and request id in X-Echo-* headers and the body as received. Each
/// request is recorded before it is answered, and logged.
public final class EchoWebhook: WebhookPlugin {
    public struct Configuration: Decodable {
        var log: String
    }

    public static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test.echo-webhook", name: "Echo webhook", version: "1.0.0",
                         configSchema: #"{"type": "object", "properties": {"log": {"type": "string"}}, "required": ["log"], "additionalProperties": false}"#)
    }

    private let log: String
    private let context: PluginContext

    public init(configuration: Configuration, context: PluginContext) throws {
        log = configuration.log
        self.context = context
    }

    public func handle(_ request: WebhookRequest) throws -> WebhookResponse {
        WebhookLog.append(request, to: log)
        context.info("echo webhook handling \(request.method) \(request.path)")
        let parts = request.path.split(separator: "/").map(String.init)
        switch parts.first {
        case "slow":
            Thread.sleep(forTimeInterval: Double(parts.count > 1 ? Int(parts[1]) ?? 0 : 0) / 1000)
            return WebhookResponse(status: 200, text: #"{"slow": true}"#)
        case "fail":
            throw PluginError.invalidArgument("signature mismatch for request \(request.requestID)")
        case "status":
            return WebhookResponse(status: Int32(parts.count > 1 ? parts[1] : "") ?? 0, text: #"{"status": "as asked"}"#)
        case "headers":
            return WebhookResponse(status: 201, headers: [
                ("Connection", "close, X-Hop"), ("X-Hop", "named by Connection"), ("Keep-Alive", "timeout=5"),
                ("Transfer-Encoding", "chunked"), ("Upgrade", "h2c"), ("Content-Length", "999"), ("X-Request-Id", "plugin-made"),
                ("Bad Name", "space in the name"), ("X-Kept", "one"), ("x-kept", "two"), ("Content-Type", "text/plain"),
            ], body: Array("kept".utf8))
        default:
            return WebhookResponse(status: 200, headers: [
                ("X-Echo-Method", request.method), ("X-Echo-Path", request.path), ("X-Echo-Query", request.query),
                ("X-Echo-Request-Id", request.requestID), ("Content-Type", "application/octet-stream"),
            ], body: request.body)
        }
    }
}

/// A head (`ap.head.v1` only): an instance of it takes no webhooks.
public final class FlatHead: HeadPlugin {
    public struct Configuration: Decodable {}

    public static var descriptor: PluginDescriptor {
        PluginDescriptor(id: "com.alphaplus.test.flat-head", name: "Flat head", version: "1.0.0")
    }

    public init(configuration: Configuration, context: PluginContext) throws {}

    public func evaluate(_ frame: FeatureFrame) throws -> Vote { Vote(.flat, confidence: 0) }
}
