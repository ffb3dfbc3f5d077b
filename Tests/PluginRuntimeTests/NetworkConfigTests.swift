import Foundation
import HostConfig
import HTTPClient
import SharedTestData
import XCTest

/// `network.endpoint_overrides` in config/alphaplus.yaml.
final class NetworkConfigTests: XCTestCase {
    func testOverridesMapPlatformOriginsToLocalOnes() throws {
        let config = try HostConfigFiles.load("""
            network:
              endpoint_overrides:
                "https://discord.com": "http://127.0.0.1:18081"
                "https://api.telegram.org/": "http://localhost:18082"
            """)
        XCTAssertEqual(config.endpointOverrides, [
            try HTTPOrigin(parsing: "https://discord.com"): try HTTPOrigin(parsing: "http://127.0.0.1:18081"),
            try HTTPOrigin(parsing: "https://api.telegram.org"): try HTTPOrigin(parsing: "http://localhost:18082"),
        ])
        XCTAssertEqual(try HostConfigFiles.load("log_level: info\n").endpointOverrides, [:], "none by default")
    }

    func testBadOverridesNameTheLineAndWhatIsWrong() {
        XCTAssertEqual(HostConfigFiles.failure("network:\n  endpoint_overrides:\n    \"https://discord.com/api\": \"http://127.0.0.1:1\"\n"),
                       "3:5: network.endpoint_overrides: 'https://discord.com/api' is not a usable origin: an origin has no path, query or fragment: give scheme, host and port only (e.g. https://discord.com)")
        XCTAssertEqual(HostConfigFiles.failure("network:\n  endpoint_overrides:\n    \"https://discord.com\": \"ftp://127.0.0.1:1\"\n"),
                       "3:28: network.endpoint_overrides: 'ftp://127.0.0.1:1' is not a usable origin: the URL's scheme 'ftp' is not http or https")
        XCTAssertEqual(HostConfigFiles.failure("network:\n  endpoint_overrides:\n    \"https://discord.com\": \"http://127.0.0.1:1\"\n    \"HTTPS://Discord.com:443\": \"http://127.0.0.1:2\"\n"),
                       "4:5: network.endpoint_overrides: https://discord.com is overridden twice")
        XCTAssertEqual(HostConfigFiles.failure("network:\n  endpoint_override: {}\n"),
                       "2:3: unknown key 'endpoint_override' (did you mean 'endpoint_overrides'?); allowed: endpoint_overrides")
    }
}
