import Foundation
import AlphaPlusJSON
import AlphaPlusSDK

/// What an answer to `POST /2/tweets` means for the delivery (channels.md §3):
///
/// - 2xx: delivered, `data.id` the external id; when the answer says a
///   budget is spent (`x-rate-limit-remaining: 0`, or a 24-hour
///   `x-user-limit-24hour-remaining` / `x-app-limit-24hour-remaining` of 0)
///   the destination pauses until that budget's reset;
/// - 403 with X's duplicate-content detail: a permanent failure, never
///   retried (X refuses the same text again);
/// - other 400 and 403: a permanent failure with X's `detail`;
/// - 401: a permanent failure saying the credentials were refused;
/// - 429: retried at `x-rate-limit-reset`, or at the reset of a spent
///   24-hour cap when that is later (the destination pauses as long);
/// - 5xx and transport failures: retried, the host's backoff deciding when;
/// - anything else: a permanent failure naming the status.
///
/// Resets are epoch seconds, turned into waits from the host clock.
public enum XResponse {
    public static func deliveryResult(for answer: Result<HTTPResponse, PluginError>, nowMs: Int64,
                                      attempt: Int = 1) -> DeliveryResult {
        let response: HTTPResponse
        switch answer {
        case .failure(let failure): return DeliveryResult(.retry, reason: "X could not be reached: \(failure.message)")
        case .success(let answered): response = answered
        }
        let detail = Self.detail(of: response)
        switch response.status {
        case 200..<300:
            let windows = Self.windows(response.headers)
            let pause = windows.filter { $0.remaining == 0 }.compactMap(\.resetMs).max().map { max(0, $0 - nowMs) } ?? 0
            guard let body = try? JSONValue(parsing: response.body), case .string(let id)? = body["data"]?["id"] else {
                // Posted all the same: reporting anything but delivered would post it twice.
                return DeliveryResult(.delivered, reason: "X accepted the Tweet (HTTP \(response.status)) but sent no data.id",
                                      pauseDestinationMs: pause)
            }
            return DeliveryResult(.delivered, externalID: id, pauseDestinationMs: pause)
        case 401:
            return DeliveryResult(.permanentFailure, reason: "X refused the credentials (HTTP 401: \(detail)): check the instance's "
                + "secrets consumer_key, consumer_secret, access_token and access_token_secret, and that the host clock is right "
                + "(X refuses a timestamp more than 5 minutes off)")
        case 403 where detail.lowercased().contains("duplicate content"):
            let lostAnswer = attempt > 1 ? "; this was attempt \(attempt), so an earlier attempt whose answer was lost may have posted it" : ""
            return DeliveryResult(.permanentFailure, reason: "duplicate content: X refuses a Tweet identical to a recent one (\(detail))\(lostAnswer)")
        case 400, 403:
            return DeliveryResult(.permanentFailure, reason: "X refused the Tweet (HTTP \(response.status)): \(detail)")
        case 429:
            // The 15-minute window's reset at least; a spent daily cap's if later.
            let resets = Self.windows(response.headers).filter { $0.name == "x-rate-limit" || $0.remaining == 0 }
                .compactMap { window in window.resetMs.map { (name: window.name, ms: $0) } }
            guard let latest = resets.max(by: { $0.ms < $1.ms }) else {
                return DeliveryResult(.retry, reason: "X rate limit reached (HTTP 429: \(detail)) and no reset header: the host's backoff decides")
            }
            let wait = max(0, latest.ms - nowMs)
            return DeliveryResult(.retry, retryAfterMs: wait,
                                  reason: "X rate limit reached (HTTP 429: \(detail)): \(latest.name) resets at \(latest.ms / 1000) (in \(wait) ms)",
                                  pauseDestinationMs: wait)
        case 500..<600:
            return DeliveryResult(.retry, reason: "X answered HTTP \(response.status): \(detail)")
        default:
            return DeliveryResult(.permanentFailure, reason: "X answered HTTP \(response.status): \(detail)")
        }
    }

    /// One of X's rate-limit windows as a response reports it.
    struct Window {
        var name: String
        var remaining: Int?
        var resetMs: Int64?
    }

    /// The 15-minute window and the [secondary] 24-hour user and app caps.
    static func windows(_ headers: [HTTPHeader]) -> [Window] {
        ["x-rate-limit", "x-user-limit-24hour", "x-app-limit-24hour"].map { name in
            func number(_ suffix: String) -> Int64? {
                headers.value(of: "\(name)-\(suffix)").flatMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
            }
            return Window(name: name, remaining: number("remaining").map(Int.init), resetMs: number("reset").map { $0 * 1000 })
        }
    }

    /// X's explanation: the problem's `detail`, else its first error
    /// message, else its `title`, else the start of the body.
    static func detail(of response: HTTPResponse) -> String {
        if let body = try? JSONValue(parsing: response.body) {
            if case .string(let detail)? = body["detail"] { return detail }
            if case .array(let errors)? = body["errors"], case .string(let message)? = errors.first?["message"] { return message }
            if case .string(let title)? = body["title"] { return title }
        }
        let text = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "no body" : String(text.prefix(200))
    }
}
