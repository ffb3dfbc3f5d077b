/// A query parameter an admin route accepts.
public struct QueryParameter: Sendable {
    public enum Kind: Sendable {
        /// Decimal digits only, within the range.
        case integer(ClosedRange<Int>)
        /// A page cursor: a previous page's `next`.
        case cursor
    }

    public let name: String
    public let kind: Kind

    public static func integer(_ name: String, in range: ClosedRange<Int>) -> QueryParameter {
        QueryParameter(name: name, kind: .integer(range))
    }

    public static func cursor(_ name: String) -> QueryParameter { QueryParameter(name: name, kind: .cursor) }
}

/// Where a newest-first page ended: `<created_at_ns>:<id>` (the id may
/// itself hold ':'). Items strictly older come next.
public struct PageCursor: Sendable, Equatable, CustomStringConvertible {
    public static let maxIDLength = 512
    public var ns: Int64
    public var id: String

    public init(ns: Int64, id: String) {
        self.ns = ns
        self.id = id
    }

    /// Nil unless `text` is digits, ':', then an id of 1 to 512 bytes.
    public init?(parsing text: String) {
        guard let colon = text.firstIndex(of: ":") else { return nil }
        let digits = text[..<colon], id = text[text.index(after: colon)...]
        guard !digits.isEmpty, digits.utf8.allSatisfy({ (48...57).contains($0) }), let ns = Int64(digits),
              (1...Self.maxIDLength).contains(id.utf8.count) else { return nil }
        self.init(ns: ns, id: String(id))
    }

    public var description: String { "\(ns):\(id)" }
}

/// The values of a query that passed `QueryParser.parse`: each is of its
/// parameter's kind and in its range; absent parameters are nil.
public struct ParsedQuery: Sendable, Equatable {
    fileprivate var integers: [String: Int] = [:]
    fileprivate var cursors: [String: PageCursor] = [:]

    public func integer(_ name: String) -> Int? { integers[name] }
    public func cursor(_ name: String) -> PageCursor? { cursors[name] }
}

/// Why a query was refused: the parameters at fault (as the client wrote
/// their names, decoded where possible) and the message for the client,
/// which names them.
public struct QueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public let parameters: [String]
    public let message: String

    public var description: String { message }
}

/// The admin API's one query-string parser. Pairs are split on '&' (empty
/// pieces skipped) and at the first '='; names and values are
/// percent-decoded ('+' is a space) and must be UTF-8. Refused, naming the
/// parameter: a name the route does not take, a parameter given twice, an
/// encoding that does not decode, a value not of its kind or out of range.
public enum QueryParser {
    public static func parse(_ query: Substring, accepting accepted: [QueryParameter]) throws(QueryError) -> ParsedQuery {
        var pairs: [(name: String, value: String)] = []
        var unknown: [String] = []
        for piece in query.split(separator: "&", omittingEmptySubsequences: true) {
            let equals = piece.firstIndex(of: "=")
            let rawName = equals.map { piece[..<$0] } ?? piece
            let rawValue = equals.map { piece[piece.index(after: $0)...] } ?? ""
            guard let name = decode(rawName) else {
                throw QueryError(parameters: [String(rawName)],
                                 message: "\(quoted(rawName)): a query parameter's name is not percent-encoded UTF-8")
            }
            guard accepted.contains(where: { $0.name == name }) else {
                if !unknown.contains(name) { unknown.append(name) }
                continue
            }
            guard let value = decode(rawValue) else {
                throw QueryError(parameters: [name], message: "\(name): '\(Names.shown(rawValue))' is not percent-encoded UTF-8")
            }
            guard !pairs.contains(where: { $0.name == name }) else {
                throw QueryError(parameters: [name], message: "\(name): given more than once")
            }
            pairs.append((name, value))
        }
        guard unknown.isEmpty else {
            let takes = accepted.isEmpty ? "this route takes no query parameters" : "this route takes " + accepted.map(\.name).joined(separator: ", ")
            let names = unknown.map(quoted).joined(separator: ", ")
            throw QueryError(parameters: unknown,
                             message: "unknown query parameter\(unknown.count == 1 ? "" : "s") \(names) (\(takes))")
        }
        var parsed = ParsedQuery()
        for (name, value) in pairs {
            switch accepted.first(where: { $0.name == name })!.kind {
            case .integer(let range):
                guard !value.isEmpty, value.utf8.allSatisfy({ (48...57).contains($0) }), let number = Int(value), range.contains(number) else {
                    throw QueryError(parameters: [name],
                                     message: "\(name): '\(Names.shown(value))' is not an integer in \(range.lowerBound)...\(range.upperBound)")
                }
                parsed.integers[name] = number
            case .cursor:
                guard let cursor = PageCursor(parsing: value) else {
                    throw QueryError(parameters: [name],
                                     message: "\(name): '\(Names.shown(value))' is not a page cursor (a page's next: <created_at_ns>:<id>)")
                }
                parsed.cursors[name] = cursor
            }
        }
        return parsed
    }

    /// Percent-decoding (with '+' as a space in a query, not in a path);
    /// nil for a '%' not followed by two hex digits or bytes that are not UTF-8.
    static func decode(_ text: Substring, plusIsSpace: Bool = true) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            switch byte {
            case UInt8(ascii: "+") where plusIsSpace:
                bytes.append(UInt8(ascii: " "))
            case UInt8(ascii: "%"):
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else { return nil }
                bytes.append(high << 4 | low)
            default:
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    private static func quoted(_ name: some StringProtocol) -> String { "'\(Names.shown(name))'" }
}
