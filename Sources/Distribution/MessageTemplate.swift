import AlphaPlusJSON

/// A message template: text with `{{field}}` placeholders (spaces inside
/// the braces allowed), checked against the fields of its kind when parsed.
public struct MessageTemplate: Sendable, Equatable {
    enum Piece: Sendable, Equatable {
        case text(String)
        case field(String)
    }

    public let kind: MessageKind
    public let source: String
    let pieces: [Piece]

    /// The fields the template shows, in order of first use.
    public var fields: [String] {
        var seen: [String] = []
        for case .field(let name) in pieces where !seen.contains(name) { seen.append(name) }
        return seen
    }

    /// Why a template cannot be used: an unknown placeholder (with the
    /// nearest valid field) or an unclosed one.
    public struct Problem: Error, Sendable, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    public init(_ source: String, kind: MessageKind) throws(Problem) {
        self.kind = kind
        self.source = source
        var pieces: [Piece] = []
        var rest = Substring(source)
        while let open = rest.range(of: "{{") {
            if open.lowerBound > rest.startIndex { pieces.append(.text(String(rest[..<open.lowerBound]))) }
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw Problem(message: "a placeholder opened with '{{' is not closed with '}}'")
            }
            let name = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            let valid = MessageFields.names(of: kind)
            guard valid.contains(name) else {
                let hint = Suggestion.closest(to: name, among: valid).map { " (did you mean '\($0)'?)" } ?? ""
                throw Problem(message: "unknown placeholder {{\(name)}}\(hint); the fields of a\(kind == .alert || kind == .outcome ? "n" : "") \(kind.rawValue) are \(valid.joined(separator: ", "))")
            }
            pieces.append(.field(name))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { pieces.append(.text(String(rest))) }
        self.pieces = pieces
    }

    /// The text with every placeholder replaced by its value.
    public func render(_ values: MessageFields) -> String {
        pieces.map { piece in
            switch piece {
            case .text(let text): text
            case .field(let name): values[name]
            }
        }.joined()
    }

    /// The built-in template of a tier. Premium shows everything a trader
    /// acts on; basic the direction, entry and confidence; free (and any
    /// tier without a built-in one) the direction, symbol and time only, so a
    /// tier that is not premium or basic never shows more than free.
    public static func defaultTemplate(tier: String, kind: MessageKind) -> MessageTemplate {
        let table = defaults[tier] ?? defaults["free"]!
        // The defaults are checked by the tests: they always parse.
        return try! MessageTemplate(table[kind]!, kind: kind)
    }

    static let defaults: [String: [MessageKind: String]] = [
        "premium": [
            .signal: "{{side}} {{symbol}} {{timeframe}}\nEntry {{entry}}\nStop {{stop}}\nTargets {{targets}}\nConfidence {{confidence}}\nHeads {{heads}}",
            .outcome: "{{event}}: {{side}} {{symbol}}\nEntry {{entry}}, exit {{exit}} ({{move}})\nP&L {{pnl}}",
            .summary: "Daily summary {{date}}\nSignals {{signals}}\nClosed trades {{trades}} ({{wins}} won, {{losses}} lost)\nWin rate {{win_rate}}\nP&L {{pnl}}",
            .alert: "Alert ({{tenant}}): {{message}}",
        ],
        "basic": [
            .signal: "{{side}} {{symbol}}\nEntry {{entry}}\nConfidence {{confidence}}",
            .outcome: "{{event}}: {{side}} {{symbol}}\nExit {{exit}} ({{move}})",
            .summary: "Daily summary {{date}}\nSignals {{signals}}\nClosed trades {{trades}}\nWin rate {{win_rate}}",
            .alert: "Alert ({{tenant}}): {{message}}",
        ],
        "free": [
            // The time keeps two free messages apart: a platform that refuses
            // duplicate content (X) would refuse the second LONG BTC-USDT.
            .signal: "{{side}} {{symbol}}, {{time}}",
            .outcome: "{{event}}: {{side}} {{symbol}} ({{move}}), {{time}}",
            .summary: "Daily summary {{date}}\nSignals {{signals}}\nWin rate {{win_rate}}",
            .alert: "Alert ({{tenant}}): {{message}}",
        ],
    ]
}
