import AlphaPlusJSON
import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    static let requestID = HTTPField.Name("X-Request-Id")!
}

extension Response {
    /// `value` as compact JSON (keys sorted).
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: value.jsonText)))
    }

    /// `{"error": message}`.
    static func error(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) -> Response {
        json(.object(["error": .string(message)]), status: status, headers: headers)
    }
}

/// A refusal the ingress answers with `{"error": message}`; route handlers
/// throw it and the router turns it into the response.
struct APIError: Error, HTTPResponseError, CustomStringConvertible {
    let status: HTTPResponse.Status
    let message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.message = message
        self.headers = headers
    }

    var description: String { "\(status.code) \(message)" }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        .error(status, message, headers: headers)
    }
}

extension Request {
    /// The query string parsed against a route's `parameters`; 400 naming
    /// the parameter at fault.
    func query(accepting parameters: [QueryParameter]) throws(APIError) -> ParsedQuery {
        do throws(QueryError) {
            return try QueryParser.parse(Substring(uri.query ?? ""), accepting: parameters)
        } catch {
            throw APIError(.badRequest, error.message)
        }
    }
}

/// The router's 404 for a path or method it does not serve, as JSON like
/// every other refusal (the router's own is an empty body).
struct NoRouteAsJSON<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context,
                next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            throw APIError(.notFound, "no route \(request.method) \(Names.shown(request.uri.path))")
        }
    }
}

/// Names from a request echoed in an error, kept short.
enum Names {
    static func shown(_ text: some StringProtocol) -> String {
        text.count <= 64 ? String(text) : String(text.prefix(64)) + "…"
    }
}
