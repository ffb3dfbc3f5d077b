/// Where a record came from: a file and its 1-based line, or a stream and
/// its 1-based message index. Every decoding error names one.
public struct FeedPosition: Sendable, Equatable, CustomStringConvertible {
    public var source: String
    public var line: Int

    public init(source: String, line: Int) {
        self.source = source
        self.line = line
    }

    public var description: String { "\(source):\(line)" }
}

/// A record that could not be decoded, and why.
public struct FeedError: Error, Sendable, Equatable, CustomStringConvertible {
    public var position: FeedPosition
    public var reason: String

    public init(_ position: FeedPosition, _ reason: String) {
        self.position = position
        self.reason = reason
    }

    public var description: String { "\(position): \(reason)" }
}

/// What a reader does with a record it cannot decode.
public enum BadRecordPolicy: String, Sendable, CaseIterable {
    /// Count it, remember the first errors, go on.
    case skip
    /// Throw the error; nothing after it is read.
    case stop
}
