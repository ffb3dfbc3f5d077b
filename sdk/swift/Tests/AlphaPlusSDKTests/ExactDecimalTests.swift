import AlphaPlusSDK
import XCTest

final class ExactDecimalTests: XCTestCase {
    func testParsingKeepsTheVenuesDigits() throws {
        let cases: [(String, Int64, Int32)] = [
            ("0.05000", 5000, -5),
            ("-12.5", -125, -1),
            ("12", 12, 0),
            ("0", 0, 0),
            ("0.0", 0, -1),
            ("-0.5", -5, -1),
            ("+7.25", 725, -2),
            ("61405.27923706", 6_140_527_923_706, -8),
            ("007", 7, 0),
            (".5", 5, -1),
            ("1.", 1, 0),
            ("9223372036854775807", Int64.max, 0),
            ("-9223372036854775807", -Int64.max, 0),
            ("0.000000000000000000001", 1, -21),
        ]
        for (text, mantissa, exponent) in cases {
            let value = try XCTUnwrap(ExactDecimal(text), text)
            XCTAssertEqual(value.mantissa, mantissa, text)
            XCTAssertEqual(value.exponent, exponent, text)
        }
        XCTAssertEqual(ExactDecimal("0.05000"), ExactDecimal(mantissa: 5000, exponent: -5))
        // Parses any StringProtocol, e.g. a slice of a venue message.
        let message = "price=0.05000;"
        XCTAssertEqual(ExactDecimal(message.dropFirst(6).dropLast()), ExactDecimal(mantissa: 5000, exponent: -5))
    }

    func testParsingRejectsAnythingElse() {
        let rejected = ["", "1e5", "1E5", "abc", "1.2.3", "-", "+", ".", "--1", "+-1", "1-", " 1", "1 ", "1,5", "NaN", "inf",
                        "0x10", "١٢", "１２",
                        "9223372036854775808",          // Int64.max + 1
                        "99999999999999999999",
                        "922337203685477580.8",         // 19 digits over Int64.max
                        "1.00000000000000000000"]       // 21 digits
        for text in rejected {
            XCTAssertNil(ExactDecimal(text), "'\(text)' should be rejected")
        }
    }

    func testDescriptionRoundTripsKeepingTrailingZeros() throws {
        for text in ["0.05000", "-12.5", "12", "0", "0.0", "-0.5", "61405.27923706", "2.00000000", "100", "-100.10",
                     "0.000000000000000000001", "9223372036854775807", "-9223372036854775807"] {
            let value = try XCTUnwrap(ExactDecimal(text), text)
            XCTAssertEqual(value.description, text)
            XCTAssertEqual(ExactDecimal(value.description), value, text)
        }
        XCTAssertEqual(ExactDecimal(mantissa: 5, exponent: -3).description, "0.005")
        XCTAssertEqual(ExactDecimal(mantissa: -5, exponent: -3).description, "-0.005")
        XCTAssertEqual(ExactDecimal(mantissa: 12, exponent: 3).description, "12000")
        XCTAssertEqual(ExactDecimal(mantissa: Int64.min, exponent: -2).description, "-92233720368547758.08")
        XCTAssertEqual("\(ExactDecimal(mantissa: 125, exponent: -1))", "12.5")
    }

    func testDoubleValue() {
        XCTAssertEqual(ExactDecimal("0.05000")!.doubleValue, 0.05)
        XCTAssertEqual(ExactDecimal("-12.5")!.doubleValue, -12.5)
        XCTAssertEqual(ExactDecimal("12")!.doubleValue, 12)
        XCTAssertEqual(ExactDecimal("61405.27923706")!.doubleValue, 61405.27923706)
        XCTAssertEqual(ExactDecimal("0.1")!.doubleValue, 0.1)
        XCTAssertEqual(ExactDecimal(mantissa: 12, exponent: 3).doubleValue, 12000)
        XCTAssertEqual(ExactDecimal(mantissa: 0, exponent: -7).doubleValue, 0)
    }

    func testFromDouble() {
        XCTAssertEqual(ExactDecimal(61405.279, scale: 2), ExactDecimal(mantissa: 6_140_528, exponent: -2))
        XCTAssertEqual(ExactDecimal(-0.125, scale: 3), ExactDecimal(mantissa: -125, exponent: -3))
        XCTAssertEqual(ExactDecimal(7.6, scale: 0), ExactDecimal(mantissa: 8, exponent: 0))
        XCTAssertEqual(ExactDecimal(1.5, scale: -2), ExactDecimal(mantissa: 2, exponent: 0))
    }

    func testEqualityIsExact() {
        // Same value, different digits: not equal (checksums see the digits).
        XCTAssertNotEqual(ExactDecimal("0.05"), ExactDecimal("0.050"))
        XCTAssertEqual(ExactDecimal("0.05")!.doubleValue, ExactDecimal("0.050")!.doubleValue)
    }
}
