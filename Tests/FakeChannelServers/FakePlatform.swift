import AlphaPlusSDK
import Foundation

/// A fake of a platform's HTTP API (Discord, Telegram, X) that answers as
/// the real one documents: its limits, its errors and their exact bodies
/// and headers (facts in ../shared/reference/channels.md). A fake is plain
/// request-in, response-out, so a test can call it directly (a TestHost's
/// `httpHandler`) or serve it on loopback for the host's HTTP client.
public protocol FakePlatform: AnyObject, Sendable {
    func handle(_ request: HTTPRequest) -> HTTPResponse
}

/// The time a fake judges rate limits by: the wall clock, or a manual one
/// a test moves (then "429 for a minute" takes no minute).
public final class FakeClock: @unchecked Sendable {
    private let lock = NSLock()
    private var manualSeconds: Double?

    /// The wall clock.
    public init() {}

    /// A manual clock starting at `seconds` since the Unix epoch.
    public init(manualSeconds: Double) { self.manualSeconds = manualSeconds }

    /// Seconds since the Unix epoch.
    public var now: Double {
        lock.withLock { manualSeconds } ?? Date().timeIntervalSince1970
    }

    /// Moves a manual clock forward (no effect on the wall clock).
    public func advance(by seconds: Double) {
        lock.withLock { if let current = manualSeconds { manualSeconds = current + seconds } }
    }
}
