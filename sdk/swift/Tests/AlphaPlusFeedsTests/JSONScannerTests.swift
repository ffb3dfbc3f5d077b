import AlphaPlusFeeds
import AlphaPlusSDK
import XCTest

final class JSONScannerTests: XCTestCase {
    private func scan<T>(_ text: String, _ body: (inout JSONScanner) throws -> T) throws -> T {
        var bytes = Array(text.utf8)
        return try bytes.withUnsafeMutableBufferPointer { buffer in
            var scanner = JSONScanner(UnsafeBufferPointer(buffer))
            return try body(&scanner)
        }
    }

    func testNumbersBecomeExactDecimalsWithTheirDigits() throws {
        let values = try scan(#"[0.05000, "61405.27923706", -12, 1.5e-07, 3E2, "-0.5"]"#) { s in
            var items = try s.beginArray()
            var values: [ExactDecimal] = []
            while try s.nextElement(&items) { values.append(try s.decimal()) }
            return values
        }
        XCTAssertEqual(values, [ExactDecimal(mantissa: 5000, exponent: -5), ExactDecimal(mantissa: 6140527923706, exponent: -8),
                                ExactDecimal(mantissa: -12, exponent: 0), ExactDecimal(mantissa: 15, exponent: -8),
                                ExactDecimal(mantissa: 3, exponent: 2), ExactDecimal(mantissa: -5, exponent: -1)])
    }

    func testWalksObjectsSkipsValuesAndLendsStrings() throws {
        let (symbol, id, flag) = try scan(#" {"skip": {"x": [1, {"y": null}], "z": "a\"b"}, "s": "BTCUSDT", "t": 42, "m": true} "#) { s in
            var symbol = "", id: UInt64 = 0, flag = false
            var members = try s.beginObject()
            while let key = try s.nextKey(&members) {
                if key.equals("s") { symbol = try s.text() }
                else if key.equals("t") { id = try s.uint64() }
                else if key.equals("m") { flag = try s.bool() }
                else { try s.skipValue() }
            }
            XCTAssertTrue(s.atEnd())
            return (symbol, id, flag)
        }
        XCTAssertEqual(symbol, "BTCUSDT")
        XCTAssertEqual(id, 42)
        XCTAssertTrue(flag)
    }

    func testMalformedInputNamesTheColumnAndTheProblem() {
        let cases: [(String, String)] = [
            (#"{"a" 1}"#, "column 6: unexpected character '1', expected ':' after an object key"),
            (#"[1, 2"#, "column 6: unexpected end of input, expected ']'"),
            (#"[1 2]"#, "column 4: unexpected character '2', expected ',' or ']'"),
            (#"["abc"#, "column 2: unterminated string"),
            (#"[1.]"#, "column 2: malformed number: no digits after '.'"),
            (#"[-x]"#, "column 2: malformed number"),
        ]
        for (text, message) in cases {
            XCTAssertThrowsError(try scan(text) { try $0.skipValue() }, text) { error in
                XCTAssertEqual((error as? JSONScanError)?.description, message, text)
            }
        }
        XCTAssertThrowsError(try scan(#""1.2.3""#) { try $0.decimal() }) { error in
            XCTAssertEqual((error as? JSONScanError)?.description, #"column 1: "1.2.3" is not a decimal number"#)
        }
        XCTAssertThrowsError(try scan("12345678901234567890") { try $0.decimal() }) { error in
            XCTAssertEqual((error as? JSONScanError)?.description, "column 1: 12345678901234567890 does not fit an exact decimal (18 digits)")
        }
    }
}
