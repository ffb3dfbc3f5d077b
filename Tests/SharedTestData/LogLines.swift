import Foundation
import Logging

/// A log handler that keeps the messages, for tests that check what was
/// logged: `Logger(label: "test") { _ in lines }`.
public final class LogLines: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) { lock.withLock { lines.append("\(event.level): \(event.message)") } }

    /// "level: message", in order.
    public var messages: [String] { lock.withLock { lines } }

    public func contains(_ text: String) -> Bool { messages.contains { $0.contains(text) } }
}
