import AlphaPlusJSON
import XCTest

final class SchemaCompileTests: XCTestCase {
    /// Asserts that compiling `schema` fails with exactly `description` ("pointer: message").
    private func assertSchemaError(_ schema: String, _ description: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            _ = try JSONSchema(parsing: schema)
            XCTFail("expected a schema error", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, description, file: file, line: line)
        }
    }

    func testErrorExposesPointerAndMessage() {
        do {
            _ = try JSONSchema(parsing: #"{"properties": {"threshold": {"minimum": "1"}}}"#)
            XCTFail("expected a schema error")
        } catch {
            XCTAssertEqual(error.pointer, "/properties/threshold/minimum")
            XCTAssertEqual(error.message, "expected a number")
        }
    }

    func testAcceptsAllSupportedKeywordsAndAnnotations() throws {
        let schema = """
            {
              "$schema": "https://json-schema.org/draft/2020-12/schema", "$id": "urn:plugin", "$comment": "c",
              "title": "t", "description": "d", "default": {}, "examples": [{}], "deprecated": false,
              "readOnly": false, "writeOnly": false, "format": "anything",
              "type": ["object", "null"], "minProperties": 0, "maxProperties": 10, "required": ["a"],
              "properties": {
                "a": {"type": "number", "minimum": 0, "maximum": 10, "exclusiveMinimum": -1,
                      "exclusiveMaximum": 11, "multipleOf": 0.5, "const": 1, "enum": [1, 2]},
                "b": {"type": "string", "minLength": 1, "maxLength": 5, "pattern": "^x"},
                "c": {"type": "array", "items": {"$ref": "#/$defs/item"}, "minItems": 1, "maxItems": 3,
                      "uniqueItems": true},
                "d": {"anyOf": [true], "oneOf": [true], "allOf": [{}], "not": false}
              },
              "additionalProperties": {"type": "string"},
              "$defs": {"item": true}
            }
            """
        XCTAssertNoThrow(try JSONSchema(parsing: schema))
        XCTAssertNoThrow(try JSONSchema(.bool(true)))
        XCTAssertNoThrow(try JSONSchema(.object([:])))
    }

    func testTypoKeywordSuggestsTheKnownKeyword() {
        assertSchemaError(#"{"type": "object", "requried": ["a"]}"#,
                          "/requried: unknown keyword 'requried' (did you mean 'required'?)")
        assertSchemaError(#"{"properties": {"threshold": {"maximun": 1}}}"#,
                          "/properties/threshold/maximun: unknown keyword 'maximun' (did you mean 'maximum'?)")
        assertSchemaError(#"{"items": {"MinLength": 1}}"#,
                          "/items/MinLength: unknown keyword 'MinLength' (did you mean 'minLength'?)")
    }

    func testUnknownKeywordWithoutSuggestion() {
        assertSchemaError(#"{"color": "red"}"#, "/color: unknown keyword 'color'")
    }

    func testUnsupportedStandardKeyword() {
        assertSchemaError(#"{"patternProperties": {}}"#, "/patternProperties: keyword 'patternProperties' is not supported")
    }

    func testBadTypeName() {
        assertSchemaError(#"{"type": "float"}"#,
                          "/type: unknown type 'float' (expected one of: null, boolean, object, array, number, integer, string)")
        assertSchemaError(#"{"type": ["string", "intger"]}"#,
                          "/type/1: unknown type 'intger' (expected one of: null, boolean, object, array, number, integer, string; did you mean 'integer'?)")
        assertSchemaError(#"{"type": ["string", "string"]}"#, "/type/1: duplicate type 'string'")
        assertSchemaError(#"{"type": []}"#, "/type: expected a type name or a non-empty array of type names")
        assertSchemaError(#"{"type": [1]}"#, "/type/0: expected a type name")
    }

    func testBadPattern() {
        assertSchemaError(#"{"properties": {"id": {"pattern": "(abc"}}}"#,
                          "/properties/id/pattern: invalid regular expression '(abc'")
        assertSchemaError(#"{"pattern": 5}"#, "/pattern: expected a string")
    }

    func testBadRef() {
        assertSchemaError(##"{"$ref": "#/$defs/missing"}"##, "/$ref: reference '#/$defs/missing' not found")
        assertSchemaError(##"{"$defs": {"threshold": {}, "window": {}}, "properties": {"t": {"$ref": "#/$defs/treshold"}}}"##,
                          "/properties/t/$ref: reference '#/$defs/treshold' not found (defined: threshold, window; did you mean 'threshold'?)")
        assertSchemaError(#"{"$ref": "other.json#/$defs/a"}"#,
                          "/$ref: only references within the same schema are supported (like '#/$defs/name'), got 'other.json#/$defs/a'")
        assertSchemaError(##"{"$ref": "#anchor"}"##,
                          "/$ref: invalid reference '#anchor': expected a JSON pointer like '#/$defs/name'")
        assertSchemaError(##"{"required": [], "$ref": "#/required"}"##,
                          "/$ref: reference '#/required' does not point to a schema")
        assertSchemaError(##"{"$defs": {}, "$ref": "#/$defs"}"##,
                          "/$ref: reference '#/$defs' does not point to a schema")
        assertSchemaError(#"{"$ref": 1}"#, "/$ref: expected a string")
    }

    func testRefCyclesThatNeverDescendAreRejected() {
        assertSchemaError(##"{"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}"##,
                          "/$defs/a/$ref: reference cycle never descends into the instance: '#/$defs/a' → '#/$defs/b' → '#/$defs/a'")
        assertSchemaError(##"{"$defs": {"self": {"$ref": "#/$defs/self"}}}"##,
                          "/$defs/self/$ref: reference cycle never descends into the instance: '#/$defs/self' → '#/$defs/self'")
        assertSchemaError(##"{"allOf": [{"$ref": "#"}]}"##,
                          "/allOf/0/$ref: reference cycle never descends into the instance: '#' → '#/allOf/0' → '#'")
    }

    func testRecursiveRefThatDescendsIsAccepted() {
        XCTAssertNoThrow(try JSONSchema(parsing: ##"{"properties": {"next": {"$ref": "#"}}}"##))
    }

    func testRefsResolveEscapedPointers() throws {
        let schema = try JSONSchema(parsing: ##"{"$defs": {"a/b~c d": {"type": "string"}}, "items": {"$ref": "#/$defs/a~1b~0c%20d"}}"##)
        XCTAssertEqual(schema.validate(.array([.string("x"), .null])).map(\.description), ["[1]: expected string, got null"])
    }

    func testWrongKeywordValueTypes() {
        assertSchemaError(#"{"required": "x"}"#, "/required: expected an array of field names")
        assertSchemaError(#"{"required": ["a", 1]}"#, "/required/1: expected a string")
        assertSchemaError(#"{"required": ["a", "a"]}"#, "/required/1: duplicate field name 'a'")
        assertSchemaError(#"{"minLength": -1}"#, "/minLength: expected a non-negative integer")
        assertSchemaError(#"{"maxItems": 1.5}"#, "/maxItems: expected a non-negative integer")
        assertSchemaError(#"{"minProperties": "1"}"#, "/minProperties: expected a non-negative integer")
        assertSchemaError(#"{"properties": {"threshold": {"minimum": "1"}}}"#, "/properties/threshold/minimum: expected a number")
        assertSchemaError(#"{"exclusiveMaximum": true}"#,
                          "/exclusiveMaximum: expected a number (the boolean form of draft 4 is not supported)")
        assertSchemaError(#"{"multipleOf": 0}"#, "/multipleOf: expected a number greater than 0")
        assertSchemaError(#"{"uniqueItems": "yes"}"#, "/uniqueItems: expected a boolean")
        assertSchemaError(#"{"enum": []}"#, "/enum: expected a non-empty array")
        assertSchemaError(#"{"anyOf": []}"#, "/anyOf: expected a non-empty array of schemas")
        assertSchemaError(#"{"oneOf": {}}"#, "/oneOf: expected a non-empty array of schemas")
        assertSchemaError(#"{"properties": []}"#, "/properties: expected an object mapping field names to schemas")
        assertSchemaError(#"{"$defs": 1}"#, "/$defs: expected an object mapping names to schemas")
        assertSchemaError(#"{"items": 5}"#, "/items: a schema must be an object or a boolean, got 5")
        assertSchemaError(#"{"additionalProperties": "no"}"#, "/additionalProperties: a schema must be an object or a boolean, got a string")
        assertSchemaError(#"{"allOf": [{}, []]}"#, "/allOf/1: a schema must be an object or a boolean, got an array")
        assertSchemaError(#"{"properties": {"a/b": {"not": {"type": "nope"}}}}"#,
                          "/properties/a~1b/not/type: unknown type 'nope' (expected one of: null, boolean, object, array, number, integer, string)")
    }

    func testRootMustBeObjectOrBoolean() {
        assertSchemaError("[]", "(root): a schema must be an object or a boolean, got an array")
    }

    func testInvalidSchemaJSON() {
        assertSchemaError(#"{"type": "object",}"#, "(root): invalid JSON: line 1, column 18: trailing comma before '}'")
    }
}
