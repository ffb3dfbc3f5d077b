import AlphaPlusJSON
import AlphaPlusSDK
import Foundation

/// Posts deliveries to Discord channels through webhooks.
///
/// A destination is `{"webhook": "<name>"}`; the webhook's URL is the
/// instance's secret `webhook_<name>` (it holds the webhook's token, so it
/// is never logged nor put in a reason). Any URL form Discord hands out is
/// accepted and posted to as `/api/v10/webhooks/<id>/<token>?wait=true`.
/// How each answer maps to a result: see `DiscordResponse`.
public final class DiscordChannel: RateLimitedChannel {
    public struct Configuration: Decodable, Sendable {
        public enum Format: String, Decodable, Sendable { case embed, text }

        /// "embed" (default): one embed from the payload, the text as its
        /// description; "text": the text as plain `content`.
        public var format: Format = .embed
        /// false (default): `allowed_mentions: {"parse": []}`, so no text
        /// (e.g. an "@everyone" in a template) pings anyone.
        public var allowMentions = false
        public var username: String?
        public var avatarURL: String?

        enum CodingKeys: String, CodingKey {
            case format, allowMentions = "allow_mentions", username, avatarURL = "avatar_url"
        }

        public init(format: Format = .embed, allowMentions: Bool = false, username: String? = nil, avatarURL: String? = nil) {
            self.format = format
            self.allowMentions = allowMentions
            self.username = username
            self.avatarURL = avatarURL
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            format = try c.decodeIfPresent(Format.self, forKey: .format) ?? format
            allowMentions = try c.decodeIfPresent(Bool.self, forKey: .allowMentions) ?? allowMentions
            username = try c.decodeIfPresent(String.self, forKey: .username)
            avatarURL = try c.decodeIfPresent(String.self, forKey: .avatarURL)
        }
    }

    public static let version = "1.0.0"
    /// Discord asks bots to identify themselves as `DiscordBot ($url, $version)`.
    public static let userAgent = "DiscordBot (https://github.com/alphaplus, \(version))"

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.channel-discord",
        name: "Discord webhooks",
        version: version,
        vendor: "AlphaPlus",
        description: "Posts signals, outcomes, summaries and alerts to Discord channels through webhooks, as embeds within Discord's limits.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "format": {"enum": ["embed", "text"], "default": "embed"},
            "allow_mentions": {"type": "boolean", "default": false},
            "username": {"type": "string", "minLength": 1, "maxLength": 80},
            "avatar_url": {"type": "string", "pattern": "^https?://"}
          }
        }
        """,
        networkHosts: ["discord.com"])

    private let configuration: Configuration
    private let context: PluginContext

    public init(configuration: Configuration, context: PluginContext) throws {
        if let username = configuration.username, username.lowercased().contains("discord") {
            throw PluginError.invalidConfig("username '\(username)': Discord refuses webhook names containing \"discord\"")
        }
        self.configuration = configuration
        self.context = context
    }

    public func deliver(_ delivery: Delivery, completion: DeliveryCompletion) throws {
        let webhook: (name: String, url: DiscordWebhookURL)
        let body: JSONValue
        do throws(DiscordMessageError) {
            webhook = try resolve(targetJSON: delivery.targetJSON)
            body = try DiscordMessage.body(text: delivery.text, payloadJSON: delivery.payloadJSON, configuration: configuration)
        } catch {
            completion(DeliveryResult(.permanentFailure, reason: error.message))
            return
        }
        let request = HTTPRequest(method: "POST", url: webhook.url.executeURL,
                                  headers: [HTTPHeader("Content-Type", "application/json"),
                                            HTTPHeader("User-Agent", Self.userAgent)],
                                  body: Array(body.jsonText.utf8))
        let interpreter = DiscordResponse(webhookName: webhook.name, token: webhook.url.token)
        do {
            try context.send(request) { [context] answer in
                let result = interpreter.result(of: answer)
                if result.outcome == .destinationGone { context.warning("webhook '\(webhook.name)': \(result.reason)") }
                completion(result)
            }
        } catch let failure as PluginError {
            completion(interpreter.refused(failure))
        }
    }

    /// Discord's webhook limits: 5 requests per 2 s per webhook (the bucket
    /// headers Discord sends), and 50 per second from one address shared by
    /// every webhook of the instance.
    public func rateLimits(forTarget targetJSON: String) throws -> [RateLimit] {
        let webhook: (name: String, url: DiscordWebhookURL)
        do { webhook = try resolve(targetJSON: targetJSON) } catch { throw PluginError.invalidConfig(error.message) }
        return [RateLimit(bucket: "webhook:\(webhook.url.id)", capacity: 5, windowMs: 2000),
                RateLimit(bucket: "global", capacity: 50, windowMs: 1000)]
    }

    /// The webhook a target names, read from its secret.
    private func resolve(targetJSON: String) throws(DiscordMessageError) -> (name: String, url: DiscordWebhookURL) {
        let target: JSONValue
        do { target = try JSONValue(parsing: targetJSON) } catch {
            throw DiscordMessageError("target \(targetJSON) is not JSON: \(error)")
        }
        guard case .string(let name)? = target["webhook"], !name.isEmpty,
              name.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == "-" }) else {
            throw DiscordMessageError("target \(targetJSON): expected {\"webhook\": \"<name>\"}, a name of letters, digits, '_' and '-'")
        }
        let secretName = "webhook_\(name)"
        guard let secret = context.secret(secretName) else {
            throw DiscordMessageError("secret \(secretName) is not set: it must hold the webhook URL of target '\(name)'")
        }
        do { return (name, try DiscordWebhookURL(parsing: secret)) } catch {
            throw DiscordMessageError("secret \(secretName) \(error.message)")
        }
    }
}

/// What Discord's answer to one webhook execution means for the delivery.
///
/// - 200 (with the message; `wait=true`) or 204: delivered, external id the
///   message id. `X-RateLimit-Remaining: 0` with `X-RateLimit-Reset-After`
///   pauses the destination until the bucket resets.
/// - 429: retry after the body's `retry_after` (float seconds, kept to the
///   millisecond) or else the `Retry-After` header; the destination pauses
///   as long. A global limit is named in the reason.
/// - 404 (10015 unknown webhook) and 401 (50027 invalid token): the webhook
///   is gone; Discord asks never to use a 404 webhook again.
/// - 400 and other 4xx: a permanent failure with Discord's message and the
///   fields it names (`embeds.0.title: Must be 256 or fewer in length.`).
/// - 5xx and transport failures: retry with the host's backoff.
struct DiscordResponse {
    let webhookName: String
    /// Redacted from every reason: the webhook's password.
    let token: String

    func result(of answer: Result<HTTPResponse, PluginError>) -> DeliveryResult {
        switch answer {
        case .failure(let failure): return refused(failure)
        case .success(let response): return result(of: response)
        }
    }

    /// A request that never reached Discord: retried unless the host will
    /// never send it (a network host not declared, an unsupported service).
    func refused(_ failure: PluginError) -> DeliveryResult {
        let reason = redacted("the request to Discord failed: \(failure.message)")
        switch failure.status {
        case ap_status(AP_ERR_PERMISSION_DENIED), ap_status(AP_ERR_UNSUPPORTED), ap_status(AP_ERR_INVALID_ARGUMENT):
            return DeliveryResult(.permanentFailure, reason: reason)
        default:
            return DeliveryResult(.retry, reason: reason)
        }
    }

    private func result(of response: HTTPResponse) -> DeliveryResult {
        // Parsed from a String: invalid UTF-8 is repaired, not rejected (only the id and messages are read).
        let body = try? JSONValue(parsing: response.bodyText)
        switch response.status {
        case 200, 204:
            var messageID = ""
            if case .string(let id)? = body?["id"] { messageID = id }
            var pause: Int64 = 0
            if response.header("X-RateLimit-Remaining") == "0",
               let resetAfter = response.header("X-RateLimit-Reset-After").flatMap(Double.init) {
                pause = milliseconds(seconds: resetAfter)
            }
            return DeliveryResult(.delivered, externalID: messageID, pauseDestinationMs: pause)
        case 429:
            var wait: Int64 = 0
            var source = "no retry_after: the host's backoff"
            if case .number(let seconds)? = body?["retry_after"] {
                wait = milliseconds(seconds: seconds)
                source = "retry_after \(seconds) s"
            } else if let header = response.header("Retry-After"), let seconds = Double(header) {
                wait = milliseconds(seconds: seconds)
                source = "Retry-After \(header) s"
            }
            let global = body?["global"] == .bool(true) || response.header("X-RateLimit-Global")?.lowercased() == "true"
            let scope = response.header("X-RateLimit-Scope").map { ", scope \($0)" } ?? ""
            let reason = "Discord rate limit (429\(scope))\(global ? ", global: every webhook from this address waits" : ""): \(source)"
            return DeliveryResult(.retry, retryAfterMs: wait, reason: redacted(reason), pauseDestinationMs: wait)
        case 404, 401:
            let what = response.status == 404 ? "the webhook was deleted" : "the webhook's token is no longer valid"
            return DeliveryResult(.destinationGone, reason: redacted(
                "Discord answered \(response.status) \(describe(body, response)): \(what); set a new URL in secret webhook_\(webhookName)"))
        case 500...599:
            return DeliveryResult(.retry, reason: redacted("Discord answered \(response.status) \(describe(body, response))"))
        default:
            return DeliveryResult(.permanentFailure, reason: redacted(
                "Discord refused the message (\(response.status) \(describe(body, response)))"))
        }
    }

    /// Discord's message and code, then every field error in its `errors`.
    private func describe(_ body: JSONValue?, _ response: HTTPResponse) -> String {
        guard let body, case .string(let message)? = body["message"] else {
            return String(response.bodyText.prefix(200))
        }
        var text = message
        if case .number(let code)? = body["code"], code != 0 { text += " (code \(Int(code)))" }
        var problems: [String] = []
        if let errors = body["errors"] { collect(errors, path: [], into: &problems) }
        if !problems.isEmpty { text += ": " + problems.joined(separator: "; ") }
        return text
    }

    private func collect(_ errors: JSONValue, path: [String], into problems: inout [String]) {
        guard case .object(let members) = errors else { return }
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            if key == "_errors", case .array(let items) = value {
                let place = path.isEmpty ? "body" : path.joined(separator: ".")
                for item in items {
                    guard case .string(let message)? = item["message"] else { continue }
                    let code = item["code"].flatMap { if case .string(let code) = $0 { " (\(code))" } else { nil } } ?? ""
                    problems.append("\(place): \(message)\(code)")
                }
            } else {
                collect(value, path: path + [key], into: &problems)
            }
        }
    }

    private func redacted(_ text: String) -> String {
        token.isEmpty ? text : text.replacingOccurrences(of: token, with: "<token>")
    }
}

/// Seconds (a float, as Discord sends them) as whole milliseconds, rounded
/// up so that the wait is never shorter than asked; the float's own noise
/// (0.1 × 1000 = 100.00000000000001) does not add a millisecond.
func milliseconds(seconds: Double) -> Int64 {
    guard seconds.isFinite, seconds > 0 else { return 0 }
    return Int64(min((seconds * 1000 - 1e-6).rounded(.up), 9e15))
}
