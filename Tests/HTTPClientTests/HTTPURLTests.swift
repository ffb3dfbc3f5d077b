import HTTPClient
import XCTest

/// URLs as libcurl's parser reads them: the host checked is the host used.
final class HTTPURLTests: XCTestCase {
    func testPartsOfAURL() throws {
        let url = try HTTPURL(parsing: "https://Discord.COM/api/v10/webhooks/1/tok?wait=true#section")
        XCTAssertEqual(url.origin.scheme, "https")
        XCTAssertEqual(url.origin.host, "discord.com")
        XCTAssertEqual(url.origin.port, 443)
        XCTAssertEqual(url.origin.description, "https://discord.com")
        XCTAssertEqual(url.pathAndQuery, "/api/v10/webhooks/1/tok?wait=true")
        XCTAssertEqual(url.absoluteString, "https://discord.com/api/v10/webhooks/1/tok?wait=true")
        XCTAssertFalse(url.origin.isLoopback)
    }

    func testPortsAndLoopback() throws {
        let local = try HTTPURL(parsing: "http://127.0.0.1:18081")
        XCTAssertEqual(local.origin.port, 18081)
        XCTAssertEqual(local.origin.description, "http://127.0.0.1:18081")
        XCTAssertEqual(local.pathAndQuery, "/")
        XCTAssertTrue(local.origin.isLoopback)
        let six = try HTTPURL(parsing: "http://[::1]:8080/x")
        XCTAssertEqual(six.origin.host, "[::1]")
        XCTAssertTrue(six.origin.isLoopback)
        XCTAssertEqual(six.absoluteString, "http://[::1]:8080/x")
        XCTAssertTrue(try HTTPURL(parsing: "http://LOCALHOST/").origin.isLoopback)
        XCTAssertEqual(try HTTPURL(parsing: "https://example.com:443/").origin.description, "https://example.com")
        XCTAssertEqual(try HTTPURL(parsing: "http://example.com:443/").origin.description, "http://example.com:443")
    }

    func testReplacingTheOriginKeepsPathAndQuery() throws {
        let url = try HTTPURL(parsing: "https://api.telegram.org/bot123:abc/sendMessage?x=1")
        let local = try HTTPOrigin(parsing: "http://127.0.0.1:18082")
        XCTAssertEqual(url.replacingOrigin(with: local).absoluteString, "http://127.0.0.1:18082/bot123:abc/sendMessage?x=1")
    }

    func testAnOriginHasNoPath() throws {
        XCTAssertEqual(try HTTPOrigin(parsing: "https://discord.com/").description, "https://discord.com")
        for text in ["https://discord.com/api", "https://discord.com?x=1", "https://discord.com#f"] {
            XCTAssertThrowsError(try HTTPOrigin(parsing: text)) {
                XCTAssertEqual("\($0)", "an origin has no path, query or fragment: give scheme, host and port only (e.g. https://discord.com)")
            }
        }
    }

    func testTrickyURLsNameTheHostLibcurlConnectsTo() throws {
        // Each of these has fooled some URL parser into another host.
        XCTAssertThrowsError(try HTTPURL(parsing: "https://discord.com\\@evil.example/"))
        XCTAssertEqual(try HTTPURL(parsing: "https://evil.example#@discord.com/").origin.host, "evil.example")
        XCTAssertEqual(try HTTPURL(parsing: "https://evil.example?@discord.com/").origin.host, "evil.example")
        XCTAssertThrowsError(try HTTPURL(parsing: "https://discord.com@evil.example/"), "credentials are refused")
        XCTAssertThrowsError(try HTTPURL(parsing: "https://disc ord.com/"))
        XCTAssertThrowsError(try HTTPURL(parsing: "https://discord.com\u{0}.evil.example/"))
    }
}
