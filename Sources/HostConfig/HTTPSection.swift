/// The host config's `http:` section: where the ingress (webhooks, the
/// admin API, health and metrics) listens, and its limits. Without the
/// section no server starts.
public struct HTTPSettings: Sendable, Equatable {
    public static let defaultMaxBodyBytes = 1 << 20
    public static let maxBodyBytesRange = 1...(64 << 20)
    public static let defaultRequestDeadlineMs = 10_000
    public static let requestDeadlineMsRange = 1...600_000
    public static let timeoutMsRange = 1...3_600_000
    public static let connectionsRange = 1...1_000_000
    public static let reservedFilesRange = 0...1_000_000
    public static let authFailuresRange = 1...1_000_000

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
    /// The server's limits on connections, slow requests and failed authentication.
    public var limits = Limits()

    /// Each in the host config under the name in its comment; docs/OPERATIONS.md says why these defaults.
    public struct Limits: Sendable, Equatable {
        /// `idle_timeout_ms`: a connection with no request in progress and nothing read for this long is closed.
        public var idleTimeoutMs = 60_000
        /// `header_timeout_ms`: a request head must be complete within this of its first byte (else 408).
        public var headerTimeoutMs = 10_000
        /// `body_timeout_ms`: a request body must be complete within this of its head (else 408).
        public var bodyTimeoutMs = 30_000
        /// `max_connections`: open connections at most (fewer when the open-file limit less `reserved_files` is lower).
        public var maxConnections = 1024
        /// `max_connections_per_source`: open connections from one IP address at most.
        public var maxConnectionsPerSource = 256
        /// `reserved_files`: files kept free below the open-file limit for all but connections.
        public var reservedFiles = 256
        /// `auth_failures_allowed`: failed admin authentications from one IP address before it is throttled.
        public var authFailuresAllowed = 10
        /// `auth_backoff_ms`: the first throttle; doubled by each further failure.
        public var authBackoffMs = 1000
        /// `auth_backoff_max_ms`: the longest throttle; a source's failures are forgotten after twice this without one.
        public var authBackoffMaxMs = 300_000
        /// `refusal_log_interval_ms`: per interval, the first few refusals of each reason are logged in full, then one summary.
        public var refusalLogIntervalMs = 60_000

        public init() {}
    }

    public init(host: String, port: Int, maxBodyBytes: Int = HTTPSettings.defaultMaxBodyBytes,
                requestDeadlineMs: Int = HTTPSettings.defaultRequestDeadlineMs, adminToken: SecretReference? = nil,
                limits: Limits = Limits()) {
        self.host = host
        self.port = port
        self.maxBodyBytes = maxBodyBytes
        self.requestDeadlineMs = requestDeadlineMs
        self.adminToken = adminToken
        self.limits = limits
    }
}

enum HTTPSection {
    static func parse(_ node: YAMLDocument) throws(ConfigError) -> HTTPSettings {
        let fields = try node.mapping(allowed: ["listen", "max_body_bytes", "request_deadline_ms", "admin_token"] + limitKeys.map(\.key))
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
        for (key, path, range) in limitKeys {
            if let value = fields[key] { settings.limits[keyPath: path] = try integer(value, "http.\(key)", in: range) }
        }
        guard settings.limits.authBackoffMaxMs >= settings.limits.authBackoffMs else {
            throw (fields["auth_backoff_max_ms"] ?? node).error("http.auth_backoff_max_ms: \(settings.limits.authBackoffMaxMs) is below auth_backoff_ms (\(settings.limits.authBackoffMs)); the longest throttle cannot be shorter than the first")
        }
        return settings
    }

    /// The limits' keys, in the order the error for an unknown key lists them.
    static var limitKeys: [(key: String, path: WritableKeyPath<HTTPSettings.Limits, Int>, range: ClosedRange<Int>)] { [
        ("idle_timeout_ms", \.idleTimeoutMs, HTTPSettings.timeoutMsRange),
        ("header_timeout_ms", \.headerTimeoutMs, HTTPSettings.timeoutMsRange),
        ("body_timeout_ms", \.bodyTimeoutMs, HTTPSettings.timeoutMsRange),
        ("max_connections", \.maxConnections, HTTPSettings.connectionsRange),
        ("max_connections_per_source", \.maxConnectionsPerSource, HTTPSettings.connectionsRange),
        ("reserved_files", \.reservedFiles, HTTPSettings.reservedFilesRange),
        ("auth_failures_allowed", \.authFailuresAllowed, HTTPSettings.authFailuresRange),
        ("auth_backoff_ms", \.authBackoffMs, HTTPSettings.timeoutMsRange),
        ("auth_backoff_max_ms", \.authBackoffMaxMs, HTTPSettings.timeoutMsRange),
        ("refusal_log_interval_ms", \.refusalLogIntervalMs, HTTPSettings.timeoutMsRange),
    ] }

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
