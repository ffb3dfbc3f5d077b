import AlphaPlusSDK
import CAlphaPlus
import HTTPClient
import Logging

/// The contract's HTTP slot (http_request, http_cancel): the plugin's
/// declared hosts enforced, endpoint overrides applied, the request sent
/// by the shared HTTPClient, and the answer handed to the plugin exactly
/// once on its instance's executor unless the instance is released first.
extension HostServices {
    func startHTTPRequest(_ raw: UnsafePointer<ap_http_request>?, _ fn: ap_http_response_fn?, _ user: UnsafeMutableRawPointer?,
                          _ outID: UnsafeMutablePointer<UInt64>?, _ context: HostContext) -> ap_status {
        guard context.isInstance, let raw, let fn, Int(raw.pointee.struct_size) >= MemoryLayout<ap_http_request>.size else {
            return ap_status(AP_ERR_INVALID_ARGUMENT)
        }
        // Everything the plugin lent is [call]: copied here, before returning.
        var request = HTTPRequest(raw)
        let url: HTTPURL
        do {
            url = try HTTPURL(parsing: request.url)
        } catch {
            return refuse(request, because: error.message, status: ap_status(AP_ERR_INVALID_ARGUMENT), outcome: "invalid", context)
        }
        if let reason = context.network.refusal(of: url.origin) {
            return refuse(request, because: reason, status: ap_status(AP_ERR_PERMISSION_DENIED), outcome: "refused", context)
        }
        if let local = endpointOverrides[url.origin] {
            request.url = url.replacingOrigin(with: local).absoluteString
            context.logger.debug("HTTP \(request.method) \(url.origin) sent to \(local) (network.endpoint_overrides)")
        }
        let client = httpClient
        let slot = RequestSlot()
        let userAddress = UInt(bitPattern: user)
        let started = context.beginHTTPRequest { () throws(HTTPClientError) -> UInt64 in
            let id = try client.send(request) { result in
                context.executor.async {
                    self.countHTTPRequest(outcome: Self.outcome(of: result), context)
                    guard context.endHTTPRequest({ slot.id }) else { return }  // released: the plugin hears nothing more
                    context.calling(.httpResponse) { Self.deliver(result, id: slot.id, to: fn, user: UnsafeMutableRawPointer(bitPattern: userAddress)) }
                }
            }.rawValue
            slot.id = id
            return id
        }
        switch started {
        case nil:
            return ap_status(AP_ERR_INVALID_ARGUMENT)
        case .failure(let error):
            let status = ap_status(error.kind == .invalidRequest ? AP_ERR_INVALID_ARGUMENT : AP_ERR_UNAVAILABLE)
            return refuse(request, because: error.message, status: status, outcome: Self.outcome(of: .failure(error)), context)
        case .success(let id):
            outID?.pointee = id
            return ap_status(AP_OK)
        }
    }

    func cancelHTTPRequest(_ id: UInt64, _ context: HostContext) -> ap_status {
        guard context.isInstance else { return ap_status(AP_ERR_INVALID_ARGUMENT) }
        guard context.hasHTTPRequest(id) else { return ap_status(AP_ERR_NOT_FOUND) }
        httpClient.cancel(HTTPClient.RequestID(rawValue: id))
        return ap_status(AP_OK)
    }

    /// One warning line naming plugin, tenant, instance and the origin (a
    /// URL's path may hold a token, so never the whole URL).
    private func refuse(_ request: HTTPRequest, because reason: String, status: ap_status, outcome: String,
                        _ context: HostContext) -> ap_status {
        countHTTPRequest(outcome: outcome, context)
        context.logger.warning("HTTP \(request.method) refused for plugin \(context.pluginID), tenant \(context.tenantID), instance \(context.instanceID): \(reason)")
        return status
    }

    /// In memory as `http_requests{outcome}` and as `alphaplus_http_requests_total`.
    private func countHTTPRequest(outcome: String, _ context: HostContext) {
        count("http_requests", context, labels: ["outcome": outcome])
        context.metrics.countHTTPRequest(outcome: outcome)
    }

    private static func deliver(_ result: Result<HTTPResponse, HTTPClientError>, id: UInt64, to fn: ap_http_response_fn,
                                user: UnsafeMutableRawPointer?) {
        switch result {
        case .success(let response):
            response.withCResponse { fn(user, id, $0) }
        case .failure(let error):
            // The contract knows timeouts; every other failure, a cancel
            // included, is "unavailable" with the client's message.
            let status = error.kind == .timeout ? AP_ERR_TIMEOUT : AP_ERR_UNAVAILABLE
            HTTPResponse.withCFailure(PluginError(status: ap_status(status), error.message)) { fn(user, id, $0) }
        }
    }

    /// The `outcome` label of the http_requests counter.
    private static func outcome(of result: Result<HTTPResponse, HTTPClientError>) -> String {
        switch result {
        case .success: "ok"
        case .failure(let error): error.kind.rawValue
        }
    }
}

/// The id of a request, set under the context's lock once the client
/// returns it and read under the same lock by its completion.
// @unchecked: `id` is written and read under the context's lock.
private final class RequestSlot: @unchecked Sendable {
    var id: UInt64 = 0
}
