import AlphaPlusSDK
import CCurl
import Foundation

/// Asynchronous HTTP over libcurl's multi interface. One dedicated thread
/// runs every transfer: it sleeps in `curl_multi_poll` until a socket is
/// ready, a libcurl timer falls due or `curl_multi_wakeup` tells it that
/// a request was added or cancelled. All transfers share the multi
/// handle's connection pool, so sequential requests to one origin reuse
/// one connection.
///
/// Every request is sent with TLS verification on, only http and https
/// allowed, no redirect followed (a 30x is an answer), a time limit and a
/// cap on the response body. `send` and `cancel` may be called from any
/// thread; completions run on the client's thread, so they must be short
/// (hand the result to a queue of your own).
public final class HTTPClient: Sendable {
    public struct Configuration: Sendable {
        /// For a request that gives no time limit of its own.
        public var defaultTimeoutMs: UInt32 = 10_000
        /// Connecting (TCP and TLS) may take at most this long, and never
        /// longer than the request's own limit.
        public var connectTimeoutMs: UInt32 = 5_000
        /// A larger response body fails the request (`responseTooLarge`).
        public var maxResponseBytes = 4 << 20
        /// Concurrent connections to one host; more requests wait for one.
        public var maxConnectionsPerHost = 8
        /// Idle connections kept open for reuse.
        public var maxCachedConnections = 64
        /// Sent when the request has no User-Agent of its own.
        public var userAgent = "alphaplus"

        public init() {}
    }

    public struct RequestID: Hashable, Sendable {
        public let rawValue: UInt64
        public init(rawValue: UInt64) { self.rawValue = rawValue }
    }

    /// Runs exactly once per accepted request, on the client's thread.
    public typealias Completion = @Sendable (Result<HTTPResponse, HTTPClientError>) -> Void

    public let configuration: Configuration
    private let engine: Engine

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        engine = Engine(configuration)
    }

    deinit { engine.stop(waiting: false) }

    /// Starts a request. Throws, and never completes, when the request is
    /// malformed (`invalidRequest`) or the client is shut down.
    @discardableResult
    public func send(_ request: HTTPRequest, completion: @escaping Completion) throws(HTTPClientError) -> RequestID {
        let url = try HTTPURL(parsing: request.url)
        let transfer = try Transfer(request, url: url, configuration: configuration, completion: completion)
        return RequestID(rawValue: try engine.submit(transfer))
    }

    /// Cancels a request: its completion runs with `cancelled` unless it
    /// has run already. An unknown or finished id is ignored.
    public func cancel(_ id: RequestID) { engine.cancel(id.rawValue) }

    /// Cancels every request in flight (their completions run with
    /// `cancelled`), closes the connections and ends the thread; waits for
    /// it unless called from a completion. Later `send`s throw.
    public func shutdown() { engine.stop(waiting: true) }

    /// libcurl's version line, e.g. "libcurl/7.88.1 OpenSSL/3.0.15 zlib/1.2.13 nghttp2/1.52.0".
    public static var libcurlVersion: String {
        _ = Engine.globalInit
        return String(cString: curl_version())
    }
}

/// The multi handle and its thread. Separate from HTTPClient so the thread
/// never keeps the client alive: dropping the client stops the thread.
// @unchecked: the multi handle is touched by the curl thread alone; the request queue is guarded by `lock`.
private final class Engine: @unchecked Sendable {
    /// curl_global_init, once per process, before any other libcurl call.
    static let globalInit: Void = {
        let status = curl_global_init(Int(CURL_GLOBAL_DEFAULT))
        precondition(status == CURLE_OK, "curl_global_init failed: \(String(cString: curl_easy_strerror(status)))")
    }()

    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    // Under `lock`: what other threads hand to the curl thread.
    private var submitted: [Transfer] = []
    private var cancellations: [UInt64] = []
    private var nextID: UInt64 = 1
    private var stopping = false
    /// Set by the curl thread once the multi handle may no longer be woken.
    private var closed = false
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)
    // Only on the curl thread.
    private var active: [UInt64: Transfer] = [:]
    private var byHandle: [UnsafeMutableRawPointer: Transfer] = [:]

    init(_ configuration: HTTPClient.Configuration) {
        _ = Engine.globalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed: out of memory") }
        self.multi = multi
        ap_curl_multi_setopt_long(multi, CURLMOPT_MAX_HOST_CONNECTIONS, configuration.maxConnectionsPerHost)
        ap_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, configuration.maxCachedConnections)
        let thread = Thread { [self] in run() }
        thread.name = "alphaplus-http"
        self.thread = thread
        thread.start()
    }

    func submit(_ transfer: Transfer) throws(HTTPClientError) -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        guard !stopping else { throw HTTPClientError(.unavailable, "the HTTP client is shut down") }
        transfer.id = nextID
        nextID += 1
        submitted.append(transfer)
        curl_multi_wakeup(multi)
        return transfer.id
    }

    func cancel(_ id: UInt64) {
        lock.withLock {
            guard !stopping else { return }
            cancellations.append(id)
            curl_multi_wakeup(multi)
        }
    }

    func stop(waiting: Bool) {
        lock.withLock {
            stopping = true
            if !closed { curl_multi_wakeup(multi) }
        }
        guard waiting, Thread.current != thread else { return }
        finished.wait()
        finished.signal()  // for any other caller waiting too
    }

    private func run() {
        var stillRunning: Int32 = 0
        while true {
            let (added, cancelled, stop) = lock.withLock {
                defer { submitted.removeAll(); cancellations.removeAll() }
                return (submitted, cancellations, stopping)
            }
            for transfer in added {
                let status = curl_multi_add_handle(multi, transfer.easy)
                guard status == CURLM_OK else {
                    transfer.completion(.failure(HTTPClientError(.unavailable, "libcurl refused the transfer: \(String(cString: curl_multi_strerror(status)))")))
                    continue
                }
                active[transfer.id] = transfer
                byHandle[transfer.easy] = transfer
            }
            for id in cancelled {
                if let transfer = active[id] { finish(transfer, .failure(HTTPClientError(.cancelled, "cancelled"))) }
            }
            if stop {
                for transfer in active.values.sorted(by: { $0.id < $1.id }) {
                    finish(transfer, .failure(HTTPClientError(.cancelled, "cancelled: the HTTP client shut down")))
                }
                break
            }
            curl_multi_perform(multi, &stillRunning)
            var queued: Int32 = 0
            while let message = curl_multi_info_read(multi, &queued) {
                // The message dies with remove_handle: read it first.
                let (kind, easy, result) = (message.pointee.msg, message.pointee.easy_handle, message.pointee.data.result)
                guard kind == CURLMSG_DONE, let easy, let transfer = byHandle[easy] else { continue }
                finish(transfer, transfer.outcome(result))
            }
            // Sleeps until a socket is ready, libcurl's next timer (it
            // shortens the wait itself) or curl_multi_wakeup.
            curl_multi_poll(multi, nil, 0, 1_000, nil)
        }
        lock.withLock { closed = true }
        curl_multi_cleanup(multi)
        finished.signal()
    }

    private func finish(_ transfer: Transfer, _ result: Result<HTTPResponse, HTTPClientError>) {
        curl_multi_remove_handle(multi, transfer.easy)
        active[transfer.id] = nil
        byHandle[transfer.easy] = nil
        transfer.completion(result)
    }
}

/// One request's easy handle, its header list and what has arrived so far.
/// Built on the caller's thread, then touched by the curl thread alone.
// @unchecked: built on the caller's thread, then touched by the curl thread alone (handed over under the engine's lock).
private final class Transfer: @unchecked Sendable {
    var id: UInt64 = 0
    let easy: UnsafeMutableRawPointer
    let completion: HTTPClient.Completion
    private let timeoutMs: UInt32
    private let maxResponseBytes: Int
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE))
    private var responseHeaders: [HTTPHeader] = []
    private var body: [UInt8] = []
    private var bodyOverflowed = false

    init(_ request: HTTPRequest, url: HTTPURL, configuration: HTTPClient.Configuration,
         completion: @escaping HTTPClient.Completion) throws(HTTPClientError) {
        guard let easy = curl_easy_init() else { throw HTTPClientError(.unavailable, "libcurl could not allocate a transfer") }
        self.easy = easy
        self.completion = completion
        timeoutMs = request.timeoutMs > 0 ? request.timeoutMs : configuration.defaultTimeoutMs
        maxResponseBytes = configuration.maxResponseBytes
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try configure(request, url: url, configuration: configuration)
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    private func configure(_ request: HTTPRequest, url: HTTPURL, configuration: HTTPClient.Configuration) throws(HTTPClientError) {
        let method = request.method
        guard !method.isEmpty, method.utf8.allSatisfy(Self.isTokenByte) else {
            throw HTTPClientError(.invalidRequest, "the method '\(method)' is not an HTTP token")
        }
        var lines: [String] = []
        for header in request.headers {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy(Self.isTokenByte) else {
                throw HTTPClientError(.invalidRequest, "the header name '\(header.name)' is not an HTTP token")
            }
            guard !header.value.utf8.contains(where: { $0 == 13 || $0 == 10 || $0 == 0 }) else {
                throw HTTPClientError(.invalidRequest, "the value of header '\(header.name)' contains CR, LF or NUL")
            }
            // "Name;" is libcurl's way to send a header with an empty value.
            lines.append(header.value.isEmpty ? "\(header.name);" : "\(header.name): \(header.value)")
        }
        let sendsBody = !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(method)
        // libcurl would add "Expect: 100-continue" (a round trip's delay)
        // and, for a body, a form Content-Type the caller did not choose.
        if request.header("Expect") == nil { lines.append("Expect:") }
        if sendsBody, request.header("Content-Type") == nil { lines.append("Content-Type:") }
        for line in lines { headerList = curl_slist_append(headerList, line) }

        let user = Unmanaged.passUnretained(self).toOpaque()
        try check(ap_curl_setopt_str(easy, CURLOPT_URL, url.absoluteString), "URL")
        try check(ap_curl_setopt_str(easy, CURLOPT_PROTOCOLS_STR, "http,https"), "PROTOCOLS_STR")
        try check(ap_curl_setopt_long(easy, CURLOPT_FOLLOWLOCATION, 0), "FOLLOWLOCATION")
        try check(ap_curl_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1), "SSL_VERIFYPEER")
        try check(ap_curl_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2), "SSL_VERIFYHOST")
        // No signals: DNS timeouts must not use SIGALRM in a threaded host.
        try check(ap_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1), "NOSIGNAL")
        try check(ap_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, Int(timeoutMs)), "TIMEOUT_MS")
        try check(ap_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, Int(min(timeoutMs, configuration.connectTimeoutMs))), "CONNECTTIMEOUT_MS")
        try check(ap_curl_setopt_str(easy, CURLOPT_USERAGENT, configuration.userAgent), "USERAGENT")
        try check(ap_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, headerList), "HTTPHEADER")
        try check(ap_curl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer), "ERRORBUFFER")
        try check(ap_curl_setopt_fn(easy, CURLOPT_HEADERFUNCTION, Self.onHeader), "HEADERFUNCTION")
        try check(ap_curl_setopt_ptr(easy, CURLOPT_HEADERDATA, user), "HEADERDATA")
        try check(ap_curl_setopt_fn(easy, CURLOPT_WRITEFUNCTION, Self.onBody), "WRITEFUNCTION")
        try check(ap_curl_setopt_ptr(easy, CURLOPT_WRITEDATA, user), "WRITEDATA")
        switch method {
        case "GET" where !sendsBody:
            try check(ap_curl_setopt_long(easy, CURLOPT_HTTPGET, 1), "HTTPGET")
        case "HEAD" where !sendsBody:
            try check(ap_curl_setopt_long(easy, CURLOPT_NOBODY, 1), "NOBODY")
        default:
            if sendsBody {
                // The size first: COPYPOSTFIELDS copies that many bytes (NULs included).
                try check(ap_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)), "POSTFIELDSIZE_LARGE")
                let empty: StaticString = ""
                let status = request.body.withUnsafeBytes { bytes in
                    ap_curl_setopt_ptr(easy, CURLOPT_COPYPOSTFIELDS, bytes.baseAddress ?? UnsafeRawPointer(empty.utf8Start))
                }
                try check(status, "COPYPOSTFIELDS")
            }
            if method != "POST" || !sendsBody {
                try check(ap_curl_setopt_str(easy, CURLOPT_CUSTOMREQUEST, method), "CUSTOMREQUEST")
            }
        }
    }

    private func check(_ status: CURLcode, _ option: String) throws(HTTPClientError) {
        guard status == CURLE_OK else {
            throw HTTPClientError(.unavailable, "libcurl refused option CURLOPT_\(option): \(String(cString: curl_easy_strerror(status)))")
        }
    }

    /// tchar of RFC 9110: the bytes a method or header name may use.
    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// The response, or why there is none.
    func outcome(_ status: CURLcode) -> Result<HTTPResponse, HTTPClientError> {
        if status == CURLE_OK {
            var code = 0
            ap_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &code)
            return .success(HTTPResponse(status: code, headers: responseHeaders, body: body))
        }
        if bodyOverflowed {
            return .failure(HTTPClientError(.responseTooLarge, "the response body exceeds the client's limit of \(maxResponseBytes) bytes"))
        }
        let detail = errorBuffer.pointee != 0 ? String(cString: errorBuffer) : String(cString: curl_easy_strerror(status))
        if status == CURLE_OPERATION_TIMEDOUT {
            return .failure(HTTPClientError(.timeout, "no complete answer within \(timeoutMs) ms: \(detail)"))
        }
        return .failure(HTTPClientError(.unavailable, detail))
    }

    /// One header line per call, CRLF included. A status line starts a
    /// new response (after a 1xx), so only the final one's headers remain.
    private static let onHeader: ap_curl_data_fn = { data, size, count, user in
        let length = size * count
        let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
        var bytes = UnsafeRawBufferPointer(start: data, count: length)[...]
        while let last = bytes.last, last == 13 || last == 10 { bytes = bytes.dropLast() }
        transfer.receiveHeaderLine(String(decoding: bytes, as: UTF8.self))
        return length
    }

    private func receiveHeaderLine(_ line: String) {
        if line.hasPrefix("HTTP/") { responseHeaders.removeAll(); return }
        guard let first = line.first else { return }
        if first == " " || first == "\t", let last = responseHeaders.indices.last {  // obsolete line folding
            responseHeaders[last].value += " " + line.trimmingCharacters(in: .whitespaces)
            return
        }
        guard let colon = line.firstIndex(of: ":") else { return }
        responseHeaders.append(HTTPHeader(String(line[..<colon]),
                                          line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
    }

    /// Returning less than given aborts the transfer (CURLE_WRITE_ERROR).
    private static let onBody: ap_curl_data_fn = { data, size, count, user in
        let length = size * count
        let transfer = Unmanaged<Transfer>.fromOpaque(user!).takeUnretainedValue()
        guard transfer.body.count + length <= transfer.maxResponseBytes else {
            transfer.bodyOverflowed = true
            return 0
        }
        transfer.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: length))
        return length
    }
}
