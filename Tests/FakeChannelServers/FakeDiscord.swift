import AlphaPlusJSON
import AlphaPlusSDK
import Foundation

/// Discord's webhook API as documented (../shared/reference/channels.md §1):
/// `POST /api[/v<N>]/webhooks/<id>/<token>[?wait=true]` on any host.
///
/// Checks, in Discord's order of answers: route and method; the test knobs
/// (5xx, forced 429); the global limit (50/s); unknown webhook (404 10015);
/// wrong token (401 50027); the webhook's bucket (default 5 per 2 s, fixed
/// windows, `X-RateLimit-*` headers on every answer); the Content-Type
/// (400 50035); JSON (400 50109); every content and embed limit (400 50035
/// with an `errors` object, lengths in Unicode scalars after trimming); an
/// empty message (400 50006). Accepted: 200 with the message object when
/// `wait=true`, else 204. Every accepted message is recorded in order.
public final class FakeDiscord: FakePlatform, @unchecked Sendable {
    public struct Webhook: Equatable, Sendable {
        public let id: String
        public let token: String

        public init(id: String, token: String) {
            self.id = id
            self.token = token
        }

        /// The URL as the Discord app hands it out (no API version).
        public var url: String { "https://discord.com/api/webhooks/\(id)/\(token)" }
    }

    public struct Message: Equatable, Sendable {
        public let id: String
        public let webhookID: String
        public let content: String?
        public let embeds: [JSONValue]
        public let username: String?
        public let avatarURL: String?
        public let allowedMentions: JSONValue?
        /// "v10", or "" for the unversioned path.
        public let apiVersion: String
        public let userAgent: String?
        /// Seconds since the epoch on the fake's clock.
        public let time: Double
    }

    public let clock: FakeClock
    public let bucketLimit: Int
    public let bucketWindowSeconds: Double
    public let globalLimitPerSecond: Int

    private let lock = NSLock()
    private var tokens: [String: String] = [:]
    private var deletedWebhooks: Set<String> = []
    private var buckets: [String: (resetAt: Double, used: Int)] = [:]
    private var globalRequests: [Double] = []
    private var queuedFailures: [Int] = []
    private var forcedRateLimit: (until: Double, global: Bool)?
    private var accepted: [Message] = []
    private var requests = 0
    private var nextSnowflake: UInt64 = 1_180_000_000_000_000_000

    public init(clock: FakeClock = FakeClock(), bucketLimit: Int = 5, bucketWindowSeconds: Double = 2,
                globalLimitPerSecond: Int = 50) {
        self.clock = clock
        self.bucketLimit = bucketLimit
        self.bucketWindowSeconds = bucketWindowSeconds
        self.globalLimitPerSecond = globalLimitPerSecond
    }

    // MARK: Knobs

    /// A new webhook (a fresh id and a 68-character token).
    public func createWebhook() -> Webhook {
        lock.withLock {
            let id = snowflake()
            var generator = SystemRandomNumberGenerator()
            let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
            let token = String((0..<68).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
            tokens[id] = token
            return Webhook(id: id, token: token)
        }
    }

    /// The webhook answers 404 Unknown Webhook from now on.
    public func deleteWebhook(id: String) { _ = lock.withLock { deletedWebhooks.insert(id) } }

    /// The next `count` requests fail with `status` (a 5xx).
    public func failNext(_ count: Int, status: Int = 502) {
        lock.withLock { queuedFailures += Array(repeating: status, count: count) }
    }

    /// Every request answers 429 until `until` (seconds on the fake's clock).
    public func rateLimit(until: Double, global: Bool = false) {
        lock.withLock { forcedRateLimit = (until, global) }
    }

    // MARK: Records

    /// Every accepted message, in order.
    public var messages: [Message] { lock.withLock { accepted } }

    public func messages(webhookID: String) -> [Message] { messages.filter { $0.webhookID == webhookID } }

    /// Every request answered, whatever the answer.
    public var requestCount: Int { lock.withLock { requests } }

    // MARK: Answering

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        lock.withLock { answer(request) }
    }

    private func answer(_ request: HTTPRequest) -> HTTPResponse {
        requests += 1
        let now = clock.now
        guard let components = URLComponents(string: request.url) else { return Self.notFound }
        var segments = components.path.split(separator: "/").map(String.init)
        var version = ""
        if segments.count == 5, segments[1].hasPrefix("v"), Int(segments[1].dropFirst()) != nil {
            version = segments.remove(at: 1)
        }
        guard segments.count == 4, segments[0] == "api", segments[1] == "webhooks" else { return Self.notFound }
        let (id, token) = (segments[2], segments[3])
        guard request.method == "POST" else {
            return Self.json(405, ["message": .string("405: Method Not Allowed"), "code": .number(0)])
        }
        if !queuedFailures.isEmpty {
            let status = queuedFailures.removeFirst()
            return Self.json(status, ["message": .string("\(status): Server Error"), "code": .number(0)])
        }
        if let forced = forcedRateLimit, now < forced.until - FakeClock.tolerance {
            return rateLimited(retryAfter: forced.until - now, global: forced.global, scope: forced.global ? "global" : "shared")
        }
        globalRequests.removeAll { $0 <= now - 1 + FakeClock.tolerance }
        if globalRequests.count >= globalLimitPerSecond {
            return rateLimited(retryAfter: globalRequests[0] + 1 - now, global: true, scope: "global")
        }
        globalRequests.append(now)
        guard let expectedToken = tokens[id], !deletedWebhooks.contains(id) else {
            return Self.json(404, ["message": .string("Unknown Webhook"), "code": .number(10015)])
        }
        guard token == expectedToken else {
            return Self.json(401, ["message": .string("Invalid Webhook Token"), "code": .number(50027)])
        }

        var bucket = buckets[id] ?? (resetAt: now + bucketWindowSeconds, used: 0)
        if now >= bucket.resetAt - FakeClock.tolerance { bucket = (now + bucketWindowSeconds, 0) }
        if bucket.used >= bucketLimit {
            var response = rateLimited(retryAfter: bucket.resetAt - now, global: false, scope: "user")
            response.headers += bucketHeaders(id: id, bucket: bucket, now: now)
            return response
        }
        bucket.used += 1
        buckets[id] = bucket
        let headers = bucketHeaders(id: id, bucket: bucket, now: now)

        var response = validatedMessage(request, webhookID: id, version: version, now: now)
        response.headers += headers
        return response
    }

    private func validatedMessage(_ request: HTTPRequest, webhookID: String, version: String, now: Double) -> HTTPResponse {
        guard let contentType = request.header("Content-Type"), contentType.lowercased().hasPrefix("application/json") else {
            return Self.invalidForm([DiscordFormError(path: [], code: "CONTENT_TYPE_INVALID",
                                                      message: "Expected \"Content-Type\" header to be one of {'application/json'}.")])
        }
        guard let body = try? JSONValue(parsing: request.body), case .object = body else {
            return Self.json(400, ["message": .string("The request body contains invalid JSON."), "code": .number(50109)])
        }
        var errors: [DiscordFormError] = []
        func checkLength(_ value: JSONValue?, path: [String], max: Int, min: Int = 0, required: Bool = false) -> String? {
            guard let value, value != .null else {
                if required { errors.append(DiscordFormError(path: path, code: "BASE_TYPE_REQUIRED", message: "This field is required")) }
                return nil
            }
            guard case .string(let text) = value else {
                errors.append(DiscordFormError(path: path, code: "BASE_TYPE_STRING", message: "Must be a string."))
                return nil
            }
            let length = Self.length(text)
            if required && length == 0 {
                errors.append(DiscordFormError(path: path, code: "BASE_TYPE_REQUIRED", message: "This field is required"))
            } else if length > max {
                errors.append(DiscordFormError(path: path, code: "BASE_TYPE_MAX_LENGTH", message: "Must be \(max) or fewer in length."))
            } else if length < min {
                errors.append(DiscordFormError(path: path, code: "BASE_TYPE_BAD_LENGTH",
                                               message: "Must be between \(min) and \(max) in length."))
            }
            return text
        }
        let content = checkLength(body["content"], path: ["content"], max: 2000)
        let username = checkLength(body["username"], path: ["username"], max: 80, min: 1)
        if let username, username.lowercased().contains("discord") {
            errors.append(DiscordFormError(path: ["username"], code: "USERNAME_INVALID_CONTAINS",
                                           message: "Username cannot contain \"discord\""))
        }
        let avatarURL = checkLength(body["avatar_url"], path: ["avatar_url"], max: 2048)
        var embeds: [JSONValue] = []
        switch body["embeds"] {
        case nil, .null?: break
        case .array(let items)?:
            embeds = items
            if items.count > 10 {
                errors.append(DiscordFormError(path: ["embeds"], code: "BASE_TYPE_MAX_LENGTH", message: "Must be 10 or fewer in length."))
            }
            var total = 0
            for (index, embed) in items.enumerated() {
                let at = ["embeds", String(index)]
                guard case .object = embed else {
                    errors.append(DiscordFormError(path: at, code: "MODEL_TYPE_CONVERT", message: "Only dictionaries may be used in a ModelType"))
                    continue
                }
                total += checkLength(embed["title"], path: at + ["title"], max: 256).map(Self.length) ?? 0
                total += checkLength(embed["description"], path: at + ["description"], max: 4096).map(Self.length) ?? 0
                if let footer = embed["footer"] {
                    total += checkLength(footer["text"], path: at + ["footer", "text"], max: 2048, required: true).map(Self.length) ?? 0
                }
                if let author = embed["author"] {
                    total += checkLength(author["name"], path: at + ["author", "name"], max: 256, required: true).map(Self.length) ?? 0
                }
                if let url = embed["url"], !Self.isWebURL(url) {
                    errors.append(DiscordFormError(path: at + ["url"], code: "URL_TYPE_INVALID_URL", message: "Not a well formed URL."))
                }
                if let color = embed["color"] {
                    if case .number(let value) = color, value.rounded() == value {
                        if value < 0 || value > 16_777_215 {
                            errors.append(DiscordFormError(path: at + ["color"], code: "NUMBER_TYPE_MAX",
                                                           message: "int value should be less than or equal to 16777215."))
                        }
                    } else {
                        errors.append(DiscordFormError(path: at + ["color"], code: "NUMBER_TYPE_COERCE",
                                                       message: "Value \"\(color.jsonText)\" is not int."))
                    }
                }
                if let timestamp = embed["timestamp"], !Self.isISO8601(timestamp) {
                    errors.append(DiscordFormError(path: at + ["timestamp"], code: "DATE_TYPE_PARSE",
                                                   message: "Could not parse \(timestamp.jsonText). Should be ISO8601."))
                }
                switch embed["fields"] {
                case nil, .null?: break
                case .array(let fields)?:
                    if fields.count > 25 {
                        errors.append(DiscordFormError(path: at + ["fields"], code: "BASE_TYPE_MAX_LENGTH", message: "Must be 25 or fewer in length."))
                    }
                    for (number, field) in fields.enumerated() {
                        let place = at + ["fields", String(number)]
                        total += checkLength(field["name"], path: place + ["name"], max: 256, required: true).map(Self.length) ?? 0
                        total += checkLength(field["value"], path: place + ["value"], max: 1024, required: true).map(Self.length) ?? 0
                    }
                case let other?:
                    errors.append(DiscordFormError(path: at + ["fields"], code: "BASE_TYPE_ARRAY", message: "Must be an array, not \(other.jsonText)."))
                }
            }
            if total > 6000 {
                errors.append(DiscordFormError(path: ["embeds"], code: "MAX_EMBED_SIZE_EXCEEDED",
                                               message: "Embed size exceeds maximum size of 6000"))
            }
        case let other?:
            errors.append(DiscordFormError(path: ["embeds"], code: "BASE_TYPE_ARRAY", message: "Must be an array, not \(other.jsonText)."))
        }
        guard errors.isEmpty else { return Self.invalidForm(errors) }
        if (content.map(Self.length) ?? 0) == 0 && embeds.isEmpty {
            return Self.json(400, ["message": .string("Cannot send an empty message"), "code": .number(50006)])
        }

        let id = snowflake()
        accepted.append(Message(id: id, webhookID: webhookID, content: content, embeds: embeds, username: username,
                                avatarURL: avatarURL, allowedMentions: body["allowed_mentions"], apiVersion: version,
                                userAgent: request.header("User-Agent"), time: now))
        let query = URLComponents(string: request.url)?.queryItems ?? []
        guard query.contains(where: { $0.name == "wait" && ["true", "1", "True"].contains($0.value ?? "") }) else {
            return HTTPResponse(status: 204)
        }
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return Self.json(200, [
            "id": .string(id), "type": .number(0), "content": .string(content ?? ""), "channel_id": .string("1180000000000000001"),
            "webhook_id": .string(webhookID), "embeds": .array(embeds), "mentions": .array([]), "attachments": .array([]),
            "author": .object(["id": .string(webhookID), "username": .string(username ?? "Captain Hook"), "bot": .bool(true)]),
            "timestamp": .string(iso.string(from: Date(timeIntervalSince1970: now))), "tts": .bool(false),
        ])
    }

    // MARK: Answers

    private func rateLimited(retryAfter: Double, global: Bool, scope: String) -> HTTPResponse {
        // Milliseconds as Discord sends them, never less than the wait.
        let seconds = max(1, (retryAfter * 1000 - FakeClock.tolerance * 1000).rounded(.up)) / 1000
        var response = Self.json(429, ["message": .string("You are being rate limited."), "retry_after": .number(seconds),
                                       "global": .bool(global)])
        response.headers += [HTTPHeader("Retry-After", String(Int(seconds.rounded(.up)))), HTTPHeader("X-RateLimit-Scope", scope)]
        if global { response.headers.append(HTTPHeader("X-RateLimit-Global", "true")) }
        return response
    }

    private func bucketHeaders(id: String, bucket: (resetAt: Double, used: Int), now: Double) -> [HTTPHeader] {
        [HTTPHeader("X-RateLimit-Limit", String(bucketLimit)),
         HTTPHeader("X-RateLimit-Remaining", String(max(0, bucketLimit - bucket.used))),
         HTTPHeader("X-RateLimit-Reset", String(format: "%.3f", bucket.resetAt)),
         HTTPHeader("X-RateLimit-Reset-After", String(format: "%.3f", max(0, bucket.resetAt - now))),
         HTTPHeader("X-RateLimit-Bucket", "webhook-" + String(UInt64(id) ?? 0, radix: 16))]
    }

    static let notFound = json(404, ["message": .string("404: Not Found"), "code": .number(0)])

    static func json(_ status: Int, _ object: [String: JSONValue]) -> HTTPResponse {
        HTTPResponse(status: status, headers: [HTTPHeader("Content-Type", "application/json")],
                     body: Array(JSONValue.object(object).jsonText.utf8))
    }

    /// 400 Invalid Form Body, the errors nested by path as Discord nests them.
    static func invalidForm(_ errors: [DiscordFormError]) -> HTTPResponse {
        var tree: [String: JSONValue] = [:]
        for error in errors { insert(error, at: error.path[...], into: &tree) }
        return json(400, ["code": .number(50035), "message": .string("Invalid Form Body"), "errors": .object(tree)])
    }

    private static func insert(_ error: DiscordFormError, at path: ArraySlice<String>, into tree: inout [String: JSONValue]) {
        guard let key = path.first else {
            var list: [JSONValue] = []
            if case .array(let existing)? = tree["_errors"] { list = existing }
            list.append(.object(["code": .string(error.code), "message": .string(error.message)]))
            tree["_errors"] = .array(list)
            return
        }
        var child: [String: JSONValue] = [:]
        if case .object(let existing)? = tree[key] { child = existing }
        insert(error, at: path.dropFirst(), into: &child)
        tree[key] = .object(child)
    }

    /// Discord's length: Unicode scalars once Python's `str.strip()` has
    /// dropped the whitespace at the ends (White_Space and U+001C–U+001F;
    /// the zero-width space stays).
    static func length(_ text: String) -> Int {
        let scalars = Array(text.unicodeScalars)
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value) }
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return 0 }
        return scalars.lastIndex(where: { !isSpace($0) })! - first + 1
    }

    static func isWebURL(_ value: JSONValue) -> Bool {
        guard case .string(let link) = value, let parsed = URLComponents(string: link) else { return false }
        return ["http", "https"].contains(parsed.scheme?.lowercased() ?? "") && parsed.host?.isEmpty == false
    }

    static func isISO8601(_ value: JSONValue) -> Bool {
        guard case .string(let text) = value else { return false }
        let plain = ISO8601DateFormatter()
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return plain.date(from: text) != nil || fractional.date(from: text) != nil
    }

    private func snowflake() -> String {
        nextSnowflake += 4_194_304  // one millisecond of a Discord snowflake
        return String(nextSnowflake)
    }
}

/// One entry of an Invalid Form Body answer.
struct DiscordFormError {
    let path: [String]
    let code: String
    let message: String
}

extension FakeDiscord.Message {
    /// What the webhook message shows: its embed's description (the
    /// delivery's text), else its content.
    public var shownText: String {
        if case .string(let text)? = embeds.first?["description"] { return text }
        return content ?? ""
    }
}
