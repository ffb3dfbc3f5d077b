import Foundation

/// What the server allows a connection and a source before it refuses
/// (the host config's `http:` limits; their defaults are the config's).
public struct ServerLimits: Sendable, Equatable {
    /// A connection with no request in progress and nothing read for this long is closed.
    public var idleTimeout: Duration
    /// A request's head must be complete within this of its first byte (else 408 and closed).
    public var headerTimeout: Duration
    /// A request's body must be complete within this of its head (else 408, or closed mid-answer).
    public var bodyTimeout: Duration
    /// Open connections at most; fewer when the open-file limit leaves less room (see `reservedFiles`).
    public var maxConnections: Int
    /// Open connections from one IP address at most.
    public var maxConnectionsPerSource: Int
    /// Files kept free below the process's open-file limit (RLIMIT_NOFILE) for
    /// everything but connections: the store, plugins, outbound HTTP, logs.
    public var reservedFiles: Int
    /// Failed admin authentications from one IP address before it is throttled.
    public var authFailuresAllowed: Int
    /// The first throttle after `authFailuresAllowed`; each further failure doubles it, up to `authBackoffMax`.
    public var authBackoff: Duration
    /// The longest throttle; a source's failures are forgotten after twice this without one.
    public var authBackoffMax: Duration
    /// Refused requests and connections: the first few of each reason in
    /// full per interval, then one summary line with the counts.
    public var refusalLogInterval: Duration

    public init(idleTimeout: Duration = .seconds(60), headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
                maxConnections: Int = 1024, maxConnectionsPerSource: Int = 256, reservedFiles: Int = 256,
                authFailuresAllowed: Int = 10, authBackoff: Duration = .seconds(1), authBackoffMax: Duration = .seconds(300),
                refusalLogInterval: Duration = .seconds(60)) {
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.maxConnections = maxConnections
        self.maxConnectionsPerSource = maxConnectionsPerSource
        self.reservedFiles = reservedFiles
        self.authFailuresAllowed = authFailuresAllowed
        self.authBackoff = authBackoff
        self.authBackoffMax = authBackoffMax
        self.refusalLogInterval = refusalLogInterval
    }

    /// The process's soft open-file limit (RLIMIT_NOFILE), nil when unlimited or unknown.
    public static func openFileLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }  // rlim_t.max: RLIM_INFINITY
        return Int(clamping: limit.rlim_cur)
    }

    /// The connections the server accepts at once: `maxConnections`, or
    /// fewer when `fileLimit` less `reservedFiles` is lower. Throws when
    /// that leaves none.
    func connectionCap(fileLimit: Int?) throws -> Int {
        guard let fileLimit else { return maxConnections }
        let room = fileLimit - reservedFiles
        guard room > 0 else {
            throw IngressError(description: "http: the open-file limit (\(fileLimit)) leaves no room for connections after http.reserved_files (\(reservedFiles)): raise the limit (ulimit -n, LimitNOFILE=) or lower reserved_files")
        }
        return min(maxConnections, room)
    }
}
