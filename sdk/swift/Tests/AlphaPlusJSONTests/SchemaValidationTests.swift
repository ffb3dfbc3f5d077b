import AlphaPlusJSON
import Foundation
import XCTest

final class SchemaValidationTests: XCTestCase {
    /// The violation descriptions of `instance` against `schema`; both are JSON text.
    private func violations(_ schema: String, _ instance: String, file: StaticString = #filePath, line: UInt = #line) -> [String] {
        do {
            return try JSONSchema(parsing: schema).validate(JSONValue(parsing: instance)).map(\.description)
        } catch {
            XCTFail("\(error)", file: file, line: line)
            return []
        }
    }

    // MARK: Single keywords

    func testType() {
        XCTAssertEqual(violations(#"{"type": "integer"}"#, "2.0"), [])
        XCTAssertEqual(violations(#"{"type": "integer"}"#, "1.5"), ["(root): expected integer, got 1.5"])
        XCTAssertEqual(violations(#"{"type": "number"}"#, "3"), [])
        XCTAssertEqual(violations(#"{"type": ["string", "null"]}"#, "null"), [])
        XCTAssertEqual(violations(#"{"type": ["string", "null"]}"#, "5"), ["(root): expected string or null, got 5"])
        XCTAssertEqual(violations(#"{"type": ["boolean", "array", "object"]}"#, #""secret""#),
                       ["(root): expected boolean, array or object, got a string"])
        XCTAssertEqual(violations(#"{"type": "string"}"#, "{}"), ["(root): expected string, got an object"])
    }

    func testConst() {
        XCTAssertEqual(violations(#"{"const": {"a": [1]}}"#, #"{"a": [1.0]}"#), [])
        XCTAssertEqual(violations(#"{"const": "v2"}"#, #""v1""#), [#"(root): expected "v2", got "v1""#])
    }

    func testEnum() {
        let schema = #"{"enum": ["debug", "info", "warn", null]}"#
        XCTAssertEqual(violations(schema, #""info""#), [])
        XCTAssertEqual(violations(schema, "null"), [])
        XCTAssertEqual(violations(schema, #""inof""#),
                       [#"(root): expected one of "debug", "info", "warn", null, got "inof" (did you mean "info"?)"#])
        XCTAssertEqual(violations(schema, "3"), [#"(root): expected one of "debug", "info", "warn", null, got 3"#])
    }

    func testNumericBounds() {
        let schema = #"{"minimum": 1, "maximum": 10}"#
        XCTAssertEqual(violations(schema, "1"), [])
        XCTAssertEqual(violations(schema, "10"), [])
        XCTAssertEqual(violations(schema, "0.5"), ["(root): 0.5 is less than the minimum 1"])
        XCTAssertEqual(violations(schema, "10.5"), ["(root): 10.5 is greater than the maximum 10"])
        XCTAssertEqual(violations(schema, #""11""#), [], "numeric keywords ignore other types")

        let exclusive = #"{"exclusiveMinimum": 0, "exclusiveMaximum": 1.5}"#
        XCTAssertEqual(violations(exclusive, "0.25"), [])
        XCTAssertEqual(violations(exclusive, "0"), ["(root): 0 is not greater than the exclusive minimum 0"])
        XCTAssertEqual(violations(exclusive, "1.5"), ["(root): 1.5 is not less than the exclusive maximum 1.5"])
    }

    func testMultipleOf() {
        XCTAssertEqual(violations(#"{"multipleOf": 0.1}"#, "0.3"), [])
        XCTAssertEqual(violations(#"{"multipleOf": 0.01}"#, "4.35"), [])
        XCTAssertEqual(violations(#"{"multipleOf": 5}"#, "-15"), [])
        XCTAssertEqual(violations(#"{"multipleOf": 0.1}"#, "0.35"), ["(root): 0.35 is not a multiple of 0.1"])
        XCTAssertEqual(violations(#"{"multipleOf": 2}"#, "7"), ["(root): 7 is not a multiple of 2"])
        XCTAssertEqual(violations(#"{"multipleOf": 3}"#, "1e20"), ["(root): 1e+20 is not a multiple of 3"])
        XCTAssertEqual(violations(#"{"multipleOf": 0.5}"#, "1e20"), [])
    }

    func testStringLengthCountsCodePoints() {
        let schema = #"{"minLength": 2, "maxLength": 3}"#
        XCTAssertEqual(violations(schema, #""😀😀😀""#), [])
        XCTAssertEqual(violations(schema, #""a""#), ["(root): expected at least 2 characters, got 1"])
        XCTAssertEqual(violations(schema, #""abcd""#), ["(root): expected at most 3 characters, got 4"])
        // "e" + combining acute accent is one character but two code points.
        XCTAssertEqual(violations(#"{"maxLength": 1}"#, #""e\u0301""#), ["(root): expected at most 1 character, got 2"])
    }

    func testPatternIsAnUnanchoredSearch() {
        XCTAssertEqual(violations(#"{"pattern": "b+"}"#, #""abbc""#), [])
        XCTAssertEqual(violations(#"{"pattern": "^[a-z]+$"}"#, #""abc1""#), ["(root): does not match the pattern '^[a-z]+$'"])
        XCTAssertEqual(violations(#"{"pattern": "^\\d{3}$"}"#, #""123""#), [])
    }

    func testArrayCountsAndUniqueness() {
        let schema = #"{"minItems": 1, "maxItems": 3, "uniqueItems": true}"#
        XCTAssertEqual(violations(schema, "[1, 2, 3]"), [])
        XCTAssertEqual(violations(schema, "[]"), ["(root): expected at least 1 item, got 0"])
        XCTAssertEqual(violations(schema, "[1, 2, 3, 4]"), ["(root): expected at most 3 items, got 4"])
        XCTAssertEqual(violations(schema, #"[{"a": 1}, 1.0, {"a": 1.0}]"#),
                       ["(root): items [0] and [2] are equal, but items must be unique"])
        XCTAssertEqual(violations(#"{"uniqueItems": false}"#, "[1, 1]"), [])
    }

    func testItems() {
        let schema = #"{"items": {"type": "object", "properties": {"url": {"type": "string"}}}}"#
        XCTAssertEqual(violations(schema, #"[{"url": "a"}, {}]"#), [])
        XCTAssertEqual(violations(schema, #"[{"url": "a"}, 3, {"url": 1}]"#),
                       ["[1]: expected object, got 3", "[2].url: expected string, got 1"])
    }

    func testObjectCountsAndRequired() {
        let schema = #"{"minProperties": 1, "maxProperties": 2, "required": ["token"]}"#
        XCTAssertEqual(violations(schema, #"{"token": "x"}"#), [])
        XCTAssertEqual(violations(schema, "{}"),
                       ["(root): expected at least 1 field, got 0", "(root): required field 'token' is missing"])
        XCTAssertEqual(violations(schema, #"{"token": 1, "a": 2, "b": 3}"#), ["(root): expected at most 2 fields, got 3"])
    }

    func testAdditionalPropertiesFalse() {
        let schema = #"{"properties": {"threshold": {}, "window": {}}, "additionalProperties": false}"#
        XCTAssertEqual(violations(schema, #"{"threshold": 1}"#), [])
        XCTAssertEqual(violations(schema, #"{"tresh": 1}"#),
                       ["(root): unknown field 'tresh' (allowed: threshold, window)"])
        XCTAssertEqual(violations(schema, #"{"treshold": 1, "windw": 2}"#), [
            "(root): unknown field 'treshold' (allowed: threshold, window; did you mean 'threshold'?)",
            "(root): unknown field 'windw' (allowed: threshold, window; did you mean 'window'?)",
        ])
        XCTAssertEqual(violations(#"{"additionalProperties": false}"#, #"{"a": 1}"#),
                       ["(root): unknown field 'a' (allowed: none)"])
    }

    func testAdditionalPropertiesSchema() {
        let schema = #"{"properties": {"name": {"type": "string"}}, "additionalProperties": {"type": "number"}}"#
        XCTAssertEqual(violations(schema, #"{"name": "x", "a": 1}"#), [])
        XCTAssertEqual(violations(schema, #"{"name": "x", "a": "1"}"#), ["a: expected number, got a string"])
    }

    func testBooleanSubschemas() {
        XCTAssertEqual(violations("true", #"{"anything": [1]}"#), [])
        XCTAssertEqual(violations("false", "1"), ["(root): no value is allowed here"])
        XCTAssertEqual(violations(#"{"properties": {"legacy": false}}"#, #"{"legacy": 1}"#), ["legacy: no value is allowed here"])
    }

    func testAllOf() {
        let schema = #"{"allOf": [{"type": "integer"}, {"minimum": 3}]}"#
        XCTAssertEqual(violations(schema, "4"), [])
        XCTAssertEqual(violations(schema, "2.5"), ["(root): expected integer, got 2.5", "(root): 2.5 is less than the minimum 3"])
    }

    func testAnyOf() {
        let schema = #"{"anyOf": [{"type": "string"}, {"type": "object", "required": ["host", "port"]}]}"#
        XCTAssertEqual(violations(schema, #""x""#), [])
        XCTAssertEqual(violations(schema, #"{"host": "h", "port": 1}"#), [])
        XCTAssertEqual(violations(schema, "{}"), [
            "(root): matches none of the anyOf alternatives ([0]: expected string, got an object; "
                + "[1]: required field 'host' is missing and required field 'port' is missing)",
        ])
    }

    func testAnyOfReportsNestedPaths() {
        let schema = #"{"properties": {"target": {"anyOf": [{"type": "null"}, {"properties": {"url": {"type": "string"}}}]}}}"#
        XCTAssertEqual(violations(schema, #"{"target": {"url": 1}}"#), [
            "target: matches none of the anyOf alternatives ([0]: expected null, got an object; [1]: target.url: expected string, got 1)",
        ])
    }

    func testOneOf() {
        let schema = #"{"oneOf": [{"type": "integer"}, {"type": "number", "minimum": 10}]}"#
        XCTAssertEqual(violations(schema, "5"), [])
        XCTAssertEqual(violations(schema, "10.5"), [])
        XCTAssertEqual(violations(schema, "12"), ["(root): matches 2 oneOf alternatives ([0] and [1]) but must match exactly one"])
        XCTAssertEqual(violations(schema, "null"), [
            "(root): matches none of the oneOf alternatives ([0]: expected integer, got null; [1]: expected number, got null)",
        ])
    }

    func testNot() {
        XCTAssertEqual(violations(#"{"not": {"const": "admin"}}"#, #""guest""#), [])
        XCTAssertEqual(violations(#"{"not": {"const": "admin"}}"#, #""admin""#), ["(root): must not match the schema in 'not'"])
    }

    func testRefToDefsAndRecursion() {
        let schema = """
            {
              "$defs": {
                "node": {
                  "type": "object",
                  "properties": {"value": {"type": "integer"}, "next": {"$ref": "#/$defs/node"}},
                  "required": ["value"]
                }
              },
              "$ref": "#/$defs/node"
            }
            """
        XCTAssertEqual(violations(schema, #"{"value": 1, "next": {"value": 2}}"#), [])
        XCTAssertEqual(violations(schema, #"{"value": 1, "next": {"next": {"value": 0.5}}}"#), [
            "next: required field 'value' is missing",
            "next.next.value: expected integer, got 0.5",
        ])
    }

    // MARK: Reporting

    func testExampleFromThePluginHost() throws {
        let schema = try JSONSchema(parsing: #"{"properties": {"threshold": {"type": "number", "maximum": 1}}}"#)
        let violations = schema.validate(try JSONValue(parsing: #"{"threshold": 1.5}"#))
        XCTAssertEqual(violations.map(\.path), ["threshold"])
        XCTAssertEqual(violations.map(\.message), ["1.5 is greater than the maximum 1"])
        XCTAssertEqual(violations.map(\.description), ["threshold: 1.5 is greater than the maximum 1"])
    }

    func testAllViolationsAreReportedInDocumentOrder() {
        let schema = """
            {
              "type": "object",
              "required": ["token", "threshold"],
              "additionalProperties": false,
              "properties": {
                "token": {"type": "string", "minLength": 8},
                "threshold": {"type": "number", "minimum": 0, "maximum": 1},
                "window": {"type": "integer"},
                "destinations": {
                  "type": "array",
                  "items": {
                    "type": "object",
                    "required": ["url"],
                    "additionalProperties": false,
                    "properties": {"url": {"type": "string", "pattern": "^https://"}, "method": {"enum": ["GET", "POST"]}}
                  }
                }
              }
            }
            """
        let instance = """
            {
              "window": 2.5,
              "tresh": 3,
              "destinations": [
                {"url": "https://a"},
                {"url": "http://b", "method": "DELETE"},
                {"ulr": "https://c"}
              ],
              "threshold": 1.5
            }
            """
        XCTAssertEqual(violations(schema, instance), [
            "(root): required field 'token' is missing",
            "(root): unknown field 'tresh' (allowed: destinations, threshold, token, window)",
            "destinations[1].method: expected one of \"GET\", \"POST\", got \"DELETE\"",
            "destinations[1].url: does not match the pattern '^https://'",
            "destinations[2]: required field 'url' is missing",
            "destinations[2]: unknown field 'ulr' (allowed: method, url; did you mean 'url'?)",
            "threshold: 1.5 is greater than the maximum 1",
            "window: expected integer, got 2.5",
        ])
    }

    func testPathsQuoteKeysThatAreNotPlainNames() {
        let schema = #"{"additionalProperties": {"items": {"type": "string"}}}"#
        XCTAssertEqual(violations(schema, #"{"content.type": [1], "max-size": [true], "": [null], "größe": [2]}"#), [
            #"[""][0]: expected string, got null"#,
            #"["content.type"][0]: expected string, got 1"#,
            #"["größe"][0]: expected string, got 2"#,
            "max-size[0]: expected string, got true",
        ])
    }

    func testCompiledSchemaIsSharedAcrossThreads() throws {
        let schema = try JSONSchema(parsing: #"{"items": {"type": "integer", "maximum": 100}}"#)
        let instance = JSONValue.array((0..<200).map { .number(Double($0)) })
        let counts = ManagedCounts(size: 8)
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            counts.store(schema.validate(instance).count, at: index)
        }
        XCTAssertEqual(counts.values, Array(repeating: 99, count: 8))
    }
}

/// Thread-safe result slots for the concurrency test.
// @unchecked: `storage` is guarded by `lock`.
private final class ManagedCounts: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int]

    init(size: Int) {
        storage = Array(repeating: -1, count: size)
    }

    func store(_ value: Int, at index: Int) {
        lock.lock()
        defer { lock.unlock() }
        storage[index] = value
    }

    var values: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
