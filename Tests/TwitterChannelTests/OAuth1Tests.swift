import ChannelTwitter
import Crypto
import Foundation
import SharedTestData
import XCTest

/// OAuth 1.0a signing: X's documented vectors (channels.md §3) and
/// oauthlib's headers on the vectors and on random requests.
final class OAuth1Tests: XCTestCase {
    static let docsCredentials = OAuth1Credentials(
        consumerKey: "xvz1evFS4wEEPTGEFPHBog", consumerSecret: "kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        accessToken: "370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", accessTokenSecret: "LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE")
    static let docsNonce = "kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
    static let docsTimestamp: Int64 = 1_318_622_958
    static let docsURL = "https://api.twitter.com/1.1/statuses/update.json?include_entities=true"
    static let docsForm = [("status", "Hello Ladies + Gentlemen, a signed OAuth request!")]

    static func hmac(_ key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<Insecure.SHA1>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }

    private func header(method: String = "POST", url: String, form: [(String, String)] = [],
                        credentials: OAuth1Credentials = docsCredentials, nonce: String = docsNonce,
                        timestamp: Int64 = docsTimestamp) throws -> String {
        try OAuth1.authorizationHeader(method: method, url: url, formParameters: form, credentials: credentials,
                                       nonce: nonce, timestamp: timestamp, hmac: Self.hmac)
    }

    func testXDocumentationVector() throws {
        let protocolParameters = [
            ("oauth_consumer_key", Self.docsCredentials.consumerKey), ("oauth_nonce", Self.docsNonce),
            ("oauth_signature_method", "HMAC-SHA1"), ("oauth_timestamp", String(Self.docsTimestamp)),
            ("oauth_token", Self.docsCredentials.accessToken), ("oauth_version", "1.0"),
        ]
        // The base string X's "Creating a signature" page prints.
        let baseString = try OAuth1.signatureBaseString(method: "POST", url: Self.docsURL, formParameters: Self.docsForm,
                                                        protocolParameters: protocolParameters)
        XCTAssertEqual(baseString, "POST&https%3A%2F%2Fapi.twitter.com%2F1.1%2Fstatuses%2Fupdate.json&include_entities%3Dtrue"
            + "%26oauth_consumer_key%3Dxvz1evFS4wEEPTGEFPHBog%26oauth_nonce%3DkYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg"
            + "%26oauth_signature_method%3DHMAC-SHA1%26oauth_timestamp%3D1318622958"
            + "%26oauth_token%3D370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb%26oauth_version%3D1.0"
            + "%26status%3DHello%2520Ladies%2520%252B%2520Gentlemen%252C%2520a%2520signed%2520OAuth%2520request%2521")
        XCTAssertEqual(try OAuth1.signature(baseString: baseString, consumerSecret: Self.docsCredentials.consumerSecret,
                                            tokenSecret: Self.docsCredentials.accessTokenSecret, hmac: Self.hmac),
                       "hCtSmYh+iHYCEqBWrE7C7hYmtUk=")
        XCTAssertTrue(try header(url: Self.docsURL, form: Self.docsForm).contains(#"oauth_signature="hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D""#))
    }

    func testV2VectorIsTheWholeHeader() throws {
        XCTAssertEqual(try header(url: "https://api.x.com/2/tweets"),
                       #"OAuth oauth_consumer_key="xvz1evFS4wEEPTGEFPHBog", oauth_nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg", "#
                       + #"oauth_signature="lr%2BtV%2FDKclEvXKVjG6tgaSSLV0k%3D", oauth_signature_method="HMAC-SHA1", "#
                       + #"oauth_timestamp="1318622958", oauth_token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb", oauth_version="1.0""#)
    }

    /// X's percent-encoding examples, and bytes beyond ASCII.
    func testPercentEncoding() {
        XCTAssertEqual(OAuth1.percentEncode("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen")
        XCTAssertEqual(OAuth1.percentEncode("An encoded string!"), "An%20encoded%20string%21")
        XCTAssertEqual(OAuth1.percentEncode("Dogs, Cats & Mice"), "Dogs%2C%20Cats%20%26%20Mice")
        XCTAssertEqual(OAuth1.percentEncode("☃"), "%E2%98%83")
        XCTAssertEqual(OAuth1.percentEncode("A-Z a-z 0-9 -._~ *'()"), "A-Z%20a-z%200-9%20-._~%20%2A%27%28%29")
    }

    func testBaseURLDropsDefaultPortQueryAndFragmentAndLowercasesHost() throws {
        let base = try OAuth1.signatureBaseString(method: "post", url: "HTTPS://API.X.com:443/2/Tweets?b=2+3&a=%7E#top",
                                                  protocolParameters: [])
        XCTAssertEqual(base, "POST&https%3A%2F%2Fapi.x.com%2F2%2FTweets&a%3D~%26b%3D2%25203")
        let otherPort = try OAuth1.signatureBaseString(method: "GET", url: "http://example.com:8080", protocolParameters: [])
        XCTAssertEqual(otherPort, "GET&http%3A%2F%2Fexample.com%3A8080%2F&")
        XCTAssertThrowsError(try OAuth1.signatureBaseString(method: "GET", url: "example.com/x", protocolParameters: [])) {
            XCTAssertEqual("\($0)", "URL 'example.com/x' has no scheme")
        }
        XCTAssertThrowsError(try OAuth1.signatureBaseString(method: "GET", url: "https://x.com:99999/", protocolParameters: [])) {
            XCTAssertEqual("\($0)", "URL 'https://x.com:99999/' has an invalid port '99999'")
        }
    }

    func testNoncesAreLongRandomAndUnreserved() {
        let nonces = (0..<1000).map { _ in OAuth1.makeNonce() }
        XCTAssertEqual(Set(nonces).count, 1000)
        for nonce in nonces {
            XCTAssertEqual(nonce.count, 64)
            XCTAssertEqual(OAuth1.percentEncode(nonce), nonce)
        }
    }

    // MARK: - oauthlib

    fileprivate struct Case: Encodable {
        var consumer_key, consumer_secret, token, token_secret, nonce, timestamp, method, url: String
        var form: [[String]]?
    }

    func testHeadersEqualOAuthlibsOnTheVectorsAndRandomRequests() throws {
        var cases = [
            Case(credentials: Self.docsCredentials, nonce: Self.docsNonce, timestamp: Self.docsTimestamp, method: "POST",
                 url: Self.docsURL, form: Self.docsForm),
            Case(credentials: Self.docsCredentials, nonce: Self.docsNonce, timestamp: Self.docsTimestamp, method: "POST",
                 url: "https://api.x.com/2/tweets", form: nil),
        ]
        var random = SplitMix64(seed: 0x0A17_1A5E)
        for index in 0..<400 { cases.append(Self.randomCase(&random, withForm: index % 4 == 0)) }

        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("crosscheck_oauth1.py")
        let answer = try PythonCrossCheck.run(script, input: try JSONEncoder().encode(cases), packages: "oauthlib 4.0.1")
        let expected = try JSONDecoder().decode([String].self, from: answer)
        XCTAssertEqual(expected.count, cases.count)
        for (item, oauthlibHeader) in zip(cases, expected) {
            let ours = try header(method: item.method, url: item.url, form: (item.form ?? []).map { ($0[0], $0[1]) },
                                  credentials: OAuth1Credentials(consumerKey: item.consumer_key, consumerSecret: item.consumer_secret,
                                                                 accessToken: item.token, accessTokenSecret: item.token_secret),
                                  nonce: item.nonce, timestamp: Int64(item.timestamp)!)
            // RFC 5849 §3.5.1 leaves the order free: oauthlib's, put in X's (alphabetical) order, must be ours exactly.
            XCTAssertEqual(ours, Self.alphabetical(oauthlibHeader), "\(item)")
        }
    }

    private static func alphabetical(_ header: String) -> String {
        "OAuth " + header.dropFirst("OAuth ".count).components(separatedBy: ", ").sorted().joined(separator: ", ")
    }

    private static let keyCharacters = "abcXYZ019-._~ +&=%/?!*'()é日本😷\u{301}".unicodeScalars.map(String.init)
    private static let pathPieces = "abcdefXYZ0123456789-._~!$&'()*+,;=:@".map(String.init) + ["%20", "%2F", "%E2%98%83", "é", "日", " "]
    private static let valueCharacters = "abc XYZ 019 -._~ +&=%/?!*'()#[]:;,@$ é日本😷\u{301}\n".unicodeScalars.map(String.init)

    /// Up to `lengths` pieces drawn from `alphabet`, joined.
    private static func randomString(_ alphabet: [String], _ lengths: ClosedRange<Int>, _ random: inout SplitMix64) -> String {
        (0..<Int.random(in: lengths, using: &random)).map { _ in alphabet.randomElement(using: &random)! }.joined()
    }

    private static func randomString(_ alphabet: String, _ lengths: ClosedRange<Int>, _ random: inout SplitMix64) -> String {
        randomString(alphabet.map(String.init), lengths, &random)
    }

    /// Form encoding as a client writes a query: %XX for UTF-8 bytes, "+" for a space.
    private static func formEncode(_ text: String) -> String {
        OAuth1.percentEncode(text).replacingOccurrences(of: "%20", with: "+")
    }

    private static func randomCase(_ random: inout SplitMix64, withForm: Bool) -> Case {
        let scheme = Bool.random(using: &random) ? "https" : "http"
        let host = randomString("abcxyzABCXYZ019-", 1...12, &random) + [".com", ".x.com", ".ORG", ".co.uk"].randomElement(using: &random)!
        let port = [nil, "443", "80", String(Int.random(in: 1...65535, using: &random))].randomElement(using: &random)!
        var path = (0..<Int.random(in: 0...4, using: &random)).map { _ in "/" + randomString(pathPieces, 0...8, &random) }.joined()
        // Python's urlparse drops the ";" of an empty ";params" ending the
        // path, so oauthlib signs "/a" for "/a;" (RFC 5849 keeps the path as is).
        if path.hasSuffix(";") { path += "x" }
        var url = "\(scheme)://\(host)\(port.map { ":\($0)" } ?? "")\(path)"
        if Bool.random(using: &random) {
            let pairs = (0..<Int.random(in: 1...5, using: &random)).map { _ -> String in
                let name = formEncode(randomString("abcz_-.~09", 1...6, &random))
                switch Int.random(in: 0..<4, using: &random) {
                case 0: return name
                case 1: return name + "="
                default: return name + "=" + formEncode(randomString(valueCharacters, 0...10, &random))
                }
            }
            url += "?" + pairs.joined(separator: "&")
        }
        if Int.random(in: 0..<5, using: &random) == 0 { url += "#" + randomString("abc", 1...4, &random) }
        let form = withForm ? (0..<Int.random(in: 1...4, using: &random)).map { _ in
            [randomString("abcstu_", 1...6, &random), randomString(valueCharacters, 0...12, &random)]
        } : nil
        return Case(consumer_key: randomString(keyCharacters, 1...30, &random), consumer_secret: randomString(keyCharacters, 0...40, &random),
                    token: randomString(keyCharacters, 1...50, &random), token_secret: randomString(keyCharacters, 0...45, &random),
                    nonce: randomString("abcdefABCDEF0123456789", 8...42, &random),
                    timestamp: String(Int64.random(in: 1_000_000_000...4_000_000_000, using: &random)),
                    method: (withForm ? ["POST", "PUT"] : ["POST", "GET", "PUT", "DELETE"]).randomElement(using: &random)!,  // oauthlib: no GET body
                    url: url, form: form)
    }
}

extension OAuth1Tests.Case {
    init(credentials: OAuth1Credentials, nonce: String, timestamp: Int64, method: String, url: String, form: [(String, String)]?) {
        self.init(consumer_key: credentials.consumerKey, consumer_secret: credentials.consumerSecret, token: credentials.accessToken,
                  token_secret: credentials.accessTokenSecret, nonce: nonce, timestamp: String(timestamp), method: method, url: url,
                  form: form?.map { [$0.0, $0.1] })
    }
}
