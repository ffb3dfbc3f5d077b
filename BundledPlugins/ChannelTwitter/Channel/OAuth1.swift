import Foundation

/// The four secrets that sign requests for one X account.
public struct OAuth1Credentials: Sendable, Equatable {
    public var consumerKey: String
    public var consumerSecret: String
    public var accessToken: String
    public var accessTokenSecret: String

    public init(consumerKey: String, consumerSecret: String, accessToken: String, accessTokenSecret: String) {
        self.consumerKey = consumerKey
        self.consumerSecret = consumerSecret
        self.accessToken = accessToken
        self.accessTokenSecret = accessTokenSecret
    }
}

/// OAuth 1.0a HMAC-SHA1 request signing (RFC 5849 §3.4, X's "Creating a
/// signature"; channels.md §3). Pure: the HMAC is passed in, so the plugin
/// uses the host's and tests use known nonces and timestamps.
public enum OAuth1 {
    public typealias HMACSHA1 = (_ key: [UInt8], _ message: [UInt8]) throws -> [UInt8]

    public struct SigningError: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    /// RFC 3986 percent-encoding of the UTF-8 bytes: A–Z a–z 0–9 - . _ ~
    /// stay, every other byte becomes %XX (uppercase hex).
    public static func percentEncode(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                encoded += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return encoded
    }

    /// The signature base string: METHOD & pe(base URL) & pe(sorted, encoded
    /// parameters), the parameters being the URL's query, `formParameters`
    /// (a form-encoded body's, decoded; a JSON body is not signed) and the
    /// oauth_* protocol parameters.
    public static func signatureBaseString(method: String, url: String, formParameters: [(String, String)] = [],
                                           protocolParameters: [(String, String)]) throws(SigningError) -> String {
        let (baseURL, query) = try split(url)
        let all: [(String, String)] = queryParameters(query) + formParameters + protocolParameters
        let encoded: [(name: String, value: String)] = all.map { (percentEncode($0.0), percentEncode($0.1)) }
        let parameters = encoded.sorted { $0.name != $1.name ? $0.name < $1.name : $0.value < $1.value }
            .map { $0.name + "=" + $0.value }
            .joined(separator: "&")
        return [method.uppercased(), percentEncode(baseURL), percentEncode(parameters)].joined(separator: "&")
    }

    /// base64(HMAC-SHA1(pe(consumer secret) & pe(token secret), base string)).
    public static func signature(baseString: String, consumerSecret: String, tokenSecret: String,
                                 hmac: HMACSHA1) throws -> String {
        let key = percentEncode(consumerSecret) + "&" + percentEncode(tokenSecret)
        return Data(try hmac(Array(key.utf8), Array(baseString.utf8))).base64EncodedString()
    }

    /// The `Authorization` header for a request, its parameters in
    /// alphabetical order as X's documentation shows them.
    public static func authorizationHeader(method: String, url: String, formParameters: [(String, String)] = [],
                                           credentials: OAuth1Credentials, nonce: String, timestamp: Int64,
                                           hmac: HMACSHA1) throws -> String {
        var parameters = [
            ("oauth_consumer_key", credentials.consumerKey),
            ("oauth_nonce", nonce),
            ("oauth_signature_method", "HMAC-SHA1"),
            ("oauth_timestamp", String(timestamp)),
            ("oauth_token", credentials.accessToken),
            ("oauth_version", "1.0"),
        ]
        let baseString = try signatureBaseString(method: method, url: url, formParameters: formParameters,
                                                 protocolParameters: parameters)
        let signature = try signature(baseString: baseString, consumerSecret: credentials.consumerSecret,
                                      tokenSecret: credentials.accessTokenSecret, hmac: hmac)
        parameters.insert(("oauth_signature", signature), at: 2)
        return "OAuth " + parameters.map { "\(percentEncode($0.0))=\"\(percentEncode($0.1))\"" }.joined(separator: ", ")
    }

    /// 32 bytes from the system's CSPRNG as 64 hex digits (unreserved
    /// characters, so the nonce needs no encoding).
    public static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in String(UInt8.random(in: .min ... .max, using: &generator), radix: 16).leftPadded(to: 2) }.joined()
    }

    /// The base string URI (scheme and host lowercase, no default port, no
    /// query or fragment, "/" for an empty path, a space as %20) and the query.
    private static func split(_ url: String) throws(SigningError) -> (baseURL: String, query: String) {
        guard let schemeEnd = url.range(of: "://") else { throw SigningError(description: "URL '\(url)' has no scheme") }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = url[schemeEnd.upperBound...]
        if let fragment = rest.firstIndex(of: "#") { rest = rest[..<fragment] }
        var query = ""
        if let mark = rest.firstIndex(of: "?") {
            query = String(rest[rest.index(after: mark)...])
            rest = rest[..<mark]
        }
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        let path = rest[authorityEnd...].isEmpty ? "/" : String(rest[authorityEnd...])
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        var host = authority.lowercased()
        if let colon = host.lastIndex(of: ":"), !host[colon...].contains("]") {
            let portText = host[host.index(after: colon)...]
            host = String(host[..<colon])
            if !portText.isEmpty {
                guard let port = Int(portText), (1...65535).contains(port) else {
                    throw SigningError(description: "URL '\(url)' has an invalid port '\(portText)'")
                }
                if !(scheme == "http" && port == 80) && !(scheme == "https" && port == 443) { host += ":\(port)" }
            }
        }
        guard !host.isEmpty else { throw SigningError(description: "URL '\(url)' has no host") }
        return ("\(scheme)://\(host)\(path)".replacingOccurrences(of: " ", with: "%20"), query)
    }

    /// A query parsed as application/x-www-form-urlencoded: pairs split at
    /// "&" and the first "=", "+" a space, %XX a byte (UTF-8).
    private static func queryParameters(_ query: String) -> [(String, String)] {
        query.split(separator: "&").map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (formDecode(parts[0]), parts.count > 1 ? formDecode(parts[1]) : "")
        }
    }

    private static func formDecode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), utf8.count >= 2, utf8.prefix(2).allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }),
                      let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension String {
    /// Zeros before the text up to `width` characters.
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
