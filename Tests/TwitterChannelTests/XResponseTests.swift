import AlphaPlusSDK
import ChannelTwitter
import XCTest

/// The answers FakeX does not give: how each maps to a delivery result.
final class XResponseTests: XCTestCase {
    private let nowMs: Int64 = 1_700_000_000_000

    private func result(_ status: Int, _ body: String, _ headers: [(String, String)] = [], attempt: Int = 1) -> DeliveryResult {
        XResponse.deliveryResult(for: .success(HTTPResponse(status: status, headers: headers.map { HTTPHeader($0.0, $0.1) },
                                                            body: Array(body.utf8))), nowMs: nowMs, attempt: attempt)
    }

    func testAcceptedWithoutAnIDIsStillDelivered() {
        XCTAssertEqual(result(201, "{}"), DeliveryResult(.delivered, reason: "X accepted the Tweet (HTTP 201) but sent no data.id"))
        XCTAssertEqual(result(200, #"{"data":{"id":"42","text":"t"}}"#, [("X-Rate-Limit-Remaining", "0"), ("x-rate-limit-reset", "1700000060")]),
                       DeliveryResult(.delivered, externalID: "42", pauseDestinationMs: 60_000))
        // An app's daily cap spent pauses too; a reset already past pauses nothing.
        XCTAssertEqual(result(201, #"{"data":{"id":"7"}}"#, [("x-app-limit-24hour-remaining", "0"), ("x-app-limit-24hour-reset", "1700003600")]).pauseDestinationMs,
                       3_600_000)
        XCTAssertEqual(result(201, #"{"data":{"id":"7"}}"#, [("x-rate-limit-remaining", "0"), ("x-rate-limit-reset", "1699999999")]).pauseDestinationMs, 0)
    }

    func testRefusalsCarryXsExplanation() {
        XCTAssertEqual(result(400, #"{"errors":[{"message":"text too long"}],"title":"Invalid Request","detail":"One or more parameters to your request was invalid."}"#),
                       DeliveryResult(.permanentFailure, reason: "X refused the Tweet (HTTP 400): One or more parameters to your request was invalid."))
        XCTAssertEqual(result(403, #"{"errors":[{"message":"You are not permitted to perform this action."}]}"#),
                       DeliveryResult(.permanentFailure, reason: "X refused the Tweet (HTTP 403): You are not permitted to perform this action."))
        XCTAssertEqual(result(404, "<html>gone</html>"), DeliveryResult(.permanentFailure, reason: "X answered HTTP 404: <html>gone</html>"))
        XCTAssertEqual(result(502, ""), DeliveryResult(.retry, reason: "X answered HTTP 502: no body"))
    }

    func testA429WithoutResetLeavesTheWaitToTheHost() {
        XCTAssertEqual(result(429, #"{"title":"Too Many Requests"}"#),
                       DeliveryResult(.retry, reason: "X rate limit reached (HTTP 429: Too Many Requests) and no reset header: the host's backoff decides"))
    }

    func testA429WaitsForTheLatestSpentBudget() {
        let headers = [("x-rate-limit-remaining", "3"), ("x-rate-limit-reset", "1700000100"),
                       ("x-user-limit-24hour-remaining", "5"), ("x-user-limit-24hour-reset", "1700050000"),
                       ("x-app-limit-24hour-remaining", "0"), ("x-app-limit-24hour-reset", "1700007200")]
        let limited = result(429, #"{"detail":"Too Many Requests"}"#, headers)
        XCTAssertEqual(limited.retryAfterMs, 7_200_000, "the app's spent cap, not the user's unspent one")
        XCTAssertTrue(limited.reason.contains("x-app-limit-24hour resets at 1700007200"), limited.reason)
    }
}
