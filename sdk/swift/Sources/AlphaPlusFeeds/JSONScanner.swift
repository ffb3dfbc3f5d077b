import AlphaPlusSDK

/// Why the scanner refused its input, and the byte offset (0-based) where.
public struct JSONScanError: Error, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String

    public init(offset: Int, _ reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "column \(offset + 1): \(reason)" }
}

/// A forward-only scanner over JSON bytes it does not own, for venue
/// messages on the hot path: nothing is copied or allocated. Numbers are
/// read as text straight into `ExactDecimal` (never through Double), strings
/// are lent as their raw bytes between the quotes (escapes left as they are:
/// venue keys and symbols have none), containers are walked with a cursor:
///
///     var fields = try scanner.beginObject()
///     while let key = try scanner.nextKey(&fields) { ... read or skipValue() ... }
public struct JSONScanner {
    public enum ValueKind: Sendable, Equatable {
        case object, array, string, number, bool, null
    }

    /// Where a container walk is: before its first element or after one.
    public struct Cursor {
        fileprivate var atFirst = true
        fileprivate let close: UInt8
    }

    public let bytes: UnsafeBufferPointer<UInt8>
    /// The next byte to read.
    public private(set) var offset: Int

    public init(_ bytes: UnsafeBufferPointer<UInt8>, offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    /// Moves back (or forward) to `offset`, e.g. to rescan a value.
    public mutating func seek(to offset: Int) {
        self.offset = offset
    }

    /// True when only whitespace is left.
    public mutating func atEnd() -> Bool {
        skipWhitespace()
        return offset >= bytes.count
    }

    /// The kind of the next value, without consuming it.
    public mutating func peekKind() throws -> ValueKind {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw error("unexpected character \(quoted(bytes[offset])), expected a value")
        }
    }

    public mutating func beginObject() throws -> Cursor {
        try consume(UInt8(ascii: "{"), "an object")
        return Cursor(close: UInt8(ascii: "}"))
    }

    public mutating func beginArray() throws -> Cursor {
        try consume(UInt8(ascii: "["), "an array")
        return Cursor(close: UInt8(ascii: "]"))
    }

    /// The next key of an object (its value is next), or nil after the
    /// closing brace.
    public mutating func nextKey(_ cursor: inout Cursor) throws -> UnsafeBufferPointer<UInt8>? {
        guard try nextMember(&cursor) else { return nil }
        let key = try string()
        try consume(UInt8(ascii: ":"), "':' after an object key")
        return key
    }

    /// True when the array has another element (to read next), false after
    /// the closing bracket.
    public mutating func nextElement(_ cursor: inout Cursor) throws -> Bool {
        try nextMember(&cursor)
    }

    /// A string's bytes between the quotes, escapes not decoded.
    public mutating func string() throws -> UnsafeBufferPointer<UInt8> {
        try consume(UInt8(ascii: "\""), "a string")
        let start = offset
        while offset < bytes.count {
            switch bytes[offset] {
            case UInt8(ascii: "\""):
                offset += 1
                return UnsafeBufferPointer(rebasing: bytes[start..<offset - 1])
            case UInt8(ascii: "\\"): offset += 2
            case 0..<0x20: throw error("control character inside a string")
            default: offset += 1
            }
        }
        throw JSONScanError(offset: start - 1, "unterminated string")
    }

    /// A string as a Swift String (allocates: not for per-event use).
    public mutating func text() throws -> String {
        String(decoding: try string(), as: UTF8.self)
    }

    /// A JSON number, or a string holding one (venues quote prices), as an
    /// exact decimal with the digits as written: "0.05000" is (5000, -5),
    /// "1.5e-07" is (15, -8).
    public mutating func decimal() throws -> ExactDecimal {
        skipWhitespace()
        let start = offset
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "\"") {
            let text = try string()
            guard let value = Self.parseDecimal(text) else {
                throw JSONScanError(offset: start, "\"\(String(decoding: text, as: UTF8.self))\" is not a decimal number")
            }
            return value
        }
        let text = try numberText()
        guard let value = Self.parseDecimal(text) else {
            throw JSONScanError(offset: start, "\(String(decoding: text, as: UTF8.self)) does not fit an exact decimal (18 digits)")
        }
        return value
    }

    /// A non-negative integer (a number, or a string holding one).
    public mutating func uint64() throws -> UInt64 {
        skipWhitespace()
        let start = offset
        let text: UnsafeBufferPointer<UInt8>
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "\"") { text = try string() } else { text = try numberText() }
        var value: UInt64 = 0
        for byte in text {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else {
                throw JSONScanError(offset: start, "\(String(decoding: text, as: UTF8.self)) is not a non-negative integer")
            }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1 && !o2 else { throw JSONScanError(offset: start, "integer \(String(decoding: text, as: UTF8.self)) is too large") }
            value = sum
        }
        guard !text.isEmpty else { throw JSONScanError(offset: start, "empty string where an integer belongs") }
        return value
    }

    public mutating func bool() throws -> Bool {
        skipWhitespace()
        if matchLiteral("true") { return true }
        if matchLiteral("false") { return false }
        throw error("expected true or false")
    }

    /// Consumes `null` if it is next.
    public mutating func skipNull() -> Bool {
        skipWhitespace()
        return matchLiteral("null")
    }

    /// Consumes the next value whatever it is, checking its syntax.
    public mutating func skipValue() throws {
        switch try peekKind() {
        case .object:
            var fields = try beginObject()
            while try nextKey(&fields) != nil { try skipValue() }
        case .array:
            var items = try beginArray()
            while try nextElement(&items) { try skipValue() }
        case .string: _ = try string()
        case .number: _ = try numberText()
        case .bool: _ = try bool()
        case .null: _ = skipNull()
        }
    }

    // MARK: - Internals

    private mutating func nextMember(_ cursor: inout Cursor) throws -> Bool {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of input, expected '\(Character(Unicode.Scalar(cursor.close)))'") }
        if bytes[offset] == cursor.close {
            offset += 1
            return false
        }
        if cursor.atFirst {
            cursor.atFirst = false
        } else {
            try consume(UInt8(ascii: ","), "',' or '\(Character(Unicode.Scalar(cursor.close)))'")
        }
        return true
    }

    /// The bytes of a number token, its grammar checked.
    private mutating func numberText() throws -> UnsafeBufferPointer<UInt8> {
        skipWhitespace()
        let start = offset
        func digits() -> Int {
            let from = offset
            while offset < bytes.count, bytes[offset] >= UInt8(ascii: "0"), bytes[offset] <= UInt8(ascii: "9") { offset += 1 }
            return offset - from
        }
        if offset < bytes.count && bytes[offset] == UInt8(ascii: "-") { offset += 1 }
        guard digits() > 0 else { throw JSONScanError(offset: start, "malformed number") }
        if offset < bytes.count && bytes[offset] == UInt8(ascii: ".") {
            offset += 1
            guard digits() > 0 else { throw JSONScanError(offset: start, "malformed number: no digits after '.'") }
        }
        if offset < bytes.count && (bytes[offset] | 0x20) == UInt8(ascii: "e") {
            offset += 1
            if offset < bytes.count && (bytes[offset] == UInt8(ascii: "-") || bytes[offset] == UInt8(ascii: "+")) { offset += 1 }
            guard digits() > 0 else { throw JSONScanError(offset: start, "malformed number: no digits in the exponent") }
        }
        return UnsafeBufferPointer(rebasing: bytes[start..<offset])
    }

    /// Decimal text with an optional sign, point and exponent; nil when it
    /// is malformed or has more digits than an Int64 mantissa holds.
    public static func parseDecimal(_ text: UnsafeBufferPointer<UInt8>) -> ExactDecimal? {
        var mantissa: Int64 = 0, exponent = 0, index = 0
        var negative = false, sawDigit = false, sawPoint = false
        if index < text.count && (text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+")) {
            negative = text[index] == UInt8(ascii: "-")
            index += 1
        }
        while index < text.count {
            let byte = text[index]
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                let (times10, o1) = mantissa.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                if o1 || o2 { return nil }
                mantissa = sum
                sawDigit = true
                if sawPoint { exponent -= 1 }
            } else if byte == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else {
                break
            }
            index += 1
        }
        guard sawDigit else { return nil }
        if index < text.count {
            guard (text[index] | 0x20) == UInt8(ascii: "e") else { return nil }
            index += 1
            var exponentNegative = false, power = 0, sawExponentDigit = false
            if index < text.count && (text[index] == UInt8(ascii: "-") || text[index] == UInt8(ascii: "+")) {
                exponentNegative = text[index] == UInt8(ascii: "-")
                index += 1
            }
            while index < text.count, text[index] >= UInt8(ascii: "0"), text[index] <= UInt8(ascii: "9"), power < 1000 {
                power = power * 10 + Int(text[index] - UInt8(ascii: "0"))
                sawExponentDigit = true
                index += 1
            }
            guard sawExponentDigit && index == text.count else { return nil }
            exponent += exponentNegative ? -power : power
        }
        guard let exponent32 = Int32(exactly: exponent) else { return nil }
        return ExactDecimal(mantissa: negative ? -mantissa : mantissa, exponent: exponent32)
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): offset += 1
            default: return
            }
        }
    }

    private mutating func consume(_ byte: UInt8, _ expected: String) throws {
        skipWhitespace()
        guard offset < bytes.count else { throw error("unexpected end of input, expected \(expected)") }
        guard bytes[offset] == byte else { throw error("unexpected character \(quoted(bytes[offset])), expected \(expected)") }
        offset += 1
    }

    private mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard offset + count <= bytes.count else { return false }
        for index in 0..<count where bytes[offset + index] != literal.utf8Start[index] { return false }
        offset += count
        return true
    }

    private func error(_ reason: String) -> JSONScanError {
        JSONScanError(offset: offset, reason)
    }

    private func quoted(_ byte: UInt8) -> String {
        byte >= 0x20 && byte < 0x7f ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x" + String(byte, radix: 16)
    }
}

extension UnsafeBufferPointer where Element == UInt8 {
    /// Compares raw bytes with ASCII text without making a String.
    @inlinable
    public func equals(_ text: StaticString) -> Bool {
        count == text.utf8CodeUnitCount && elementsEqual(UnsafeBufferPointer(start: text.utf8Start, count: count))
    }
}
