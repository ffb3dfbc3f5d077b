import AlphaPlusJSON
import AlphaPlusSDK
import Foundation

/// The bot's side of Telegram's webhook (`ap.webhook.v1`): Telegram POSTs
/// each update to `/hooks/<tenant>/<instance>`, with the `secret_token` the
/// operator gave `setWebhook` in `X-Telegram-Bot-Api-Secret-Token`. The bot
/// answers the commands of chats (/start, /subscribe, /status, /stop,
/// /help) by linking them to the tenant's subscribers through the host's
/// subscription services, and replies within the webhook's answer: a
/// `sendMessage` call, which Telegram makes for it.
///
/// Answers: 503 without a usable secret `webhook_secret` (never accept
/// unauthenticated updates), 405 for a method other than POST, 401 for a
/// missing or wrong secret token, 400 for a body that is not an update
/// (naming the field), 500 when the host refuses a subscription service
/// (Telegram then resends the update, which is not marked seen), else 200:
/// with the reply, or empty for an update that needs none (one that linked
/// or unlinked the chat already, not a text message, not addressed to
/// this bot).
final class TelegramWebhook {
    static let secretTokenHeader = "X-Telegram-Bot-Api-Secret-Token"
    static let webhookSecret = "webhook_secret"
    static let linkSecret = "link_secret"

    private let configuration: TelegramChannel.Configuration
    private let context: PluginContext
    private var seen: SeenUpdates

    init(configuration: TelegramChannel.Configuration, context: PluginContext) {
        self.configuration = configuration
        self.context = context
        switch context.state(SeenUpdates.stateKey).map(SeenUpdates.init(bytes:)) {
        case nil: seen = SeenUpdates()
        case let restored??: seen = restored
        case .some(nil):
            context.warning("state \(SeenUpdates.stateKey) is not a list of update ids (8 bytes each); starting with none seen")
            seen = SeenUpdates()
        }
    }

    func handle(_ request: WebhookRequest) -> WebhookResponse {
        let requestID = "webhook request \(request.requestID)"
        guard let expectedToken = webhookSecretToken(requestID) else {
            return Self.failure(503, "the webhook is not configured")
        }
        guard request.method == "POST" else {
            var response = Self.failure(405, "method \(request.method) is not allowed: Telegram POSTs updates")
            response.headers.append(("Allow", "POST"))
            return response
        }
        guard let presented = request.header(Self.secretTokenHeader) else {
            context.warning("\(requestID): no \(Self.secretTokenHeader) header; refused (401)")
            return Self.failure(401, "missing \(Self.secretTokenHeader)")
        }
        guard constantTimeEquals(Array(presented.utf8), expectedToken) else {
            context.warning("\(requestID): wrong \(Self.secretTokenHeader); refused (401)")
            return Self.failure(401, "wrong \(Self.secretTokenHeader)")
        }
        let update: TelegramUpdate
        do { update = try TelegramUpdate(json: request.body) } catch {
            context.warning("\(requestID): not an update: \(error.message) (400)")
            return Self.failure(400, error.message)
        }
        guard let message = update.message, let command = command(in: message) else { return WebhookResponse() }
        guard !seen.contains(update.id) else {
            context.debug("\(requestID): update \(update.id) was handled already; ignored")
            return WebhookResponse()
        }
        let reply: Reply
        do {
            reply = try answer(command, chat: message.chatID, reference: "telegram update \(update.id)", requestID: requestID)
        } catch {
            context.error("\(requestID): update \(update.id): \(error); answered 500 so that Telegram sends it again")
            return Self.failure(500, "the host refused a subscription service; try again later")
        }
        if reply.linkedOrUnlinked { markSeen(update.id, requestID) }
        return Self.sendMessage(chat: message.chatID, text: reply.text)
    }

    // MARK: Commands

    private enum Command {
        case start(linkToken: String?), subscribe, status, stop, help
    }

    /// What a message asks of the bot, nil when it asks nothing. In a
    /// private chat every message is for the bot: plain text and unknown
    /// commands get the list of commands. In a group only commands are,
    /// and one that names a bot (`/start@name`) only when the name is
    /// `bot_username` (case-insensitive).
    private func command(in message: TelegramUpdate.Message) -> Command? {
        guard let command = TelegramCommand(text: message.text) else { return message.isPrivate ? .help : nil }
        let addressedToThisBot = command.botName.map { name in
            configuration.botUsername.map { $0.lowercased() == name.lowercased() } ?? false
        }
        if !message.isPrivate, addressedToThisBot == false { return nil }
        switch command.name {
        case "start": return .start(linkToken: command.argument.isEmpty ? nil : command.argument)
        case "subscribe": return .subscribe
        case "status": return .status
        case "stop": return .stop
        case "help": return .help
        default: return message.isPrivate || addressedToThisBot == true ? .help : nil
        }
    }

    /// A reply, and whether the command linked or unlinked the chat (even
    /// where it already was, or was not): only such updates are remembered
    /// as seen. One that changed nothing (help, status, a refused link) is
    /// answered again if Telegram resends it, which it does only when it
    /// did not get the first answer.
    private struct Reply {
        var text: String
        var linkedOrUnlinked: Bool
    }

    /// Throws when the host refuses a service.
    private func answer(_ command: Command, chat: Int64, reference: String, requestID: String) throws -> Reply {
        let identity = SubscriberIdentity.telegramChat(chat)
        switch command {
        case .help:
            return Reply(text: TelegramBotReplies.help, linkedOrUnlinked: false)
        case .start(nil):
            let subscriber = try context.linkSubscriber(nil, to: identity, reference: reference)
            return Reply(text: TelegramBotReplies.welcome(tier: subscriber.tier), linkedOrUnlinked: true)
        case .start(let token?):
            guard let subscriberID = try linkedSubscriber(in: token, requestID) else {
                return Reply(text: TelegramBotReplies.invalidLink, linkedOrUnlinked: false)
            }
            let subscriber = try context.linkSubscriber(subscriberID, to: identity, reference: reference)
            return Reply(text: TelegramBotReplies.linked(tier: subscriber.tier), linkedOrUnlinked: true)
        case .subscribe:
            guard let checkoutURL = configuration.checkoutURL else {
                return Reply(text: TelegramBotReplies.subscriptionsUnavailable, linkedOrUnlinked: false)
            }
            let subscriber = try context.linkSubscriber(nil, to: identity, reference: reference)
            let separator = checkoutURL.contains("?") ? "&" : "?"
            return Reply(text: TelegramBotReplies.checkout(url: checkoutURL + separator + "client_reference_id=" + subscriber.id),
                         linkedOrUnlinked: true)
        case .status:
            let subscriber = try context.subscriber(for: identity)
            return Reply(text: subscriber.map(TelegramBotReplies.status) ?? TelegramBotReplies.notSubscribed, linkedOrUnlinked: false)
        case .stop:
            let unlinked = try context.unlinkSubscriber(identity, reference: reference)
            return Reply(text: unlinked ? TelegramBotReplies.stopped : TelegramBotReplies.stoppedWithoutSubscription, linkedOrUnlinked: true)
        }
    }

    /// The subscriber a deep link's token names, nil when it is not valid
    /// (or there is no usable `link_secret`: then every link is refused).
    private func linkedSubscriber(in token: String, _ requestID: String) throws -> String? {
        guard let secret = context.secret(Self.linkSecret) else {
            context.warning("\(requestID): a deep link was refused: secret \(Self.linkSecret) is not set")
            return nil
        }
        guard secret.utf8.count >= TelegramLinkToken.minimumSecretLength else {
            context.error("\(requestID): a deep link was refused: secret \(Self.linkSecret) is shorter than \(TelegramLinkToken.minimumSecretLength) bytes")
            return nil
        }
        let id = try TelegramLinkToken.subscriberID(in: token, secret: secret) { try context.hmac(.sha256, key: $0, message: $1) }
        if id == nil { context.info("\(requestID): a deep link that is not valid (malformed, unsigned or tampered with) was refused") }
        return id
    }

    // MARK: Helpers

    /// The secret token Telegram must present, nil (and a log line) when the
    /// secret is unset or not one `setWebhook` accepts.
    private func webhookSecretToken(_ requestID: String) -> [UInt8]? {
        guard let secret = context.secret(Self.webhookSecret) else {
            context.error("\(requestID): secret \(Self.webhookSecret) is not configured: every webhook request is refused (503) until it is")
            return nil
        }
        let bytes = Array(secret.utf8)
        guard (1...256).contains(bytes.count), bytes.allSatisfy(Self.isSecretTokenByte) else {
            context.error("\(requestID): secret \(Self.webhookSecret) is not a secret_token setWebhook accepts (1-256 characters of A-Z, a-z, 0-9, '_' and '-'): every webhook request is refused (503)")
            return nil
        }
        return bytes
    }

    private static func isSecretTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "-"): true
        default: false
        }
    }

    /// Remembers an update acted on. A window the state cannot keep still
    /// holds in memory; after a restart a redelivery could act again.
    private func markSeen(_ updateID: Int64, _ requestID: String) {
        seen.insert(updateID)
        do { try context.setState(SeenUpdates.stateKey, seen.bytes) } catch {
            context.warning("\(requestID): could not save the seen update ids (a redelivery after a restart would act again): \(error)")
        }
    }

    /// A Bot API call in the webhook's answer, which Telegram makes for the bot.
    private static func sendMessage(chat: Int64, text: String) -> WebhookResponse {
        WebhookResponse(text: #"{"method":"sendMessage","chat_id":\#(chat),"text":\#(JSONValue.string(text).jsonText)}"#)
    }

    private static func failure(_ status: Int32, _ message: String) -> WebhookResponse {
        WebhookResponse(status: status, text: JSONValue.object(["error": .string(message)]).jsonText)
    }
}

/// The bot's replies, plain text (no parse_mode).
enum TelegramBotReplies {
    static let help = """
        Commands:
        /start - receive this bot's messages
        /subscribe - a link to subscribe
        /status - your tier and subscription
        /stop - receive nothing more
        /help - this list
        """

    static func welcome(tier: String) -> String {
        "Welcome! This chat receives the \(tier) tier.\n\n" + help
    }

    static func linked(tier: String) -> String {
        "Linked: this chat now receives your subscription's \(tier) tier. /status shows it."
    }

    static let invalidLink = "This link is not valid. Ask for a new one, or send /start to join without it."

    static let subscriptionsUnavailable = "Subscriptions are not available here."

    static func checkout(url: String) -> String {
        "Subscribe here: \(url)\nOnce paid, /status shows your subscription."
    }

    static let notSubscribed = "This chat is not subscribed — /start to join."

    static func status(_ subscriber: Subscriber) -> String {
        var lines = ["Tier: \(subscriber.tier)", "Subscription: \(subscriber.status)"]
        if subscriber.periodEndNs > 0 { lines.append("Renewal date: \(utcDate(ns: subscriber.periodEndNs)) (UTC)") }
        return lines.joined(separator: "\n")
    }

    static let stopped = "Stopped: this chat receives nothing more. Send /start to come back (or open your subscription's link again)."

    static let stoppedWithoutSubscription = "This chat was not subscribed. Send /start to join."

    /// "2026-12-21" for a time in ns since the epoch.
    static func utcDate(ns: Int64) -> String {
        let date = Date(timeIntervalSince1970: TimeInterval(ns / 1_000_000_000))
        return date.formatted(Date.ISO8601FormatStyle(timeZone: TimeZone(identifier: "UTC")!).year().month().day())
    }
}
