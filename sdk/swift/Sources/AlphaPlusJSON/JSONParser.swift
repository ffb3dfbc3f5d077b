/// A syntax error in JSON text, located by 1-based line and column.
///
/// Lines are separated by "\n"; the column counts characters (grapheme clusters)
/// from the start of the line.
public struct JSONParseError: Error, CustomStringConvertible, Sendable, Equatable {
    public let line: Int
    public let column: Int
    public let message: String

    public var description: String { "line \(line), column \(column): \(message)" }
}

extension JSONValue {
    /// Parses `text` as one strict RFC 8259 JSON value.
    ///
    /// Rejected: comments, trailing commas, NaN/Infinity, leading zeros, numbers outside the
    /// `Double` range, duplicate object keys, lone surrogate escapes, unescaped control
    /// characters, anything after the value, and nesting deeper than 128 arrays/objects.
    public init(parsing text: String) throws(JSONParseError) {
        var parser = JSONParser(bytes: Array(text.utf8))
        self = try parser.parseDocument()
    }

    /// Parses UTF-8 encoded bytes as one strict RFC 8259 JSON value; see `init(parsing:)`.
    public init(parsing bytes: some Collection<UInt8>) throws(JSONParseError) {
        var parser = JSONParser(bytes: Array(bytes))
        try parser.validateUTF8()
        self = try parser.parseDocument()
    }
}

/// Recursive-descent parser over UTF-8 bytes.
struct JSONParser {
    /// The parser recurses once per level, and plugins parse on their
    /// instance's executor, a Dispatch thread with a 512 KiB stack: 512 levels
    /// overflowed it in a debug build; 128 leave room to spare.
    static let maximumDepth = 128

    /// The character each single-letter escape (the byte after a backslash) stands for.
    private static let simpleEscapes: [UInt8: UInt8] = [
        UInt8(ascii: "\""): UInt8(ascii: "\""), UInt8(ascii: "\\"): UInt8(ascii: "\\"),
        UInt8(ascii: "/"): UInt8(ascii: "/"), UInt8(ascii: "b"): 0x08, UInt8(ascii: "f"): 0x0C,
        UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
    ]

    private let bytes: [UInt8]
    private var offset = 0
    private var depth = 0

    init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Input from a `String` is valid UTF-8 by construction; raw bytes must be checked.
    func validateUTF8() throws(JSONParseError) {
        var decoder = Unicode.UTF8.ForwardParser()
        var iterator = bytes.makeIterator()
        var scalarOffset = 0
        while true {
            switch decoder.parseScalar(from: &iterator) {
            case .valid(let encoded): scalarOffset += encoded.count
            case .emptyInput: return
            case .error: throw error("invalid UTF-8 byte sequence", at: scalarOffset)
            }
        }
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard offset == bytes.count else {
            throw error("unexpected \(found) after the JSON value")
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        guard let byte = peek else { throw error("expected a JSON value, found end of input") }
        switch byte {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): return try parseLiteral()
        default: throw error("expected a JSON value, found \(found)")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var members: [String: JSONValue] = [:]
        var keyOffsets: [String: Int] = [:]
        skipWhitespace()
        if consume("}") { return .object(members) }
        while true {
            guard peek == UInt8(ascii: "\"") else {
                throw error("expected a field name in double quotes, found \(found)")
            }
            let keyOffset = offset
            let key = try parseString()
            if let firstOffset = keyOffsets[key] {
                let first = location(of: firstOffset)
                throw error("duplicate key '\(key)' (first defined at line \(first.line), column \(first.column))", at: keyOffset)
            }
            keyOffsets[key] = keyOffset
            skipWhitespace()
            guard consume(":") else { throw error("expected ':' after object key, found \(found)") }
            skipWhitespace()
            members[key] = try parseValue()
            skipWhitespace()
            if consume("}") { break }
            try consumeSeparator(closing: "}", context: "object member")
        }
        return .object(members)
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enterContainer()
        defer { depth -= 1 }
        var elements: [JSONValue] = []
        skipWhitespace()
        if consume("]") { return .array(elements) }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            if consume("]") { break }
            try consumeSeparator(closing: "]", context: "array element")
        }
        return .array(elements)
    }

    /// Consumes the opening bracket, enforcing the depth limit so hostile input cannot
    /// overflow the stack. Callers undo the depth increment when the container ends.
    private mutating func enterContainer() throws(JSONParseError) {
        depth += 1
        guard depth <= JSONParser.maximumDepth else {
            throw error("nesting depth exceeds the limit of \(JSONParser.maximumDepth) arrays/objects")
        }
        offset += 1
    }

    /// Consumes the ',' between members and the whitespace after it, rejecting a trailing
    /// comma before `closing`.
    private mutating func consumeSeparator(closing: Unicode.Scalar, context: String) throws(JSONParseError) {
        let commaOffset = offset
        guard consume(",") else {
            throw error("expected ',' or '\(closing)' after \(context), found \(found)")
        }
        skipWhitespace()
        if peek == UInt8(ascii: closing) {
            throw error("trailing comma before '\(closing)'", at: commaOffset)
        }
    }

    private mutating func parseLiteral() throws(JSONParseError) -> JSONValue {
        let start = offset
        while let byte = peek, byte == UInt8(ascii: "_") || isASCIIAlphanumeric(byte) {
            offset += 1
        }
        switch String(decoding: bytes[start..<offset], as: UTF8.self) {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        case let word: throw error("invalid literal '\(word)' (JSON only has true, false and null)", at: start)
        }
    }

    private mutating func parseNumber() throws(JSONParseError) -> Double {
        let start = offset
        if consume("-") {
            guard nextIsDigit else { throw error("expected a digit after '-', found \(found)") }
        }
        if consume("0") {
            if nextIsDigit {
                throw error("leading zeros are not allowed in numbers", at: offset - 1)
            }
        } else {
            skipDigits()
        }
        if consume(".") {
            guard nextIsDigit else { throw error("expected a digit after the decimal point, found \(found)") }
            skipDigits()
        }
        if consume("e") || consume("E") {
            _ = consume("+") || consume("-")
            guard nextIsDigit else { throw error("expected a digit in the exponent, found \(found)") }
            skipDigits()
        }
        let text = String(decoding: bytes[start..<offset], as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw error("number \(text) is outside the range of a double", at: start)
        }
        return value
    }

    // MARK: Strings

    private mutating func parseString() throws(JSONParseError) -> String {
        let start = offset
        offset += 1
        var utf8: [UInt8] = []
        var runStart = offset
        while true {
            guard let byte = peek else { throw error("unterminated string", at: start) }
            switch byte {
            case UInt8(ascii: "\""):
                utf8.append(contentsOf: bytes[runStart..<offset])
                offset += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                utf8.append(contentsOf: bytes[runStart..<offset])
                try parseEscape(into: &utf8, stringStart: start)
                runStart = offset
            case UInt8(ascii: "\n"):
                throw error("line break inside a string (is the closing quote missing?)")
            case 0x00..<0x20:
                throw error("control character \(codePoint(UInt32(byte))) must be escaped in a string")
            default:
                offset += 1
            }
        }
    }

    private mutating func parseEscape(into utf8: inout [UInt8], stringStart: Int) throws(JSONParseError) {
        let escapeStart = offset
        offset += 1
        guard let byte = peek else { throw error("unterminated string", at: stringStart) }
        if let replacement = JSONParser.simpleEscapes[byte] {
            utf8.append(replacement)
            offset += 1
            return
        }
        guard byte == UInt8(ascii: "u") else {
            throw error("invalid escape sequence: '\\' followed by \(found)", at: escapeStart)
        }
        let unit = try readUnicodeEscape(at: escapeStart)
        let value: UInt32
        switch unit {
        case 0xD800...0xDBFF:
            guard let low = lowSurrogateEscape(at: offset) else {
                throw error("lone surrogate \(escapeText(at: escapeStart)): a high surrogate must be followed by a \\u escape of a low surrogate", at: escapeStart)
            }
            offset += 6
            value = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
        case 0xDC00...0xDFFF:
            throw error("lone surrogate \(escapeText(at: escapeStart)): a low surrogate must follow a high surrogate", at: escapeStart)
        default:
            value = UInt32(unit)
        }
        // Surrogates were handled above, so every remaining value is a valid scalar.
        Unicode.UTF8.encode(Unicode.Scalar(value)!) { utf8.append($0) }
    }

    /// Reads the four hex digits of the `\uXXXX` escape that starts at `escapeStart`.
    private mutating func readUnicodeEscape(at escapeStart: Int) throws(JSONParseError) -> UInt16 {
        guard let unit = hexQuad(at: escapeStart + 2) else {
            throw error("invalid \\u escape: expected 4 hexadecimal digits", at: escapeStart)
        }
        offset = escapeStart + 6
        return unit
    }

    private func lowSurrogateEscape(at start: Int) -> UInt16? {
        guard start + 1 < bytes.count, bytes[start] == UInt8(ascii: "\\"), bytes[start + 1] == UInt8(ascii: "u"),
              let unit = hexQuad(at: start + 2), (0xDC00...0xDFFF).contains(unit)
        else { return nil }
        return unit
    }

    private func hexQuad(at start: Int) -> UInt16? {
        guard start + 4 <= bytes.count else { return nil }
        var unit: UInt16 = 0
        for byte in bytes[start..<start + 4] {
            guard let digit = Character(Unicode.Scalar(byte)).hexDigitValue else { return nil }
            unit = unit << 4 | UInt16(digit)
        }
        return unit
    }

    private func escapeText(at start: Int) -> String {
        "'" + String(decoding: bytes[start..<start + 6], as: UTF8.self) + "'"
    }

    // MARK: Scanning helpers

    private var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    private mutating func consume(_ expected: Unicode.Scalar) -> Bool {
        guard peek == UInt8(ascii: expected) else { return false }
        offset += 1
        return true
    }

    private mutating func skipWhitespace() {
        while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            offset += 1
        }
    }

    private var nextIsDigit: Bool { peek.map(isDigit) ?? false }

    private mutating func skipDigits() {
        while nextIsDigit { offset += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }

    private func isASCIIAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
    }

    // MARK: Errors

    /// Describes the character at the current offset for "found ..." messages.
    private var found: String {
        var iterator = bytes[offset...].makeIterator()
        var decoder = Unicode.UTF8()
        guard case .scalarValue(let scalar) = decoder.decode(&iterator) else { return "end of input" }
        if scalar == "\u{FEFF}" { return "a byte order mark (U+FEFF)" }
        if scalar == "'" { return "\"'\"" }
        if scalar.isASCII { return scalar.value > 0x20 && scalar.value < 0x7F ? "'\(scalar)'" : codePoint(scalar.value) }
        // The code point identifies characters that are invisible or look like ASCII ones.
        return "'\(scalar)' (\(codePoint(scalar.value)))"
    }

    private func codePoint(_ value: UInt32) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    private func location(of errorOffset: Int) -> (line: Int, column: Int) {
        let newline = UInt8(ascii: "\n")
        let lineStart = bytes[..<errorOffset].lastIndex(of: newline).map { $0 + 1 } ?? 0
        let line = bytes[..<lineStart].lazy.filter { $0 == newline }.count + 1
        let column = String(decoding: bytes[lineStart..<errorOffset], as: UTF8.self).count + 1
        return (line, column)
    }

    private func error(_ message: String, at errorOffset: Int? = nil) -> JSONParseError {
        let (line, column) = location(of: errorOffset ?? offset)
        return JSONParseError(line: line, column: column, message: message)
    }
}
