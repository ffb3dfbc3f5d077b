import Foundation

/// Keyword sets recognised by the compiler.
enum Vocabulary {
    static let keywords: Set<String> = [
        "type", "const", "enum", "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "items", "minProperties",
        "maxProperties", "required", "properties", "additionalProperties", "allOf", "anyOf", "oneOf", "not",
        "$ref", "$defs",
    ]
    static let annotations: Set<String> = [
        "$schema", "$id", "$comment", "title", "description", "default", "examples", "format", "deprecated",
        "readOnly", "writeOnly",
    ]
    /// Standard JSON Schema keywords this validator does not implement; they get a clearer
    /// error than "unknown keyword".
    static let unsupported: Set<String> = [
        "$anchor", "$dynamicRef", "$dynamicAnchor", "$recursiveRef", "$recursiveAnchor", "$vocabulary",
        "prefixItems", "additionalItems", "contains", "minContains", "maxContains", "unevaluatedItems",
        "unevaluatedProperties", "patternProperties", "propertyNames", "dependentRequired", "dependentSchemas",
        "dependencies", "definitions", "if", "then", "else", "contentEncoding", "contentMediaType", "contentSchema",
    ]
    static let known = keywords.union(annotations)
}

/// Compiles a schema document into the table `JSONSchema` validates with.
///
/// `$ref` targets are compiled on demand and memoised by JSON pointer, so a schema reached
/// both through the document tree and through references is compiled once and recursive
/// references simply point back at an existing entry.
struct SchemaCompiler {
    private let document: JSONValue
    private var schemas: [CompiledSchema] = []
    /// The JSON pointer of each entry in `schemas`.
    private var pointers: [String] = []
    private var idsByPointer: [String: SchemaID] = [:]

    /// Returns the compiled table; the root schema has ID 0.
    static func compile(_ document: JSONValue) throws(SchemaError) -> [CompiledSchema] {
        var compiler = SchemaCompiler(document: document)
        _ = try compiler.compileSchema(document, at: "")
        try compiler.rejectCyclesWithoutDescent()
        return compiler.schemas
    }

    private init(document: JSONValue) {
        self.document = document
    }

    /// A keyword's value and the JSON pointer to it, for error reporting.
    private struct Keyword {
        let name: String
        let value: JSONValue
        let pointer: String
    }

    private mutating func compileSchema(_ value: JSONValue, at pointer: String) throws(SchemaError) -> SchemaID {
        if let id = idsByPointer[pointer] { return id }
        let id = schemas.count
        idsByPointer[pointer] = id
        pointers.append(pointer)
        // Registered before the members are compiled so that recursive references find it.
        schemas.append(.boolean(true))
        switch value {
        case .bool(let accepts):
            schemas[id] = .boolean(accepts)
        case .object(let members):
            schemas[id] = .assertions(try compileKeywords(members, at: pointer))
        default:
            throw SchemaError(pointer: pointer, message: "a schema must be an object or a boolean, got \(value.summary())")
        }
        return id
    }

    private mutating func compileKeywords(_ members: [String: JSONValue], at pointer: String) throws(SchemaError) -> [Assertion] {
        try rejectUnknownKeywords(members, at: pointer)
        func keyword(_ name: String) -> Keyword? {
            members[name].map { Keyword(name: name, value: $0, pointer: pointer + "/" + escapePointerToken(name)) }
        }
        let numberAssertions: [(String, (Double) -> Assertion)] = [
            ("minimum", Assertion.minimum), ("exclusiveMinimum", Assertion.exclusiveMinimum),
            ("maximum", Assertion.maximum), ("exclusiveMaximum", Assertion.exclusiveMaximum),
        ]
        // Each count applies to one instance type only, so their relative order is irrelevant.
        let counts: [(String, (Int) -> Assertion)] = [
            ("minLength", Assertion.minLength), ("maxLength", Assertion.maxLength),
            ("minItems", Assertion.minItems), ("maxItems", Assertion.maxItems),
            ("minProperties", Assertion.minProperties), ("maxProperties", Assertion.maxProperties),
        ]
        let combinators: [(String, ([SchemaID]) -> Assertion)] = [
            ("allOf", Assertion.allOf), ("anyOf", Assertion.anyOf), ("oneOf", Assertion.oneOf),
        ]

        var assertions: [Assertion] = []
        if let type = keyword("type") { assertions.append(.type(try types(type))) }
        if let constant = keyword("const") { assertions.append(.const(constant.value)) }
        if let values = keyword("enum") { assertions.append(.enumeration(try enumValues(values))) }
        for (name, assertion) in numberAssertions {
            if let bound = keyword(name) { assertions.append(assertion(try number(bound))) }
        }
        if let divisor = keyword("multipleOf") { assertions.append(.multipleOf(try positiveNumber(divisor))) }
        for (name, assertion) in counts {
            if let count = keyword(name) { assertions.append(assertion(try nonNegativeInteger(count))) }
        }
        if let pattern = keyword("pattern") { assertions.append(.pattern(try regularExpression(pattern))) }
        if let unique = keyword("uniqueItems"), try boolean(unique) { assertions.append(.uniqueItems) }
        if let items = keyword("items") { assertions.append(.items(try compileSchema(items.value, at: items.pointer))) }
        if let required = keyword("required") { assertions.append(.required(try fieldNames(required))) }
        let properties = keyword("properties"), additional = keyword("additionalProperties")
        if properties != nil || additional != nil {
            assertions.append(try memberAssertion(properties: properties, additional: additional))
        }
        for (name, assertion) in combinators {
            if let list = keyword(name) { assertions.append(assertion(try compileSchemaList(list))) }
        }
        if let negated = keyword("not") { assertions.append(.not(try compileSchema(negated.value, at: negated.pointer))) }
        if let reference = keyword("$ref") { assertions.append(.ref(try resolveReference(reference))) }
        // Definitions assert nothing themselves; they are compiled so their errors surface.
        if let definitions = keyword("$defs") { _ = try compileSchemaMap(definitions, describing: "names") }
        return assertions
    }

    private func rejectUnknownKeywords(_ members: [String: JSONValue], at pointer: String) throws(SchemaError) {
        for name in members.keys.sorted() where !Vocabulary.known.contains(name) {
            let keywordPointer = pointer + "/" + escapePointerToken(name)
            if Vocabulary.unsupported.contains(name) {
                throw SchemaError(pointer: keywordPointer, message: "keyword '\(name)' is not supported")
            }
            var message = "unknown keyword '\(name)'"
            if let suggestion = Suggestion.closest(to: name, among: Vocabulary.known.sorted()) {
                message += " (did you mean '\(suggestion)'?)"
            }
            throw SchemaError(pointer: keywordPointer, message: message)
        }
    }

    // MARK: Keyword values

    private func types(_ keyword: Keyword) throws(SchemaError) -> [JSONType] {
        switch keyword.value {
        case .string(let name):
            return [try type(named: name, at: keyword.pointer)]
        case .array(let names) where !names.isEmpty:
            var types: [JSONType] = []
            for (index, element) in names.enumerated() {
                let pointer = keyword.pointer + "/\(index)"
                guard case .string(let name) = element else {
                    throw SchemaError(pointer: pointer, message: "expected a type name")
                }
                let type = try type(named: name, at: pointer)
                guard !types.contains(type) else {
                    throw SchemaError(pointer: pointer, message: "duplicate type '\(name)'")
                }
                types.append(type)
            }
            return types
        default:
            throw SchemaError(pointer: keyword.pointer, message: "expected a type name or a non-empty array of type names")
        }
    }

    private func type(named name: String, at pointer: String) throws(SchemaError) -> JSONType {
        if let type = JSONType(rawValue: name) { return type }
        let names = JSONType.allCases.map(\.rawValue)
        throw SchemaError(pointer: pointer, message: "unknown type '\(name)' " + Suggestion.listing("expected one of", names, for: name))
    }

    private func enumValues(_ keyword: Keyword) throws(SchemaError) -> [JSONValue] {
        guard case .array(let values) = keyword.value, !values.isEmpty else {
            throw SchemaError(pointer: keyword.pointer, message: "expected a non-empty array")
        }
        return values
    }

    private func number(_ keyword: Keyword) throws(SchemaError) -> Double {
        switch keyword.value {
        case .number(let value):
            return value
        case .bool where keyword.name.hasPrefix("exclusive"):
            throw SchemaError(pointer: keyword.pointer, message: "expected a number (the boolean form of draft 4 is not supported)")
        default:
            throw SchemaError(pointer: keyword.pointer, message: "expected a number")
        }
    }

    private func positiveNumber(_ keyword: Keyword) throws(SchemaError) -> Double {
        guard case .number(let value) = keyword.value, value > 0 else {
            throw SchemaError(pointer: keyword.pointer, message: "expected a number greater than 0")
        }
        return value
    }

    private func nonNegativeInteger(_ keyword: Keyword) throws(SchemaError) -> Int {
        guard case .number(let value) = keyword.value, value >= 0, value.rounded(.towardZero) == value else {
            throw SchemaError(pointer: keyword.pointer, message: "expected a non-negative integer")
        }
        // Larger limits are unreachable by any real count, so they saturate.
        return value < 0x1p62 ? Int(value) : Int.max
    }

    private func boolean(_ keyword: Keyword) throws(SchemaError) -> Bool {
        guard case .bool(let value) = keyword.value else {
            throw SchemaError(pointer: keyword.pointer, message: "expected a boolean")
        }
        return value
    }

    private func regularExpression(_ keyword: Keyword) throws(SchemaError) -> Pattern {
        guard case .string(let source) = keyword.value else {
            throw SchemaError(pointer: keyword.pointer, message: "expected a string")
        }
        do {
            return Pattern(source: source, expression: try NSRegularExpression(pattern: source))
        } catch {
            throw SchemaError(pointer: keyword.pointer, message: "invalid regular expression '\(source)'")
        }
    }

    private func fieldNames(_ keyword: Keyword) throws(SchemaError) -> [String] {
        guard case .array(let elements) = keyword.value else {
            throw SchemaError(pointer: keyword.pointer, message: "expected an array of field names")
        }
        var names: [String] = []
        for (index, element) in elements.enumerated() {
            let pointer = keyword.pointer + "/\(index)"
            guard case .string(let name) = element else {
                throw SchemaError(pointer: pointer, message: "expected a string")
            }
            guard !names.contains(name) else {
                throw SchemaError(pointer: pointer, message: "duplicate field name '\(name)'")
            }
            names.append(name)
        }
        return names
    }

    // MARK: Subschemas

    private mutating func memberAssertion(properties: Keyword?, additional: Keyword?) throws(SchemaError) -> Assertion {
        var named: [String: SchemaID] = [:]
        if let properties {
            named = try compileSchemaMap(properties, describing: "field names")
        }
        var additionalMembers = AdditionalMembers.allowed
        if let additional {
            switch additional.value {
            case .bool(true): break
            case .bool(false): additionalMembers = .forbidden
            default: additionalMembers = .schema(try compileSchema(additional.value, at: additional.pointer))
            }
        }
        return .members(properties: named, additional: additionalMembers)
    }

    /// Compiles an object whose member values are schemas (`properties`, `$defs`).
    private mutating func compileSchemaMap(_ keyword: Keyword, describing keys: String) throws(SchemaError) -> [String: SchemaID] {
        guard case .object(let members) = keyword.value else {
            throw SchemaError(pointer: keyword.pointer, message: "expected an object mapping \(keys) to schemas")
        }
        var ids: [String: SchemaID] = [:]
        for (name, schema) in members.sorted(by: { $0.key < $1.key }) {
            ids[name] = try compileSchema(schema, at: keyword.pointer + "/" + escapePointerToken(name))
        }
        return ids
    }

    /// Compiles an array of schemas (`allOf`, `anyOf`, `oneOf`).
    private mutating func compileSchemaList(_ keyword: Keyword) throws(SchemaError) -> [SchemaID] {
        guard case .array(let elements) = keyword.value, !elements.isEmpty else {
            throw SchemaError(pointer: keyword.pointer, message: "expected a non-empty array of schemas")
        }
        var ids: [SchemaID] = []
        for (index, element) in elements.enumerated() {
            ids.append(try compileSchema(element, at: keyword.pointer + "/\(index)"))
        }
        return ids
    }

    // MARK: References

    /// Resolves a local reference ("#", "#/$defs/name", or any JSON pointer to a subschema)
    /// by walking the document, and compiles its target.
    private mutating func resolveReference(_ keyword: Keyword) throws(SchemaError) -> SchemaID {
        func failure(_ message: String) -> SchemaError {
            SchemaError(pointer: keyword.pointer, message: message)
        }
        guard case .string(let reference) = keyword.value else { throw failure("expected a string") }
        guard reference.hasPrefix("#") else {
            throw failure("only references within the same schema are supported (like '#/$defs/name'), got '\(reference)'")
        }
        guard let fragment = reference.dropFirst().removingPercentEncoding,
              fragment.isEmpty || fragment.hasPrefix("/")
        else {
            throw failure("invalid reference '\(reference)': expected a JSON pointer like '#/$defs/name'")
        }
        let tokens = fragment.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }

        let notFound = "reference '\(reference)' not found"
        let notASchema = "reference '\(reference)' does not point to a schema"
        var target = document
        var pointer = ""
        var remaining = tokens[...]
        while let token = remaining.popFirst() {
            guard case .object(let members) = target, let value = members[token] else { throw failure(notFound) }
            target = value
            pointer += "/" + escapePointerToken(token)
            switch token {
            case "items", "additionalProperties", "not":
                continue
            case "properties", "$defs":
                guard let name = remaining.popFirst() else { throw failure(notASchema) }
                guard case .object(let schemas) = target else { throw failure(notFound) }
                guard let schema = schemas[name] else {
                    throw failure(notFound + " " + Suggestion.listing("defined", schemas.keys.sorted(), for: name))
                }
                target = schema
                pointer += "/" + escapePointerToken(name)
            case "allOf", "anyOf", "oneOf":
                guard let indexToken = remaining.popFirst() else { throw failure(notASchema) }
                guard case .array(let schemas) = target, let index = Int(indexToken), schemas.indices.contains(index) else {
                    throw failure(notFound)
                }
                target = schemas[index]
                pointer += "/\(index)"
            default:
                throw failure(notASchema)
            }
        }
        return try compileSchema(target, at: pointer)
    }

    /// Rejects reference cycles that revisit a schema without descending into the
    /// instance (e.g. `a → b → a` via `$ref`/`allOf`), which would never terminate.
    private func rejectCyclesWithoutDescent() throws(SchemaError) {
        enum VisitState { case unvisited, inProgress, done }
        var states = [VisitState](repeating: .unvisited, count: schemas.count)
        var stack: [SchemaID] = []

        func visit(_ id: SchemaID) throws(SchemaError) {
            states[id] = .inProgress
            stack.append(id)
            for next in subschemasAtSameLocation(of: id) {
                switch states[next] {
                case .unvisited: try visit(next)
                case .inProgress: throw cycleError(Array(stack[stack.lastIndex(of: next)!...]) + [next])
                case .done: break
                }
            }
            stack.removeLast()
            states[id] = .done
        }
        for id in schemas.indices where states[id] == .unvisited {
            try visit(id)
        }
    }

    private func subschemasAtSameLocation(of id: SchemaID) -> [SchemaID] {
        guard case .assertions(let assertions) = schemas[id] else { return [] }
        return assertions.flatMap { assertion -> [SchemaID] in
            switch assertion {
            case .allOf(let ids), .anyOf(let ids), .oneOf(let ids): ids
            case .not(let id), .ref(let id): [id]
            default: []
            }
        }
    }

    /// `cycle` starts and ends with the same schema.
    private func cycleError(_ cycle: [SchemaID]) -> SchemaError {
        // Document nesting alone cannot form a cycle, so some step is a `$ref`.
        let referrer = zip(cycle, cycle.dropFirst()).first { from, to in
            guard case .assertions(let assertions) = schemas[from] else { return false }
            return assertions.contains { if case .ref(to) = $0 { true } else { false } }
        }!.0
        let path = cycle.map { "'#\(pointers[$0])'" }.joined(separator: " → ")
        return SchemaError(pointer: pointers[referrer] + "/$ref",
                           message: "reference cycle never descends into the instance: \(path)")
    }
}

func escapePointerToken(_ token: String) -> String {
    token.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
}
