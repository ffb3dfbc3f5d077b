import AlphaPlusJSON

/// A destination chat: `{"chat_id": <integer>}` or `{"chat_id": "@channelname"}`.
/// Telegram's ids fit in 52 bits, so JSON numbers (doubles) hold them exactly.
public enum TelegramChat: Equatable, Hashable, Sendable {
    case id(Int64)
    /// A public channel or supergroup's username, without the "@".
    case username(String)

    /// Telegram's bound on chat ids (the Bot API guarantees 52 significant bits).
    static let largestID: Int64 = 1 << 53

    /// Reads a target. Throws a message naming what is wrong.
    public init(targetJSON: String) throws(TelegramDeliveryError) {
        let target: JSONValue
        do { target = try JSONValue(parsing: targetJSON) } catch {
            throw TelegramDeliveryError(message: "target \(targetJSON) is not JSON: \(error)")
        }
        let expected = "expected {\"chat_id\": <integer>} or {\"chat_id\": \"@channelname\"}"
        switch target["chat_id"] {
        case .number(let value)? where value.rounded() == value && abs(value) < Double(Self.largestID) && value != 0:
            self = .id(Int64(value))
        case .string(let text)? where text.hasPrefix("@"):
            let name = text.dropFirst()
            guard (4...32).contains(name.count), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) else {
                throw TelegramDeliveryError(message: "target \(targetJSON): '\(text)' is not a channel username (@ and 4–32 letters, digits or '_')")
            }
            self = .username(String(name))
        case .string(let text)?:
            guard let value = Int64(text), value != 0, abs(value) < Self.largestID else {
                throw TelegramDeliveryError(message: "target \(targetJSON): chat_id '\(text)' is neither an integer nor an @username; \(expected)")
            }
            self = .id(value)
        case nil:
            throw TelegramDeliveryError(message: "target \(targetJSON) has no chat_id; \(expected)")
        case let other?:
            throw TelegramDeliveryError(message: "target \(targetJSON): chat_id \(other.jsonText) is not a chat; \(expected)")
        }
    }

    /// The `chat_id` parameter of sendMessage.
    public var parameter: JSONValue {
        switch self {
        case .id(let id): .number(Double(id))
        case .username(let name): .string("@" + name)
        }
    }

    /// Groups, supergroups and channels (negative ids, @usernames) have a
    /// per-minute limit on top of the per-chat one.
    public var isGroup: Bool {
        switch self {
        case .id(let id): id < 0
        case .username: true
        }
    }

    /// The chat in bucket names: the id, or the @username in lower case
    /// (Telegram usernames ignore case).
    public var key: String {
        switch self {
        case .id(let id): String(id)
        case .username(let name): "@" + name.lowercased()
        }
    }
}

/// A delivery the plugin cannot make (a bad target, a missing secret): a
/// permanent failure with this message.
public struct TelegramDeliveryError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
