import Foundation
import Ingress
import TestRandom

/// Fuzzes `QueryParser` with the signals route's parameters (limit 1...500,
/// a cursor before), on random query strings and on valid ones mutated.
/// The property: the parser never crashes (a trap ends the process), and it
/// either accepts, with every value in range and equal to what an
/// independent decoding (Foundation's) of the query gives, or refuses
/// naming parameters that are in the query.
public struct QueryFuzzer {
    public static let parameters: [QueryParameter] = [.integer("limit", in: 1...500), .cursor("before")]

    /// A query that broke the property, and how.
    public struct Finding: Sendable, CustomStringConvertible {
        public var query: String
        public var problem: String
        public var description: String { "\(Self.quoted(query)): \(problem)" }

        static func quoted(_ text: String) -> String { "\"" + text.unicodeScalars.map { $0.escaped(asASCII: true) }.joined() + "\"" }
    }

    public private(set) var iterations = 0
    public private(set) var accepted = 0
    public private(set) var refused = 0
    public private(set) var findings: [Finding] = []
    private var random: SplitMix64

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    /// Checks `count` more queries, half random, half mutated.
    public mutating func run(_ count: Int) {
        for _ in 0..<count {
            let query = random.next() % 2 == 0 ? randomQuery() : mutatedQuery()
            iterations += 1
            if let problem = check(query) { findings.append(Finding(query: query, problem: problem)) }
        }
    }

    /// Nil when `query` keeps the property, else what broke it.
    public mutating func check(_ query: String) -> String? {
        do {
            let parsed = try QueryParser.parse(Substring(query), accepting: Self.parameters)
            accepted += 1
            return checkAccepted(parsed, query)
        } catch {
            refused += 1
            guard !error.parameters.isEmpty else { return "refused without naming a parameter: \(error.message)" }
            let names = Self.names(in: query)
            for parameter in error.parameters {
                guard names.contains(parameter) else { return "refusal names '\(parameter)', which is not in the query: \(error.message)" }
                // Value errors start "name: …"; unknown names are quoted.
                let shown = String(parameter.prefix(64))
                guard error.message.hasPrefix("\(shown):") || error.message.contains("'\(shown)") else {
                    return "refusal is about '\(parameter)' but its message does not name it: \(error.message)"
                }
            }
            return nil
        }
    }

    /// Accepted: in range, and equal to Foundation's reading of the query.
    private func checkAccepted(_ parsed: ParsedQuery, _ query: String) -> String? {
        if let limit = parsed.integer("limit"), !(1...500).contains(limit) { return "accepted limit \(limit), outside 1...500" }
        if let cursor = parsed.cursor("before"), cursor.ns < 0 || cursor.id.isEmpty { return "accepted cursor \(cursor) without ns or id" }
        var limit: Int?, before: String?
        for piece in query.split(separator: "&") {
            let pair = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.foundationDecoded(pair[0]), let value = Self.foundationDecoded(pair.count > 1 ? pair[1] : "") else {
                return "accepted a query Foundation cannot decode"
            }
            switch name {
            case "limit": limit = Int(value)
            case "before": before = value
            default: return "accepted a query with parameter '\(name)'"
            }
        }
        if limit != parsed.integer("limit") { return "limit parsed as \(String(describing: parsed.integer("limit"))), Foundation reads \(String(describing: limit))" }
        let cursor = parsed.cursor("before")
        let foundationCursor = before.map { text in (Int64(text.prefix { $0 != ":" }), String(text.drop { $0 != ":" }.dropFirst())) }
        if foundationCursor?.0 != cursor?.ns || foundationCursor?.1 != cursor?.id {
            return "before parsed as \(String(describing: cursor)), Foundation reads \(String(describing: before))"
        }
        return nil
    }

    /// Every name in the query, as written and as decoded where it decodes.
    public static func names(in query: String) -> Set<String> {
        var names: Set<String> = []
        for piece in query.split(separator: "&") {
            let raw = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            names.insert(String(raw))
            if let decoded = foundationDecoded(raw) { names.insert(decoded) }
        }
        return names
    }

    static func foundationDecoded(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    // MARK: - Inputs

    private static let names = ["limit", "before", "LIMIT", "Limit", "lim%69t", "%6C%69%6D%69%74", "be%66ore", "limit%00", "", "x", "limit+",
                                "+limit", "l%", "%zz", "%C3%A9", "%FF", "limit[]", "before.", "ü", "a=b"]
    private static let values = ["50", "1", "500", "0", "501", "-1", "+5", " 5", "5 ", "05", "0050", "1e2", "5.0", "0x10",
                                 "99999999999999999999", "9223372036854775807", "", "%", "%4", "%35%30", "%FF", "%C3%A9", "abc",
                                 "1795248000000000000:demo:sim:BTC-USDT:60:1795247940000", "1:a", ":a", "1:", "-1:a", "x:y", "1%3Aa",
                                 "1::", "18446744073709551616:a", "12+34", "1:" + String(repeating: "a", count: 600)]
    private static let seeds = ["limit=50", "before=1795248000000000000:demo:sim:BTC-USDT:60:1795247940000",
                                "limit=500&before=1:a", "before=2:b%3Ac&limit=1", ""]
    private static let alphabet: [Character] = Array("&=%+:0123456789abcdefABCDEFlimtbor -._~?#/\u{0}\u{7F}é€😀")

    private mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    private mutating func number(below bound: Int) -> Int { Int(random.next() % UInt64(bound)) }

    private mutating func randomQuery() -> String {
        (0..<number(below: 5)).map { _ -> String in
            switch number(below: 10) {
            case 0: return pick(Self.names)
            case 1: return String((0..<number(below: 12)).map { _ in pick(Self.alphabet) })
            default: return pick(Self.names) + "=" + pick(Self.values)
            }
        }.joined(separator: number(below: 8) == 0 ? "&&" : "&")
    }

    private mutating func mutatedQuery() -> String {
        var characters = Array(pick(Self.seeds))
        for _ in 0...number(below: 4) {
            let position = number(below: characters.count + 1)
            switch number(below: 4) {
            case 0: characters.insert(pick(Self.alphabet), at: position)
            case 1 where position < characters.count: characters.remove(at: position)
            case 2 where position < characters.count: characters[position] = pick(Self.alphabet)
            default: characters.insert(contentsOf: Array("&" + pick(Self.names) + "=" + pick(Self.values)), at: position)
            }
        }
        return String(characters)
    }
}
