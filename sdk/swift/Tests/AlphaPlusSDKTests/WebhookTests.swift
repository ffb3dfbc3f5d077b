import AlphaPlusSDK
import AlphaPlusSDKTesting
import XCTest

/// ap.webhook.v1 through the webhook table.
final class WebhookTests: XCTestCase {
    private let host = TestHost()

    func testRequestFieldsReachThePluginExactly() throws {
        let instance = try host.load(EchoWebhook.self).create(instance: "hook")
        let webhook = try XCTUnwrap(Live.get(EchoWebhook.self, instance: "hook"))
        let body: [UInt8] = [0x00, 0x01, 0xFF, 0xFE, 0x0D, 0x0A] + Array(#"{"ü": "✓"}"#.utf8) + [0x00]
        let request = WebhookRequest(
            method: "POST", path: "/echo/deep/path", query: "a=1&b=%20&c",
            headers: [("X-Signature-Ed25519", "abcdef0123"), ("Content-Type", "application/octet-stream"),
                      ("x-dup", "1"), ("X-Dup", "2"), ("X-Empty", "")],
            body: body, requestID: "req-7f3a")
        _ = try instance.handle(request)

        let received = try XCTUnwrap(webhook.requests.last)
        XCTAssertEqual(received, request)
        XCTAssertEqual(received.method, "POST")
        XCTAssertEqual(received.path, "/echo/deep/path")
        XCTAssertEqual(received.query, "a=1&b=%20&c")
        XCTAssertEqual(received.headers.map(\.name), ["X-Signature-Ed25519", "Content-Type", "x-dup", "X-Dup", "X-Empty"])
        XCTAssertEqual(received.headers.map(\.value), ["abcdef0123", "application/octet-stream", "1", "2", ""])
        XCTAssertEqual(received.body, body)
        XCTAssertEqual(received.requestID, "req-7f3a")
        XCTAssertEqual(received.header("content-type"), "application/octet-stream")
        XCTAssertEqual(received.header("X-DUP"), "1")
        XCTAssertNil(received.header("X-Missing"))

        // A bare request: no query, headers or body.
        _ = try instance.handle(WebhookRequest(method: "GET", path: "/echo"))
        XCTAssertEqual(webhook.requests.last, WebhookRequest(method: "GET", path: "/echo"))
        XCTAssertEqual(webhook.requests.last?.body, [])
        XCTAssertEqual(webhook.requests.count, 2)
    }

    func testResponseStatusHeadersAndBodyComeBack() throws {
        let instance = try host.load(EchoWebhook.self).create(instance: "responder")
        let body: [UInt8] = [1, 2, 3, 0, 0xFF]
        let response = try instance.handle(WebhookRequest(method: "PUT", path: "/echo", query: "x=y",
                                                          headers: [("Authorization", "Bearer t"), ("A", "b")],
                                                          body: body, requestID: "r-1"))
        XCTAssertEqual(response.status, 202)
        XCTAssertEqual(response.headers.map(\.name), ["X-Method", "X-Query", "X-Request-Id", "X-Echo-Authorization", "X-Echo-A"])
        XCTAssertEqual(response.headers.map(\.value), ["PUT", "x=y", "r-1", "Bearer t", "b"])
        XCTAssertEqual(response.body, [0xFF, 0, 3, 2, 1])
        XCTAssertEqual(response, WebhookResponse(status: 202, headers: [("X-Method", "PUT"), ("X-Query", "x=y"), ("X-Request-Id", "r-1"),
                                                                        ("X-Echo-Authorization", "Bearer t"), ("X-Echo-A", "b")],
                                                 body: [0xFF, 0, 3, 2, 1]))

        let notFound = try instance.handle(WebhookRequest(method: "GET", path: "/nowhere"))
        XCTAssertEqual(notFound, WebhookResponse(status: 404, text: #"{"error": "no route"}"#))
        XCTAssertEqual(notFound.headers.map(\.value), ["application/json"])

        let empty = try instance.handle(WebhookRequest(method: "DELETE", path: "/state/x"))
        XCTAssertEqual(empty.status, 204)
        XCTAssertEqual(empty.headers.count, 0)
        XCTAssertEqual(empty.body, [])
    }

    func testAThrowingHandlerReturnsStatusAndMessage() throws {
        let instance = try host.load(EchoWebhook.self).create(instance: "failing")
        XCTAssertThrowsError(try instance.handle(WebhookRequest(method: "POST", path: "/fail", requestID: "req-9"))) { error in
            XCTAssertEqual((error as? PluginError)?.status, ap_status(AP_ERR_INVALID_ARGUMENT))
            XCTAssertEqual((error as? PluginError)?.message, "missing X-Signature header (request req-9)")
        }
    }

    func testTheRawWebhookTable() throws {
        let table = PluginExport.entry(EchoWebhook.self)
        let context = RawContext()
        var err = emptyError()
        XCTAssertEqual(table.pointee.`init`(table, RawHost.api, context.opaque, &err), ap_status(AP_OK))
        defer { table.pointee.deinit(table) }
        let created = rawCreate(table, context: context, instance: "raw-hook", config: nil)
        XCTAssertEqual(created.status, ap_status(AP_OK), created.message)
        defer { table.pointee.destroy(table, created.instance) }
        let webhook = try XCTUnwrap(capability(table, "ap.webhook.v1")).assumingMemoryBound(to: ap_webhook_v1.self)

        final class Answer {
            var calls: [String] = []
            var body: [UInt8] = []
        }
        let answer = Answer()
        var responder = ap_webhook_response(
            struct_size: UInt32(MemoryLayout<ap_webhook_response>.size),
            host_data: Unmanaged.passUnretained(answer).toOpaque(),
            set_status: { data, status in
                Unmanaged<Answer>.fromOpaque(data!).takeUnretainedValue().calls.append("status \(status)")
            },
            add_header: { data, name, value in
                Unmanaged<Answer>.fromOpaque(data!).takeUnretainedValue().calls.append("header \(name.string): \(value.string)")
            },
            append_body: { data, bytes, len in
                let answer = Unmanaged<Answer>.fromOpaque(data!).takeUnretainedValue()
                answer.calls.append("body \(len)")
                if let bytes { answer.body += UnsafeBufferPointer(start: bytes, count: len) }
            })
        let status = WebhookRequest(method: "GET", path: "/echo", query: "q", headers: [("K", "v")], body: [7, 8],
                                    requestID: "raw-1").withCRequest { webhook.pointee.handle(created.instance, $0, &responder, &err) }
        XCTAssertEqual(status, ap_status(AP_OK))
        XCTAssertEqual(answer.calls, ["status 202", "header X-Method: GET", "header X-Query: q", "header X-Request-Id: raw-1",
                                      "header X-Echo-K: v", "body 2"])
        XCTAssertEqual(answer.body, [8, 7])
    }
}
