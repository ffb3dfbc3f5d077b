/// The host config's `http:` section: where the ingress (webhooks, the
/// admin API, health and metrics) listens, and its limits. Without the
/// section no server starts.
public struct HTTPSettings: Sendable, Equatable {
    public static let defaultMaxBodyBytes = 1 << 20
    public static let maxBodyBytesRange = 1...(64 << 20)
    public static let defaultRequestDeadlineMs = 10_000
    public static let requestDeadlineMsRange = 1...600_000

    /// An IP address or a host name (an IPv6 address without brackets).
    public var host: String
    /// 0 picks a free port (the host logs the one it got).
    public var port: Int
    /// A webhook body above this is answered 413 without calling the plugin.
    public var maxBodyBytes: Int
    /// A webhook request not answered within this is answered 504 (408 while its body is still arriving).
    public var requestDeadlineMs: Int
    /// The operator's bearer token for the admin API; resolved at start.
    public var adminToken: SecretReference?

    public init(host: String, port: Int, maxBodyBytes: Int = HTTPSettings.defaultMaxBodyBytes,
                requestDeadlineMs: Int = HTTPSettings.defaultRequestDeadlineMs, adminToken: SecretReference? = nil) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.requestDeadlineMs = requestDeadlineMs
        self.adminToken = adminToken
    }
}

enum HTTPSection {
    static func parse(_ node: YAMLDocument) throws(ConfigError) -> HTTPSettings {
        let fields = try node.mapping(allowed: ["listen", "max_body_bytes", "request_deadline_ms", "admin_token"])
        guard let listen = fields["listen"] else { throw node.error("http: missing field 'listen' (e.g. listen: 127.0.0.1:8080)") }
        let (host, port) = try address(listen)
        var settings = HTTPSettings(host: host, port: port)
        if let value = fields["max_body_bytes"] {
            settings.maxBodyBytes = try integer(value, "http.max_body_bytes", in: HTTPSettings.maxBodyBytesRange)
        }
        if let value = fields["request_deadline_ms"] {
            settings.requestDeadlineMs = try integer(value, "http.request_deadline_ms", in: HTTPSettings.requestDeadlineMsRange)
        }
        if let token = fields["admin_token"] { settings.adminToken = try SecretReference.parse(token, name: "http.admin_token") }
        return settings
    }

    /// "127.0.0.1:8080", "localhost:0", "[::1]:8080".
    static func address(_ node: YAMLDocument) throws(ConfigError) -> (host: String, port: Int) {
        let text = try node.string()
        func refuse(_ why: String) -> ConfigError {
            node.error("http.listen: '\(text)' \(why); write host:port, e.g. 127.0.0.1:8080 ([::1]:8080 for IPv6, port 0 for any free port)")
        }
        let host: Substring, portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else {
                throw refuse("has no ]:port after its IPv6 address")
            }
            host = text[text.index(after: text.startIndex)..<close]
            portText = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":") else { throw refuse("has no port") }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            guard !host.contains(":") else { throw refuse("is an IPv6 address without brackets") }
        }
        guard !host.isEmpty, host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".-_:".contains($0)) }) else {
            throw refuse("does not start with a host name or IP address")
        }
        guard let port = Int(portText), (0...65_535).contains(port), portText.allSatisfy(\.isNumber) else {
            throw refuse("has no port from 0 to 65535")
        }
        return (String(host), port)
    }

    private static func integer(_ node: YAMLDocument, _ key: String, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard case .number(let value) = try node.json(), value == value.rounded(), let whole = Int(exactly: value), range.contains(whole) else {
            throw node.error("\(key): expected a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return whole
    }
}
