/// Telegram's entity parsers, as far as a fake needs them: the text a
/// message shows once its markup is parsed, or the error Telegram gives
/// (after "Bad Request: can't parse entities: "). MarkdownV2 follows
/// tdlib's `parse_markdown_v2` (td/telegram/MessageEntity.cpp): a backslash
/// escapes any ASCII character; `_ * [ ] ( ) ~ ` > # + - = | { } . !` are
/// reserved unless they open or close an entity (bold `*`, italic `_`,
/// underline `__`, strikethrough `~`, spoiler `||`, code `` ` ``, pre
/// ```` ``` ````, link `[text](url)`, a `>` quote at a line's start).
public enum TelegramMarkup {
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    private enum Entity: String {
        case bold = "Bold", italic = "Italic", underline = "Underline", strikethrough = "Strikethrough"
        case spoiler = "Spoiler", code = "Code", pre = "Pre", textURL = "TextUrl"
    }

    static let reserved: Set<UInt8> = Set("_*[]()~`>#+-=|{}.!".utf8)

    /// The visible text of a MarkdownV2 message.
    public static func parseMarkdownV2(_ text: String) throws(ParseError) -> String {
        let bytes = Array(text.utf8)
        func at(_ index: Int) -> UInt8 { index < bytes.count ? bytes[index] : 0 }
        var result: [UInt8] = []
        var open: [(entity: Entity, offset: Int)] = []
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "\\"), (1...126).contains(at(i + 1)) {
                result.append(bytes[i + 1])
                i += 2
                continue
            }
            let inCode = open.last.map { $0.entity == .code || $0.entity == .pre } ?? false
            guard inCode ? c == UInt8(ascii: "`") : reserved.contains(c) else {
                result.append(c)
                i += 1
                continue
            }
            if c == UInt8(ascii: ">"), !inCode, i == 0 || bytes[i - 1] == UInt8(ascii: "\n") {
                i += 1  // a quote line; the marker is not shown
                continue
            }
            let closes: Bool
            switch open.last?.entity {
            case .bold?: closes = c == UInt8(ascii: "*")
            case .italic?: closes = c == UInt8(ascii: "_") && at(i + 1) != UInt8(ascii: "_")
            case .underline?: closes = c == UInt8(ascii: "_") && at(i + 1) == UInt8(ascii: "_")
            case .strikethrough?: closes = c == UInt8(ascii: "~")
            case .spoiler?: closes = c == UInt8(ascii: "|") && at(i + 1) == UInt8(ascii: "|")
            case .code?: closes = c == UInt8(ascii: "`")
            case .pre?: closes = c == UInt8(ascii: "`") && at(i + 1) == UInt8(ascii: "`") && at(i + 2) == UInt8(ascii: "`")
            case .textURL?: closes = c == UInt8(ascii: "]")
            case nil: closes = false
            }
            if closes {
                let entity = open.removeLast().entity
                switch entity {
                case .underline, .spoiler: i += 2
                case .pre: i += 3
                case .textURL:
                    i += 1
                    if at(i) == UInt8(ascii: "(") {
                        let urlStart = i + 1
                        i += 1
                        while i < bytes.count, bytes[i] != UInt8(ascii: ")") {
                            i += bytes[i] == UInt8(ascii: "\\") && (1...126).contains(at(i + 1)) ? 2 : 1
                        }
                        guard i < bytes.count else { throw ParseError(message: "Can't find end of a URL at byte offset \(urlStart)") }
                        i += 1
                    }
                default: i += 1
                }
                continue
            }
            let offset = i
            switch c {
            case UInt8(ascii: "_") where at(i + 1) == UInt8(ascii: "_"):
                open.append((.underline, offset))
                i += 2
            case UInt8(ascii: "_"): open.append((.italic, offset)); i += 1
            case UInt8(ascii: "*"): open.append((.bold, offset)); i += 1
            case UInt8(ascii: "~"): open.append((.strikethrough, offset)); i += 1
            case UInt8(ascii: "|") where at(i + 1) == UInt8(ascii: "|"):
                open.append((.spoiler, offset))
                i += 2
            case UInt8(ascii: "["): open.append((.textURL, offset)); i += 1
            case UInt8(ascii: "`") where at(i + 1) == UInt8(ascii: "`") && at(i + 2) == UInt8(ascii: "`"):
                open.append((.pre, offset))
                i += 3
                // An optional language, then one line break, are not shown.
                var end = i
                while end < bytes.count, ![UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "`")].contains(bytes[end]) { end += 1 }
                if end < bytes.count, bytes[end] == UInt8(ascii: "\n") { i = end + 1 }
            case UInt8(ascii: "`"): open.append((.code, offset)); i += 1
            default:
                throw ParseError(message: "Character '\(Character(Unicode.Scalar(c)))' is reserved and must be escaped with the preceding '\\'")
            }
        }
        if let last = open.last {
            throw ParseError(message: "Can't find end of \(last.entity.rawValue) entity at byte offset \(last.offset)")
        }
        return String(decoding: result, as: UTF8.self)
    }

    static let htmlTags: Set<String> = ["b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "tg-spoiler", "span",
                                        "a", "code", "pre", "blockquote", "tg-emoji"]
    static let htmlEntities: [String: String] = ["lt": "<", "gt": ">", "amp": "&", "quot": "\""]

    /// The visible text of an HTML message: only Telegram's tags, properly
    /// nested; `&lt; &gt; &amp; &quot;` and numeric entities decoded, other
    /// `&` text kept as it is.
    public static func parseHTML(_ text: String) throws(ParseError) -> String {
        let bytes = Array(text.utf8)
        var result: [UInt8] = []
        var open: [String] = []
        var i = 0
        while i < bytes.count {
            let c = bytes[i]
            if c == UInt8(ascii: "&"), let end = bytes[i...].prefix(12).firstIndex(of: UInt8(ascii: ";")) {
                let name = String(decoding: bytes[(i + 1)..<end], as: UTF8.self)
                var decoded = htmlEntities[name]
                if decoded == nil, name.hasPrefix("#") {
                    let number = name.dropFirst()
                    let value = number.hasPrefix("x") || number.hasPrefix("X") ? UInt32(number.dropFirst(), radix: 16) : UInt32(number)
                    decoded = value.flatMap(Unicode.Scalar.init).map { String(Character($0)) }
                }
                if let decoded {
                    result += Array(decoded.utf8)
                    i = end + 1
                    continue
                }
            }
            guard c == UInt8(ascii: "<") else {
                result.append(c)
                i += 1
                continue
            }
            let offset = i
            guard let close = bytes[i...].firstIndex(of: UInt8(ascii: ">")) else {
                throw ParseError(message: "Unclosed start tag at byte offset \(offset)")
            }
            let inside = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
            i = close + 1
            if inside.hasPrefix("/") {
                let name = inside.dropFirst().trimmingSpaces.lowercased()
                guard let top = open.last else { throw ParseError(message: "Unexpected end tag at byte offset \(offset)") }
                guard name == top else {
                    throw ParseError(message: "Unmatched end tag at byte offset \(offset), expected \"</\(top)>\", found \"</\(name)>\"")
                }
                open.removeLast()
            } else {
                let name = String(inside.prefix { $0.isLetter || $0.isNumber || $0 == "-" }).lowercased()
                guard htmlTags.contains(name) else {
                    throw ParseError(message: "Unsupported start tag \"\(name)\" at byte offset \(offset)")
                }
                open.append(name)
            }
        }
        if let last = open.last { throw ParseError(message: "Can't find end tag corresponding to start tag \"\(last)\"") }
        return String(decoding: result, as: UTF8.self)
    }
}

extension Substring {
    fileprivate var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
