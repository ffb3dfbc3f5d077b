import CAlphaPlus

/// An HTTP request made through the host (a plugin never opens a socket).
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// Absolute `https://` URL (or `http://` to loopback) on a host the
    /// plugin's descriptor declares.
    public var url: String
    public var headers: [HTTPHeader]
    public var body: [UInt8]
    /// 0: the host's default.
    public var timeoutMs: UInt32

    public init(method: String, url: String, headers: [HTTPHeader] = [], body: [UInt8] = [], timeoutMs: UInt32 = 0) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeoutMs = timeoutMs
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? { headers.value(of: name) }

    /// Copies the contract's request (hosts and test hosts read it so).
    public init(_ raw: UnsafePointer<ap_http_request>) {
        let r = raw.pointee
        self.init(method: r.method.string, url: r.url.string, headers: HTTPHeader.from(r.headers, count: r.header_count),
                  body: r.body.map { Array(UnsafeBufferPointer(start: $0, count: r.body_len)) } ?? [],
                  timeoutMs: r.timeout_ms)
    }

    /// Lends the request as its C struct.
    public func withCRequest<R>(_ body: (UnsafePointer<ap_http_request>) throws -> R) rethrows -> R {
        try withAPStrs([method, url]) { s in
            try HTTPHeader.withCHeaders(headers) { headers, headerCount in
                try self.body.withUnsafeBufferPointer { bytes in
                    var raw = ap_http_request(struct_size: UInt32(MemoryLayout<ap_http_request>.size), method: s[0], url: s[1],
                                              headers: headers, header_count: headerCount, body: bytes.baseAddress,
                                              body_len: bytes.count, timeout_ms: timeoutMs)
                    return try body(&raw)
                }
            }
        }
    }
}

public struct HTTPHeader: Sendable, Equatable, Hashable {
    public var name: String
    public var value: String

    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    static func from(_ raw: UnsafePointer<ap_http_header>?, count: Int) -> [HTTPHeader] {
        guard let raw else { return [] }
        return UnsafeBufferPointer(start: raw, count: count).map { HTTPHeader($0.name.string, $0.value.string) }
    }

    /// Lends headers as the contract's array.
    public static func withCHeaders<R>(_ headers: [HTTPHeader],
                                       _ body: (UnsafePointer<ap_http_header>?, Int) throws -> R) rethrows -> R {
        try withAPStrs(headers.flatMap { [$0.name, $0.value] }) { s in
            let raw = stride(from: 0, to: s.count, by: 2).map { ap_http_header(name: s[$0], value: s[$0 + 1]) }
            return try raw.withUnsafeBufferPointer { try body($0.baseAddress, $0.count) }
        }
    }
}

extension [HTTPHeader] {
    /// The first header with this name, compared case-insensitively.
    public func value(of name: String) -> String? {
        let wanted = name.lowercased()
        return first { $0.name.lowercased() == wanted }?.value
    }
}

/// An HTTP response as the platform sent it, whatever its status code.
public struct HTTPResponse: Sendable, Equatable {
    public var status: Int
    public var headers: [HTTPHeader]
    public var body: [UInt8]

    public init(status: Int, headers: [HTTPHeader] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? { headers.value(of: name) }
    public var bodyText: String { String(decoding: body, as: UTF8.self) }

    /// Lends the response as its C struct (hosts and test hosts).
    public func withCResponse<R>(_ body: (UnsafePointer<ap_http_response>) throws -> R) rethrows -> R {
        try HTTPHeader.withCHeaders(headers) { headers, count in
            try self.body.withUnsafeBufferPointer { bytes in
                var raw = ap_http_response(struct_size: UInt32(MemoryLayout<ap_http_response>.size),
                                           transport_status: ap_status(AP_OK), status: Int32(status), headers: headers,
                                           header_count: count, body: bytes.baseAddress, body_len: bytes.count,
                                           error_message: ap_str(ptr: nil, len: 0))
                return try body(&raw)
            }
        }
    }

    /// Lends a transport failure (no response arrived) as the C struct.
    public static func withCFailure<R>(_ failure: PluginError, _ body: (UnsafePointer<ap_http_response>) throws -> R) rethrows -> R {
        try withAPStr(failure.message) { message in
            var raw = ap_http_response(struct_size: UInt32(MemoryLayout<ap_http_response>.size),
                                       transport_status: failure.status, status: 0, headers: nil, header_count: 0,
                                       body: nil, body_len: 0, error_message: message)
            return try body(&raw)
        }
    }

    /// Reads the contract's response: a response, or the transport failure.
    public static func from(_ raw: UnsafePointer<ap_http_response>) -> Result<HTTPResponse, PluginError> {
        let r = raw.pointee
        guard r.transport_status == AP_OK else {
            let message = r.error_message.string
            return .failure(PluginError(status: r.transport_status, message.isEmpty ? "the request failed (status \(r.transport_status))" : message))
        }
        return .success(HTTPResponse(status: Int(r.status), headers: HTTPHeader.from(r.headers, count: r.header_count),
                                     body: r.body.map { Array(UnsafeBufferPointer(start: $0, count: r.body_len)) } ?? []))
    }
}

public struct HTTPRequestID: Hashable, Sendable {
    public let rawValue: UInt64
}

public enum HMACAlgorithm: UInt32, Sendable {
    case sha1 = 1
    case sha256 = 2

    public var digestLength: Int { self == .sha1 ? 20 : 32 }
}

extension PluginContext {
    /// Starts an HTTP request through the host. `completion` runs later,
    /// exactly once, on the instance's executor, with the response (any
    /// status code) or the transport failure (timeout, refused, a host the
    /// descriptor does not declare). Throws, and never completes, when the
    /// host refuses the request at once.
    @discardableResult
    public func send(_ request: HTTPRequest,
                     completion: @escaping (Result<HTTPResponse, PluginError>) -> Void) throws -> HTTPRequestID {
        guard let start = api.pointee.http_request else {
            throw PluginError.unsupported("this host offers no HTTP service")
        }
        let box = Unmanaged.passRetained(HTTPCompletionBox(completion))
        var id: UInt64 = 0
        let status = request.withCRequest { raw in
            start(self.raw, raw, { user, _, response in
                let box = Unmanaged<HTTPCompletionBox>.fromOpaque(user!).takeRetainedValue()
                box.completion(HTTPResponse.from(response!))
            }, box.toOpaque(), &id)
        }
        guard status == AP_OK else {
            box.release()
            throw PluginError(status: status, "the host refused \(request.method) \(request.url) (status \(status))")
        }
        return HTTPRequestID(rawValue: id)
    }

    /// Cancels a request; its completion then runs with a failure if it
    /// has not run yet.
    public func cancel(_ request: HTTPRequestID) {
        _ = api.pointee.http_cancel?(raw, request.rawValue)
    }

    /// HMAC of `message` keyed by `key`, computed by the host.
    public func hmac(_ algorithm: HMACAlgorithm, key: [UInt8], message: [UInt8]) throws -> [UInt8] {
        let end = MemoryLayout<ap_host_api>.offset(of: \.crypto_hmac)! + MemoryLayout<UnsafeRawPointer>.size
        guard Int(api.pointee.struct_size) >= end, let hmac = api.pointee.crypto_hmac else {
            throw PluginError.unsupported("this host offers no HMAC service (it predates plugin ABI 1.1)")
        }
        var out = [UInt8](repeating: 0, count: algorithm.digestLength)
        var written = 0
        let status = key.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { message in
                out.withUnsafeMutableBufferPointer { out in
                    hmac(raw, algorithm.rawValue, key.baseAddress, key.count, message.baseAddress, message.count,
                         out.baseAddress, out.count, &written)
                }
            }
        }
        guard status == AP_OK else { throw PluginError(status: status, "the host refused an HMAC (status \(status))") }
        return Array(out.prefix(written))
    }
}

private final class HTTPCompletionBox {
    let completion: (Result<HTTPResponse, PluginError>) -> Void
    init(_ completion: @escaping (Result<HTTPResponse, PluginError>) -> Void) { self.completion = completion }
}
