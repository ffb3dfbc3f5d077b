import AlphaPlusJSON
import AlphaPlusSDK
import Foundation

/// The Telegram Bot API's `sendMessage` as documented
/// (../shared/reference/channels.md §2): `/bot<token>/<method>` on any host,
/// parameters from the query and a JSON body.
///
/// Answers, in order: 404 for other paths and methods; 401 Unauthorized for
/// another token; the test knobs (5xx); chat_id required and known (400
/// "chat not found"); an upgraded group (400 with `migrate_to_chat_id`); a
/// blocked bot (403); the text parsed for its parse_mode (400 "can't parse
/// entities: ..."), then 1–4096 UTF-16 units once parsed; flood control: a
/// forced wait, at most 30 messages a second per bot, one a second per chat
/// and 20 a minute per group or channel (429 with an integer
/// `parameters.retry_after`). Every accepted message is recorded in order.
public final class FakeTelegram: FakePlatform, @unchecked Sendable {
    public enum ChatType: String, Sendable {
        case `private`, group, supergroup, channel
    }

    public struct Message: Equatable, Sendable {
        public let chatID: Int64
        public let messageID: Int
        /// What the chat shows: the text once its markup is parsed.
        public let text: String
        /// The text as sent, markup included.
        public let sentText: String
        public let parseMode: String?
        public let disableNotification: Bool
        public let linkPreviewDisabled: Bool
        public let time: Double
    }

    private struct Chat {
        let type: ChatType
        let username: String?
        var blocked = false
        var migratedTo: Int64?
        var lastMessageID = 0
        var sendTimes: [Double] = []
    }

    public let token: String
    public let clock: FakeClock
    public let perChatInterval: Double
    public let groupMessagesPerMinute: Int
    public let botMessagesPerSecond: Int

    private let lock = NSLock()
    private var chats: [Int64: Chat] = [:]
    private var botSendTimes: [Double] = []
    private var queuedFailures: [Int] = []
    private var floodWaitUntil: Double?
    private var accepted: [Message] = []
    private var requests = 0

    public init(token: String, clock: FakeClock = FakeClock(), perChatInterval: Double = 1, groupMessagesPerMinute: Int = 20,
                botMessagesPerSecond: Int = 30) {
        self.token = token
        self.clock = clock
        self.perChatInterval = perChatInterval
        self.groupMessagesPerMinute = groupMessagesPerMinute
        self.botMessagesPerSecond = botMessagesPerSecond
    }

    // MARK: Knobs

    /// A chat the bot may write to (negative ids for groups and channels).
    public func addChat(_ id: Int64, type: ChatType, username: String? = nil) {
        lock.withLock { chats[id] = Chat(type: type, username: username?.lowercased()) }
    }

    /// The user blocked the bot, or a group kicked it: 403 from now on.
    public func blockBot(in chatID: Int64) { lock.withLock { chats[chatID]?.blocked = true } }

    /// The group became a supergroup `newID`: the old id answers 400 with
    /// `migrate_to_chat_id`, the new one accepts messages.
    public func upgradeToSupergroup(_ chatID: Int64, newID: Int64) {
        lock.withLock {
            chats[chatID]?.migratedTo = newID
            chats[newID] = Chat(type: .supergroup, username: chats[chatID]?.username)
        }
    }

    /// The next `count` requests fail with `status` (a 5xx).
    public func failNext(_ count: Int, status: Int = 502) {
        lock.withLock { queuedFailures += Array(repeating: status, count: count) }
    }

    /// Every sendMessage answers 429 until `until` (seconds on the fake's clock).
    public func floodWait(until: Double) { lock.withLock { floodWaitUntil = until } }

    // MARK: Records

    /// Every accepted message, in order.
    public var messages: [Message] { lock.withLock { accepted } }

    public func messages(in chatID: Int64) -> [Message] { messages.filter { $0.chatID == chatID } }

    public var requestCount: Int { lock.withLock { requests } }

    // MARK: Answering

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        lock.withLock { answer(request) }
    }

    private func answer(_ request: HTTPRequest) -> HTTPResponse {
        requests += 1
        let now = clock.now
        guard let components = URLComponents(string: request.url) else { return Self.error(404, "Not Found") }
        let segments = components.path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard segments.count == 3, segments[0].isEmpty, segments[1].hasPrefix("bot") else { return Self.error(404, "Not Found") }
        guard segments[1].dropFirst(3) == token else { return Self.error(401, "Unauthorized") }
        guard segments[2].lowercased() == "sendmessage" else { return Self.error(404, "Not Found: method not found") }
        if !queuedFailures.isEmpty {
            let status = queuedFailures.removeFirst()
            return Self.error(status, "Internal Server Error")
        }

        var parameters: [String: JSONValue] = [:]
        for item in components.queryItems ?? [] { parameters[item.name] = .string(item.value ?? "") }
        if request.header("Content-Type")?.lowercased().hasPrefix("application/json") == true {
            guard case .object(let members)? = try? JSONValue(parsing: request.body) else {
                return Self.error(400, "Bad Request: can't parse JSON object")
            }
            parameters.merge(members) { $1 }
        }

        let chatID: Int64
        switch parameters["chat_id"] {
        case nil, .string("")?: return Self.error(400, "Bad Request: chat_id is empty")
        case .number(let value)? where value.rounded() == value: chatID = Int64(value)
        case .string(let text)? where text.hasPrefix("@"):
            let name = text.dropFirst().lowercased()
            guard let found = chats.first(where: { $0.value.username == name && $0.value.migratedTo == nil })?.key else {
                return Self.error(400, "Bad Request: chat not found")
            }
            chatID = found
        case .string(let text)?:
            guard let value = Int64(text) else { return Self.error(400, "Bad Request: chat not found") }
            chatID = value
        default: return Self.error(400, "Bad Request: chat not found")
        }
        guard var chat = chats[chatID] else { return Self.error(400, "Bad Request: chat not found") }
        if let newID = chat.migratedTo {
            return Self.error(400, "Bad Request: group chat was upgraded to a supergroup chat",
                              parameters: ["migrate_to_chat_id": .number(Double(newID))])
        }
        if chat.blocked {
            switch chat.type {
            case .private: return Self.error(403, "Forbidden: bot was blocked by the user")
            case .group: return Self.error(403, "Forbidden: bot was kicked from the group chat")
            case .supergroup: return Self.error(403, "Forbidden: bot was kicked from the supergroup chat")
            case .channel: return Self.error(403, "Forbidden: bot is not a member of the channel chat")
            }
        }

        guard case .string(let sentText)? = parameters["text"] else { return Self.error(400, "Bad Request: message text is empty") }
        var parseMode: String?
        if case .string(let mode)? = parameters["parse_mode"], !mode.isEmpty { parseMode = mode }
        let visible: String
        do {
            switch parseMode?.lowercased() {
            case nil: visible = sentText
            case "markdownv2": visible = try TelegramMarkup.parseMarkdownV2(sentText)
            case "html": visible = try TelegramMarkup.parseHTML(sentText)
            default: return Self.error(400, "Bad Request: unsupported parse_mode")
            }
        } catch {
            return Self.error(400, "Bad Request: can't parse entities: \(error.message)")
        }
        if visible.unicodeScalars.allSatisfy(\.properties.isWhitespace) {
            return Self.error(400, "Bad Request: message text is empty")
        }
        if visible.utf16.count > 4096 { return Self.error(400, "Bad Request: message is too long") }

        if let until = floodWaitUntil, now < until - FakeClock.tolerance { return Self.tooManyRequests(until - now) }
        botSendTimes.removeAll { $0 <= now - 1 + FakeClock.tolerance }
        if botSendTimes.count >= botMessagesPerSecond { return Self.tooManyRequests(botSendTimes[0] + 1 - now) }
        if let last = chat.sendTimes.last, now - last < perChatInterval - FakeClock.tolerance {
            return Self.tooManyRequests(last + perChatInterval - now)
        }
        chat.sendTimes.removeAll { $0 <= now - 60 + FakeClock.tolerance }
        if chat.type != .private, chat.sendTimes.count >= groupMessagesPerMinute {
            return Self.tooManyRequests(chat.sendTimes[0] + 60 - now)
        }

        botSendTimes.append(now)
        chat.sendTimes.append(now)
        chat.lastMessageID += 1
        chats[chatID] = chat
        var disableNotification = false
        if case .bool(let flag)? = parameters["disable_notification"] { disableNotification = flag }
        var previewDisabled = false
        if case .bool(let flag)? = parameters["link_preview_options"]?["is_disabled"] { previewDisabled = flag }
        accepted.append(Message(chatID: chatID, messageID: chat.lastMessageID, text: visible, sentText: sentText,
                                parseMode: parseMode, disableNotification: disableNotification,
                                linkPreviewDisabled: previewDisabled, time: now))
        return Self.json(200, [
            "ok": .bool(true),
            "result": .object([
                "message_id": .number(Double(chat.lastMessageID)), "date": .number(now.rounded(.down)), "text": .string(visible),
                "chat": .object(["id": .number(Double(chatID)), "type": .string(chat.type.rawValue)]),
            ]),
        ])
    }

    // MARK: Answers

    static func json(_ status: Int, _ object: [String: JSONValue]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [HTTPHeader("Content-Type", "application/json")],
                     body: Array(JSONValue.object(object).jsonText.utf8))
    }

    static func error(_ status: Int, _ description: String, parameters: [String: JSONValue]? = nil) -> HTTPResponse {
        var object: [String: JSONValue] = ["ok": .bool(false), "error_code": .number(Double(status)), "description": .string(description)]
        if let parameters { object["parameters"] = .object(parameters) }
        return json(status, object)
    }

    /// Flood control: the wait in whole seconds, rounded up, at least 1.
    static func tooManyRequests(_ wait: Double) -> HTTPResponse {
        let seconds = max(1, Int((wait - FakeClock.tolerance).rounded(.up)))
        return error(429, "Too Many Requests: retry after \(seconds)", parameters: ["retry_after": .number(Double(seconds))])
    }
}
