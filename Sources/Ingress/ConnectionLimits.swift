import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Open connections, in total and per source address.
final class ConnectionCounts: Sendable {
    enum Admission: Equatable {
        case admitted
        /// The server's cap is reached.
        case overTotal(cap: Int)
        /// The source's cap is reached.
        case overSource(cap: Int)
    }

    private struct Open {
        var total = 0
        var bySource: [String: Int] = [:]
    }

    let cap: Int
    let perSource: Int
    private let counts = Mutex(Open())

    init(cap: Int, perSource: Int) {
        self.cap = cap
        self.perSource = perSource
    }

    /// Counts the connection when it is admitted (then `release` it when it closes).
    func admit(_ source: String) -> Admission {
        counts.withLock { open in
            guard open.total < cap else { return .overTotal(cap: cap) }
            guard open.bySource[source, default: 0] < perSource else { return .overSource(cap: perSource) }
            open.total += 1
            open.bySource[source, default: 0] += 1
            return .admitted
        }
    }

    func release(_ source: String) {
        counts.withLock { open in
            open.total -= 1
            let left = open.bySource[source, default: 1] - 1
            open.bySource[source] = left > 0 ? left : nil
        }
    }

    var open: Int { counts.withLock { $0.total } }
}

/// Hummingbird's HTTP/1.1 child channel with the server's limits: a
/// connection over the total or per-source cap is answered at once (503,
/// or 429 for its source) and closed without reading a request; an
/// admitted one has its request head and body timed (408 and closed when
/// late) and is closed when idle (Hummingbird's idle timeout).
struct LimitedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let limits: ServerLimits
    let counts: ConnectionCounts
    let refusals: RefusalLog

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let source = channel.remoteAddress?.ipAddress ?? "unknown"
        let admission = counts.admit(source)
        if admission == .admitted {
            let counts = counts
            channel.closeFuture.whenComplete { _ in counts.release(source) }
        }
        let refusals = refusals, limits = limits
        return channel.eventLoop.makeCompletedFuture { () -> HTTP1Channel in
            var configuration = HTTP1Channel.Configuration(idleTimeout: TimeAmount(limits.idleTimeout))
            switch admission {
            case .admitted:
                let deadlines = RequestDeadlines(source: source, headerTimeout: limits.headerTimeout, bodyTimeout: limits.bodyTimeout,
                                                 refusals: refusals)
                try channel.pipeline.syncOperations.addHandler(deadlines)
                let bound = NIOLoopBound(deadlines, eventLoop: channel.eventLoop)
                configuration.additionalChannelHandlers = { [RequestProgress(deadlines: bound.value)] }
            case .overTotal(let cap):
                refusals.refused(.connectionLimit, "http: connection from \(source) refused: \(cap) connections are open, the server's limit (http.max_connections, or the open-file limit less http.reserved_files)")
                try channel.pipeline.syncOperations.addHandler(RefuseConnection(
                    status: "503 Service Unavailable", message: "too many connections: the server is at its limit; try again later"))
            case .overSource(let cap):
                refusals.refused(.sourceConnectionLimit, "http: connection from \(source) refused: it has \(cap) connections open, the limit per source (http.max_connections_per_source)")
                try channel.pipeline.syncOperations.addHandler(RefuseConnection(
                    status: "429 Too Many Requests", message: "too many connections from your address (at most \(cap)); close some first"))
            }
            return HTTP1Channel(responder: responder, configuration: configuration)
        }.flatMap { http in http.setup(channel: channel, logger: logger) }
    }

    func handle(value: Value, logger: Logger) async {
        await HTTP1Channel(responder: responder).handle(value: value, logger: logger)
    }
}

/// First in a refused connection's pipeline: answers `status` with
/// `{"error": message}` as soon as the connection is active, closes it,
/// and passes nothing it reads on.
final class RefuseConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let response: String
    private var answered = false

    init(status: String, message: String) {
        response = RawResponse.text(status: status, message: message)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { answer(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        answer(context)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func answer(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let buffer = context.channel.allocator.buffer(string: response)
        context.writeAndFlush(wrapOutboundOut(buffer)).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// A whole HTTP/1.1 response written below the HTTP codec (refusals and
/// timeouts, where there is no request to answer through it).
enum RawResponse {
    static func text(status: String, message: String) -> String {
        let body = #"{"error":""# + message.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + #""}"#
        return "HTTP/1.1 \(status)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }
}

/// First in an admitted connection's pipeline (bytes, before the HTTP
/// decoder): times each request. The first byte of a request starts the
/// head's clock (`headerTimeout`), its head the body's (`bodyTimeout`),
/// its end stops it. When one runs out the connection gets a 408 (unless
/// a response is being written) and is closed. `RequestProgress`, after
/// the decoder, reports the heads, ends and responses.
final class RequestDeadlines: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum Phase {
        /// Between requests: the idle timeout applies.
        case waiting
        case head
        case body
        /// The request is read; the server is answering.
        case answering
    }

    private let source: String
    private let headerTimeout: Duration
    private let bodyTimeout: Duration
    private let refusals: RefusalLog
    private var context: ChannelHandlerContext?
    private var phase = Phase.waiting
    private var responding = false
    private var timer: Scheduled<Void>?

    init(source: String, headerTimeout: Duration, bodyTimeout: Duration, refusals: RefusalLog) {
        self.source = source
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.refusals = refusals
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimer()
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimer()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if phase == .waiting {
            phase = .head
            startTimer(headerTimeout, .headerTimeout)
        }
        context.fireChannelRead(data)
    }

    func headReceived() {
        phase = .body
        startTimer(bodyTimeout, .bodyTimeout)
    }

    func requestEnded() {
        phase = .answering
        stopTimer()
    }

    func responseStarted() { responding = true }

    func responseEnded() {
        responding = false
        if phase == .answering { phase = .waiting }
    }

    private func startTimer(_ timeout: Duration, _ reason: RefusalReason) {
        stopTimer()
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) { [self] in
            timer = nil
            expire(reason, after: timeout)
        }
    }

    private func stopTimer() {
        timer?.cancel()
        timer = nil
    }

    private func expire(_ reason: RefusalReason, after timeout: Duration) {
        guard let context, context.channel.isActive else { return }
        let part = reason == .headerTimeout ? "head" : "body"
        let milliseconds = WebhookRoute.milliseconds(timeout)
        refusals.refused(reason, "http: connection from \(source) closed: a request \(part) did not arrive within \(milliseconds) ms (http.\(reason == .headerTimeout ? "header" : "body")_timeout_ms)")
        guard !responding else {
            context.close(promise: nil)
            return
        }
        let response = RawResponse.text(status: "408 Request Timeout", message: "the request \(part) did not arrive within \(milliseconds) ms")
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(string: response)))
            .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }
}

/// After the HTTP decoder: tells the connection's `RequestDeadlines`
/// where each request and response is.
final class RequestProgress: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let deadlines: RequestDeadlines

    init(deadlines: RequestDeadlines) {
        self.deadlines = deadlines
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head: deadlines.headReceived()
        case .body: break
        case .end: deadlines.requestEnded()
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: deadlines.responseStarted()
        case .body: break
        case .end: deadlines.responseEnded()
        }
        context.write(data, promise: promise)
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
