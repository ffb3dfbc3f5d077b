/// A step from a value to one of its members or elements.
enum PathComponent: Equatable {
    case key(String)
    case index(Int)
}

struct Violation {
    let path: [PathComponent]
    let message: String
}

/// Evaluates compiled schemas against an instance, collecting every violation.
struct Validator {
    let schemas: [CompiledSchema]
    /// Location of the value being checked.
    private var path: [PathComponent] = []
    private var found: [Violation] = []

    init(schemas: [CompiledSchema]) {
        self.schemas = schemas
    }

    /// The violations of schema `id` by `instance`, which sits at the current path, in
    /// document order. Also used to try `anyOf`/`oneOf`/`not` alternatives in isolation.
    mutating func violations(of id: SchemaID, for instance: JSONValue) -> [Violation] {
        let enclosing = found
        found = []
        check(id, instance)
        let result = Validator.inDocumentOrder(found)
        found = enclosing
        return result
    }

    private mutating func report(_ message: String) {
        found.append(Violation(path: path, message: message))
    }

    private mutating func check(_ id: SchemaID, _ instance: JSONValue) {
        switch schemas[id] {
        case .boolean(true):
            break
        case .boolean(false):
            report("no value is allowed here")
        case .assertions(let assertions):
            for assertion in assertions {
                check(assertion, instance)
            }
        }
    }

    private mutating func check(_ id: SchemaID, _ member: JSONValue, at component: PathComponent) {
        path.append(component)
        check(id, member)
        path.removeLast()
    }

    private mutating func check(_ assertion: Assertion, _ instance: JSONValue) {
        switch (assertion, instance) {
        case (.type(let types), _) where !types.contains(where: { $0.matches(instance) }):
            report("expected \(Validator.list(types.map(\.rawValue), conjunction: "or")), got \(instance.summary())")
        case (.const(let expected), _) where instance != expected:
            report("expected \(expected.jsonText), got \(instance.summary(echoingStrings: true))")
        case (.enumeration(let allowed), _) where !allowed.contains(instance):
            report(Validator.enumerationMismatch(instance, allowed: allowed))
        case (.minimum(let limit), .number(let value)) where value < limit:
            report("\(format(value)) is less than the minimum \(format(limit))")
        case (.exclusiveMinimum(let limit), .number(let value)) where value <= limit:
            report("\(format(value)) is not greater than the exclusive minimum \(format(limit))")
        case (.maximum(let limit), .number(let value)) where value > limit:
            report("\(format(value)) is greater than the maximum \(format(limit))")
        case (.exclusiveMaximum(let limit), .number(let value)) where value >= limit:
            report("\(format(value)) is not less than the exclusive maximum \(format(limit))")
        case (.multipleOf(let divisor), .number(let value)) where !Validator.isMultiple(value, of: divisor):
            report("\(format(value)) is not a multiple of \(format(divisor))")
        case (.minLength(let limit), .string(let string)) where string.unicodeScalars.count < limit:
            report("expected at least \(counted(limit, "character")), got \(string.unicodeScalars.count)")
        case (.maxLength(let limit), .string(let string)) where string.unicodeScalars.count > limit:
            report("expected at most \(counted(limit, "character")), got \(string.unicodeScalars.count)")
        case (.pattern(let pattern), .string(let string)) where !pattern.matches(string):
            report("does not match the pattern '\(pattern.source)'")
        case (.minItems(let limit), .array(let elements)) where elements.count < limit:
            report("expected at least \(counted(limit, "item")), got \(elements.count)")
        case (.maxItems(let limit), .array(let elements)) where elements.count > limit:
            report("expected at most \(counted(limit, "item")), got \(elements.count)")
        case (.uniqueItems, .array(let elements)):
            reportDuplicates(elements)
        case (.items(let id), .array(let elements)):
            for (index, element) in elements.enumerated() {
                check(id, element, at: .index(index))
            }
        case (.minProperties(let limit), .object(let members)) where members.count < limit:
            report("expected at least \(counted(limit, "field")), got \(members.count)")
        case (.maxProperties(let limit), .object(let members)) where members.count > limit:
            report("expected at most \(counted(limit, "field")), got \(members.count)")
        case (.required(let names), .object(let members)):
            for name in names where members[name] == nil {
                report("required field '\(name)' is missing")
            }
        case (.members(let properties, let additional), .object(let members)):
            checkMembers(members, properties: properties, additional: additional)
        case (.allOf(let ids), _):
            for id in ids {
                check(id, instance)
            }
        case (.anyOf(let ids), _):
            checkAnyOf(ids, instance)
        case (.oneOf(let ids), _):
            checkOneOf(ids, instance)
        case (.not(let id), _) where violations(of: id, for: instance).isEmpty:
            report("must not match the schema in 'not'")
        case (.ref(let id), _):
            check(id, instance)
        default:
            break  // The assertion holds, or does not apply to this kind of value.
        }
    }

    private mutating func reportDuplicates(_ elements: [JSONValue]) {
        var firstIndexOfValue: [JSONValue: Int] = [:]
        for (index, element) in elements.enumerated() {
            if let first = firstIndexOfValue[element] {
                report("items [\(first)] and [\(index)] are equal, but items must be unique")
            } else {
                firstIndexOfValue[element] = index
            }
        }
    }

    private mutating func checkMembers(
        _ members: [String: JSONValue], properties: [String: SchemaID], additional: AdditionalMembers
    ) {
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            if let id = properties[key] {
                check(id, value, at: .key(key))
                continue
            }
            switch additional {
            case .allowed:
                break
            case .forbidden:
                report("unknown field '\(key)' " + Suggestion.listing("allowed", properties.keys.sorted(), for: key))
            case .schema(let id):
                check(id, value, at: .key(key))
            }
        }
    }

    private mutating func checkAnyOf(_ ids: [SchemaID], _ instance: JSONValue) {
        var failures: [[Violation]] = []
        for id in ids {
            let alternative = violations(of: id, for: instance)
            if alternative.isEmpty { return }
            failures.append(alternative)
        }
        report("matches none of the anyOf alternatives (\(describeAlternatives(failures)))")
    }

    private mutating func checkOneOf(_ ids: [SchemaID], _ instance: JSONValue) {
        var results: [[Violation]] = []
        for id in ids {
            results.append(violations(of: id, for: instance))
        }
        let matching = results.indices.filter { results[$0].isEmpty }
        switch matching.count {
        case 0:
            report("matches none of the oneOf alternatives (\(describeAlternatives(results)))")
        case 1:
            break
        default:
            let indices = Validator.list(matching.map { "[\($0)]" }, conjunction: "and")
            report("matches \(matching.count) oneOf alternatives (\(indices)) but must match exactly one")
        }
    }

    /// "[0]: expected string, got 5; [1]: url: required field 'host' is missing".
    private func describeAlternatives(_ failures: [[Violation]]) -> String {
        failures.enumerated().map { index, violations in
            let messages = violations.map { violation in
                violation.path == path ? violation.message : "\(Validator.render(violation.path)): \(violation.message)"
            }
            return "[\(index)]: " + messages.joined(separator: " and ")
        }.joined(separator: "; ")
    }

    // MARK: Formatting

    /// Renders a path in dotted form: "destinations[2].url"; unusual keys in brackets.
    static func render(_ path: [PathComponent]) -> String {
        path.reduce("") { text, component in
            switch component {
            case .index(let index): SchemaPath.element(index, of: text)
            case .key(let key): SchemaPath.member(key, of: text)
            }
        }
    }

    private static func enumerationMismatch(_ instance: JSONValue, allowed: [JSONValue]) -> String {
        let options = allowed.map(\.jsonText).joined(separator: ", ")
        var message = "expected one of \(options), got \(instance.summary(echoingStrings: true))"
        let allowedStrings = allowed.compactMap { value -> String? in
            if case .string(let string) = value { string } else { nil }
        }
        if case .string(let string) = instance, let suggestion = Suggestion.closest(to: string, among: allowedStrings) {
            message += " (did you mean \(JSONValue.string(suggestion).jsonText)?)"
        }
        return message
    }

    /// Whether `value / divisor` is an integer. Integers are checked exactly; fractions
    /// tolerate the rounding error of decimal inputs stored as binary doubles (so 0.3 is a
    /// multiple of 0.1).
    private static func isMultiple(_ value: Double, of divisor: Double) -> Bool {
        if value.rounded(.towardZero) == value, divisor.rounded(.towardZero) == divisor {
            return value.truncatingRemainder(dividingBy: divisor) == 0
        }
        let quotient = value / divisor
        return abs(quotient - quotient.rounded()) <= 4 * quotient.ulp
    }

    /// "a", "a or b", "a, b or c".
    private static func list(_ items: [String], conjunction: String) -> String {
        guard items.count > 1 else { return items.first ?? "" }
        return items.dropLast().joined(separator: ", ") + " \(conjunction) " + items.last!
    }

    /// Orders by path (a value before its members), keeping keyword order at one path.
    private static func inDocumentOrder(_ violations: [Violation]) -> [Violation] {
        violations.enumerated().sorted { lhs, rhs in
            lhs.element.path == rhs.element.path
                ? lhs.offset < rhs.offset
                : precedes(lhs.element.path, rhs.element.path)
        }.map(\.element)
    }

    private static func precedes(_ lhs: [PathComponent], _ rhs: [PathComponent]) -> Bool {
        for (left, right) in zip(lhs, rhs) where left != right {
            switch (left, right) {
            case (.index(let a), .index(let b)): return a < b
            case (.key(let a), .key(let b)): return a < b
            case (.index, .key): return true
            case (.key, .index): return false
            }
        }
        return lhs.count < rhs.count
    }
}

private func format(_ number: Double) -> String {
    JSONValue.numberText(number)
}

/// "1 item", "3 items".
private func counted(_ count: Int, _ noun: String) -> String {
    "\(count) \(noun)\(count == 1 ? "" : "s")"
}

extension JSONValue {
    /// How a value is named in messages. Strings are only echoed on request (enum/const
    /// mismatches) because configuration strings may be secrets such as API tokens.
    func summary(echoingStrings: Bool = false) -> String {
        switch self {
        case .null, .bool, .number: jsonText
        case .string: echoingStrings ? jsonText : "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

/// How `SchemaViolation.path` names a place in a document, for a reader
/// that maps violations back to its own source (a config file's lines):
/// "destinations[2].url"; a key that is not ASCII letters, digits, "_",
/// "-" and "$" is quoted in brackets, `a["b.c"]`, so paths stay unambiguous.
public enum SchemaPath {
    /// The path of member `key` of the value at `parent` ("" is the root).
    public static func member(_ key: String, of parent: String) -> String {
        guard isPlainName(key) else { return parent + "[\(JSONValue.string(key).jsonText)]" }
        return parent.isEmpty ? key : parent + "." + key
    }

    /// The path of item `index` of the array at `parent`.
    public static func element(_ index: Int, of parent: String) -> String { parent + "[\(index)]" }

    private static func isPlainName(_ key: String) -> Bool {
        !key.isEmpty && key.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                || "_-$".unicodeScalars.contains(scalar)
        }
    }
}
