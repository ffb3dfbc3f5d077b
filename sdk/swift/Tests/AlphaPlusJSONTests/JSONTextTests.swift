import AlphaPlusJSON
import XCTest

final class JSONTextTests: XCTestCase {
    func testCanonicalOutputOfSample() throws {
        let text = """
            {
              "window": 30,
              "threshold": 1.5E0,
              "flags": [true, false, null, -0.0, 1e21, 0.1, 2.5e-7],
              "name": "tab\\there \\"quoted\\" back\\\\slash /slash \\u0001 \\u001F é 😀",
              "nested": {"b": [], "a": {}}
            }
            """
        let expected = #"{"flags":[true,false,null,0,1e+21,0.1,2.5e-07],"name":"tab\u0009here \"quoted\" back\\slash /slash \u0001 \u001f é 😀","nested":{"a":{},"b":[]},"threshold":1.5,"window":30}"#
        XCTAssertEqual(try JSONValue(parsing: text).jsonText, expected)
    }

    func testNumberFormatting() {
        XCTAssertEqual(JSONValue.number(1).jsonText, "1")
        XCTAssertEqual(JSONValue.number(-42).jsonText, "-42")
        XCTAssertEqual(JSONValue.number(9_007_199_254_740_991).jsonText, "9007199254740991")
        XCTAssertEqual(JSONValue.number(9_007_199_254_740_992).jsonText, "9007199254740992.0")
        XCTAssertEqual(JSONValue.number(0.1).jsonText, "0.1")
        XCTAssertEqual(JSONValue.number(1e-7).jsonText, "1e-07")
        XCTAssertEqual(JSONValue.number(-1.5e300).jsonText, "-1.5e+300")
        XCTAssertEqual(JSONValue.number(.infinity).jsonText, "null")
        XCTAssertEqual(JSONValue.number(.nan).jsonText, "null")
    }

    func testControlCharactersAreEscapedAsUnicodeEscapes() {
        XCTAssertEqual(JSONValue.string("a\nb\r\u{0}\u{7F}").jsonText, "\"a\\u000ab\\u000d\\u0000\u{7F}\"")
    }

    func testRoundTripOfSample() throws {
        let text = #"{"a":[1,2.25,-3e-300,"\ud83d\ude00\n",{"":null}],"b":{"c":{"d":[[],[[]]]}},"e":false}"#
        let value = try JSONValue(parsing: text)
        XCTAssertEqual(try JSONValue(parsing: value.jsonText), value)
    }

    /// For thousands of pseudo-random values, printing and re-parsing gives the same value,
    /// and the canonical text is a fixed point.
    func testRandomValuesRoundTrip() throws {
        var generator = RandomJSONGenerator(seed: 0x5EED_CAFE)
        for iteration in 0..<4000 {
            let value = generator.value(depth: 4)
            let text = value.jsonText
            let reparsed: JSONValue
            do {
                reparsed = try JSONValue(parsing: text)
            } catch {
                return XCTFail("iteration \(iteration): \(error) in \(text)")
            }
            XCTAssertEqual(reparsed, value, "iteration \(iteration): \(text)")
            XCTAssertEqual(reparsed.jsonText, text, "iteration \(iteration)")
        }
    }
}

/// Deterministic generator of arbitrary JSON values (SplitMix64).
struct RandomJSONGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    mutating func below(_ bound: Int) -> Int {
        Int(next() % UInt64(bound))
    }

    mutating func value(depth: Int) -> JSONValue {
        switch below(depth > 0 ? 7 : 4) {
        case 0: return .null
        case 1: return .bool(below(2) == 0)
        case 2: return .number(number())
        case 3: return .string(string())
        case 4, 5:
            return .array((0..<below(5)).map { _ in value(depth: depth - 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<below(5) {
                members[string()] = value(depth: depth - 1)
            }
            return .object(members)
        }
    }

    private mutating func number() -> Double {
        switch below(5) {
        case 0: return Double(below(2001) - 1000)
        case 1: return Double(Int64(bitPattern: next()) >> Int64(below(64)))
        case 2: return Double(below(1_000_000)) / 1000
        case 3: return [0.0, -0.0, 0x1p53, -0x1p53 + 1, .leastNonzeroMagnitude, .greatestFiniteMagnitude][below(6)]
        default:
            while true {
                let candidate = Double(bitPattern: next())
                if candidate.isFinite { return candidate }
            }
        }
    }

    /// Mixes characters that need escaping, multi-byte UTF-8 and non-BMP scalars.
    private mutating func string() -> String {
        let alphabet: [Unicode.Scalar] = [
            "a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{0}", "\u{1F}", "\u{7F}", "é", "ß", "€", "中",
            "\u{2028}", "\u{FEFF}", "\u{FFFD}", "😀", "\u{10FFFF}",
        ]
        var scalars = String.UnicodeScalarView()
        for _ in 0..<below(8) {
            scalars.append(alphabet[below(alphabet.count)])
        }
        return String(scalars)
    }
}
