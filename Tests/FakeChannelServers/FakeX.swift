import AlphaPlusJSON
import AlphaPlusSDK
import ChannelTwitter
import Crypto
import Foundation

/// A fake of X's `POST /2/tweets` (channels.md §3) for the accounts it
/// knows. In order, a request
///
/// 1. fails with the queued server error, if any (`failNext`);
/// 2. must carry a valid OAuth 1.0a signature, recomputed here from the
///    request as X would (the URL as `https://api.x.com` + path, so a fake
///    served on loopback checks what the plugin signed), a known consumer
///    key and token, a timestamp within 5 minutes of the clock and a nonce
///    not seen before; else 401 with X's body;
/// 3. counts against the account's 15-minute window (and 24-hour cap when
///    set); over it, or while `rateLimited(until:)` holds, 429 with X's
///    body. Every answer from here on carries `x-rate-limit-limit`,
///    `-remaining` and `-reset` (and the `x-user-limit-24hour-*` trio);
/// 4. needs a JSON body `{"text": ...}` weighing 1…280 (twitter-text v3),
///    else 400;
/// 5. must not repeat the text of a Tweet the account posted, else 403
///    with X's duplicate-content body;
/// 6. is posted: 201 `{"data":{"id","text"}}`, recorded in `accepted`.
///
/// The signature and the weighted length reuse the plugin's functions;
/// both are cross-checked against oauthlib and twitter-text-parser.
public final class FakeX: FakePlatform, @unchecked Sendable {
    public struct Tweet: Equatable, Sendable {
        public var id: String
        public var text: String
        /// The account's access token.
        public var accessToken: String
        public var postedAt: Double
    }

    public static let origin = "https://api.x.com"
    /// How far a request's oauth_timestamp may be from the clock (X: 5 min).
    public static let timestampTolerance: Double = 300

    private let lock = NSLock()
    private let clock: FakeClock
    private let accounts: [OAuth1Credentials]
    private let windowLimit: Int
    private let windowSeconds: Double
    private let dailyLimit: Int?
    private var windows: [String: (reset: Double, used: Int)] = [:]
    private var days: [String: (reset: Double, used: Int)] = [:]
    private var seenNonces: Set<String> = []
    private var failures: [Int] = []
    private var rateLimitedUntil: Double?
    private var posted: [Tweet] = []
    private var nextID: UInt64 = 1_790_000_000_000_000_001

    /// `windowLimit` Tweets per `windowSeconds` per account (X's per-user
    /// window for POST /2/tweets), and a 24-hour cap when `dailyLimit` is set.
    public init(clock: FakeClock, accounts: [OAuth1Credentials], windowLimit: Int = 100, windowSeconds: Double = 900,
                dailyLimit: Int? = nil) {
        self.clock = clock
        self.accounts = accounts
        self.windowLimit = windowLimit
        self.windowSeconds = windowSeconds
        self.dailyLimit = dailyLimit
    }

    /// Every Tweet posted, in order.
    public var accepted: [Tweet] { lock.withLock { posted } }

    /// The next `count` requests fail with `status` before anything else.
    public func failNext(_ count: Int, status: Int = 503) {
        lock.withLock { failures += Array(repeating: status, count: count) }
    }

    /// Every authenticated request answers 429 until `epochSeconds`.
    public func rateLimited(until epochSeconds: Double) {
        lock.withLock { rateLimitedUntil = epochSeconds }
    }

    public func handle(_ request: HTTPRequest) -> HTTPResponse {
        lock.withLock { answer(request) }
    }

    private func answer(_ request: HTTPRequest) -> HTTPResponse {
        let now = clock.now
        if !failures.isEmpty {
            // [UNCONFIRMED] X's body for a server error; the status is what matters.
            let status = failures.removeFirst()
            let title = [500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"][status] ?? "Server Error"
            return Self.problem(status, title: title, detail: title)
        }
        guard let path = Self.pathAndQuery(request.url), path.split(separator: "?", maxSplits: 1).first == "/2/tweets",
              request.method == "POST" else {
            return Self.problem(404, title: "Not Found Error", detail: "Sorry, that page does not exist.")  // [UNCONFIRMED] body
        }
        guard let account = authenticate(request, url: Self.origin + path, now: now) else {
            return Self.problem(401, title: "Unauthorized", detail: "Unauthorized")
        }

        let token = account.accessToken
        if windows[token].map({ now >= $0.reset }) ?? true { windows[token] = (now + windowSeconds, 0) }
        if dailyLimit != nil, days[token].map({ now >= $0.reset }) ?? true { days[token] = (now + 86_400, 0) }
        if let until = rateLimitedUntil, now < until {
            return Self.problem(429, title: "Too Many Requests", detail: "Too Many Requests", headers: limitHeaders(token, forcedReset: until))
        }
        if windows[token]!.used >= windowLimit || dailyLimit.map({ days[token]!.used >= $0 }) ?? false {
            return Self.problem(429, title: "Too Many Requests", detail: "Too Many Requests", headers: limitHeaders(token))
        }
        windows[token]!.used += 1
        if dailyLimit != nil { days[token]!.used += 1 }
        let headers = limitHeaders(token)

        guard let body = try? JSONValue(parsing: request.body), case .string(let text)? = body["text"] else {
            return Self.invalidRequest("The `text` field is required as a string in a JSON body.", headers: headers)  // [UNCONFIRMED] message
        }
        // [UNCONFIRMED] channels.md does not give X's exact answer to an
        // over-long text: a 400 in the shape of X's v2 invalid-request problem.
        let length = TwitterText.parse(text).weightedLength
        guard (1...TwitterText.maxWeightedLength).contains(length) else {
            return Self.invalidRequest("The text weighs \(length); a Tweet weighs 1 to \(TwitterText.maxWeightedLength).", headers: headers)
        }
        guard !posted.contains(where: { $0.accessToken == token && $0.text == text }) else {
            return Self.problem(403, title: "Forbidden", detail: "You are not allowed to create a Tweet with duplicate content.",
                                headers: headers)
        }
        let tweet = Tweet(id: String(nextID), text: text, accessToken: token, postedAt: now)
        nextID += 1
        posted.append(tweet)
        let data = JSONValue.object(["data": .object(["id": .string(tweet.id), "text": .string(text)])])
        return HTTPResponse(status: 201, headers: headers + [HTTPHeader("Content-Type", "application/json")], body: Array(data.jsonText.utf8))
    }

    /// The account a request is validly signed for, nil to refuse it.
    private func authenticate(_ request: HTTPRequest, url: String, now: Double) -> OAuth1Credentials? {
        guard let header = request.header("authorization"), let parameters = Self.oauthParameters(header),
              let account = accounts.first(where: { $0.consumerKey == parameters["oauth_consumer_key"] && $0.accessToken == parameters["oauth_token"] }),
              parameters["oauth_signature_method"] == "HMAC-SHA1", parameters["oauth_version"].map({ $0 == "1.0" }) ?? true,
              let nonce = parameters["oauth_nonce"], let signature = parameters["oauth_signature"],
              let timestamp = parameters["oauth_timestamp"].flatMap(Double.init), abs(now - timestamp) <= Self.timestampTolerance,
              !seenNonces.contains(account.consumerKey + "\n" + nonce) else { return nil }
        let signed = parameters.filter { $0.key != "oauth_signature" }.map { ($0.key, $0.value) }
        guard let baseString = try? OAuth1.signatureBaseString(method: request.method, url: url, protocolParameters: signed),
              let expected = try? OAuth1.signature(baseString: baseString, consumerSecret: account.consumerSecret,
                                                   tokenSecret: account.accessTokenSecret, hmac: Self.hmacSHA1),
              expected == signature else { return nil }
        seenNonces.insert(account.consumerKey + "\n" + nonce)
        return account
    }

    /// The account's limits; a forced 429 reports the window spent until then.
    private func limitHeaders(_ token: String, forcedReset: Double? = nil) -> [HTTPHeader] {
        let window = windows[token]!
        var headers = [HTTPHeader("x-rate-limit-limit", String(windowLimit)),
                       HTTPHeader("x-rate-limit-remaining", forcedReset == nil ? String(max(0, windowLimit - window.used)) : "0"),
                       HTTPHeader("x-rate-limit-reset", String(Int((forcedReset ?? window.reset).rounded(.up))))]
        if let dailyLimit, let day = days[token] {
            headers += [HTTPHeader("x-user-limit-24hour-limit", String(dailyLimit)),
                        HTTPHeader("x-user-limit-24hour-remaining", String(max(0, dailyLimit - day.used))),
                        HTTPHeader("x-user-limit-24hour-reset", String(Int(day.reset.rounded(.up))))]
        }
        return headers
    }

    /// `OAuth k="v", ...` as decoded pairs, nil when malformed.
    static func oauthParameters(_ header: String) -> [String: String]? {
        guard header.hasPrefix("OAuth ") else { return nil }
        var parameters: [String: String] = [:]
        for item in header.dropFirst(6).split(separator: ",") {
            let pair = item.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[1].count >= 2, pair[1].hasPrefix("\""), pair[1].hasSuffix("\""),
                  let value = pair[1].dropFirst().dropLast().removingPercentEncoding else { return nil }
            parameters[pair[0]] = value
        }
        return parameters
    }

    private static func hmacSHA1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    private static func pathAndQuery(_ url: String) -> String? {
        guard let scheme = url.range(of: "://") else { return nil }
        let rest = url[scheme.upperBound...]
        return rest.firstIndex(where: { $0 == "/" || $0 == "?" }).map { String(rest[$0...]) } ?? "/"
    }

    /// X's problem body: `{"title","detail","type","status"}`.
    private static func problem(_ status: Int, title: String, detail: String, headers: [HTTPHeader] = []) -> HTTPResponse {
        let body = JSONValue.object(["title": .string(title), "detail": .string(detail), "type": .string("about:blank"),
                                     "status": .number(Double(status))])
        return HTTPResponse(status: status, headers: headers + [HTTPHeader("Content-Type", "application/problem+json")],
                            body: Array(body.jsonText.utf8))
    }

    /// X's 400 invalid-request body, with `message` as its one error.
    private static func invalidRequest(_ message: String, headers: [HTTPHeader]) -> HTTPResponse {
        let body = JSONValue.object([
            "errors": .array([.object(["message": .string(message)])]),
            "title": .string("Invalid Request"),
            "detail": .string("One or more parameters to your request was invalid."),
            "type": .string("https://api.twitter.com/2/problems/invalid-request"),
        ])
        return HTTPResponse(status: 400, headers: headers + [HTTPHeader("Content-Type", "application/json")], body: Array(body.jsonText.utf8))
    }
}
