/// How the plugin marks up a message for Telegram's `parse_mode`.
public enum TelegramParseMode: String, Decodable, Sendable {
    case markdownV2 = "MarkdownV2"
    case html = "HTML"
    case none

    /// `text` shown literally in this mode.
    ///
    /// MarkdownV2 is python-telegram-bot's `escape_markdown(text, version=2)`:
    /// a backslash before each of `\ _ * [ ] ( ) ~ ` > # + - = | { } . !`.
    /// HTML replaces `&`, `<` and `>` by their entities.
    public func escape(_ text: String) -> String {
        switch self {
        case .none: return text
        case .markdownV2, .html:
            var escaped = String.UnicodeScalarView()
            for scalar in text.unicodeScalars { append(scalar, to: &escaped) }
            return String(escaped)
        }
    }

    /// `title` escaped and in bold.
    public func bold(_ title: String) -> String {
        switch self {
        case .markdownV2: "*\(escape(title))*"
        case .html: "<b>\(escape(title))</b>"
        case .none: title
        }
    }

    /// The value of the `parse_mode` parameter, nil to send none.
    public var parameter: String? { self == .none ? nil : rawValue }

    static let markdownV2Reserved: Set<Unicode.Scalar> = Set("\\_*[]()~`>#+-=|{}.!".unicodeScalars)

    private func append(_ scalar: Unicode.Scalar, to escaped: inout String.UnicodeScalarView) {
        switch self {
        case .markdownV2:
            if Self.markdownV2Reserved.contains(scalar) { escaped.append("\\") }
            escaped.append(scalar)
        case .html:
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            default: escaped.append(scalar)
            }
        case .none:
            escaped.append(scalar)
        }
    }

    /// UTF-16 code units `character` takes once escaped.
    func escapedLength(_ character: Character) -> Int {
        var length = 0
        for scalar in character.unicodeScalars {
            length += scalar.utf16.count
            switch self {
            case .markdownV2: if Self.markdownV2Reserved.contains(scalar) { length += 1 }
            case .html: length += scalar == "&" ? 4 : (scalar == "<" || scalar == ">") ? 3 : 0
            case .none: break
            }
        }
        return length
    }
}

/// A message cut into sendMessage texts of at most `limit` UTF-16 code units
/// each once escaped (Telegram's 4096 is counted after entity parsing, so
/// an escaped part within it is always within it).
public enum TelegramMessageSplitter {
    public static let limit = 4096
    /// A title longer than this is cut (with "…") before it is put in bold.
    static let titleLimit = 256

    /// The escaped parts of `text`, the first starting with `title` in bold
    /// on a line of its own. Cuts fall after the last line break that fits,
    /// else the last space, else at the last character that fits (never
    /// inside an escape sequence, a character or a surrogate pair; a
    /// character longer than a whole part is cut between its scalars). The
    /// line break or space a cut falls on is dropped, each part is trimmed
    /// of the whitespace at its ends (Telegram drops it anyway), and parts
    /// with nothing else are not sent.
    public static func parts(text: String, title: String? = nil, mode: TelegramParseMode, limit: Int = limit) -> [String] {
        var heading = ""
        if let title, !title.allSatisfy(\.isWhitespace) {
            var short = title
            if short.count > titleLimit { short = String(short.prefix(titleLimit - 1)) + "…" }
            heading = mode.bold(short)
        }
        let units = splittableUnits(of: text, mode: mode, limit: limit)
        var parts: [String] = []
        var start = 0
        var budget = limit - (heading.isEmpty ? 0 : heading.utf16.count + 1)
        while start < units.count || (parts.isEmpty && !heading.isEmpty) {
            var end = start
            var used = 0
            while end < units.count, used + units[end].length <= budget {
                used += units[end].length
                end += 1
            }
            var next = end
            if end < units.count {
                // A cut on the last line break that fits, else the last space.
                let window = start..<end
                if let lineBreak = window.last(where: { units[$0].character == "\n" }), lineBreak > start {
                    (end, next) = (lineBreak, lineBreak + 1)
                } else if let space = window.last(where: { units[$0].character == " " }), space > start {
                    (end, next) = (space, space + 1)
                }
            }
            let plain = trimmed(String(units[start..<end].map(\.character)))
            let body = mode.escape(plain)
            if parts.isEmpty && !heading.isEmpty {
                parts.append(body.isEmpty ? heading : heading + "\n" + body)
            } else if !body.isEmpty {
                parts.append(body)
            }
            start = next
            budget = limit
        }
        return parts
    }

    /// `text` without Unicode White_Space at its ends (the same on every
    /// platform, unlike Foundation's set).
    static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
              let last = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        return String(scalars[first...last])
    }

    /// The text's characters with their escaped lengths; a character that
    /// alone exceeds `limit` (thousands of combining marks) is broken into
    /// its scalars so that it can be cut.
    private static func splittableUnits(of text: String, mode: TelegramParseMode,
                                        limit: Int) -> [(character: Character, length: Int)] {
        var units: [(character: Character, length: Int)] = []
        for character in text {
            let length = mode.escapedLength(character)
            if length <= limit {
                units.append((character, length))
            } else {
                for scalar in character.unicodeScalars {
                    let piece = Character(scalar)
                    units.append((piece, mode.escapedLength(piece)))
                }
            }
        }
        return units
    }
}
