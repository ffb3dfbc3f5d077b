import Foundation

/// A Discord webhook, read from any URL form Discord hands out and turned
/// into the one URL the plugin posts to:
/// `https://discord.com/api/v10/webhooks/<id>/<token>?wait=true`.
///
/// Accepted: `https` (or `http`) on `discord.com` or `discordapp.com`,
/// with or without a `www.`, `ptb.` or `canary.` prefix; the path
/// `/api/webhooks/<id>/<token>` or `/api/v<N>/webhooks/<id>/<token>`, with
/// or without a trailing slash. The UI's unversioned URL would hit API v6,
/// where `Retry-After` was milliseconds, hence the pinned `/api/v10/`.
/// A `thread_id` query parameter (posting into a thread) is kept; any other
/// query and a fragment are dropped.
public struct DiscordWebhookURL: Equatable, Sendable {
    public let id: String
    public let token: String
    public let threadID: String?

    /// Why a text is not a Discord webhook URL. The message never repeats
    /// the URL's token (the webhook's password).
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    static let acceptedHosts: Set<String> = ["discord.com", "discordapp.com"]
    static let hostPrefixes = ["www.", "ptb.", "canary."]
    static let example = "https://discord.com/api/webhooks/<id>/<token>"

    public init(id: String, token: String, threadID: String? = nil) {
        self.id = id
        self.token = token
        self.threadID = threadID
    }

    public init(parsing text: String) throws(Invalid) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let components = URLComponents(string: trimmed), let scheme = components.scheme?.lowercased(),
              let rawHost = components.host?.lowercased(), !rawHost.isEmpty else {
            throw Invalid(message: "is not a URL (expected \(Self.example))")
        }
        guard scheme == "https" || scheme == "http" else {
            throw Invalid(message: "uses the scheme '\(scheme)', not https (expected \(Self.example))")
        }
        var host = rawHost
        for prefix in Self.hostPrefixes where host.hasPrefix(prefix) { host.removeFirst(prefix.count) }
        guard Self.acceptedHosts.contains(host) else {
            throw Invalid(message: "is on host '\(rawHost)', not discord.com or discordapp.com (expected \(Self.example))")
        }
        if let port = components.port, port != 443, port != 80 {
            throw Invalid(message: "names port \(port); Discord webhooks have none (expected \(Self.example))")
        }
        var segments = components.percentEncodedPath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if segments.first == "" { segments.removeFirst() }
        if segments.last == "" { segments.removeLast() }
        if segments.count >= 5, segments[1].hasPrefix("v"), segments[1].count > 1,
           segments[1].dropFirst().allSatisfy(\.isASCIIDigit) {
            segments.remove(at: 1)  // the API version, replaced by v10
        }
        if segments.count == 5, segments[0] == "api", segments[1] == "webhooks", ["slack", "github"].contains(segments[4]) {
            throw Invalid(message: "is a Slack- or GitHub-compatible webhook URL (ends in /\(segments[4])); use the plain one, \(Self.example)")
        }
        guard segments.count == 4, segments[0] == "api", segments[1] == "webhooks" else {
            throw Invalid(message: "is not a webhook URL: its path is not /api/webhooks/<id>/<token> (expected \(Self.example))")
        }
        let id = segments[2], token = segments[3]
        guard !id.isEmpty, id.count <= 20, id.allSatisfy(\.isASCIIDigit) else {
            throw Invalid(message: "has a webhook id that is not a number (expected \(Self.example))")
        }
        guard !token.isEmpty, token.allSatisfy({ $0.isASCIIDigit || $0.isASCIILetter || $0 == "-" || $0 == "_" }) else {
            throw Invalid(message: "has a webhook token with characters other than letters, digits, '-' and '_' (expected \(Self.example))")
        }
        let thread = components.queryItems?.first { $0.name == "thread_id" }?.value
        if let thread, thread.isEmpty || !thread.allSatisfy(\.isASCIIDigit) {
            throw Invalid(message: "has a thread_id that is not a number")
        }
        self.init(id: id, token: token, threadID: thread)
    }

    /// Where the plugin posts: API v10, `wait=true` so that Discord answers
    /// with the created message (its id) instead of 204.
    public var executeURL: String {
        "https://discord.com/api/v10/webhooks/\(id)/\(token)?wait=true" + (threadID.map { "&thread_id=\($0)" } ?? "")
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
    var isASCIILetter: Bool { isASCII && isLetter }
}
