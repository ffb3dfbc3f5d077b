import AlphaPlusJSON
import Foundation

/// One update Telegram POSTs to the bot's webhook, reduced to what the bot
/// reads: its `update_id` and, when the update is a `message` with `text`,
/// the chat and the text. Everything else (edited messages, channel posts,
/// callback queries, a message with a photo and no text) has no `message`.
public struct TelegramUpdate: Equatable, Sendable {
    public struct Message: Equatable, Sendable {
        public var chatID: Int64
        /// `chat.type` is "private"; groups, supergroups and channels are not.
        public var isPrivate: Bool
        public var text: String

        public init(chatID: Int64, isPrivate: Bool, text: String) {
            self.chatID = chatID
            self.isPrivate = isPrivate
            self.text = text
        }
    }

    public var id: Int64
    public var message: Message?

    public init(id: Int64, message: Message?) {
        self.id = id
        self.message = message
    }

    /// Reads a webhook body. Throws naming the field at fault: a body that
    /// is not a JSON object, an `update_id` that is missing or not an
    /// integer, or a text message whose `chat` cannot be read.
    public init(json body: [UInt8]) throws(TelegramUpdateError) {
        // The standard library's UTF-8 check is much faster than the JSON parser's own.
        guard let text = String(validating: body, as: UTF8.self) else { throw TelegramUpdateError("the body is not JSON: it is not valid UTF-8") }
        let update: JSONValue
        do { update = try JSONValue(parsing: text) } catch { throw TelegramUpdateError("the body is not JSON: \(error)") }
        guard case .object = update else { throw TelegramUpdateError("the body is not a JSON object (an update)") }
        id = try Self.integer(update["update_id"], "update_id")
        switch update["message"] {
        case nil, .null?:
            message = nil
        case let message? where message["text"] == nil || message["text"] == .null:
            guard case .object = message else { throw TelegramUpdateError("message is not an object") }
            self.message = nil
        case let message?:
            guard case .string(let text)? = message["text"] else { throw TelegramUpdateError("message.text is not a string") }
            guard let chat = message["chat"], case .object = chat else { throw TelegramUpdateError("message.chat is missing or not an object") }
            let chatID = try Self.integer(chat["id"], "message.chat.id")
            guard chatID != 0 else { throw TelegramUpdateError("message.chat.id is 0, which is no chat") }
            guard case .string(let type)? = chat["type"] else { throw TelegramUpdateError("message.chat.type is missing or not a string") }
            self.message = Message(chatID: chatID, isPrivate: type == "private", text: text)
        }
    }

    /// Telegram's ids fit in 52 bits: JSON numbers (doubles) hold them exactly.
    private static func integer(_ value: JSONValue?, _ field: String) throws(TelegramUpdateError) -> Int64 {
        guard let value else { throw TelegramUpdateError("\(field) is missing") }
        guard case .number(let number) = value, number.rounded() == number, abs(number) < Double(TelegramChat.largestID) else {
            throw TelegramUpdateError("\(field) is not an integer: \(value.jsonText.prefix(40))")
        }
        return Int64(number)
    }
}

/// A webhook body that is not an update the bot can read (answered 400).
public struct TelegramUpdateError: Error, Equatable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A message's text read as a bot command: `/name`, `/name@botname`, each
/// optionally followed by an argument after white space (a deep link's
/// `/start <param>`). The name is compared in lower case.
public struct TelegramCommand: Equatable, Sendable {
    /// Without the "/", lower-cased.
    public var name: String
    /// The bot named after "@", as written; nil when the command names none.
    public var botName: String?
    /// The rest of the text, surrounding white space removed.
    public var argument: String

    public init(name: String, botName: String? = nil, argument: String = "") {
        self.name = name
        self.botName = botName
        self.argument = argument
    }

    /// nil for text that is not a command (no leading "/", or nothing after it).
    public init?(text: String) {
        guard text.hasPrefix("/") else { return nil }
        let word = text.dropFirst().prefix { !$0.isWhitespace }
        let parts = word.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard let name = parts.first, !name.isEmpty else { return nil }
        self.name = name.lowercased()
        botName = parts.count > 1 ? String(parts[1]) : nil
        argument = text.dropFirst(1 + word.count).trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
