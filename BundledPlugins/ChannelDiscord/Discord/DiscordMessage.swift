import AlphaPlusJSON
import Foundation

/// Discord's documented message limits (discord-api-docs, message.mdx and
/// webhook.mdx), inclusive. Lengths are counted after trimming whitespace,
/// in Unicode scalars as discord.py counts them.
public enum DiscordLimits {
    public static let content = 2000
    public static let title = 256
    public static let description = 4096
    public static let fields = 25
    public static let fieldName = 256
    public static let fieldValue = 1024
    public static let footer = 2048
    public static let author = 256
    /// Title, description, field names and values, footer and author of
    /// every embed of one message together.
    public static let embedTotal = 6000
}

/// Texts as Discord measures them.
public enum DiscordText {
    static let ellipsis = "…"

    /// The length Discord checks: Unicode scalars after trimming whitespace.
    public static func length(_ text: String) -> Int { trimmed(text).unicodeScalars.count }

    /// `text` without the whitespace at its ends, as Python's `str.strip()`
    /// (Discord's) drops it: Unicode White_Space and U+001C–U+001F. Not
    /// Foundation's set, which differs by platform (Linux's includes the
    /// zero-width space U+200B, which Discord keeps).
    public static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value) }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }), let last = scalars.lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(scalars[first...last])
    }

    /// `text` trimmed and, if still longer than `limit` scalars, cut at a
    /// character boundary and ended with "…" so that the result has at most
    /// `limit` scalars. A cut never splits a character (an emoji sequence,
    /// a letter with its accents).
    public static func fitted(_ text: String, limit: Int) -> String {
        let whole = trimmed(text)
        guard whole.unicodeScalars.count > limit else { return whole }
        guard limit > 0 else { return "" }
        var head = ""
        var kept = 0
        for character in whole {
            let size = character.unicodeScalars.count
            if kept + size > limit - 1 { break }
            head.append(character)
            kept += size
        }
        return trimmed(head) + ellipsis
    }
}

/// One embed built from a delivery's payload and text, every text within
/// its limit and the whole within the 6000 total.
///
/// Payload keys (all optional): `title`, `description` (else the delivery's
/// text), `url` (http or https), `color` ("green", "red", "grey"/"gray" or
/// an integer 0–0xFFFFFF), `fields` ([{name, value, inline}], the first 25),
/// `footer`, `author`, `timestamp` (ISO 8601).
public struct DiscordEmbed: Equatable, Sendable {
    public struct Field: Equatable, Sendable {
        public var name: String
        public var value: String
        public var inline: Bool
    }

    public var title: String?
    public var description: String?
    public var url: String?
    public var timestamp: String?
    public var color: Int?
    public var fields: [Field] = []
    public var footer: String?
    public var author: String?

    static let colors = ["green": 0x2ECC71, "red": 0xE74C3C, "grey": 0x95A5A6, "gray": 0x95A5A6]
    /// Discord requires a field's name and value; a blank one becomes a
    /// zero-width space, the usual way to show an empty cell.
    static let blank = "\u{200B}"

    /// Builds the embed. Throws a message naming the payload key at fault
    /// when a key has the wrong type.
    public init(payload: JSONValue, text: String) throws(DiscordMessageError) {
        func string(_ key: String) throws(DiscordMessageError) -> String? {
            switch payload[key] {
            case nil, .null?: return nil
            case .string(let value)?: return value
            case let other?: throw DiscordMessageError("payload.\(key) must be a string, found \(other.jsonText)")
            }
        }
        func nonEmpty(_ text: String, _ limit: Int) -> String? {
            let fitted = DiscordText.fitted(text, limit: limit)
            return fitted.isEmpty ? nil : fitted
        }
        title = try string("title").flatMap { nonEmpty($0, DiscordLimits.title) }
        description = nonEmpty(try string("description") ?? text, DiscordLimits.description)
        footer = try string("footer").flatMap { nonEmpty($0, DiscordLimits.footer) }
        author = try string("author").flatMap { nonEmpty($0, DiscordLimits.author) }
        timestamp = try string("timestamp").flatMap { $0.isEmpty ? nil : $0 }
        if let link = try string("url") {
            let lower = link.lowercased()
            guard lower.hasPrefix("https://") || lower.hasPrefix("http://") else {
                throw DiscordMessageError("payload.url must be an http or https URL")
            }
            url = link
        }
        switch payload["color"] {
        case nil, .null?: break
        case .string(let name)?:
            guard let value = Self.colors[name.lowercased()] else {
                throw DiscordMessageError("payload.color '\(name)' is not green, red, grey or an integer 0–16777215")
            }
            color = value
        case .number(let value)? where value >= 0 && value <= 0xFFFFFF && value.rounded() == value:
            color = Int(value)
        case let other?:
            throw DiscordMessageError("payload.color \(other.jsonText) is not green, red, grey or an integer 0–16777215")
        }
        switch payload["fields"] {
        case nil, .null?: break
        case .array(let items)?:
            for (index, item) in items.prefix(DiscordLimits.fields).enumerated() {
                guard case .string(let name)? = item["name"], let valueJSON = item["value"] else {
                    throw DiscordMessageError("payload.fields[\(index)] needs a string 'name' and a 'value'")
                }
                let value: String
                switch valueJSON {
                case .string(let text): value = text
                case .number, .bool: value = valueJSON.jsonText
                default: throw DiscordMessageError("payload.fields[\(index)].value must be a string or a number")
                }
                var inline = false
                if case .bool(let flag)? = item["inline"] { inline = flag }
                fields.append(Field(name: nonEmpty(name, DiscordLimits.fieldName) ?? Self.blank,
                                    value: nonEmpty(value, DiscordLimits.fieldValue) ?? Self.blank, inline: inline))
            }
        case let other?:
            throw DiscordMessageError("payload.fields must be an array, found \(other.jsonText)")
        }
        fitTotal()
    }

    /// The length Discord adds up against the 6000 total.
    public var totalLength: Int {
        [title, description, footer, author].reduce(0) { $0 + ($1.map(DiscordText.length) ?? 0) }
            + fields.reduce(0) { $0 + DiscordText.length($1.name) + DiscordText.length($1.value) }
    }

    public var isEmpty: Bool { title == nil && description == nil && fields.isEmpty && footer == nil && author == nil }

    /// Shrinks the embed until it is within the 6000 total: the description
    /// first, then the footer, the field values and names from the last
    /// field back, then whole fields from the end, the author, the title.
    /// Each step removes at most what is over, so the embed keeps as much as
    /// the limit allows.
    private mutating func fitTotal() {
        var excess = totalLength - DiscordLimits.embedTotal
        /// `text` shorter by what is over (down to `minimum`), nil if nothing is left.
        func shrink(_ text: String?, minimum: Int) -> String? {
            guard let text, excess > 0 else { return text }
            let length = DiscordText.length(text)
            let fitted = DiscordText.fitted(text, limit: max(minimum, length - excess))
            excess -= length - DiscordText.length(fitted)
            return fitted.isEmpty ? nil : fitted
        }
        description = shrink(description, minimum: 0)
        footer = shrink(footer, minimum: 0)
        for index in fields.indices.reversed() where excess > 0 {
            fields[index].value = shrink(fields[index].value, minimum: 1) ?? Self.blank
        }
        for index in fields.indices.reversed() where excess > 0 {
            fields[index].name = shrink(fields[index].name, minimum: 1) ?? Self.blank
        }
        while excess > 0, let field = fields.popLast() {
            excess -= DiscordText.length(field.name) + DiscordText.length(field.value)
        }
        author = shrink(author, minimum: 0)
        title = shrink(title, minimum: 0)
    }

    /// The embed object Discord's API takes.
    public var json: JSONValue {
        var object: [String: JSONValue] = [:]
        if let title { object["title"] = .string(title) }
        if let description { object["description"] = .string(description) }
        if let url { object["url"] = .string(url) }
        if let timestamp { object["timestamp"] = .string(timestamp) }
        if let color { object["color"] = .number(Double(color)) }
        if let footer { object["footer"] = .object(["text": .string(footer)]) }
        if let author { object["author"] = .object(["name": .string(author)]) }
        if !fields.isEmpty {
            object["fields"] = .array(fields.map {
                .object(["name": .string($0.name), "value": .string($0.value), "inline": .bool($0.inline)])
            })
        }
        return .object(object)
    }
}

/// A message the plugin cannot build (a fault of the delivery, not of
/// Discord): delivered as a permanent failure with this text.
public struct DiscordMessageError: Error, Equatable, CustomStringConvertible {
    public let message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The JSON body of one webhook execution.
public enum DiscordMessage {
    /// Builds the body for `text` and `payloadJSON` with the instance's
    /// settings: an embed (format "embed") or `content` (format "text"),
    /// mentions off unless allowed, the optional username and avatar.
    public static func body(text: String, payloadJSON: String,
                            configuration: DiscordChannel.Configuration) throws(DiscordMessageError) -> JSONValue {
        var body: [String: JSONValue] = [:]
        switch configuration.format {
        case .text:
            let content = DiscordText.fitted(text, limit: DiscordLimits.content)
            guard !content.isEmpty else { throw DiscordMessageError("the message is empty: the text is blank") }
            body["content"] = .string(content)
        case .embed:
            let payload: JSONValue
            let source = DiscordText.trimmed(payloadJSON)
            do { payload = try JSONValue(parsing: source.isEmpty ? "{}" : source) } catch {
                throw DiscordMessageError("the payload is not JSON: \(error)")
            }
            guard case .object = payload else { throw DiscordMessageError("the payload is not a JSON object") }
            let embed = try DiscordEmbed(payload: payload, text: text)
            guard !embed.isEmpty else {
                throw DiscordMessageError("the message is empty: no text and no title, fields, footer or author in the payload")
            }
            body["embeds"] = .array([embed.json])
        }
        if !configuration.allowMentions { body["allowed_mentions"] = .object(["parse": .array([])]) }
        if let username = configuration.username { body["username"] = .string(username) }
        if let avatarURL = configuration.avatarURL { body["avatar_url"] = .string(avatarURL) }
        return .object(body)
    }
}
