import AlphaPlusSDK
import Foundation

/// A platform that answers with a closure and records every request, in
/// order: for tests of the transport itself rather than of one platform.
public final class ScriptedPlatform: FakePlatform, @unchecked Sendable {
    private let lock = NSLock()
    private var received: [HTTPRequest] = []
    private let answer: @Sendable (HTTPRequest) -> HTTPResponse

    public init(_ answer: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.answer = answer
    }

    /// Every request handled so far, in arrival order.
    public var requests: [HTTPRequest] { lock.withLock { received } }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        lock.withLock { received.append(request) }
        return answer(request)
    }
}
