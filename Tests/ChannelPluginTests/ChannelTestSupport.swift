import AlphaPlusJSON
import AlphaPlusSDKTesting
import FakeChannelServers
import SharedTestData
import XCTest

/// Answers a test host's HTTP requests with a fake platform whose clock
/// follows the host's (so that "retry after 2 s" means two seconds of
/// `host.advance`). `intercept` may answer a request instead of the fake
/// (a failure injected before the request reaches the platform).
func connect(_ host: TestHost, to fake: some FakePlatform, clock: FakeClock,
             intercept: ((HTTPRequest) -> Result<HTTPResponse, PluginError>?)? = nil) {
    host.httpHandler = { [unowned host] request in
        clock.advance(by: Double(host.nowNs) / 1e9 - clock.now)
        return intercept?(request) ?? .success(fake.handle(request))
    }
}

/// A manual clock at the host's time.
func clock(of host: TestHost) -> FakeClock { FakeClock(manualSeconds: Double(host.nowNs) / 1e9) }

extension TestHost {
    func advance(seconds: Double) { advance(byNs: Int64(seconds * 1e9)) }

    /// Every reason of every completion and every log line: where a secret
    /// must never appear.
    var everythingReported: [String] { completions.map(\.result.reason) + logs.map(\.message) }
}

/// The JSON body of a request the plugin sent.
func jsonBody(_ request: HTTPRequest, file: StaticString = #filePath, line: UInt = #line) throws -> JSONValue {
    do { return try JSONValue(parsing: String(decoding: request.body, as: UTF8.self)) } catch {
        XCTFail("the request body is not JSON: \(error)", file: file, line: line)
        throw error
    }
}


/// Random awkward text: ASCII punctuation (every MarkdownV2 reserved
/// character, backslashes, HTML's `<>&`), spaces and line breaks, letters,
/// accents, CJK, emoji (with skin tones and ZWJ sequences), flags,
/// combining marks and zero-width characters.
enum AwkwardText {
    static let pieces: [String] = [
        "_", "*", "[", "]", "(", ")", "~", "`", ">", "#", "+", "-", "=", "|", "{", "}", ".", "!", "\\", "\\\\",
        "<", "&", "&amp;", "\"", "'", "/", "@", "$", "%", "^", ":", ";", ",", "?",
        " ", "  ", "\n", "\n\n", "\t", "\r\n",
        "a", "Z", "BTC-USDT", "65000.5", "LONG", "e\u{301}", "ß", "Ω",
        "日本語", "中文", "한국어", "ñ", "😀", "👍🏽", "👨‍👩‍👧‍👦", "🇯🇵", "🏳️‍🌈", "𝔘", "\u{200B}", "\u{FEFF}", "\u{0301}\u{0302}",
    ]

    static func random(length: Int, using generator: inout SplitMix64) -> String {
        (0..<length).map { _ in pieces.randomElement(using: &generator)! }.joined()
    }
}
