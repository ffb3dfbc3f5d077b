import AlphaPlusJSON
import AlphaPlusSDK
import Foundation

/// A value the rules read from the frame.
enum Field: Equatable {
    /// The program's `indicatorNames[index]`.
    case indicator(Int)
    case open, high, low, close, volume
    case bid, ask, mid, spread, microprice, imbalance, bidSize, askSize

    static let candleFields: [(name: String, field: Field)] = [
        ("open", .open), ("high", .high), ("low", .low), ("close", .close), ("volume", .volume),
    ]
    static let bookFields: [(name: String, field: Field)] = [
        ("bid", .bid), ("ask", .ask), ("mid", .mid), ("spread", .spread), ("microprice", .microprice),
        ("imbalance", .imbalance), ("bid_size", .bidSize), ("ask_size", .askSize),
    ]
}

/// One step of a rule's postfix code, run on a stack of doubles. Conditions
/// are three-valued: 1 true, 0 false, NaN unknown (a comparison with NaN).
enum Instruction: Equatable {
    case constant(Double)
    case load(Field)
    case negate, add, subtract, multiply, divide
    case less, lessOrEqual, greater, greaterOrEqual, equal, notEqual
    case and, or, not

    /// How the instruction changes the stack's depth.
    var stackEffect: Int {
        switch self {
        case .constant, .load: 1
        case .negate, .not: 0
        default: -1
        }
    }
}

/// Every rule of one instance, compiled into one flat array of code.
struct RuleProgram {
    struct Rule {
        /// The rule's code in `code`.
        let code: Range<Int>
        let direction: Direction
        let confidence: Double
        /// What a match says, e.g. "rules[0] matched: rsi_14 < 30 -> long 0.8".
        let rationale: String
    }

    var code: [Instruction] = []
    var rules: [Rule] = []
    /// The indicators the code loads, each once.
    var indicatorNames: [String] = []
    /// The deepest any rule's stack gets.
    var stackDepth = 0
    var readsBook = false

    /// Compiles `rules` (config field `rules`); a rule without a confidence
    /// gets `defaultConfidence`. Throws `PluginError.invalidConfig` naming the
    /// rule, the 1-based column and what was expected.
    init(rules texts: [String], defaultConfidence: Double) throws {
        for (index, text) in texts.enumerated() {
            do {
                let tokens = try RuleLexer.tokens(of: text)
                var parser = RuleParser(tokens: tokens, program: self, defaultConfidence: defaultConfidence)
                let start = code.count
                let (direction, confidence) = try parser.parseRule()
                self = parser.program
                rules.append(Rule(code: start..<code.count, direction: direction, confidence: confidence,
                                  rationale: "rules[\(index)] matched: \(text.trimmingCharacters(in: .whitespacesAndNewlines))"))
                stackDepth = max(stackDepth, Self.depth(of: code[start...]))
            } catch let error as RuleError {
                throw PluginError.invalidConfig("rules[\(index)], column \(error.column): \(error.message)")
            }
        }
    }

    private static func depth(of code: ArraySlice<Instruction>) -> Int {
        var depth = 0, deepest = 0
        for instruction in code {
            depth += instruction.stackEffect
            deepest = max(deepest, depth)
        }
        return deepest
    }
}

/// A mistake in a rule: where (1-based column) and what.
struct RuleError: Error {
    let column: Int
    let message: String
}

struct Token {
    enum Kind: Equatable {
        case number(Double)
        /// A name, keyword or direction.
        case word(String)
        case plus, minus, times, divide
        case less, lessOrEqual, greater, greaterOrEqual, equal, notEqual
        case arrow, open, close, end
    }

    let kind: Kind
    let text: Substring
    /// 1-based, in characters.
    let column: Int

    /// How an error message names the token.
    var quoted: String { kind == .end ? "the end of the rule" : "'\(text)'" }

    var comparison: Instruction? {
        switch kind {
        case .less: .less
        case .lessOrEqual: .lessOrEqual
        case .greater: .greater
        case .greaterOrEqual: .greaterOrEqual
        case .equal: .equal
        case .notEqual: .notEqual
        default: nil
        }
    }

    func isWord(_ word: String) -> Bool { kind == .word(word) }
}

enum RuleLexer {
    static func tokens(of text: String) throws -> [Token] {
        var tokens: [Token] = []
        var position = text.startIndex, column = 1
        func character(at offset: Int) -> Character? {
            text.index(position, offsetBy: offset, limitedBy: text.endIndex).flatMap { $0 < text.endIndex ? text[$0] : nil }
        }
        while position < text.endIndex {
            let first = text[position]
            if first.isWhitespace {
                position = text.index(after: position)
                column += 1
                continue
            }
            var length = 1
            let kind: Token.Kind
            switch first {
            case "+": kind = .plus
            case "*": kind = .times
            case "/": kind = .divide
            case "(": kind = .open
            case ")": kind = .close
            case "→": kind = .arrow
            case "-":
                if character(at: 1) == ">" { (kind, length) = (.arrow, 2) } else { kind = .minus }
            case "<", ">":
                let orEqual = character(at: 1) == "="
                length = orEqual ? 2 : 1
                kind = first == "<" ? (orEqual ? .lessOrEqual : .less) : (orEqual ? .greaterOrEqual : .greater)
            case "=":
                guard character(at: 1) == "=" else { throw RuleError(column: column, message: "'=' is not an operator (did you mean '=='?)") }
                (kind, length) = (.equal, 2)
            case "!":
                guard character(at: 1) == "=" else { throw RuleError(column: column, message: "'!' is not an operator (use 'not', or '!=')") }
                (kind, length) = (.notEqual, 2)
            default:
                if first.isASCII, first.isLetter || first == "_" {
                    while let next = character(at: length), next.isASCII, next.isLetter || next.isNumber || next == "_" { length += 1 }
                    let end = text.index(position, offsetBy: length)
                    kind = .word(String(text[position..<end]))
                } else if first.isASCII, first.isNumber || (first == "." && character(at: 1)?.isNumber == true) {
                    // Digits, a point, letters and signs after an 'e': whatever
                    // the number takes, so that '1e' or '2x' is one bad number.
                    while let next = character(at: length), next.isASCII,
                          next.isNumber || next.isLetter || next == "." || next == "_"
                            || ((next == "+" || next == "-") && "eE".contains(character(at: length - 1)!)) {
                        length += 1
                    }
                    let end = text.index(position, offsetBy: length)
                    let literal = text[position..<end]
                    guard literal.allSatisfy({ !$0.isLetter || $0 == "e" || $0 == "E" }), let value = Double(literal), value.isFinite else {
                        throw RuleError(column: column, message: "malformed number '\(literal)'")
                    }
                    kind = .number(value)
                } else {
                    throw RuleError(column: column, message: "unexpected character '\(first)'")
                }
            }
            let end = text.index(position, offsetBy: length)
            tokens.append(Token(kind: kind, text: text[position..<end], column: column))
            position = end
            column += length
        }
        tokens.append(Token(kind: .end, text: "", column: column))
        return tokens
    }
}

/// Recursive descent over one rule's tokens, emitting postfix code into
/// `program` as it goes. Precedence, loosest first: `or`, `and`, `not`,
/// comparisons (which do not chain), `+ -`, `* /`, unary `-`.
struct RuleParser {
    /// What a parsed expression yields.
    enum Kind { case number, condition }

    /// Nesting (parentheses, `not`, unary minus) deeper than this is refused,
    /// so that a hostile rule cannot exhaust the parser's stack.
    static let maximumNesting = 64

    private let tokens: [Token]
    private var position = 0
    private var nesting = 0
    private(set) var program: RuleProgram
    private let defaultConfidence: Double

    init(tokens: [Token], program: RuleProgram, defaultConfidence: Double) {
        self.tokens = tokens
        self.program = program
        self.defaultConfidence = defaultConfidence
    }

    private var next: Token { tokens[position] }

    private mutating func advance() -> Token {
        defer { position += 1 }
        return tokens[position]
    }

    private func error(_ message: String, at token: Token? = nil) -> RuleError {
        RuleError(column: (token ?? next).column, message: message)
    }

    /// `condition (-> | →) (long | short | flat) [confidence]`.
    mutating func parseRule() throws -> (Direction, Double) {
        if next.kind == .end { throw error("expected a condition, found the end of the rule") }
        let condition = try parseOr()
        try requireCondition(condition)
        guard next.kind == .arrow else { throw error("expected 'and', 'or' or '->', found \(next.quoted)") }
        _ = advance()
        let direction: Direction
        switch next.kind {
        case .word("long"): direction = .long
        case .word("short"): direction = .short
        case .word("flat"): direction = .flat
        default: throw error("expected a direction (long, short or flat), found \(next.quoted)")
        }
        _ = advance()
        var confidence = defaultConfidence
        if case .number(let value) = next.kind {
            guard value >= 0, value <= 1 else { throw error("the confidence must be within [0, 1], found \(next.quoted)") }
            confidence = value
            _ = advance()
            guard next.kind == .end else { throw error("expected the end of the rule, found \(next.quoted)") }
        } else if next.kind != .end {
            throw error("expected a confidence in [0, 1] or the end of the rule, found \(next.quoted)")
        }
        return (direction, confidence)
    }

    private mutating func parseOr() throws -> Kind {
        try parseLevel(of: .condition, operand: { try $0.parseAnd() }) { $0.isWord("or") ? .or : nil }
    }

    private mutating func parseAnd() throws -> Kind {
        try parseLevel(of: .condition, operand: { try $0.parseNot() }) { $0.isWord("and") ? .and : nil }
    }

    private mutating func parseNot() throws -> Kind {
        guard next.isWord("not") else { return try parseComparison() }
        try nest { parser in
            _ = parser.advance()
            let operand = try parser.parseNot()
            try parser.requireCondition(operand)
        }
        program.code.append(.not)
        return .condition
    }

    private mutating func parseComparison() throws -> Kind {
        let left = try parseSum()
        guard let comparison = next.comparison else { return left }
        let op = advance()
        try requireNumber(left, for: op)
        let right = try parseSum()
        try requireNumber(right, for: op)
        program.code.append(comparison)
        if next.comparison != nil {
            throw error("comparisons do not chain (join them with 'and'): expected 'and', 'or' or '->', found \(next.quoted)")
        }
        return .condition
    }

    private mutating func parseSum() throws -> Kind {
        try parseLevel(of: .number, operand: { try $0.parseProduct() }) {
            $0.kind == .plus ? .add : $0.kind == .minus ? .subtract : nil
        }
    }

    private mutating func parseProduct() throws -> Kind {
        try parseLevel(of: .number, operand: { try $0.parseUnary() }) {
            $0.kind == .times ? .multiply : $0.kind == .divide ? .divide : nil
        }
    }

    /// One left-associative level, `operand { operator operand }`, whose
    /// operators (the tokens `instruction` maps) take and yield `kind`.
    private mutating func parseLevel(of kind: Kind, operand: (inout RuleParser) throws -> Kind,
                                     operators instruction: (Token) -> Instruction?) throws -> Kind {
        var result = try operand(&self)
        while let operation = instruction(next) {
            try require(result, kind, around: next)
            let op = advance()
            let right = try operand(&self)
            try require(right, kind, around: op)
            program.code.append(operation)
            result = kind
        }
        return result
    }

    private mutating func parseUnary() throws -> Kind {
        guard next.kind == .minus else { return try parsePrimary() }
        try nest { parser in
            let op = parser.advance()
            let operand = try parser.parseUnary()
            try parser.requireNumber(operand, for: op)
        }
        program.code.append(.negate)
        return .number
    }

    private mutating func parsePrimary() throws -> Kind {
        let token = next
        switch token.kind {
        case .number(let value):
            _ = advance()
            program.code.append(.constant(value))
            return .number
        case .word(let name) where !["and", "or", "not"].contains(name):
            _ = advance()
            program.code.append(.load(try field(named: name, at: token)))
            return .number
        case .open:
            var kind = Kind.number
            try nest { parser in
                _ = parser.advance()
                kind = try parser.parseOr()
                guard parser.next.kind == .close else { throw parser.error("expected ')', found \(parser.next.quoted)") }
                _ = parser.advance()
            }
            return kind
        default:
            throw error("expected a number, a name or '(', found \(token.quoted)")
        }
    }

    private mutating func nest(_ body: (inout RuleParser) throws -> Void) throws {
        guard nesting < Self.maximumNesting else { throw error("nested deeper than \(Self.maximumNesting) levels") }
        nesting += 1
        defer { nesting -= 1 }
        try body(&self)
    }

    /// A name's field: an indicator of the standard frame, a candle field or
    /// a book field.
    private mutating func field(named name: String, at token: Token) throws -> Field {
        if let candle = Field.candleFields.first(where: { $0.name == name }) { return candle.field }
        if let book = Field.bookFields.first(where: { $0.name == name }) {
            program.readsBook = true
            return book.field
        }
        guard FeatureFrame.standardIndicatorNames.contains(name) else {
            let names = FeatureFrame.standardIndicatorNames + Field.candleFields.map(\.name) + Field.bookFields.map(\.name)
            let hint = Suggestion.closest(to: name, among: names).map { " (did you mean '\($0)'?)" }
                ?? " (not an indicator of the standard frame, a candle field or a book field)"
            throw error("unknown name '\(name)'" + hint, at: token)
        }
        if let known = program.indicatorNames.firstIndex(of: name) { return .indicator(known) }
        program.indicatorNames.append(name)
        return .indicator(program.indicatorNames.count - 1)
    }

    private func require(_ kind: Kind, _ expected: Kind, around op: Token) throws {
        if expected == .condition { try requireCondition(kind) } else { try requireNumber(kind, for: op) }
    }

    /// The expression that ended just before `next` must be a condition:
    /// a number there lacks its comparison.
    private func requireCondition(_ kind: Kind) throws {
        if kind == .number { throw error("expected a comparison operator, found \(next.quoted)") }
    }

    private func requireNumber(_ kind: Kind, for op: Token) throws {
        if kind == .condition { throw error("'\(op.text)' takes numbers, found a condition", at: op) }
    }
}
