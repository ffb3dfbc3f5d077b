import struct AlphaPlusSDK.WebhookRequest
import struct AlphaPlusSDK.WebhookResponse
import CAlphaPlus
import Dispatch
import Foundation
import Synchronization
import Logging

/// How one webhook call ended, as the host read it.
public enum WebhookOutcome: Sendable, Equatable {
    /// The plugin answered: status, headers and body as it set them (200
    /// with nothing else when it set nothing, as the contract says).
    case answered(WebhookResponse)
    /// `handle` returned an error status; `message` is for the log only.
    case failed(status: Int32, message: String)
    /// No answer within the deadline. The plugin's later answer is dropped
    /// (and logged on the instance).
    case timedOut
    /// The instance takes no requests: its plugin does not offer
    /// `ap.webhook.v1`, or the instance was destroyed.
    case unavailable(reason: String)
}

extension HostedInstance {
    public var isWebhook: Bool { plugin.webhook != nil }

    /// Hands one HTTP request to the plugin's `handle` on the instance's
    /// executor and returns its answer, or `.timedOut` when `deadline`
    /// (counted from this call) passes first. A request given up on while
    /// it waited for the executor never reaches the plugin. The plugin's log
    /// lines during the call carry `request_id`.
    public func handleWebhook(_ request: WebhookRequest, deadline: Duration) async -> WebhookOutcome {
        guard plugin.webhook != nil else {
            return .unavailable(reason: "plugin \(plugin.id) does not offer \(AP_CAPABILITY_WEBHOOK_V1)")
        }
        let call = PendingWebhookCall()
        return await withCheckedContinuation { continuation in
            call.start(continuation, deadline: deadline)
            context.executor.async { [self] in
                let requestID: Logger.Metadata = ["request_id": .string(request.requestID)]
                guard phase != .destroyed else {
                    call.finish(.unavailable(reason: "the instance was destroyed"))
                    return
                }
                guard call.isPending else {
                    context.logger.warning("webhook request not handed to the plugin: its deadline passed while it waited for the instance",
                                           metadata: requestID)
                    return
                }
                let started = DispatchTime.now().uptimeNanoseconds
                let outcome = context.handlingRequest(request.requestID) { invoke(plugin.webhook!, request) }
                if !call.finish(outcome) {
                    let ms = (DispatchTime.now().uptimeNanoseconds - started) / 1_000_000
                    context.logger.warning("webhook request answered after its deadline (the call took \(ms) ms): the answer is dropped",
                                           metadata: requestID)
                }
            }
        }
    }

    /// Only on the executor: calls `handle` with the request lent as its C
    /// struct and collects what the plugin sets through the builder.
    private func invoke(_ webhook: UnsafePointer<ap_webhook_v1>, _ request: WebhookRequest) -> WebhookOutcome {
        let answer = WebhookAnswer()
        var err = ap_error.empty()
        let status = withExtendedLifetime(answer) {
            var responder = ap_webhook_response(
                struct_size: UInt32(MemoryLayout<ap_webhook_response>.size),
                host_data: Unmanaged.passUnretained(answer).toOpaque(),
                set_status: { data, status in WebhookAnswer.from(data)?.response.status = status },
                add_header: { data, name, value in WebhookAnswer.from(data)?.response.headers.append((name.string, value.string)) },
                append_body: { data, bytes, count in
                    guard let bytes, count > 0 else { return }
                    WebhookAnswer.from(data)?.response.body += UnsafeBufferPointer(start: bytes, count: count)
                })
            return request.withCRequest { request in context.calling(.handle) { webhook.pointee.handle(raw, request, &responder, &err) } }
        }
        guard status == AP_OK else { return .failed(status: status, message: err.text.isEmpty ? "no message" : err.text) }
        return .answered(answer.response)
    }
}

/// What the plugin sets through `ap_webhook_response` during one call.
private final class WebhookAnswer {
    var response = WebhookResponse()

    static func from(_ data: UnsafeMutableRawPointer?) -> WebhookAnswer? {
        data.map { Unmanaged<WebhookAnswer>.fromOpaque($0).takeUnretainedValue() }
    }
}

/// One webhook call between its start and its end: the waiting caller is
/// resumed exactly once, by the plugin's answer or by the deadline.
private final class PendingWebhookCall: Sendable {
    private struct Waiting {
        var continuation: CheckedContinuation<WebhookOutcome, Never>?
        var expiry: DispatchWorkItem?
    }

    private let waiting = Mutex(Waiting())

    func start(_ continuation: CheckedContinuation<WebhookOutcome, Never>, deadline: Duration) {
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        waiting.withLock { waiting in
            let expiry = DispatchWorkItem { [self] in finish(.timedOut) }
            waiting = Waiting(continuation: continuation, expiry: expiry)
            DispatchQueue.global().asyncAfter(deadline: .now() + max(0, seconds), execute: expiry)
        }
    }

    var isPending: Bool { waiting.withLock { $0.continuation != nil } }

    /// Ends the call with `outcome`; false when it had already ended.
    @discardableResult
    func finish(_ outcome: WebhookOutcome) -> Bool {
        let ended = waiting.withLock { waiting in
            defer { waiting = Waiting() }
            return waiting
        }
        guard let continuation = ended.continuation else { return false }
        ended.expiry?.cancel()
        continuation.resume(returning: outcome)
        return true
    }
}
