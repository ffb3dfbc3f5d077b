import AlphaPlusSDK
import Crypto
import Foundation
import HTTPClient

/// What Stripe's and Telegram's servers and the operator's website send,
/// made here independently of the plugins, for the end-to-end tests.
enum WebhookRequests {
    /// `Stripe-Signature` for `body` signed at `time` (Unix seconds) with `secret`.
    static func stripeSignature(_ body: [UInt8], secret: String, at time: Int) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(time).".utf8) + body, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(time),v1=\(mac.map { String(format: "%02x", $0) }.joined())"
    }

    /// The website's deep-link parameter for `subscriber` (docs/OPERATIONS.md).
    static func linkToken(_ subscriber: String, secret: String) -> String {
        let mac = Array(HMAC<SHA256>.authenticationCode(for: Array(subscriber.utf8), using: SymmetricKey(data: Array(secret.utf8))))
        let encoded = Data(mac.prefix(16)).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return "\(subscriber)-\(encoded)"
    }

    /// A Telegram update: `text` from a private chat, its command marked as one.
    static func telegramUpdate(_ updateID: Int, chat: Int64, text: String, date: Int) -> [UInt8] {
        let command = text.split(separator: " ").first.map(String.init) ?? text
        return Array(#"{"update_id":\#(updateID),"message":{"message_id":\#(updateID),"from":{"id":\#(chat),"is_bot":false,"first_name":"E"},"chat":{"id":\#(chat),"first_name":"E","type":"private"},"date":\#(date),"text":"\#(text)","entities":[{"offset":0,"length":\#(command.utf16.count),"type":"bot_command"}]}}"#.utf8)
    }
}

extension HTTPClient {
    /// Sends `request` and waits for the whole response.
    func response(_ request: HTTPRequest) throws -> AlphaPlusSDK.HTTPResponse {
        final class Box: @unchecked Sendable { var result: Result<AlphaPlusSDK.HTTPResponse, HTTPClientError>? }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        _ = try send(request) { result in
            box.result = result
            done.signal()
        }
        done.wait()
        return try box.result!.get()
    }

    /// Sends `request` and waits for its status and body.
    func answer(_ request: HTTPRequest) throws -> (status: Int, text: String) {
        let response = try response(request)
        return (response.status, response.bodyText)
    }

    func post(_ url: String, _ body: [UInt8], _ headers: [String: String]) throws -> (status: Int, text: String) {
        try answer(HTTPRequest(method: "POST", url: url, headers: headers.map { HTTPHeader($0.key, $0.value) }, body: body, timeoutMs: 10_000))
    }
}
