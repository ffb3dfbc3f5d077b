import AlphaPlusSDK
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a loopback server could not start.
public struct LoopbackServerError: Error, CustomStringConvertible {
    public let description: String
}

/// Serves a FakePlatform over HTTP/1.1 on 127.0.0.1 (an ephemeral port),
/// for tests that go through the host's real HTTP client. A thread per
/// connection reads requests (request line, headers, a Content-Length
/// body; chunked request bodies are answered 501) and writes each answer
/// with a Content-Length, keeping the connection open unless the client
/// asks to close it.
///
///     let server = try LoopbackServer(platform)
///     … requests to server.baseURL …
///     server.connectionCount  // connections accepted (1 when reused)
///     server.stop()
///
/// Call `stop()`: the server's threads keep it alive until then.
public final class LoopbackServer: @unchecked Sendable {
    public let port: UInt16
    public var baseURL: String { "http://127.0.0.1:\(port)" }

    private let platform: any FakePlatform
    private let listener: Int32
    private let lock = NSCondition()
    private var openConnections: Set<Int32> = []
    private var accepted = 0
    private var answered = 0
    private var delaySeconds: Double
    private var stopped = false
    private let threads = DispatchGroup()

    private static let maxHeadBytes = 64 << 10
    private static let maxBodyBytes = 16 << 20

    /// Starts listening at once. `responseDelay` (seconds) is waited after
    /// the platform has handled a request and before the answer is
    /// written, as a slow server would.
    public init(_ platform: any FakePlatform, responseDelay: Double = 0) throws {
        self.platform = platform
        delaySeconds = responseDelay
        #if os(Linux)
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard fd >= 0 else { throw LoopbackServerError(description: "socket() failed: \(String(cString: strerror(errno)))") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0  // the kernel picks a free port
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { raw in
                bind(fd, raw, length) == 0 && listen(fd, 128) == 0 && getsockname(fd, raw, &length) == 0
            }
        }
        guard bound else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw LoopbackServerError(description: "cannot listen on 127.0.0.1: \(reason)")
        }
        listener = fd
        port = UInt16(bigEndian: address.sin_port)
        threads.enter()
        let acceptor = Thread { [self] in acceptLoop() }
        acceptor.name = "loopback-accept-\(port)"
        acceptor.start()
    }

    /// Connections accepted so far.
    public var connectionCount: Int { lock.withLock { accepted } }

    /// Requests handed to the platform so far.
    public var requestCount: Int { lock.withLock { answered } }

    /// Seconds waited before each answer is written (0: none).
    public var responseDelay: Double {
        get { lock.withLock { delaySeconds } }
        set { lock.withLock { delaySeconds = newValue } }
    }

    /// Stops accepting, closes every connection (cutting short any delay)
    /// and waits for the server's threads to end. Idempotent.
    public func stop() {
        let connections: Set<Int32>? = lock.withLock {
            guard !stopped else { return nil }
            stopped = true
            lock.broadcast()
            return openConnections
        }
        guard let connections else { return }
        // Shutting a socket down wakes the thread blocked in accept or recv on it.
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in connections { shutdown(fd, Int32(SHUT_RDWR)) }
        threads.wait()
        close(listener)
    }

    private func acceptLoop() {
        defer { threads.leave() }
        while true {
            let fd = accept(listener, nil, nil)
            if fd < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            let admitted: Bool = lock.withLock {
                guard !stopped else { return false }
                accepted += 1
                openConnections.insert(fd)
                return true
            }
            guard admitted else { close(fd); return }
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)  // not inherited by processes the tests start
            var on: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))
            #if !os(Linux)
            setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
            #endif
            threads.enter()
            let worker = Thread { [self] in
                serve(fd)
                lock.withLock { _ = openConnections.remove(fd) }
                close(fd)
                threads.leave()
            }
            worker.name = "loopback-connection-\(port)"
            worker.start()
        }
    }

    /// Request after request on one connection until either side closes.
    private func serve(_ fd: Int32) {
        var buffer: [UInt8] = []
        while true {
            guard let headEnd = readHead(fd, &buffer) else {
                if buffer.count > Self.maxHeadBytes { write(fd, status: 431, body: "request head too large", close: true) }
                return
            }
            guard let head = RequestHead(Array(buffer[..<headEnd])) else {
                write(fd, status: 400, body: "malformed request head", close: true)
                return
            }
            if head.headers.value(of: "Transfer-Encoding") != nil {
                write(fd, status: 501, body: "chunked request bodies are not supported; send Content-Length", close: true)
                return
            }
            let lengthText = head.headers.value(of: "Content-Length") ?? "0"
            guard let length = Int(lengthText), length >= 0, length <= Self.maxBodyBytes else {
                write(fd, status: 400, body: "bad Content-Length '\(lengthText)'", close: true)
                return
            }
            if length > 0, head.headers.value(of: "Expect")?.lowercased() == "100-continue" {
                guard sendAll(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)) else { return }
            }
            while buffer.count < headEnd + length {
                guard receive(fd, into: &buffer) else { return }
            }
            let body = Array(buffer[headEnd..<headEnd + length])
            buffer.removeFirst(headEnd + length)
            let authority = head.headers.value(of: "Host") ?? "127.0.0.1:\(port)"
            let url = head.target.hasPrefix("http://") || head.target.hasPrefix("https://") ? head.target : "http://\(authority)\(head.target)"
            let response = platform.handle(HTTPRequest(method: head.method, url: url, headers: head.headers, body: body))
            guard waitOutDelay() else { return }
            let connection = head.headers.value(of: "Connection")?.lowercased()
            let keepAlive = head.version == "HTTP/1.1" ? connection != "close" : connection == "keep-alive"
            guard write(fd, response, headOnly: head.method == "HEAD", close: !keepAlive), keepAlive else { return }
        }
    }

    /// Counts the request and waits the configured delay; false when the
    /// server stopped meanwhile.
    private func waitOutDelay() -> Bool {
        lock.withLock {
            answered += 1
            let deadline = Date(timeIntervalSinceNow: delaySeconds)
            while !stopped, Date() < deadline { _ = lock.wait(until: deadline) }
            return !stopped
        }
    }

    /// Reads until the buffer holds a whole request head; the index after
    /// its blank line, or nil when the connection ended or the head is too large.
    private func readHead(_ fd: Int32, _ buffer: inout [UInt8]) -> Int? {
        var searchFrom = 0
        while true {
            if buffer.count >= 4 {
                for i in max(searchFrom, 3)..<buffer.count
                where buffer[i] == 10 && buffer[i - 1] == 13 && buffer[i - 2] == 10 && buffer[i - 3] == 13 {
                    return i + 1
                }
                searchFrom = buffer.count
            }
            guard buffer.count <= Self.maxHeadBytes, receive(fd, into: &buffer) else { return nil }
        }
    }

    private func receive(_ fd: Int32, into buffer: inout [UInt8]) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return false }
            buffer.append(contentsOf: chunk[..<count])
            return true
        }
    }

    @discardableResult
    private func write(_ fd: Int32, status: Int, body: String, close: Bool) -> Bool {
        write(fd, HTTPResponse(status: status, headers: [HTTPHeader("Content-Type", "text/plain")], body: Array(body.utf8)),
              headOnly: false, close: close)
    }

    /// The response with a Content-Length of our own (the platform's
    /// framing headers are dropped); no body for HEAD, 204 and 304.
    private func write(_ fd: Int32, _ response: HTTPResponse, headOnly: Bool, close: Bool) -> Bool {
        let framing: Set<String> = ["content-length", "transfer-encoding", "connection"]
        var head = "HTTP/1.1 \(response.status) \(Self.reason(response.status))\r\n"
        for header in response.headers where !framing.contains(header.name.lowercased()) {
            head += "\(header.name): \(header.value)\r\n"
        }
        let bodiless = response.status == 204 || response.status == 304
        if !bodiless { head += "Content-Length: \(response.body.count)\r\n" }
        if close { head += "Connection: close\r\n" }
        head += "\r\n"
        return sendAll(fd, Array(head.utf8) + (headOnly || bodiless ? [] : response.body))
    }

    private func sendAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        #if os(Linux)
        let flags = Int32(MSG_NOSIGNAL)  // a client that hung up must not kill the test with SIGPIPE
        #else
        let flags: Int32 = 0
        #endif
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, flags) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            offset += sent
        }
        return true
    }

    private static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 413: "Content Too Large"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 501: "Not Implemented"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        default: "Status \(status)"
        }
    }
}

/// A request line and its headers, in order.
private struct RequestHead {
    let method: String
    let target: String
    let version: String
    let headers: [HTTPHeader]

    init?(_ bytes: [UInt8]) {
        let lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n").filter { !$0.isEmpty }
        guard let requestLine = lines.first else { return nil }
        let parts = requestLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, parts[1].first == "/" || parts[1].hasPrefix("http"),
              parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0" else { return nil }
        method = String(parts[0])
        target = String(parts[1])
        version = String(parts[2])
        var headers: [HTTPHeader] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else { return nil }
            headers.append(HTTPHeader(String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)))
        }
        self.headers = headers
    }
}
