import AlphaPlusJSON
import AlphaPlusSDK
import Foundation

/// Sends deliveries to Telegram chats with a bot's `sendMessage`.
///
/// The bot token is the instance's secret `bot_token` (it is part of every
/// request URL, so the plugin redacts it from every reason and log line).
/// A destination is `{"chat_id": <integer>}` or `{"chat_id": "@channelname"}`.
/// A text over 4096 UTF-16 units once escaped goes as several messages, one
/// second apart (Telegram's per-chat pace); the parts already sent are kept
/// in the instance's state under the delivery's idempotency key, so a retry
/// sends only the rest. How each answer maps to a result: see `TelegramResponse`.
///
/// The same bot answers its chats' commands through Telegram's webhook
/// (`ap.webhook.v1`, see `TelegramWebhook`), linking chats to the tenant's
/// subscribers.
public final class TelegramChannel: RateLimitedChannel, WebhookPlugin {
    public struct Configuration: Decodable, Sendable {
        /// "MarkdownV2" (default), "HTML" or "none". The text is always
        /// shown literally: escaped for the mode.
        public var parseMode: TelegramParseMode = .markdownV2
        public var disableNotification = false
        /// Starts the message with the payload's `title` in bold.
        public var showTitle = false
        /// The bot's username, without "@": in groups, a command naming a
        /// bot (`/start@name`) is answered only when it names this one.
        public var botUsername: String?
        /// Where /subscribe sends a chat (e.g. a Stripe Payment Link), with
        /// `client_reference_id=<the chat's subscriber id>` appended.
        public var checkoutURL: String?

        enum CodingKeys: String, CodingKey {
            case parseMode = "parse_mode", disableNotification = "disable_notification", showTitle = "show_title"
            case botUsername = "bot_username", checkoutURL = "checkout_url"
        }

        public init(parseMode: TelegramParseMode = .markdownV2, disableNotification: Bool = false, showTitle: Bool = false,
                    botUsername: String? = nil, checkoutURL: String? = nil) {
            self.parseMode = parseMode
            self.disableNotification = disableNotification
            self.showTitle = showTitle
            self.botUsername = botUsername
            self.checkoutURL = checkoutURL
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            parseMode = try c.decodeIfPresent(TelegramParseMode.self, forKey: .parseMode) ?? parseMode
            disableNotification = try c.decodeIfPresent(Bool.self, forKey: .disableNotification) ?? disableNotification
            showTitle = try c.decodeIfPresent(Bool.self, forKey: .showTitle) ?? showTitle
            botUsername = try c.decodeIfPresent(String.self, forKey: .botUsername)
            checkoutURL = try c.decodeIfPresent(String.self, forKey: .checkoutURL)
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.channel-telegram",
        name: "Telegram bot",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Sends signals, outcomes, summaries and alerts to Telegram chats and channels with a bot, escaped exactly and split at 4096 characters; answers the bot's commands (/start, /subscribe, /status, /stop) through Telegram's webhook.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "properties": {
            "parse_mode": {"enum": ["MarkdownV2", "HTML", "none"], "default": "MarkdownV2"},
            "disable_notification": {"type": "boolean", "default": false},
            "show_title": {"type": "boolean", "default": false},
            "bot_username": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{3,31}$",
                             "description": "the bot's username without @; in groups, /cmd@name is answered only for this name"},
            "checkout_url": {"type": "string", "pattern": "^https://", "maxLength": 2000,
                             "description": "where /subscribe sends a chat, client_reference_id appended"}
          }
        }
        """,
        networkHosts: ["api.telegram.org"],
        services: [.subscriptions])

    /// The pause between the parts of one split message: Telegram's pace
    /// of one message per second per chat.
    public static let partInterval: Duration = .seconds(1)
    static let tokenSecret = "bot_token"

    private let configuration: Configuration
    private let context: PluginContext
    private let webhook: TelegramWebhook

    public init(configuration: Configuration, context: PluginContext) throws {
        if let checkoutURL = configuration.checkoutURL { try Self.checkCheckoutURL(checkoutURL) }
        self.configuration = configuration
        self.context = context
        webhook = TelegramWebhook(configuration: configuration, context: context)
    }

    public func handle(_ request: WebhookRequest) throws -> WebhookResponse { webhook.handle(request) }

    /// A URL a query parameter can be appended to: https with a host, no
    /// fragment (the parameter would land in it), nothing to escape.
    private static func checkCheckoutURL(_ url: String) throws {
        func refused(_ problem: String) -> PluginError {
            .invalidConfig("config field 'checkout_url': '\(url.prefix(100))' \(problem)")
        }
        guard url.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) }) else {
            throw refused("has white space or characters that need escaping")
        }
        guard !url.contains("#") else { throw refused("has a fragment (#...): client_reference_id would be appended to it") }
        guard let parts = URLComponents(string: url), parts.scheme == "https", !(parts.host ?? "").isEmpty else {
            throw refused("is not an https URL with a host")
        }
    }

    public func deliver(_ delivery: Delivery, completion: DeliveryCompletion) throws {
        let send: PartSender
        do throws(TelegramDeliveryError) {
            send = try prepare(delivery)
        } catch {
            completion(DeliveryResult(.permanentFailure, reason: error.message))
            return
        }
        send.start(completion)
    }

    /// Telegram's limits (Bot FAQ): about 30 messages a second per bot, one a
    /// second per chat, 20 a minute per group or channel.
    public func rateLimits(forTarget targetJSON: String) throws -> [RateLimit] {
        let chat: TelegramChat
        do { chat = try TelegramChat(targetJSON: targetJSON) } catch { throw PluginError.invalidConfig(error.message) }
        var limits = [RateLimit(bucket: "bot", capacity: 30, windowMs: 1000),
                      RateLimit(bucket: "chat:\(chat.key)", capacity: 1, windowMs: 1000)]
        if chat.isGroup { limits.append(RateLimit(bucket: "chat:\(chat.key):minute", capacity: 20, windowMs: 60_000)) }
        return limits
    }

    private func prepare(_ delivery: Delivery) throws(TelegramDeliveryError) -> PartSender {
        guard let secret = context.secret(Self.tokenSecret) else {
            throw TelegramDeliveryError(message: "secret \(Self.tokenSecret) is not set: it must hold the bot's token from @BotFather")
        }
        let token = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        let parts = token.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), !parts[1].isEmpty,
              parts[1].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw TelegramDeliveryError(message: "secret \(Self.tokenSecret) is not a bot token (expected <digits>:<letters, digits, '_' or '-'>)")
        }
        let chat = try TelegramChat(targetJSON: delivery.targetJSON)
        var title: String?
        if configuration.showTitle {
            let payload: JSONValue
            do { payload = try JSONValue(parsing: delivery.payloadJSON.isEmpty ? "{}" : delivery.payloadJSON) } catch {
                throw TelegramDeliveryError(message: "the payload is not JSON: \(error)")
            }
            if case .string(let text)? = payload["title"] { title = text }
        }
        let texts = TelegramMessageSplitter.parts(text: delivery.text, title: title, mode: configuration.parseMode)
        guard !texts.isEmpty else { throw TelegramDeliveryError(message: "the message is empty: the text is blank") }
        return PartSender(context: context, token: token, chat: chat, texts: texts, configuration: configuration,
                          progressKey: "parts:\(delivery.idempotencyKey)")
    }
}

/// Sends the parts of one delivery in order, one `partInterval` apart,
/// recording each sent part before the next so that a retry resumes.
final class PartSender {
    private let context: PluginContext
    private let token: String
    private let chat: TelegramChat
    private let texts: [String]
    private let configuration: TelegramChannel.Configuration
    private let progressKey: String
    private var progress: Progress
    private var completion: DeliveryCompletion?

    /// The parts of a delivery already sent: their message ids, in order.
    struct Progress: Equatable {
        var messageIDs: [String] = []

        init(messageIDs: [String] = []) { self.messageIDs = messageIDs }

        init?(_ bytes: [UInt8]) {
            guard case .array(let items)? = try? JSONValue(parsing: bytes)["message_ids"] else { return nil }
            messageIDs = items.compactMap { if case .string(let id) = $0 { id } else { nil } }
        }

        var bytes: [UInt8] { Array(JSONValue.object(["message_ids": .array(messageIDs.map(JSONValue.string))]).jsonText.utf8) }
    }

    init(context: PluginContext, token: String, chat: TelegramChat, texts: [String],
         configuration: TelegramChannel.Configuration, progressKey: String) {
        self.context = context
        self.token = token
        self.chat = chat
        self.texts = texts
        self.configuration = configuration
        self.progressKey = progressKey
        self.progress = context.state(progressKey).flatMap(Progress.init) ?? Progress()
    }

    func start(_ completion: DeliveryCompletion) {
        self.completion = completion
        if !progress.messageIDs.isEmpty {
            context.debug("resuming a split message at part \(progress.messageIDs.count + 1) of \(texts.count)")
        }
        sendNext()
    }

    private func sendNext() {
        let index = progress.messageIDs.count
        guard index < texts.count else {
            // Another part right after this message would break the per-chat pace.
            finish(DeliveryResult(.delivered, externalID: progress.messageIDs.joined(separator: ","),
                                  pauseDestinationMs: texts.count > 1 ? Int64(TelegramChannel.partInterval.milliseconds) : 0))
            return
        }
        var body: [String: JSONValue] = [
            "chat_id": chat.parameter,
            "text": .string(texts[index]),
            "link_preview_options": .object(["is_disabled": .bool(true)]),
        ]
        if let mode = configuration.parseMode.parameter { body["parse_mode"] = .string(mode) }
        if configuration.disableNotification { body["disable_notification"] = .bool(true) }
        let request = HTTPRequest(method: "POST", url: "https://api.telegram.org/bot\(token)/sendMessage",
                                  headers: [HTTPHeader("Content-Type", "application/json")],
                                  body: Array(JSONValue.object(body).jsonText.utf8))
        let interpreter = TelegramResponse(token: token, chat: chat)
        do {
            try context.send(request) { [self] answer in
                switch interpreter.interpret(answer) {
                case .sent(let messageID): sent(messageID)
                case .failed(var result):
                    if texts.count > 1 { result.reason = "part \(index + 1) of \(texts.count): \(result.reason)" }
                    finish(result)
                }
            }
        } catch let failure as PluginError {
            finish(interpreter.refused(failure))
        } catch {
            finish(DeliveryResult(.retry, reason: interpreter.redacted("the request to Telegram failed: \(error)")))
        }
    }

    private func sent(_ messageID: String) {
        progress.messageIDs.append(messageID)
        guard progress.messageIDs.count < texts.count else { return sendNext() }
        do {
            try context.setState(progressKey, progress.bytes)
        } catch {
            context.warning("could not save the progress of a split message (a retry would send part 1 again): \(error)")
        }
        do {
            try context.startTimer(after: TelegramChannel.partInterval) { [self] in sendNext() }
        } catch {
            sendNext()  // no timer service: Telegram's flood control answers, and a retry resumes
        }
    }

    /// Completes the delivery; only a retry keeps the progress.
    private func finish(_ result: DeliveryResult) {
        if result.outcome != .retry { try? context.removeState(progressKey) }
        if result.outcome == .destinationGone { context.warning("chat \(chat.key): \(result.reason)") }
        completion?(result)
        completion = nil
    }
}

/// What Telegram's answer to one sendMessage means.
///
/// - `ok`: sent; the message id.
/// - 429: retry after `parameters.retry_after` seconds; the chat pauses as long.
/// - 400 with `parameters.migrate_to_chat_id` (a group upgraded to a
///   supergroup): retry at once with the updated target
///   `{"chat_id": <new id>}`, which the host stores and sends to from then on.
/// - 403 (the bot was blocked, kicked, or may not write there) and 400
///   "chat not found": the destination is gone.
/// - Other 400s: a permanent failure with Telegram's description.
/// - 401 and 404 (Telegram's answers to a wrong token): a permanent failure
///   saying the token was refused, never the token.
/// - 5xx and transport failures: retry with the host's backoff.
struct TelegramResponse {
    enum Interpretation {
        case sent(String)
        case failed(DeliveryResult)
    }

    let token: String
    let chat: TelegramChat

    func interpret(_ answer: Result<HTTPResponse, PluginError>) -> Interpretation {
        switch answer {
        case .failure(let failure): return .failed(refused(failure))
        case .success(let response): return interpret(response)
        }
    }

    func refused(_ failure: PluginError) -> DeliveryResult {
        let reason = redacted("the request to Telegram failed: \(failure.message)")
        switch failure.status {
        case ap_status(AP_ERR_PERMISSION_DENIED), ap_status(AP_ERR_UNSUPPORTED), ap_status(AP_ERR_INVALID_ARGUMENT):
            return DeliveryResult(.permanentFailure, reason: reason)
        default:
            return DeliveryResult(.retry, reason: reason)
        }
    }

    private func interpret(_ response: HTTPResponse) -> Interpretation {
        // Parsed from a String: invalid UTF-8 is repaired, not rejected (only the id and messages are read).
        let body = try? JSONValue(parsing: response.bodyText)
        var description = String(response.bodyText.prefix(200))
        if case .string(let text)? = body?["description"] { description = text }
        let parameters = body?["parameters"]
        switch response.status {
        case 200 where body?["ok"] == .bool(true):
            guard case .number(let id)? = body?["result"]?["message_id"] else {
                // Sent (Telegram said ok) but unnumbered: count it as sent.
                return .sent("")
            }
            return .sent(JSONValue.number(id).jsonText)
        case 429:
            var wait: Int64 = 0
            if case .number(let seconds)? = parameters?["retry_after"], seconds > 0 { wait = Int64((seconds * 1000).rounded(.up)) }
            return .failed(DeliveryResult(.retry, retryAfterMs: wait, reason: redacted("Telegram flood control (429): \(description)"),
                                          pauseDestinationMs: wait))
        case 400 where parameters?["migrate_to_chat_id"] != nil:
            guard case .number(let newID)? = parameters?["migrate_to_chat_id"], newID.rounded() == newID else {
                return .failed(DeliveryResult(.permanentFailure, reason: redacted("Telegram: \(description), with an unreadable migrate_to_chat_id")))
            }
            let target = JSONValue.object(["chat_id": .number(newID)]).jsonText
            return .failed(DeliveryResult(.retry, reason: redacted(
                "Telegram: \(description): chat \(chat.key) is now \(JSONValue.number(newID).jsonText); resending there"),
                updatedTargetJSON: target))
        case 403:
            return .failed(DeliveryResult(.destinationGone, reason: redacted("Telegram answered 403: \(description)")))
        case 400 where description.lowercased().contains("chat not found"):
            return .failed(DeliveryResult(.destinationGone, reason: redacted("Telegram answered 400: \(description)")))
        case 401, 404:
            return .failed(DeliveryResult(.permanentFailure, reason:
                "Telegram refused the bot token (\(response.status) \(redacted(description))): check secret bot_token"))
        case 500...599:
            return .failed(DeliveryResult(.retry, reason: redacted("Telegram answered \(response.status): \(description)")))
        default:
            return .failed(DeliveryResult(.permanentFailure, reason: redacted("Telegram refused the message (\(response.status)): \(description)")))
        }
    }

    func redacted(_ text: String) -> String {
        token.isEmpty ? text : text.replacingOccurrences(of: token, with: "<bot_token>")
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
