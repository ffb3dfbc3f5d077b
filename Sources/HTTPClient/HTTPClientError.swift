/// Why no HTTP response arrived (a response with any status code is not
/// an error). The message says what happened, with libcurl's own words
/// where it has them, and never contains the request's path.
public struct HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// The request's time ran out (connect, send or receive).
        case timeout
        /// No connection or no complete answer: refused, DNS, TLS, reset.
        case unavailable
        /// Cancelled by the caller, or the client shut down.
        case cancelled
        /// The response body exceeded the client's cap.
        case responseTooLarge = "response_too_large"
        /// The request itself is malformed (URL, method or a header).
        case invalidRequest = "invalid_request"
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
