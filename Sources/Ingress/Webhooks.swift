import struct AlphaPlusSDK.WebhookRequest
import struct AlphaPlusSDK.WebhookResponse
import CAlphaPlus
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PluginRuntime

/// `/hooks/<tenant>/<instance>/<rest…>`, any method: the request goes to
/// that tenant's instance through `ap.webhook.v1`, whose answer goes back
/// to the client. Refused before the plugin is called: a path naming no
/// configured tenant or instance, or an instance without the capability
/// (404), an instance that is not running (503), a body over the limit
/// (413), a body still arriving at the deadline (408).
struct WebhookRoute: Sendable {
    static let prefix = "/hooks"
    /// Hop-by-hop headers (RFC 9110 §7.6.1), never passed on from a plugin.
    static let hopByHop: Set<String> = ["connection", "keep-alive", "proxy-connection", "proxy-authenticate", "proxy-authorization",
                                        "te", "trailer", "transfer-encoding", "upgrade"]
    /// Set by the host whatever the plugin says.
    static let setByHost: Set<String> = ["content-length", "x-request-id"]

    let live: LiveCatalog
    let maxBodyBytes: Int
    let deadline: Duration
    let metrics: WebhookMetrics
    /// Where refusals (the host's, and the plugin's 4xx answers) are logged, bounded, and counted.
    let refusals: RefusalLog

    var catalog: IngressCatalog { live.current }

    static func serves(_ path: Substring) -> Bool { path == prefix || path.hasPrefix(prefix + "/") }

    /// What the request reached (the metrics' labels) and, when the host
    /// refused it, why: its log line says so.
    private struct Notes {
        var tenant = "", instance = "", plugin = ""
        var refusal: String?
    }

    func respond(to request: Request, requestID: String, source: String, logger: Logger) async -> Response {
        let started = ContinuousClock.now
        let target = request.head.path ?? "/"
        let path = target.prefix { $0 != "?" }
        let query = String(target.dropFirst(path.count).dropFirst())
        var notes = Notes()
        let response = await route(request, path: path, query: query, requestID: requestID, started: started,
                                   notes: &notes, logger: logger)
        let elapsed = ContinuousClock.now - started
        metrics.record(tenant: notes.tenant, instance: notes.instance, plugin: notes.plugin, status: response.status.code,
                       duration: elapsed)
        let reached = notes.instance.isEmpty ? "" : " \(notes.tenant)/\(notes.instance)"
        let line = "webhook \(request.method)\(reached) from \(source) → \(response.status.code) in \(Self.milliseconds(elapsed)) ms"
        if let refusal = notes.refusal {
            refusals.refused(.webhookRefused, level: .info, logger: logger, "\(line): \(refusal)")
        } else if (400...499).contains(response.status.code) {
            refusals.refused(.webhookRejected, level: .info, logger: logger, line)
        } else {
            logger.info("\(line)")
        }
        return response
    }

    private func route(_ request: Request, path: Substring, query: String, requestID: String, started: ContinuousClock.Instant,
                       notes: inout Notes, logger: Logger) async -> Response {
        func refuse(_ status: HTTPResponse.Status, _ message: String) -> Response {
            notes.refusal = message
            return .error(status, message)
        }
        guard let address = Self.address(path) else {
            return refuse(.notFound, "a webhook path is \(Self.prefix)/<tenant>/<instance>/…")
        }
        guard let tenantID = QueryParser.decode(address.tenant, plusIsSpace: false), let tenant = catalog.tenant(tenantID) else {
            return refuse(.notFound, "no tenant '\(Names.shown(address.tenant))'")
        }
        notes.tenant = tenant.id
        guard let instanceID = QueryParser.decode(address.instance, plusIsSpace: false), let entry = tenant.instance(instanceID) else {
            return refuse(.notFound, "tenant '\(tenant.id)' has no instance '\(Names.shown(address.instance))'")
        }
        notes.instance = entry.id
        notes.plugin = entry.pluginID
        let name = "tenant '\(tenant.id)', instance '\(entry.id)'"
        let takesWebhooks: Bool? = switch entry.state {
        case .running(let instance): instance.isWebhook
        case .dryRun, .failed: catalog.plugins.first { $0.id == entry.pluginID }.map { $0.webhook != nil }
        }
        if takesWebhooks == false {
            return refuse(.notFound, "\(name) does not take webhooks (plugin \(entry.pluginID) does not offer \(AP_CAPABILITY_WEBHOOK_V1))")
        }
        let instance: HostedInstance
        switch entry.state {
        case .running(let running): instance = running
        case .dryRun: return refuse(.serviceUnavailable, "\(name) is not running (it runs dry: its secrets are not set)")
        case .failed: return refuse(.serviceUnavailable, "\(name) is not running (it failed to start)")
        }

        if let announced = request.headers[.contentLength].flatMap({ Int($0) }), announced > maxBodyBytes {
            return refuse(.contentTooLarge, "the body is larger than \(maxBodyBytes) bytes (Content-Length: \(announced))")
        }
        let body: [UInt8]
        switch await Self.readBody(request.body, limit: maxBodyBytes, until: started + deadline) {
        case .complete(let bytes): body = bytes
        case .tooLarge: return refuse(.contentTooLarge, "the body is larger than \(maxBodyBytes) bytes")
        case .timedOut:
            return refuse(.requestTimeout, "the body did not arrive within \(Self.milliseconds(deadline)) ms")
        case .broken(let why):
            return refuse(.badRequest, "the body could not be read: \(why)")
        }

        var headers: [(name: String, value: String)] = []
        if let host = request.head.authority { headers.append(("Host", host)) }
        for field in request.headers { headers.append((field.name.rawName, field.value)) }
        let call = WebhookRequest(method: request.method.rawValue, path: address.rest, query: query, headers: headers, body: body,
                                  requestID: requestID)
        switch await instance.handleWebhook(call, deadline: started + deadline - ContinuousClock.now) {
        case .answered(let answer):
            return relay(answer, from: name, logger)
        case .failed(let status, let message):
            logger.error("webhook: \(name) (plugin \(entry.pluginID)): handle failed (status \(status)): \(message); answered 500")
            return .error(.internalServerError, "the webhook handler failed (request \(requestID))")
        case .timedOut:
            logger.warning("webhook: \(name) (plugin \(entry.pluginID)) did not answer within \(Self.milliseconds(deadline)) ms; answered 504")
            return .error(.gatewayTimeout, "the webhook handler did not answer within \(Self.milliseconds(deadline)) ms")
        case .unavailable(let reason):
            return refuse(.serviceUnavailable, "\(name) is not running (\(reason))")
        }
    }

    /// The plugin's answer as the response: a status outside 200–599 is a
    /// 500 (1xx cannot end a request); hop-by-hop headers, headers the
    /// plugin's `Connection` names, invalid names, Content-Length and
    /// X-Request-Id are dropped; a 204 or 304 carries no body.
    private func relay(_ answer: WebhookResponse, from name: String, _ logger: Logger) -> Response {
        guard (200...599).contains(answer.status) else {
            logger.error("webhook: \(name) answered status \(answer.status), not a final status (200–599); answered 500")
            return .error(.internalServerError, "the webhook handler gave an invalid answer")
        }
        let named = Set(answer.headers.filter { $0.name.lowercased() == "connection" }
            .flatMap { $0.value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() } })
        var fields = HTTPFields()
        for (headerName, value) in answer.headers {
            let lowered = headerName.lowercased()
            guard !Self.hopByHop.contains(lowered), !Self.setByHost.contains(lowered), !named.contains(lowered) else { continue }
            guard let fieldName = HTTPField.Name(headerName) else {
                logger.warning("webhook: \(name) answered a header named '\(Names.shown(headerName))', which is not a valid name: dropped")
                continue
            }
            fields.append(HTTPField(name: fieldName, value: value))
        }
        let bodyAllowed = answer.status != 204 && answer.status != 304
        return Response(status: HTTPResponse.Status(code: Int(answer.status)), headers: fields,
                        body: bodyAllowed ? ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body)) : ResponseBody())
    }

    /// `/hooks/<tenant>/<instance>` then the rest ("/" when there is none),
    /// all as sent (percent-encoded).
    struct Address {
        var tenant: Substring
        var instance: Substring
        var rest: String
    }

    static func address(_ path: Substring) -> Address? {
        guard serves(path) else { return nil }
        let afterPrefix = path.dropFirst(prefix.count).dropFirst()
        let tenant = afterPrefix.prefix { $0 != "/" }
        let afterTenant = afterPrefix.dropFirst(tenant.count).dropFirst()
        let instance = afterTenant.prefix { $0 != "/" }
        let rest = afterTenant.dropFirst(instance.count)
        guard !tenant.isEmpty, !instance.isEmpty else { return nil }
        return Address(tenant: tenant, instance: instance, rest: rest.isEmpty ? "/" : String(rest))
    }

    enum BodyRead: Sendable {
        case complete([UInt8])
        case tooLarge
        case timedOut
        case broken(String)
    }

    /// The body, counted as it streams (a chunked body has no
    /// Content-Length to check first), until `limit` or the deadline.
    static func readBody(_ body: RequestBody, limit: Int, until deadline: ContinuousClock.Instant) async -> BodyRead {
        await withTaskGroup(of: BodyRead?.self) { group in
            group.addTask {
                var bytes: [UInt8] = []
                do {
                    for try await buffer in body {
                        guard bytes.count + buffer.readableBytes <= limit else { return .tooLarge }
                        bytes.append(contentsOf: buffer.readableBytesView)
                    }
                } catch {
                    return .broken("\(error)")
                }
                return .complete(bytes)
            }
            group.addTask {
                do { try await Task.sleep(until: deadline, clock: .continuous) } catch { return nil }
                return .timedOut
            }
            var first: BodyRead = .timedOut
            for await result in group {
                if let result {
                    first = result
                    break
                }
            }
            group.cancelAll()
            return first
        }
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}
