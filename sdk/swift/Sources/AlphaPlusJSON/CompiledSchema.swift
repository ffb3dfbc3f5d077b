import Foundation

/// Index of a compiled schema in `JSONSchema`'s table. Subschemas and `$ref` targets are
/// referenced by index so recursive schemas need no reference cycles between objects.
typealias SchemaID = Int

enum CompiledSchema {
    case boolean(Bool)
    /// The assertions of a schema object, in the order they are evaluated.
    case assertions([Assertion])
}

enum Assertion {
    case type([JSONType])
    case const(JSONValue)
    case enumeration([JSONValue])
    case minimum(Double)
    case exclusiveMinimum(Double)
    case maximum(Double)
    case exclusiveMaximum(Double)
    case multipleOf(Double)
    case minLength(Int)
    case maxLength(Int)
    case pattern(Pattern)
    case minItems(Int)
    case maxItems(Int)
    case uniqueItems
    case items(SchemaID)
    case minProperties(Int)
    case maxProperties(Int)
    case required([String])
    case members(properties: [String: SchemaID], additional: AdditionalMembers)
    case allOf([SchemaID])
    case anyOf([SchemaID])
    case oneOf([SchemaID])
    case not(SchemaID)
    case ref(SchemaID)
}

/// What `additionalProperties` says about members not named in `properties`.
enum AdditionalMembers {
    case allowed
    /// `additionalProperties: false`, reported as "unknown field".
    case forbidden
    case schema(SchemaID)
}

enum JSONType: String, CaseIterable {
    case null, boolean, object, array, number, integer, string

    func matches(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.null, .null), (.boolean, .bool), (.object, .object), (.array, .array), (.number, .number),
             (.string, .string):
            return true
        case (.integer, .number(let number)):
            return number.isFinite && number.rounded(.towardZero) == number
        default:
            return false
        }
    }
}

struct Pattern {
    let source: String
    let expression: NSRegularExpression

    /// Unanchored search, as JSON Schema specifies.
    func matches(_ string: String) -> Bool {
        expression.firstMatch(in: string, range: NSRange(string.startIndex..., in: string)) != nil
    }
}
