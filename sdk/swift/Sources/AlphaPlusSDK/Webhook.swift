import CAlphaPlus

public struct WebhookRequest: Sendable, Equatable {
    public var method: String
    public var path: String
    public var query: String
    /// In the order received; names as sent (compare case-insensitively).
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    public var requestID: String

    public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)] = [],
                body: [UInt8] = [], requestID: String = "") {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.requestID = requestID
    }

    /// The first header with this name, compared case-insensitively.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    public static func == (a: WebhookRequest, b: WebhookRequest) -> Bool {
        a.method == b.method && a.path == b.path && a.query == b.query && a.body == b.body && a.requestID == b.requestID
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    init(_ raw: UnsafePointer<ap_webhook_request>) {
        let r = raw.pointee
        let headers = r.headers.map { UnsafeBufferPointer(start: $0, count: r.header_count).map { (name: $0.name.string, value: $0.value.string) } } ?? []
        let body = r.body.map { Array(UnsafeBufferPointer(start: $0, count: r.body_len)) } ?? []
        self.init(method: r.method.string, path: r.path.string, query: r.query.string, headers: headers, body: body,
                  requestID: r.request_id.string)
    }

    /// Lends the request as its C struct.
    public func withCRequest<R>(_ body: (UnsafePointer<ap_webhook_request>) throws -> R) rethrows -> R {
        let texts = [method, path, query, requestID] + headers.flatMap { [$0.name, $0.value] }
        return try withAPStrs(texts) { s in
            let rawHeaders = stride(from: 4, to: s.count, by: 2).map { ap_http_header(name: s[$0], value: s[$0 + 1]) }
            return try rawHeaders.withUnsafeBufferPointer { h in
                try self.body.withUnsafeBufferPointer { b in
                    var raw = ap_webhook_request(struct_size: UInt32(MemoryLayout<ap_webhook_request>.size), method: s[0],
                                                 path: s[1], query: s[2], headers: h.baseAddress, header_count: h.count,
                                                 body: b.baseAddress, body_len: b.count, request_id: s[3])
                    return try body(&raw)
                }
            }
        }
    }
}

public struct WebhookResponse: Sendable, Equatable {
    public var status: Int32
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(status: Int32 = 200, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: Int32 = 200, contentType: String = "application/json", text: String) {
        self.init(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    public static func == (a: WebhookResponse, b: WebhookResponse) -> Bool {
        a.status == b.status && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    func send(through raw: UnsafePointer<ap_webhook_response>) {
        let responder = raw.pointee
        responder.set_status(responder.host_data, status)
        for header in headers {
            withAPStr(header.name) { name in withAPStr(header.value) { value in responder.add_header(responder.host_data, name, value) } }
        }
        body.withUnsafeBufferPointer { responder.append_body(responder.host_data, $0.baseAddress, $0.count) }
    }
}
