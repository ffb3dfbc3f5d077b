import AlphaPlusJSON
import XCTest

final class JSONParserTests: XCTestCase {
    /// The error `text` fails to parse with; fails the test if it parses.
    private func parseError(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONParseError? {
        do {
            let value = try JSONValue(parsing: text)
            XCTFail("expected a parse error, got \(value.jsonText)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    private func assertError(
        _ text: String, line: Int, column: Int, _ message: String,
        file: StaticString = #filePath, sourceLine: UInt = #line
    ) {
        guard let error = parseError(text, file: file, line: sourceLine) else { return }
        XCTAssertEqual(error.message, message, file: file, line: sourceLine)
        XCTAssertEqual(error.line, line, "line", file: file, line: sourceLine)
        XCTAssertEqual(error.column, column, "column", file: file, line: sourceLine)
    }

    // MARK: Accepted input

    func testParsesAllValueKinds() throws {
        let value = try JSONValue(parsing: #" { "a": [1, -2.5e3, true, false, null, "x"], "b": {} , "c": [] } "#)
        XCTAssertEqual(value, .object([
            "a": .array([.number(1), .number(-2500), .bool(true), .bool(false), .null, .string("x")]),
            "b": .object([:]),
            "c": .array([]),
        ]))
    }

    func testParsesEscapesAndSurrogatePairs() throws {
        let value = try JSONValue(parsing: #""\" \\ \/ \b \f \n \r \t \u00e9 \uD83D\uDE00 é""#)
        XCTAssertEqual(value, .string("\" \\ / \u{8} \u{C} \n \r \t é 😀 é"))
    }

    func testParsesNumberForms() throws {
        XCTAssertEqual(try JSONValue(parsing: "0"), .number(0))
        XCTAssertEqual(try JSONValue(parsing: "-0"), .number(-0.0))
        XCTAssertEqual(try JSONValue(parsing: "0.5"), .number(0.5))
        XCTAssertEqual(try JSONValue(parsing: "1E2"), .number(100))
        XCTAssertEqual(try JSONValue(parsing: "1e-2"), .number(0.01))
        XCTAssertEqual(try JSONValue(parsing: "12345678901234567890"), .number(1.2345678901234567e19))
    }

    func testParsesBytes() throws {
        XCTAssertEqual(try JSONValue(parsing: Array(#"{"k":"é"}"#.utf8)), .object(["k": .string("é")]))
    }

    func testNestingUpToTheLimitIsAccepted() throws {
        let text = String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        XCTAssertNoThrow(try JSONValue(parsing: text))
    }

    /// Plugins parse on their instance's executor, a Dispatch thread with a
    /// 512 KiB stack: a document at the limit, in objects and arrays, parses
    /// there (and is compared, printed and freed) without overflowing it.
    func testADocumentAtTheLimitParsesOnADispatchSizedStack() {
        let text = String(repeating: #"{"a":["#, count: 64) + "1" + String(repeating: "]}", count: 64)
        let parsed = expectation(description: "parsed on a small stack")
        let thread = Thread {
            do {
                let value = try JSONValue(parsing: text)
                XCTAssertEqual(value, value)
                XCTAssertTrue(value.jsonText.hasPrefix(#"{"a":[{"a":["#))
            } catch {
                XCTFail("\(error)")
            }
            parsed.fulfill()
        }
        thread.stackSize = 512 << 10
        thread.start()
        wait(for: [parsed], timeout: 30)
    }

    func testSubscript() throws {
        let value = try JSONValue(parsing: #"{"a": {"b": 1}}"#)
        XCTAssertEqual(value["a"]?["b"], .number(1))
        XCTAssertNil(value["missing"])
        XCTAssertNil(JSONValue.array([]) ["a"])
    }

    // MARK: Errors

    func testTrailingCommaInObject() {
        assertError(#"{"a": 1,}"#, line: 1, column: 8, "trailing comma before '}'")
    }

    func testTrailingCommaInArrayOnLaterLine() {
        assertError("[\n  1,\n  2,\n]", line: 3, column: 4, "trailing comma before ']'")
    }

    func testUnterminatedStringAtEndOfInput() {
        assertError(#"{"a": "abc"#, line: 1, column: 7, "unterminated string")
        assertError(#""abc\"#, line: 1, column: 1, "unterminated string")
    }

    func testUnterminatedStringAtLineBreak() {
        assertError("{\"a\": \"abc\n}", line: 1, column: 11, "line break inside a string (is the closing quote missing?)")
    }

    func testUnescapedControlCharacter() {
        assertError("\"a\tb\"", line: 1, column: 3, "control character U+0009 must be escaped in a string")
    }

    func testBadEscape() {
        assertError(#"["a\x"]"#, line: 1, column: 4, #"invalid escape sequence: '\' followed by 'x'"#)
        assertError(#""\u12G4""#, line: 1, column: 2, #"invalid \u escape: expected 4 hexadecimal digits"#)
        assertError(#""\u12""#, line: 1, column: 2, #"invalid \u escape: expected 4 hexadecimal digits"#)
    }

    func testLoneSurrogates() {
        assertError(#""ab\uD83D""#, line: 1, column: 4,
                    #"lone surrogate '\uD83D': a high surrogate must be followed by a \u escape of a low surrogate"#)
        assertError(#""\uD83D\u0041""#, line: 1, column: 2,
                    #"lone surrogate '\uD83D': a high surrogate must be followed by a \u escape of a low surrogate"#)
        assertError(#""\uDE00""#, line: 1, column: 2,
                    #"lone surrogate '\uDE00': a low surrogate must follow a high surrogate"#)
    }

    func testLeadingZeros() {
        assertError("[01]", line: 1, column: 2, "leading zeros are not allowed in numbers")
        assertError("-012", line: 1, column: 2, "leading zeros are not allowed in numbers")
    }

    func testMalformedNumbers() {
        assertError("-", line: 1, column: 2, "expected a digit after '-', found end of input")
        assertError("[1.]", line: 1, column: 4, "expected a digit after the decimal point, found ']'")
        assertError("1e+", line: 1, column: 4, "expected a digit in the exponent, found end of input")
        assertError("[.5]", line: 1, column: 2, "expected a JSON value, found '.'")
        assertError("[1e400]", line: 1, column: 2, "number 1e400 is outside the range of a double")
    }

    func testNonJSONLiterals() {
        assertError("[NaN]", line: 1, column: 2, "invalid literal 'NaN' (JSON only has true, false and null)")
        assertError("True", line: 1, column: 1, "invalid literal 'True' (JSON only has true, false and null)")
        assertError("[-Infinity]", line: 1, column: 3, "expected a digit after '-', found 'I'")
    }

    func testDuplicateKey() {
        assertError("{\"a\": 1,\n \"a\": 2}", line: 2, column: 2, "duplicate key 'a' (first defined at line 1, column 2)")
    }

    func testTrailingGarbage() {
        assertError(#"{"a": 1} x"#, line: 1, column: 10, "unexpected 'x' after the JSON value")
        assertError("[1] [2]", line: 1, column: 5, "unexpected '[' after the JSON value")
    }

    func testEmptyInput() {
        assertError("", line: 1, column: 1, "expected a JSON value, found end of input")
        assertError("  \n   ", line: 2, column: 4, "expected a JSON value, found end of input")
    }

    func testNestingBeyondTheLimit() {
        let text = String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        assertError(text, line: 1, column: 129, "nesting depth exceeds the limit of 128 arrays/objects")
    }

    func testVeryDeepNestingFailsWithoutOverflowingTheStack() {
        let text = String(repeating: #"{"a":["#, count: 100_000)
        assertError(text, line: 1, column: 385, "nesting depth exceeds the limit of 128 arrays/objects")
    }

    func testStructuralErrors() {
        assertError("// comment\n{}", line: 1, column: 1, "expected a JSON value, found '/'")
        assertError("{\"a\": 1 // note\n}", line: 1, column: 9, "expected ',' or '}' after object member, found '/'")
        assertError("{'a': 1}", line: 1, column: 2, #"expected a field name in double quotes, found "'""#)
        assertError("{a: 1}", line: 1, column: 2, "expected a field name in double quotes, found 'a'")
        assertError(#"{"a" 1}"#, line: 1, column: 6, "expected ':' after object key, found '1'")
        assertError("[1 2]", line: 1, column: 4, "expected ',' or ']' after array element, found '2'")
        assertError("[1,,2]", line: 1, column: 4, "expected a JSON value, found ','")
        assertError("[", line: 1, column: 2, "expected a JSON value, found end of input")
        assertError(#"{"a":1"#, line: 1, column: 7, "expected ',' or '}' after object member, found end of input")
    }

    func testColumnsCountCharactersNotBytes() {
        assertError(#"{"é😀🇩🇪": *}"#, line: 1, column: 9, "expected a JSON value, found '*'")
        assertError("[\"€\", §]", line: 1, column: 7, "expected a JSON value, found '§' (U+00A7)")
    }

    func testByteOrderMarkIsRejected() {
        assertError("\u{FEFF}{}", line: 1, column: 1, "expected a JSON value, found a byte order mark (U+FEFF)")
    }

    func testInvalidUTF8Bytes() {
        XCTAssertThrowsError(try JSONValue(parsing: [0x5B, 0x22, 0x61, 0xFF, 0x22, 0x5D] as [UInt8])) { error in
            XCTAssertEqual((error as? JSONParseError)?.description, "line 1, column 4: invalid UTF-8 byte sequence")
        }
    }

    func testDescription() {
        let error = parseError("{\n  \"a\": 1\n  \"b\": 2\n}")
        XCTAssertEqual(error?.description, "line 3, column 3: expected ',' or '}' after object member, found '\"'")
    }
}
