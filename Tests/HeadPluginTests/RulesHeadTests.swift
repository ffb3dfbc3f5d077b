import AlphaPlusSDKTesting
import HeadRules
import XCTest

final class RulesHeadTests: XCTestCase {
    private func head(_ rules: [String], defaultConfidence: Double? = nil) throws -> TestInstance {
        let list = rules.map { "\"\($0)\"" }.joined(separator: ", ")
        let confidence = defaultConfidence.map { #", "default_confidence": \#($0)"# } ?? ""
        return try TestHost().load(RulesHead.self).create(config: #"{"rules": [\#(list)]\#(confidence)}"#)
    }

    /// Whether the single rule `condition -> long` matches `frame`.
    private func holds(_ condition: String, _ frame: TestFrame = standardFrame([:])) throws -> Bool {
        try head(["\(condition) -> long"]).evaluate(frame).direction == .long
    }

    /// The create error of one rule (placed second, to show the index).
    private func parseError(_ rule: String, file: StaticString = #filePath, line: UInt = #line) throws -> String {
        let plugin = try TestHost().load(RulesHead.self)
        let config = #"{"rules": ["close > 0 -> long", "\#(rule)"]}"#
        return createError(plugin, config, file: file, line: line)
    }

    func testTheDescriptorNamesTheHead() throws {
        let plugin = try TestHost().load(RulesHead.self)
        XCTAssertEqual(plugin.id, "com.alphaplus.head-rules")
        XCTAssertEqual(plugin.capabilities, ["ap.head.v1"])
    }

    func testTheBriefsExample() throws {
        let head = try head(["rsi_14 < 30 and close > ema_50 -> long 0.8"])
        let oversoldAboveTrend = standardFrame(["rsi_14": 25, "ema_50": 90], close: 100)
        XCTAssertEqual(try head.evaluate(oversoldAboveTrend),
                       Vote(.long, confidence: 0.8, rationale: "rules[0] matched: rsi_14 < 30 and close > ema_50 -> long 0.8"))
        XCTAssertEqual(try head.evaluate(standardFrame(["rsi_14": 35, "ema_50": 90], close: 100)),
                       Vote(.flat, confidence: 0, rationale: "no rule matched"))
        XCTAssertEqual(try head.evaluate(standardFrame(["rsi_14": 25, "ema_50": 110], close: 100)).direction, .flat)
    }

    func testFirstMatchingRuleWins() throws {
        let head = try head(["rsi_14 > 70 -> short 0.6", "rsi_14 > 50 -> long 0.4", "rsi_14 > 0 -> flat 0.2"])
        XCTAssertEqual(try head.evaluate(standardFrame(["rsi_14": 80])).direction, .short)
        XCTAssertEqual(try head.evaluate(standardFrame(["rsi_14": 60])), Vote(.long, confidence: 0.4, rationale: "rules[1] matched: rsi_14 > 50 -> long 0.4"))
        XCTAssertEqual(try head.evaluate(standardFrame(["rsi_14": 20])), Vote(.flat, confidence: 0.2, rationale: "rules[2] matched: rsi_14 > 0 -> flat 0.2"))
        XCTAssertEqual(try head.evaluate(standardFrame(["rsi_14": -1])).rationale, "no rule matched")
    }

    func testDefaultConfidenceAndTheUnicodeArrow() throws {
        XCTAssertEqual(try head(["close > 0 → short"]).evaluate(standardFrame([:])).confidence, 0.5)
        XCTAssertEqual(try head(["close > 0 → short"], defaultConfidence: 0.7).evaluate(standardFrame([:])),
                       Vote(.short, confidence: 0.7, rationale: "rules[0] matched: close > 0 → short"))
    }

    func testArithmeticPrecedence() throws {
        let frame = standardFrame([:], close: 7.5)
        XCTAssertTrue(try holds("close > 1 + 2 * 3", frame), "1 + (2 × 3) = 7")
        XCTAssertFalse(try holds("close > (1 + 2) * 3", frame), "(1 + 2) × 3 = 9")
        XCTAssertTrue(try holds("10 - 4 - 3 == 3"), "subtraction is left-associative")
        XCTAssertTrue(try holds("12 / 3 / 2 == 2"), "division is left-associative")
        XCTAssertTrue(try holds("2 * -3 == -6"))
        XCTAssertTrue(try holds("- -1 == 1"))
        XCTAssertTrue(try holds("-2 * 3 + 10 == 4"), "unary minus binds tightest")
        XCTAssertTrue(try holds("1.5e2 == 150 and .5 == 0.5 and 2E-1 == 0.2"))
        XCTAssertTrue(try holds("close / 0 > 1e300"), "division by zero is infinity")
        XCTAssertFalse(try holds("close - close / 0 > 0"), "infinity arithmetic follows IEEE")
    }

    func testLogicPrecedenceAndParentheses() throws {
        let frame = standardFrame(["rsi_14": 20], close: 100)
        // `and` binds tighter than `or`: rsi < 30 or (rsi > 70 and close > 1000).
        XCTAssertTrue(try holds("rsi_14 < 30 or rsi_14 > 70 and close > 1000", frame))
        XCTAssertFalse(try holds("(rsi_14 < 30 or rsi_14 > 70) and close > 1000", frame))
        // `not` binds tighter than `and`.
        XCTAssertFalse(try holds("not rsi_14 < 30 and close > 0", frame))
        XCTAssertTrue(try holds("not (rsi_14 > 30 and close > 0)", frame))
        XCTAssertTrue(try holds("not not rsi_14 < 30", frame))
        XCTAssertTrue(try holds("((rsi_14) + (1)) * 2 == 42", frame))
    }

    func testComparisonOperators() throws {
        let frame = standardFrame(["rsi_14": 30])
        for (condition, expected) in [("rsi_14 < 30", false), ("rsi_14 <= 30", true), ("rsi_14 > 30", false),
                                      ("rsi_14 >= 30", true), ("rsi_14 == 30", true), ("rsi_14 != 30", false),
                                      ("rsi_14 != 31", true)] {
            XCTAssertEqual(try holds(condition, frame), expected, condition)
        }
    }

    func testComparisonsWithNaNAreNeverTrue() throws {
        let warming = standardFrame(["ema_50": 90], close: 100)  // rsi_14 is NaN
        XCTAssertFalse(try holds("rsi_14 < 30", warming))
        XCTAssertFalse(try holds("rsi_14 >= 30", warming))
        XCTAssertFalse(try holds("rsi_14 != 30", warming), "not even !=")
        XCTAssertFalse(try holds("not rsi_14 < 30", warming), "negating an unknown stays unknown")
        XCTAssertFalse(try holds("rsi_14 < 30 and close > ema_50", warming))
        XCTAssertTrue(try holds("rsi_14 < 30 or close > ema_50", warming), "true or unknown is true")
        XCTAssertTrue(try holds("not (rsi_14 < 30 and close < ema_50)", warming), "unknown and false is false; its negation true")
        XCTAssertFalse(try holds("0 / 0 == 0 / 0"), "0 / 0 is NaN")
    }

    func testCandleAndBookFields() throws {
        let withBook = standardFrame([:], book: book(imbalance: 0.6, microprice: 100.05))
        XCTAssertTrue(try holds("imbalance > 0.5 and microprice > mid and spread < 0.3 and bid < ask", withBook))
        XCTAssertTrue(try holds("bid_size == 1 and ask_size == 1", withBook))
        XCTAssertFalse(try holds("imbalance > 0.5", standardFrame([:])), "no book: book fields are NaN")
        XCTAssertFalse(try holds("not imbalance > 0.5", standardFrame([:])))
        let candle = TestFrame(candle: Candle(openTimeNs: 0, intervalSeconds: 60, open: 1, high: 4, low: 0.5, close: 2, volume: 9))
        XCTAssertTrue(try holds("open == 1 and high == 4 and low == 0.5 and close == 2 and volume == 9", candle))
    }

    func testAFrameWithoutTheStandardLayoutReadsNaN() throws {
        let head = try head(["ema_50 > 0 -> long", "close > 0 -> short"])
        XCTAssertEqual(try head.evaluate(TestFrame(indicators: ["ema_12": 1], layoutID: 9)).direction, .short)
        XCTAssertEqual(try head.evaluate(standardFrame(["ema_50": 1])).direction, .long)
    }

    // Every class of mistake, reported with the rule's index and the column.

    func testLexicalErrors() throws {
        XCTAssertEqual(try parseError("rsi_14 < 30 & close > 1 -> long"), "rules[1], column 13: unexpected character '&'")
        XCTAssertEqual(try parseError("rsi_14 = 30 -> long"), "rules[1], column 8: '=' is not an operator (did you mean '=='?)")
        XCTAssertEqual(try parseError("!(rsi_14 < 30) -> long"), "rules[1], column 1: '!' is not an operator (use 'not', or '!=')")
        XCTAssertEqual(try parseError("rsi_14 < 1e -> long"), "rules[1], column 10: malformed number '1e'")
        XCTAssertEqual(try parseError("rsi_14 < 1.2.3 -> long"), "rules[1], column 10: malformed number '1.2.3'")
        XCTAssertEqual(try parseError("rsi_14 < 30x -> long"), "rules[1], column 10: malformed number '30x'")
        XCTAssertEqual(try parseError("rsi_14 < 3e999 -> long"), "rules[1], column 10: malformed number '3e999'")
    }

    func testUnknownNamesSuggestTheNearest() throws {
        XCTAssertEqual(try parseError("rsi14 < 30 -> long"), "rules[1], column 1: unknown name 'rsi14' (did you mean 'rsi_14'?)")
        XCTAssertEqual(try parseError("close > ema50 -> long"), "rules[1], column 9: unknown name 'ema50' (did you mean 'ema_50'?)")
        XCTAssertEqual(try parseError("spred < 1 -> long"), "rules[1], column 1: unknown name 'spred' (did you mean 'spread'?)")
        XCTAssertEqual(try parseError("sentiment > 0 -> long"),
                       "rules[1], column 1: unknown name 'sentiment' (not an indicator of the standard frame, a candle field or a book field)")
    }

    func testSyntaxErrors() throws {
        XCTAssertEqual(try parseError("rsi_14 < 30 and close ema_50 -> long"),
                       "rules[1], column 23: expected a comparison operator, found 'ema_50'")
        XCTAssertEqual(try parseError("close -> long"), "rules[1], column 7: expected a comparison operator, found '->'")
        XCTAssertEqual(try parseError("not close -> long"), "rules[1], column 11: expected a comparison operator, found '->'")
        XCTAssertEqual(try parseError("rsi_14 < -> long"), "rules[1], column 10: expected a number, a name or '(', found '->'")
        XCTAssertEqual(try parseError("rsi_14 < 30 and and close > 1 -> long"),
                       "rules[1], column 17: expected a number, a name or '(', found 'and'")
        XCTAssertEqual(try parseError("(rsi_14 < 30 -> long"), "rules[1], column 14: expected ')', found '->'")
        XCTAssertEqual(try parseError("rsi_14 < 30) -> long"), "rules[1], column 12: expected 'and', 'or' or '->', found ')'")
        XCTAssertEqual(try parseError("rsi_14 < 30 long"), "rules[1], column 13: expected 'and', 'or' or '->', found 'long'")
        XCTAssertEqual(try parseError("rsi_14 < 30"), "rules[1], column 12: expected 'and', 'or' or '->', found the end of the rule")
        XCTAssertEqual(try parseError("10 < rsi_14 < 30 -> long"),
                       "rules[1], column 13: comparisons do not chain (join them with 'and'): expected 'and', 'or' or '->', found '<'")
        XCTAssertEqual(try parseError("(rsi_14 < 30) + 1 > 2 -> long"),
                       "rules[1], column 15: '+' takes numbers, found a condition")
        XCTAssertEqual(try parseError("1 < (rsi_14 < 30) -> long"),
                       "rules[1], column 3: '<' takes numbers, found a condition")
        XCTAssertEqual(try parseError("-(rsi_14 < 30) -> long"),
                       "rules[1], column 1: '-' takes numbers, found a condition")
        XCTAssertEqual(try parseError("   "), "rules[1], column 4: expected a condition, found the end of the rule")
        XCTAssertEqual(try parseError("-> long"), "rules[1], column 1: expected a number, a name or '(', found '->'")
        let deep = String(repeating: "(", count: 70) + "close" + String(repeating: ")", count: 70) + " > 0 -> long"
        XCTAssertEqual(try parseError(deep), "rules[1], column 65: nested deeper than 64 levels")
    }

    func testDirectionAndConfidenceErrors() throws {
        XCTAssertEqual(try parseError("close > 0 -> up"), "rules[1], column 14: expected a direction (long, short or flat), found 'up'")
        XCTAssertEqual(try parseError("close > 0 ->"), "rules[1], column 13: expected a direction (long, short or flat), found the end of the rule")
        XCTAssertEqual(try parseError("close > 0 -> long 1.5"), "rules[1], column 19: the confidence must be within [0, 1], found '1.5'")
        XCTAssertEqual(try parseError("close > 0 -> long -0.5"),
                       "rules[1], column 19: expected a confidence in [0, 1] or the end of the rule, found '-'")
        XCTAssertEqual(try parseError("close > 0 -> long 0.5 now"), "rules[1], column 23: expected the end of the rule, found 'now'")
    }

    func testTheSchemaRefusesBadSettings() throws {
        let plugin = try TestHost().load(RulesHead.self)
        XCTAssertTrue(createError(plugin, "{}").contains("'rules'"))
        XCTAssertTrue(createError(plugin, #"{"rules": []}"#).hasPrefix("rules:"))
        XCTAssertTrue(createError(plugin, #"{"rules": [""]}"#).hasPrefix("rules[0]:"))
        XCTAssertTrue(createError(plugin, #"{"rules": ["close > 0 -> long"], "default_confidence": 2}"#).hasPrefix("default_confidence:"))
        XCTAssertTrue(createError(plugin, #"{"rules": ["close > 0 -> long"], "default": 0.5}"#).contains("'default'"))
    }
}
