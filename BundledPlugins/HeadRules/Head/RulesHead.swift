import AlphaPlusSDK

/// Votes with the first of its configured rules whose condition holds.
///
/// A rule is `condition -> direction [confidence]` (`→` works as well as
/// `->`), e.g. `rsi_14 < 30 and close > ema_50 -> long 0.8`. The condition
/// combines comparisons (`< <= > >= == !=`) of arithmetic expressions
/// (`+ - * /`, unary minus, parentheses, numbers such as `2`, `0.5`,
/// `1e-3`) over the frame's fields with `not`, `and` and `or` (loosest).
/// Fields: the indicators of the standard frame
/// (`FeatureFrame.standardIndicatorNames`), the candle's `open high low
/// close volume` and the book's `bid ask mid spread microprice imbalance
/// bid_size ask_size` (NaN without a book). The direction is `long`,
/// `short` or `flat`; the confidence, in [0, 1], defaults to
/// `default_confidence`.
///
/// Rules are tried in order; the first that holds gives the vote, and when
/// none holds the vote is flat with confidence 0. A comparison with a NaN
/// operand (an indicator warming up, a missing book) is never true, and
/// neither is its negation: conditions are three-valued (true, false,
/// unknown), `not unknown` is unknown, `false and unknown` is false, `true
/// or unknown` is true, and only a true condition matches. Arithmetic is
/// IEEE: a division by zero gives ±infinity (0 / 0 gives NaN).
///
/// The rules are compiled once, at create, into postfix code run on a
/// fixed stack: evaluating allocates nothing. A rule that does not parse
/// refuses the instance with `rules[i], column c: what was expected`.
public final class RulesHead: HeadPlugin {
    public struct Configuration: Decodable, Sendable {
        public var rules: [String]
        public var defaultConfidence = 0.5

        enum CodingKeys: String, CodingKey {
            case rules
            case defaultConfidence = "default_confidence"
        }

        public init(rules: [String], defaultConfidence: Double = 0.5) {
            self.rules = rules
            self.defaultConfidence = defaultConfidence
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            rules = try c.decode([String].self, forKey: .rules)
            defaultConfidence = try c.decodeIfPresent(Double.self, forKey: .defaultConfidence) ?? defaultConfidence
        }
    }

    public static let descriptor = PluginDescriptor(
        id: "com.alphaplus.head-rules",
        name: "Rules",
        version: "1.0.0",
        vendor: "AlphaPlus",
        description: "Votes with the first matching rule of a small expression language over the frame's fields.",
        configSchema: """
        {
          "type": "object",
          "additionalProperties": false,
          "required": ["rules"],
          "properties": {
            "rules": {
              "type": "array",
              "minItems": 1,
              "maxItems": 256,
              "items": {"type": "string", "minLength": 1, "maxLength": 2000}
            },
            "default_confidence": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5}
          }
        }
        """)

    private let program: RuleProgram
    private let indicators: [IndicatorKey]
    /// The evaluation stack, as deep as the deepest rule needs.
    private let stack: UnsafeMutablePointer<Double>
    private let rationale = RationaleBuffer()

    public convenience init(configuration: Configuration, context: PluginContext) throws {
        try self.init(configuration: configuration)
    }

    /// The head without a host, for direct calls (tests, benchmarks).
    public init(configuration: Configuration) throws {
        program = try RuleProgram(rules: configuration.rules, defaultConfidence: configuration.defaultConfidence)
        indicators = program.indicatorNames.map(IndicatorKey.init)
        stack = .allocate(capacity: max(program.stackDepth, 1))
    }

    deinit { stack.deallocate() }

    public func evaluate(_ frame: FeatureFrame) throws -> Vote {
        let candle = frame.raw.pointee.candle
        let book = program.readsBook ? frame.book ?? BookFeatures() : BookFeatures()
        // By index: `for rule in rules` would go through the generic
        // iterator, which allocates in unoptimised builds.
        for index in 0..<program.rules.count {
            let rule = program.rules[index]
            if run(rule.code, frame, candle, book) == 1 {
                return Vote(rule.direction, confidence: rule.confidence, rationale: rationale.write(rule.rationale))
            }
        }
        return Vote(.flat, confidence: 0, rationale: "no rule matched")
    }

    /// Runs one rule's code and returns its condition: 1, 0 or NaN (unknown).
    private func run(_ code: Range<Int>, _ frame: FeatureFrame, _ candle: ap_candle, _ book: BookFeatures) -> Double {
        var top = -1
        for position in code {
            switch program.code[position] {
            case .constant(let value):
                top += 1
                stack[top] = value
            case .load(let field):
                top += 1
                stack[top] = switch field {
                case .indicator(let index): frame[indicators[index]]
                case .open: candle.open
                case .high: candle.high
                case .low: candle.low
                case .close: candle.close
                case .volume: candle.volume
                case .bid: book.bestBid
                case .ask: book.bestAsk
                case .mid: book.mid
                case .spread: book.spread
                case .microprice: book.microprice
                case .imbalance: book.imbalance
                case .bidSize: book.bestBidSize
                case .askSize: book.bestAskSize
                }
            case .negate: stack[top] = -stack[top]
            case .not: stack[top] = stack[top].isNaN ? .nan : 1 - stack[top]
            case let binary:
                let right = stack[top]
                top -= 1
                let left = stack[top]
                stack[top] = Self.apply(binary, left, right)
            }
        }
        return stack[top]
    }

    @inline(__always)
    private static func apply(_ instruction: Instruction, _ left: Double, _ right: Double) -> Double {
        // A comparison with NaN is unknown (NaN), not false.
        func compare(_ holds: Bool) -> Double { left.isNaN || right.isNaN ? .nan : holds ? 1 : 0 }
        switch instruction {
        case .add: return left + right
        case .subtract: return left - right
        case .multiply: return left * right
        case .divide: return left / right
        case .less: return compare(left < right)
        case .lessOrEqual: return compare(left <= right)
        case .greater: return compare(left > right)
        case .greaterOrEqual: return compare(left >= right)
        case .equal: return compare(left == right)
        case .notEqual: return compare(left != right)
        case .and: return left == 0 || right == 0 ? 0 : left.isNaN || right.isNaN ? .nan : 1
        case .or: return left == 1 || right == 1 ? 1 : left.isNaN || right.isNaN ? .nan : 0
        case .constant, .load, .negate, .not: preconditionFailure("\(instruction) is not a binary instruction")
        }
    }
}
