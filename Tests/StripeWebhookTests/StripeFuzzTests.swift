import AlphaPlusJSON
import Foundation
import SharedTestData
@testable import WebhookStripe
import XCTest

/// Property-based tests of what reads untrusted input: the
/// `Stripe-Signature` parser and verifier, and the event decoder and
/// interpreter, on random inputs and on mutations of valid ones. Each test
/// runs `ALPHAPLUS_FUZZ_ITERATIONS` iterations (default 5,000: together
/// 10,000 headers and 5,000 bodies, two to three seconds in a debug build)
/// from a fixed seed, so a failure names an input that reproduces.
final class StripeFuzzTests: XCTestCase {
    static var iterations: Int { ProcessInfo.processInfo.environment["ALPHAPLUS_FUZZ_ITERATIONS"].flatMap(Int.init) ?? 5_000 }

    static let nowSeconds: Int64 = 1_700_000_000
    static let prices = ["price_Premium1": "premium", "price_Basic1": "basic"]

    /// Stops a broken property from failing thousands of times.
    private var failures = 0
    private func check(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line) {
        guard !condition, failures < 5 else { return }
        failures += 1
        XCTFail(message(), file: file, line: line)
    }

    // MARK: - Stripe-Signature

    private static let headerPieces = [
        "t", "v1", "v0", "v2", "=", "=", ",", ",", " ", "\t", "0", "1", "7", "9", "-", "+", "_", "a", "f", "F", "x", "é", "١", "１",
        "\u{A0}", "\u{301}", "\u{0}", "\u{1C}", "1700000000", "ffffffffffffffff",
    ]

    /// Inserts, deletes, replaces or duplicates a few pieces of `text` (by Unicode scalar).
    private static func mutate(_ text: String, _ random: inout SplitMix64) -> String {
        var scalars = Array(text.unicodeScalars)
        for _ in 0..<Int.random(in: 1...4, using: &random) {
            let position = Int.random(in: 0...scalars.count, using: &random)
            let piece = Array(headerPieces.randomElement(using: &random)!.unicodeScalars)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: scalars.insert(contentsOf: piece, at: position)
            case 1 where position < scalars.count: scalars.remove(at: position)
            case 2 where position < scalars.count: scalars.replaceSubrange(position...position, with: piece)
            default:
                let end = min(scalars.count, position + Int.random(in: 1...12, using: &random))
                scalars.insert(contentsOf: scalars[position..<end], at: position)
            }
        }
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars)
        return String(result)
    }

    /// A random header, from valid parts: a timestamp, v1 signatures (the
    /// right one among them or not), v0 and unknown schemes, in any order.
    private static func validHeader(_ body: [UInt8], _ random: inout SplitMix64) -> (text: String, timestamp: Int64, v1: [String]) {
        let timestamp = nowSeconds + Int64.random(in: -1_000...1_000, using: &random)
        var v1 = (0..<Int.random(in: 0...3, using: &random)).map { _ in String(random.next(), radix: 16) }
        v1.insert(StripeSigner.signature(body, timestamp: String(timestamp)), at: Int.random(in: 0...v1.count, using: &random))
        let others = (0..<Int.random(in: 0...3, using: &random)).map { _ in ["v0", "v2", "x", ""].randomElement(using: &random)! + "=" + String(random.next(), radix: 16) }
        var items = v1.map { "v1=\($0)" } + others
        items.insert("t=\(timestamp)", at: Int.random(in: 0...items.count, using: &random))
        return (items.joined(separator: ","), timestamp, v1)
    }

    func testTheSignatureParserAndVerifierHoldTheirProperties() {
        var random = SplitMix64(seed: 0xF022_5EED)
        let nowNs = Self.nowSeconds * 1_000_000_000
        var parsedCount = 0, acceptedCount = 0
        for iteration in 0..<Self.iterations {
            let body = Array(#"{"id": "evt_\#(iteration)", "object": "event"}"#.utf8)
            let valid = Self.validHeader(body, &random)

            // A valid header round-trips, and verifies.
            do {
                let parsed = try StripeSignature.parse(valid.text)
                check(parsed == StripeSignature.Header(timestamp: String(valid.timestamp), signatures: valid.v1), "round trip of \(valid.text.debugDescription): \(parsed)")
                try StripeSignature.verify(header: valid.text, body: body, secret: StripeSigner.secret, nowNs: nowNs, toleranceSeconds: 3600,
                                           hmac: StripeSigner.hmac)
            } catch {
                check(false, "valid header \(valid.text.debugDescription) refused: \(error)")
            }

            // Random text, or a mutation of the valid header.
            let header = iteration % 3 == 0
                ? (0..<Int.random(in: 0...24, using: &random)).map { _ in Self.headerPieces.randomElement(using: &random)! }.joined()
                : Self.mutate(valid.text, &random)
            var parsed: StripeSignature.Header?
            do {
                parsed = try StripeSignature.parse(header)
            } catch {
                check(!error.description.isEmpty && [.missingHeader, .malformedHeader].contains(error.reason), "parse \(header.debugDescription): \(error)")
            }
            if let parsed {
                parsedCount += 1
                check(!parsed.signatures.isEmpty, "\(header.debugDescription) parsed without a v1")
                check(parsed.timestamp.wholeMatch(of: #/0|-?[1-9][0-9]*/#) != nil, "\(header.debugDescription): timestamp \(parsed.timestamp)")
            }
            do {
                try StripeSignature.verify(header: header, body: body, secret: StripeSigner.secret, nowNs: nowNs, toleranceSeconds: 300,
                                           hmac: StripeSigner.hmac)
                // Accepted: it carries the signature of its own timestamp, which is recent enough.
                acceptedCount += 1
                let expected = parsed.map { StripeSigner.signature(body, timestamp: $0.timestamp) }
                check(expected.map { parsed!.signatures.contains($0) } ?? false, "\(header.debugDescription) accepted without its signature")
                check(parsed.map { Int64($0.timestamp).map { $0 >= Self.nowSeconds - 300 } ?? !$0.timestamp.hasPrefix("-") } ?? false,
                      "\(header.debugDescription) accepted with an old timestamp")
            } catch let refusal as StripeSignature.Refusal {
                check(!refusal.description.isEmpty, "\(header.debugDescription): a refusal without a message")
            } catch {
                check(false, "\(header.debugDescription): \(error)")
            }
        }
        // The properties were exercised: mutations both kept and broke headers.
        if Self.iterations >= 1_000 {
            XCTAssertGreaterThan(parsedCount, Self.iterations / 10)
            XCTAssertGreaterThan(acceptedCount, Self.iterations / 20)
            XCTAssertLessThan(acceptedCount, Self.iterations / 2)
        }
    }

    // MARK: - Events

    private static func randomJSON(_ random: inout SplitMix64, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0..<(depth > 2 ? 5 : 7), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number([0, -1, 1.5, 1e300, -1e300, 1_700_000_000, 9_223_372_037, Double(Int64.random(in: -5...2_000_000_000, using: &random))].randomElement(using: &random)!)
        case 3: return .string(["", "active", "past_due", "price_Premium1", "price_Basic1", "cus_1", "acct 1", "acct_1", "é", String(repeating: "x", count: 300)].randomElement(using: &random)!)
        case 4: return .string("evt_" + String(random.next(), radix: 36))
        case 5: return .array((0..<Int.random(in: 0...3, using: &random)).map { _ in randomJSON(&random, depth: depth + 1) })
        default:
            let keys = ["id", "customer", "status", "price", "data", "items", "lines", "period", "end", "current_period_end", "pricing",
                        "price_details", "subscription", "parent", "subscription_details", "client_reference_id", "object"]
            return .object(Dictionary((0..<Int.random(in: 0...3, using: &random)).map { _ in (keys.randomElement(using: &random)!, randomJSON(&random, depth: depth + 1)) },
                                      uniquingKeysWith: { a, _ in a }))
        }
    }

    /// Replaces one node of `value` (chosen at random along a path) with a random value.
    private static func replacingANode(of value: JSONValue, _ random: inout SplitMix64) -> JSONValue {
        switch value {
        case .object(var members) where !members.isEmpty && Int.random(in: 0..<4, using: &random) > 0:
            let key = members.keys.sorted().randomElement(using: &random)!
            if Int.random(in: 0..<5, using: &random) == 0 { members[key] = nil } else { members[key] = replacingANode(of: members[key]!, &random) }
            return .object(members)
        case .array(var elements) where !elements.isEmpty && Int.random(in: 0..<4, using: &random) > 0:
            let index = Int.random(in: 0..<elements.count, using: &random)
            elements[index] = replacingANode(of: elements[index], &random)
            return .array(elements)
        default:
            return randomJSON(&random)
        }
    }

    private static func mutate(bytes: [UInt8], _ random: inout SplitMix64) -> [UInt8] {
        var bytes = bytes
        for _ in 0..<Int.random(in: 1...6, using: &random) {
            let position = Int.random(in: 0...bytes.count, using: &random)
            switch Int.random(in: 0..<4, using: &random) {
            case 0: bytes.insert(UInt8.random(in: 0...255, using: &random), at: position)
            case 1 where position < bytes.count: bytes.remove(at: position)
            case 2 where position < bytes.count: bytes[position] = Array(#"{}[]",:0-9.e"#.utf8).randomElement(using: &random)!
            default: bytes = Array(bytes.prefix(position))
            }
        }
        return bytes
    }

    func testTheEventDecoderAndInterpreterHoldTheirProperties() throws {
        var random = SplitMix64(seed: 0xE7E_27)
        // Valid events with just the fields the plugin reads, so that mutations hit them often.
        let valid: [[UInt8]] = [
            #"{"id":"evt_c","object":"event","type":"checkout.session.completed","created":1700000000,"data":{"object":{"customer":"cus_1","client_reference_id":"acct_1"}}}"#,
            #"{"id":"evt_s","object":"event","type":"customer.subscription.updated","created":1700000000,"data":{"object":{"customer":"cus_1","status":"active","items":{"data":[{"price":{"id":"price_Premium1"},"current_period_end":1700000009}]}}}}"#,
            #"{"id":"evt_l","object":"event","type":"customer.subscription.created","created":1700000000,"data":{"object":{"customer":{"id":"cus_1"},"status":"past_due","current_period_end":1700000009,"items":{"data":[{"price":{"id":"price_X"}},{"price":{"id":"price_Basic1"}}]}}}}"#,
            #"{"id":"evt_d","object":"event","type":"customer.subscription.deleted","created":1700000000,"data":{"object":{"customer":"cus_1","status":"canceled"}}}"#,
            #"{"id":"evt_i","object":"event","type":"invoice.paid","created":1700000000,"data":{"object":{"customer":"cus_1","parent":{"subscription_details":{"subscription":"sub_1"}},"lines":{"data":[{"pricing":{"price_details":{"price":"price_Premium1"}},"period":{"end":1700000009}}]}}}}"#,
            #"{"id":"evt_f","object":"event","type":"invoice.payment_failed","created":1700000000,"data":{"object":{"customer":"cus_1","subscription":"sub_1","lines":{"data":[{"price":{"id":"price_Basic1"},"period":{"end":1700000009}}]}}}}"#,
        ].map { Array($0.utf8) }
        let documents = try valid.map { try JSONValue(parsing: $0) }
        var decodedCount = 0, links = 0, changes = 0
        for iteration in 0..<Self.iterations {
            let source = iteration % valid.count
            let body: [UInt8]
            switch iteration % 4 {
            case 0: body = Self.mutate(bytes: valid[source], &random)
            case 1: body = (0..<Int.random(in: 0...48, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            default:
                // Mostly inside data.object, so the interpretation sees it; now and then anywhere.
                var document = documents[source]
                if iteration % 5 != 0, case .object(var envelope) = document, case .object(var data)? = envelope["data"],
                   let object = data["object"] {
                    data["object"] = Self.replacingANode(of: object, &random)
                    envelope["data"] = .object(data)
                    document = .object(envelope)
                } else {
                    document = Self.replacingANode(of: document, &random)
                }
                body = Array(document.jsonText.utf8)
            }
            let event: StripeEvent
            do {
                event = try StripeEvent(json: body)
            } catch {
                check(error.description.hasPrefix("the body is not a Stripe event: ") && error.description.count > 35,
                      "\(String(decoding: body, as: UTF8.self).debugDescription): \(error)")
                continue
            }
            decodedCount += 1
            check(!event.id.isEmpty && !event.type.isEmpty && event.createdNs >= 0, "decoded \(event)")
            let interpretation = event.interpreted(prices: Self.prices)
            check(interpretation.notes.allSatisfy { $0.message.contains(event.id) }, "notes without the event: \(interpretation.notes)")
            switch interpretation.effect {
            case .link(let customer, let subscriber)?:
                links += 1
                check(!customer.isEmpty && subscriber.wholeMatch(of: #/[A-Za-z0-9_-]{1,200}/#) != nil, "link \(customer) → \(subscriber)")
            case .change(let customer, let tier, let status, let periodEndNs)?:
                changes += 1
                check(!customer.isEmpty, "a change without a customer")
                check(tier.map { Set(Self.prices.values).contains($0) } ?? true, "tier \(tier ?? "")")
                check(status.map { StripeEvent.statuses.contains($0) } ?? true, "status \(status ?? "")")
                check((periodEndNs ?? 0) >= 0, "period end \(periodEndNs ?? 0)")
            case nil:
                check(!interpretation.notes.isEmpty, "\(event.type) \(event.id): nothing done and nothing said")
            }
        }
        // The interpretation was exercised, not only the decoder's refusals.
        if Self.iterations >= 1_000 {
            XCTAssertGreaterThan(decodedCount, Self.iterations / 4)
            XCTAssertGreaterThan(links, Self.iterations / 100)
            XCTAssertGreaterThan(changes, Self.iterations / 20)
        }
    }
}
