/// A compiled JSON Schema (a strict subset of draft 2020-12) that validates instances.
///
/// Compilation rejects unknown keywords, malformed keyword values, invalid patterns and
/// unresolvable or non-terminating `$ref`s, so every problem in a plugin's schema is found
/// before any configuration is validated against it.
public struct JSONSchema: Sendable {
    /// Compiled schemas; the root is at index 0.
    private let schemas: [CompiledSchema]

    public init(parsing text: String) throws(SchemaError) {
        let document: JSONValue
        do {
            document = try JSONValue(parsing: text)
        } catch {
            throw SchemaError(pointer: "", message: "invalid JSON: \(error)")
        }
        try self.init(document)
    }

    public init(_ value: JSONValue) throws(SchemaError) {
        schemas = try SchemaCompiler.compile(value)
    }

    /// Every violation of the schema by `instance`; empty when the instance is valid.
    ///
    /// Violations are ordered by instance location (a value before its members, object
    /// members by key, array elements by index) and, at one location, by keyword order.
    public func validate(_ instance: JSONValue) -> [SchemaViolation] {
        var validator = Validator(schemas: schemas)
        return validator.violations(of: 0, for: instance).map { violation in
            SchemaViolation(path: Validator.render(violation.path), message: violation.message)
        }
    }
}

/// A problem in a schema document, located by the JSON pointer of the offending keyword.
public struct SchemaError: Error, CustomStringConvertible, Sendable {
    /// JSON pointer (RFC 6901) into the schema document; "" is the root.
    public let pointer: String
    public let message: String

    /// "/properties/threshold/minimum: expected a number"; for the root "(root): ...".
    public var description: String { "\(pointer.isEmpty ? "(root)" : pointer): \(message)" }
}

/// One way in which an instance fails its schema.
public struct SchemaViolation: Sendable, Equatable, CustomStringConvertible {
    /// Location in the instance: "" for the root, otherwise like "destinations[2].url".
    /// Keys that are not plain names are written in brackets: `headers["content.type"]`.
    public let path: String
    public let message: String

    /// "threshold: 1.5 is greater than the maximum 1"; for the root "(root): ...".
    public var description: String { "\(path.isEmpty ? "(root)" : path): \(message)" }
}
