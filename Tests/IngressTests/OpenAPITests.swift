import AlphaPlusJSON
import Foundation
import Ingress
import SharedTestData
import XCTest
import Yams

/// docs/admin-api.yaml against the server: the same routes both ways, and
/// for every documented response a real request whose answer matches the
/// documented schema (AlphaPlusJSON's validator, the document's
/// components turned into `$defs`). The document itself passes
/// openapi-spec-validator.
final class OpenAPITests: XCTestCase {
    static let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let document = checkout.appendingPathComponent("docs/admin-api.yaml")

    private var hosts: [IngressHost] = []

    override func tearDown() {
        hosts.forEach { $0.close() }
        hosts = []
    }

    static func load() throws -> JSONValue {
        try json(from: try Yams.load(yaml: String(contentsOf: document, encoding: .utf8)) as Any)
    }

    func testEveryServedRouteIsDocumentedAndEveryDocumentedRouteIsServed() throws {
        let document = try Self.load()
        let host = try IngressHost()
        hosts.append(host)
        let served = Set(host.server.routes.map { "\($0.method) \($0.path)" })
        XCTAssertEqual(Self.operations(document).keys.sorted(), served.sorted())
    }

    func testEveryDocumentedResponseIsWhatTheServerAnswers() throws {
        let document = try Self.load()
        let host = try IngressHost()
        let off = try IngressHost(tokens: false, metricsText: nil)
        // 127.0.0.1 throttled after one failure, for a minute.
        let throttled = try IngressHost(limits: ServerLimits(authFailuresAllowed: 1, authBackoff: .seconds(60)))
        hosts += [host, off, throttled]
        XCTAssertEqual(try throttled.send("GET", "/admin/v1/tenants", token: "guess").status, 401)
        let alpha = "/admin/v1/tenants/alpha", beta = "/admin/v1/tenants/beta", nobody = "/admin/v1/tenants/nobody"
        var scenarios: [Scenario] = [
            Scenario("/healthz", "/healthz", 200), Scenario("/healthz", "/healthz?x", 400),
            Scenario("/readyz", "/readyz", 503), Scenario("/readyz", "/readyz?x=1", 400),
            Scenario("/readyz", "/readyz", 200, before: {
                host.readiness.markReady("store")
                host.readiness.markReady("distributor")
            }),
            Scenario("/metrics", "/metrics", 200), Scenario("/metrics", "/metrics?x", 400),
            Scenario("/metrics", "/metrics", 503, off: true),
            Scenario("/admin/v1/plugins", "/admin/v1/plugins", 200, token: operatorToken),
            Scenario("/admin/v1/plugins", "/admin/v1/plugins?x", 400, token: operatorToken),
            Scenario("/admin/v1/plugins", "/admin/v1/plugins", 401),
            Scenario("/admin/v1/plugins", "/admin/v1/plugins", 403, token: alphaToken),
            Scenario("/admin/v1/plugins", "/admin/v1/plugins", 503, token: operatorToken, off: true),
            Scenario("/admin/v1/plugins", "/admin/v1/plugins", 429, token: operatorToken, throttled: true),
            Scenario("/admin/v1/tenants", "/admin/v1/tenants", 200, token: operatorToken),
            Scenario("/admin/v1/tenants", "/admin/v1/tenants", 200, token: alphaToken),
            Scenario("/admin/v1/tenants", "/admin/v1/tenants?limit=1", 400, token: operatorToken),
            Scenario("/admin/v1/tenants", "/admin/v1/tenants", 401, token: "wrong"),
            Scenario("/admin/v1/tenants", "/admin/v1/tenants", 503, off: true),
            Scenario("/admin/v1/tenants", "/admin/v1/tenants", 429, token: operatorToken, throttled: true),
        ]
        for suffix in ["", "/instances", "/signals", "/outbox", "/subscribers"] {
            let path = "/admin/v1/tenants/{tenant}" + suffix
            scenarios += [
                Scenario(path, alpha + suffix, 200, token: alphaToken),
                Scenario(path, alpha + suffix + "?x=1", 400, token: operatorToken),
                Scenario(path, alpha + suffix, 401),
                Scenario(path, beta + suffix, 403, token: alphaToken),
                Scenario(path, nobody + suffix, 404, token: operatorToken),
                Scenario(path, alpha + suffix, 503, token: alphaToken, off: true),
                Scenario(path, alpha + suffix, 429, token: alphaToken, throttled: true),
            ]
        }
        scenarios += [
            Scenario("/admin/v1/tenants/{tenant}/signals", alpha + "/signals?limit=2", 200, token: operatorToken),
            Scenario("/admin/v1/tenants/{tenant}/signals", alpha + "/signals?limit=2&before=1795248060000000000:alpha:sim:BTC-USDT:60:1795248060000",
                     200, token: operatorToken),
            Scenario("/admin/v1/tenants/{tenant}/signals", alpha + "/signals?limit=0", 400, token: alphaToken),
            Scenario("/admin/v1/tenants/{tenant}/signals", alpha + "/signals?before=x", 400, token: alphaToken),
        ]

        let operations = Self.operations(document)
        var covered: Set<String> = []
        for scenario in scenarios {
            let label = "GET \(scenario.target) (\(scenario.status))"
            scenario.before?()
            let response = try (scenario.off ? off : scenario.throttled ? throttled : host).send("GET", scenario.target, token: scenario.token)
            XCTAssertEqual(response.status, scenario.status, "\(label): \(response.text)")
            guard let operation = operations["GET \(scenario.path)"] else { XCTFail("\(label): GET \(scenario.path) is not documented"); continue }
            guard let documented = try Self.response(operation, status: response.status, in: document) else {
                XCTFail("\(label): status \(response.status) is not documented for GET \(scenario.path)")
                continue
            }
            covered.insert("GET \(scenario.path) \(response.status)")
            if case .object(let headers)? = documented["headers"] {
                for name in headers.keys { XCTAssertNotNil(response.header(name), "\(label): documented header \(name) is missing") }
            }
            guard case .object(let content)? = documented["content"], let (mediaType, media) = content.first else {
                XCTFail("\(label): no content documented")
                continue
            }
            let contentType = try XCTUnwrap(response.header("Content-Type"), label)
            XCTAssertTrue(contentType.hasPrefix(mediaType), "\(label): Content-Type \(contentType), documented \(mediaType)")
            guard mediaType == "application/json", let schema = media["schema"] else { continue }
            let validator = try JSONSchema(Self.jsonSchema(schema, components: document["components"]?["schemas"] ?? .object([:])))
            let violations = validator.validate(try response.json())
            XCTAssertEqual(violations.map(\.description), [], "\(label): \(response.text)")
        }
        // Each documented status (but `default`, the store failing) was seen.
        for (key, operation) in operations {
            guard case .object(let responses)? = operation["responses"] else { continue }
            for status in responses.keys where status != "default" {
                XCTAssertTrue(covered.contains("\(key) \(status)"), "\(key) \(status) is documented but no request here answered it")
            }
        }
    }

    func testTheSchemasRefuseWhatTheServerMustNotSend() throws {
        // The check above has teeth: an extra field, a missing one, a wrong type each fail.
        let document = try Self.load()
        let components = document["components"]?["schemas"] ?? .object([:])
        let error = try JSONSchema(Self.jsonSchema(.object(["$ref": .string("#/components/schemas/Error")]), components: components))
        XCTAssertEqual(error.validate(.object(["error": .string("x")])), [])
        XCTAssertFalse(error.validate(.object(["error": .string("x"), "token": .string("t")])).isEmpty)
        XCTAssertFalse(error.validate(.object([:])).isEmpty)
        let page = try JSONSchema(Self.jsonSchema(.object(["$ref": .string("#/components/schemas/SignalPage")]), components: components))
        XCTAssertFalse(page.validate(.object(["signals": .array([]), "next": .number(5)])).isEmpty)
        XCTAssertEqual(page.validate(.object(["signals": .array([]), "next": .null])), [])
    }

    func testTheDocumentPassesOpenAPISpecValidator() throws {
        // And a broken copy does not, so the validator is really looking.
        let broken = FileManager.default.temporaryDirectory.appendingPathComponent("admin-api-broken-\(UUID().uuidString).yaml")
        let text = try String(contentsOf: Self.document, encoding: .utf8)
        try text.replacingOccurrences(of: "$ref: '#/components/schemas/Error'", with: "$ref: '#/components/schemas/Missing'")
            .write(to: broken, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: broken) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("check_openapi.py")
        let input = try JSONSerialization.data(withJSONObject: ["files": [Self.document.path, broken.path]])
        let output = try PythonCrossCheck.run(script, input: input, packages: "openapi-spec-validator")
        let results = try JSONValue(parsing: output)
        guard case .array(let answers) = results, answers.count == 2 else { return XCTFail("\(results)") }
        XCTAssertEqual(answers[0], .object(["valid": .bool(true)]), "docs/admin-api.yaml")
        XCTAssertEqual(answers[1]["valid"], .bool(false), "the broken copy passed")
    }

    // MARK: - The document

    struct Scenario {
        var path: String
        var target: String
        var status: Int
        var token: String?
        var off: Bool
        var throttled: Bool
        var before: (() -> Void)?

        /// `off`: asked of the host without tokens or metrics; `throttled`:
        /// of the host that throttles 127.0.0.1; `before` runs just before the request.
        init(_ path: String, _ target: String, _ status: Int, token: String? = nil, off: Bool = false, throttled: Bool = false,
             before: (() -> Void)? = nil) {
            self.path = path
            self.target = target
            self.status = status
            self.token = token
            self.off = off
            self.throttled = throttled
            self.before = before
        }
    }

    /// "GET /admin/v1/plugins" → the operation object.
    static func operations(_ document: JSONValue) -> [String: JSONValue] {
        guard case .object(let paths)? = document["paths"] else { return [:] }
        var operations: [String: JSONValue] = [:]
        for (path, item) in paths {
            guard case .object(let methods) = item else { continue }
            for (method, operation) in methods where ["get", "put", "post", "delete", "patch", "head", "options"].contains(method) {
                operations["\(method.uppercased()) \(path)"] = operation
            }
        }
        return operations
    }

    /// The response documented for `status`, a `$ref` to components followed.
    static func response(_ operation: JSONValue, status: Int, in document: JSONValue) throws -> JSONValue? {
        guard let response = operation["responses"]?[String(status)] else { return nil }
        guard case .string(let reference)? = response["$ref"] else { return response }
        let name = try XCTUnwrap(reference.split(separator: "/").last.map(String.init))
        return try XCTUnwrap(document["components"]?["responses"]?[name], reference)
    }

    /// A schema as a JSON Schema document of its own: components become
    /// `$defs`, and references to them follow.
    static func jsonSchema(_ schema: JSONValue, components: JSONValue) -> JSONValue {
        func rewrite(_ value: JSONValue) -> JSONValue {
            switch value {
            case .object(let members):
                var result: [String: JSONValue] = [:]
                for (key, member) in members {
                    if key == "$ref", case .string(let reference) = member {
                        result[key] = .string(reference.replacingOccurrences(of: "#/components/schemas/", with: "#/$defs/"))
                    } else {
                        result[key] = rewrite(member)
                    }
                }
                return .object(result)
            case .array(let items):
                return .array(items.map(rewrite))
            default:
                return value
            }
        }
        guard case .object(var root) = rewrite(schema) else { return schema }
        root["$defs"] = rewrite(components)
        return .object(root)
    }

    struct UnexpectedYAML: Error, CustomStringConvertible {
        var description: String
    }

    /// What Yams read, as JSON.
    static func json(from value: Any) throws -> JSONValue {
        switch value {
        case let text as String: return .string(text)
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .number(Double(number))
        case let number as Double: return .number(number)
        case let list as [Any]: return .array(try list.map(json))
        case let map as [String: Any]: return .object(try map.mapValues(json))
        case is NSNull: return .null
        default: throw UnexpectedYAML(description: "docs/admin-api.yaml holds \(value) (\(type(of: value))), which is not JSON")
        }
    }
}
