import CCurl

/// Scheme, host and port of an http(s) URL: what an allowlist and an
/// endpoint override compare. The host is lowercase and an IPv6 address is
/// written in brackets, as libcurl writes it.
public struct HTTPOrigin: Hashable, Sendable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int

    /// An origin alone, e.g. "https://discord.com" or "http://127.0.0.1:18081":
    /// no path (a single "/" is allowed), query, fragment or credentials.
    public init(parsing text: String) throws(HTTPClientError) {
        let url = try HTTPURL(parsing: text)
        guard url.pathAndQuery == "/", !url.hadFragment else {
            throw HTTPClientError(.invalidRequest, "an origin has no path, query or fragment: give scheme, host and port only (e.g. https://discord.com)")
        }
        self = url.origin
    }

    init(scheme: String, host: String, port: Int) {
        self.scheme = scheme
        self.host = host
        self.port = port
    }

    /// "https://discord.com", with the port only when it is not the scheme's default.
    public var description: String {
        port == (scheme == "https" ? 443 : 80) ? "\(scheme)://\(host)" : "\(scheme)://\(host):\(port)"
    }

    /// 127.0.0.1, ::1 or localhost (which libcurl resolves to loopback itself).
    public var isLoopback: Bool { host == "127.0.0.1" || host == "[::1]" || host == "localhost" }
}

/// An absolute http or https URL parsed by libcurl's own URL parser, so
/// the host a caller checks is the host libcurl connects to (no second
/// parser that could read a crafted URL differently).
public struct HTTPURL: Sendable, Equatable {
    public let origin: HTTPOrigin
    /// The path and query as libcurl will send them, e.g. "/api/v10/webhooks/1?wait=true".
    public let pathAndQuery: String
    let hadFragment: Bool

    public init(parsing text: String) throws(HTTPClientError) {
        guard !text.utf8.contains(0) else { throw HTTPClientError(.invalidRequest, "the URL contains a NUL byte") }
        guard let handle = curl_url() else { throw HTTPClientError(.unavailable, "libcurl could not allocate a URL handle") }
        defer { curl_url_cleanup(handle) }
        let status = curl_url_set(handle, CURLUPART_URL, text, 0)
        guard status == CURLUE_OK else {
            throw HTTPClientError(.invalidRequest, "the URL is not an absolute http(s) URL: \(String(cString: curl_url_strerror(status)))")
        }
        func part(_ which: CURLUPart, _ flags: Int32 = 0) -> String? {
            var value: UnsafeMutablePointer<CChar>?
            guard curl_url_get(handle, which, &value, UInt32(flags)) == CURLUE_OK, let value else { return nil }
            defer { curl_free(value) }
            return String(cString: value)
        }
        let scheme = part(CURLUPART_SCHEME)?.lowercased() ?? ""
        guard scheme == "https" || scheme == "http" else {
            throw HTTPClientError(.invalidRequest, "the URL's scheme '\(scheme)' is not http or https")
        }
        guard let host = part(CURLUPART_HOST)?.lowercased(), !host.isEmpty else {
            throw HTTPClientError(.invalidRequest, "the URL has no host")
        }
        guard part(CURLUPART_USER) == nil, part(CURLUPART_PASSWORD) == nil else {
            throw HTTPClientError(.invalidRequest, "the URL carries credentials (user:password@); send them in a header")
        }
        guard let portText = part(CURLUPART_PORT, CURLU_DEFAULT_PORT), let port = Int(portText) else {
            throw HTTPClientError(.invalidRequest, "the URL has no usable port")
        }
        origin = HTTPOrigin(scheme: scheme, host: host, port: port)
        let path = part(CURLUPART_PATH) ?? "/"
        pathAndQuery = part(CURLUPART_QUERY).map { "\(path)?\($0)" } ?? path
        hadFragment = part(CURLUPART_FRAGMENT) != nil
    }

    init(origin: HTTPOrigin, pathAndQuery: String) {
        self.origin = origin
        self.pathAndQuery = pathAndQuery
        hadFragment = false
    }

    /// The same path and query at another origin (an endpoint override).
    public func replacingOrigin(with other: HTTPOrigin) -> HTTPURL {
        HTTPURL(origin: other, pathAndQuery: pathAndQuery)
    }

    /// The whole URL. It may carry secrets in its path (a bot token, a
    /// webhook token): log `origin`, never this.
    public var absoluteString: String { origin.description + pathAndQuery }
}
