import AlphaPlusJSON
import Foundation
import XCTest

/// The admin API's tokens, routes and answers, against the host's store.
final class AdminAPITests: XCTestCase {
    private var host: IngressHost!

    static let routes = ["/admin/v1/plugins", "/admin/v1/tenants", "/admin/v1/tenants/alpha", "/admin/v1/tenants/alpha/instances",
                         "/admin/v1/tenants/alpha/signals", "/admin/v1/tenants/alpha/outbox"]

    override func tearDown() {
        host?.close()
        host = nil
    }

    func testAMissingOrWrongTokenIs401WithABearerChallenge() throws {
        host = try IngressHost()
        for route in Self.routes {
            let missing = try host.send("GET", route)
            XCTAssertEqual(missing.status, 401, route)
            XCTAssertEqual(missing.header("WWW-Authenticate"), "Bearer", route)
            XCTAssertEqual(missing.error, "missing bearer token: send Authorization: Bearer <token>", route)

            let wrong = try host.send("GET", route, token: operatorToken + "x")
            XCTAssertEqual(wrong.status, 401, route)
            XCTAssertEqual(wrong.header("WWW-Authenticate"), "Bearer error=\"invalid_token\"", route)
            XCTAssertEqual(wrong.error, "wrong token", route)

            let basic = try host.send("GET", route, headers: [("Authorization", "Basic b3A6dG9rZW4=")])
            XCTAssertEqual(basic.status, 401, route)
            XCTAssertEqual(basic.header("WWW-Authenticate"), "Bearer error=\"invalid_request\"", route)
        }
        // A prefix, an empty token, the token of nobody: all wrong.
        for token in [String(operatorToken.dropLast()), "", alphaToken.uppercased()] {
            XCTAssertEqual(try host.send("GET", "/admin/v1/tenants", headers: [("Authorization", "Bearer \(token)")]).status, 401, token)
        }
        // The scheme is case-insensitive.
        XCTAssertEqual(try host.send("GET", "/admin/v1/tenants", headers: [("Authorization", "bearer \(operatorToken)")]).status, 200)
        // Refusals are logged (the first few of each interval) with the source, without the token.
        let logged = host.logLines.joined(separator: "\n")
        XCTAssertTrue(logged.contains("admin: GET \(Self.routes[0]) from 127.0.0.1 refused (401 wrong token)"), logged)
        for token in [operatorToken, alphaToken, betaToken] { XCTAssertFalse(logged.contains(token), "a token is in the log") }
    }

    func testATenantTokenReachingAnotherTenantOrAnOperatorRouteIs403() throws {
        host = try IngressHost()
        for suffix in ["", "/instances", "/signals", "/outbox"] {
            for (token, other, own) in [(alphaToken, "beta", "alpha"), (betaToken, "alpha", "beta")] {
                let response = try host.send("GET", "/admin/v1/tenants/\(other)\(suffix)", token: token)
                XCTAssertEqual(response.status, 403, "\(own) reading \(other)\(suffix)")
                XCTAssertEqual(response.error, "this token is tenant '\(own)''s: it reads only that tenant")
                XCTAssertEqual(try host.send("GET", "/admin/v1/tenants/\(own)\(suffix)", token: token).status, 200)
            }
            // Whether the other tenant exists or not: no telling.
            XCTAssertEqual(try host.send("GET", "/admin/v1/tenants/nobody\(suffix)", token: alphaToken).status, 403)
            let unknown = try host.send("GET", "/admin/v1/tenants/nobody\(suffix)", token: operatorToken)
            XCTAssertEqual(unknown.status, 404)
            XCTAssertEqual(unknown.error, "no tenant 'nobody'")
        }
        let plugins = try host.send("GET", "/admin/v1/plugins", token: alphaToken)
        XCTAssertEqual(plugins.status, 403)
        XCTAssertEqual(plugins.error, "this route is for the operator's token")
        // Tenant gamma has no token: only the operator reads it.
        XCTAssertEqual(try host.send("GET", "/admin/v1/tenants/gamma", token: operatorToken).status, 200)
    }

    func testBadQueryParametersAre400NamingThem() throws {
        host = try IngressHost()
        let signals = "/admin/v1/tenants/alpha/signals"
        let cases = [
            ("\(signals)?limit=abc", "limit: 'abc' is not an integer in 1...500"),
            ("\(signals)?limit=0", "limit: '0' is not an integer in 1...500"),
            ("\(signals)?limit=501", "limit: '501' is not an integer in 1...500"),
            ("\(signals)?limit=-5", "limit: '-5' is not an integer in 1...500"),
            ("\(signals)?limit=", "limit: '' is not an integer in 1...500"),
            ("\(signals)?limit=99999999999999999999999", "limit: '99999999999999999999999' is not an integer in 1...500"),
            ("\(signals)?limit=5&limit=6", "limit: given more than once"),
            ("\(signals)?limit=%zz", "limit: '%zz' is not percent-encoded UTF-8"),
            ("\(signals)?before=yesterday", "before: 'yesterday' is not a page cursor (a page's next: <created_at_ns>:<id>)"),
            ("\(signals)?limit=5&foo=1&bar", "unknown query parameters 'foo', 'bar' (this route takes limit, before)"),
            ("\(signals)?Limit=5", "unknown query parameter 'Limit' (this route takes limit, before)"),
            ("/admin/v1/tenants?page=2", "unknown query parameter 'page' (this route takes no query parameters)"),
            ("/admin/v1/tenants/alpha/outbox?limit=5", "unknown query parameter 'limit' (this route takes no query parameters)"),
            ("/admin/v1/plugins?x", "unknown query parameter 'x' (this route takes no query parameters)"),
            ("/healthz?verbose=1", "unknown query parameter 'verbose' (this route takes no query parameters)"),
        ]
        for (target, message) in cases {
            let response = try host.send("GET", target, token: operatorToken)
            XCTAssertEqual(response.status, 400, target)
            XCTAssertEqual(response.error, message, target)
        }
        // Authentication comes first: a bad query without a token is a 401.
        XCTAssertEqual(try host.send("GET", "\(signals)?limit=abc").status, 401)
        // Percent-encoded and '+'-spaced names decode; empty pieces are skipped.
        XCTAssertEqual(try host.send("GET", "\(signals)?%6Cimit=2&&", token: operatorToken).status, 200)
    }

    func testSignalsArePagedNewestFirstWithACursor() throws {
        host = try IngressHost()
        let first = try host.send("GET", "/admin/v1/tenants/alpha/signals?limit=2", token: alphaToken).json()
        guard case .array(let page)? = first["signals"], case .string(let next)? = first["next"] else {
            return XCTFail("\(first)")
        }
        XCTAssertEqual(page.map { $0["id"] }, [.string("alpha:sim:BTC-USDT:60:1795248120000"), .string("alpha:sim:BTC-USDT:60:1795248060000")])
        XCTAssertEqual(next, "1795248060000000000:alpha:sim:BTC-USDT:60:1795248060000")
        XCTAssertEqual(page[0]["created_at"], .string("2026-11-21T08:02:00.000Z"))
        XCTAssertEqual(page[0]["votes"], .array([.object([
            "head": .string("head"), "plugin": .string("com.alphaplus.test.flat-head"), "status": .string("ok"), "direction": .string("long"),
            "confidence": .number(0.8), "calibrated_confidence": .number(0.8), "weight": .number(1), "rationale": .string("up"),
            "error": .string(""),
        ])]))
        let escaped = next.replacingOccurrences(of: ":", with: "%3A")
        let second = try host.send("GET", "/admin/v1/tenants/alpha/signals?before=\(escaped)&limit=2", token: alphaToken).json()
        XCTAssertEqual(second["signals"].map { value -> [JSONValue?] in
            guard case .array(let items) = value else { return [] }
            return items.map { $0["id"] }
        }, [.string("alpha:sim:BTC-USDT:60:1795248000000")])
        XCTAssertEqual(second["next"], .null)
        // The default page holds all three; beta sees its one.
        XCTAssertEqual(try host.send("GET", "/admin/v1/tenants/alpha/signals", token: operatorToken).json()["signals"].map(count), 3)
        XCTAssertEqual(try host.send("GET", "/admin/v1/tenants/beta/signals", token: betaToken).json()["signals"].map(count), 1)
    }

    func testTheOutboxShowsEachDestinationsCountsByStateAndTheDeadLetters() throws {
        host = try IngressHost()
        let outbox = try host.send("GET", "/admin/v1/tenants/alpha/outbox", token: alphaToken).json()
        XCTAssertEqual(outbox["destinations"], .array([.object([
            "id": .string("chat"), "channel": .string("hook"), "tier": .string("premium"), "enabled": .bool(true), "disabled_reason": .null,
            "counts": .object(["pending": .number(0), "sending": .number(0), "delivered": .number(1), "dead": .number(2), "dry_run": .number(0)]),
            "oldest_pending_at": .null,
        ])]))
        guard case .array(let dead)? = outbox["dead_letters"] else { return XCTFail("\(outbox)") }
        XCTAssertEqual(dead.map { $0["last_error"] }, [.string("message too long"), .string("chat not found")], "most recent first")
        XCTAssertEqual(dead.first?["given_up_at"], .string("2026-11-21T08:00:03.000Z"))
        XCTAssertEqual(try host.send("GET", "/admin/v1/tenants/beta/outbox", token: betaToken).json(),
                       .object(["destinations": .array([]), "dead_letters": .array([])]))
    }

    func testSubscribersShowTheTierReceivedIdentitiesAndHistoryOfTheirTenantOnly() throws {
        host = try IngressHost()
        let listed = try host.send("GET", "/admin/v1/tenants/alpha/subscribers", token: alphaToken).json()
        guard case .array(let subscribers)? = listed["subscribers"] else { return XCTFail("\(listed)") }
        XCTAssertEqual(subscribers.map { $0["id"] }, [.string("telegram_chat-7"), .string("u_1")])
        let paying = subscribers[1]
        XCTAssertEqual(paying["tier"], .string("premium"))
        XCTAssertEqual(paying["paid_tier"], .string("premium"))
        XCTAssertEqual(paying["status"], .string("active"))
        XCTAssertEqual(paying["period_end"], .string("2026-11-22T08:00:00.000Z"))
        XCTAssertEqual(paying["identities"], .array([
            .object(["kind": .string("stripe_customer"), "value": .string("cus_1")]),
            .object(["kind": .string("telegram_chat"), "value": .string("42")]),
        ]))
        guard case .array(let history)? = paying["history"] else { return XCTFail("\(paying)") }
        XCTAssertEqual(history.map { $0["reference"] }, [.null, .string("evt_checkout"), .string("evt_sub")])
        XCTAssertEqual(history.last?["source"], .string("com.alphaplus.webhook-stripe/stripe"))
        XCTAssertEqual(subscribers[0]["tier"], .string("free"), "a chat alone receives the unpaid tier")
        XCTAssertEqual(subscribers[0]["paid_tier"], .null)
        let beta = try host.send("GET", "/admin/v1/tenants/beta/subscribers", token: betaToken).json()
        guard case .array(let betas)? = beta["subscribers"] else { return XCTFail("\(beta)") }
        XCTAssertEqual(betas.map { $0["id"] }, [.string("b_1")])
        XCTAssertEqual(betas[0]["tier"], .null, "beta has no subscribers section and b_1 pays for nothing")
        XCTAssertEqual(try host.send("GET", "/admin/v1/tenants/alpha/subscribers", token: betaToken).status, 403)
    }

    func testTenantsInstancesAndPlugins() throws {
        host = try IngressHost()
        let all = try host.send("GET", "/admin/v1/tenants", token: operatorToken).json()
        XCTAssertEqual(all["tenants"].map(ids), ["alpha", "beta", "gamma"])
        XCTAssertEqual(try host.send("GET", "/admin/v1/tenants", token: betaToken).json()["tenants"].map(ids), ["beta"])

        let alpha = try host.send("GET", "/admin/v1/tenants/alpha", token: alphaToken).json()
        XCTAssertEqual(alpha["instances"], .object(["running": .number(2), "dry_run": .number(1), "failed": .number(1)]))
        XCTAssertEqual(alpha["store"], .object(["signals": .number(3), "risk_decisions": .number(0), "rejections": .number(0),
                                                "outcomes": .number(0)]))
        XCTAssertEqual(alpha["admin_token"], .bool(true))
        XCTAssertFalse(try host.send("GET", "/admin/v1/tenants/alpha", token: alphaToken).text.contains(alphaToken))

        let instances = try host.send("GET", "/admin/v1/tenants/alpha/instances", token: alphaToken).json()
        guard case .array(let list)? = instances["instances"] else { return XCTFail("\(instances)") }
        XCTAssertEqual(list.map { $0["state"] }, [.string("running"), .string("running"), .string("failed"), .string("dry_run")])
        XCTAssertEqual(list[0]["webhook_path"], .string("/hooks/alpha/hook"))
        XCTAssertNil(list[1]["webhook_path"])
        XCTAssertEqual(list[2]["reason"], .string("create failed (status 2): no such chat"))

        let plugins = try host.send("GET", "/admin/v1/plugins", token: operatorToken).json()
        guard case .array(let loaded)? = plugins["plugins"] else { return XCTFail("\(plugins)") }
        XCTAssertEqual(loaded.map { $0["id"] }, [.string("com.alphaplus.test.echo-webhook"), .string("com.alphaplus.test.flat-head")])
        XCTAssertEqual(loaded[0]["capabilities"], .array([.string("ap.webhook.v1")]))
        XCTAssertEqual(loaded[0]["running_instances"], .number(2))
        XCTAssertEqual(plugins["refused"], .array([.object(["file": .string("/plugins/libap-broken.so"),
                                                            "reason": .string("is not an ELF shared object")])]))
    }

    func testWithoutAnyTokenTheAdminAPIIsDisabled() throws {
        host = try IngressHost(tokens: false)
        for route in Self.routes {
            for token in [nil, operatorToken] {
                let response = try host.send("GET", route, token: token)
                XCTAssertEqual(response.status, 503, route)
                XCTAssertEqual(response.error, "admin API disabled: no token configured", route)
            }
        }
        XCTAssertEqual(try host.send("GET", "/healthz").status, 200)
    }

    func testHealthReadinessMetricsAndUnknownRoutes() throws {
        host = try IngressHost()
        XCTAssertEqual(try host.send("GET", "/healthz").json(), .object(["status": .string("ok")]))
        let waiting = try host.send("GET", "/readyz")
        XCTAssertEqual(waiting.status, 503)
        XCTAssertEqual(try waiting.json(), .object(["ready": .bool(false), "checks": .object([
            "store": .string("not open yet"), "distributor": .string("not started yet")])]))
        host.readiness.markReady("store")
        host.readiness.markReady("distributor")
        XCTAssertEqual(try host.send("GET", "/readyz").json(), .object(["ready": .bool(true), "checks": .object([
            "store": .string("ok"), "distributor": .string("ok")])]))
        host.readiness.markNotReady("host", reason: "shutting down")
        XCTAssertEqual(try host.send("GET", "/readyz").status, 503)

        let metrics = try host.send("GET", "/metrics")
        XCTAssertEqual(metrics.status, 200)
        XCTAssertEqual(metrics.header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8")
        XCTAssertEqual(metrics.text, "# TYPE alphaplus_up gauge\nalphaplus_up 1\n")

        let missing = try host.send("GET", "/admin/v1/nothing", token: operatorToken)
        XCTAssertEqual(missing.status, 404)
        XCTAssertEqual(missing.error, "no route GET /admin/v1/nothing")
        XCTAssertEqual(try host.send("POST", "/admin/v1/tenants", token: operatorToken).error, "no route POST /admin/v1/tenants")
    }

    func testMetricsWithoutABackendAre503() throws {
        host = try IngressHost(metricsText: nil)
        let response = try host.send("GET", "/metrics")
        XCTAssertEqual(response.status, 503)
        XCTAssertEqual(response.error, "metrics are not exported: no metrics backend is set up in this host")
    }

    private func count(_ value: JSONValue) -> Int {
        if case .array(let items) = value { return items.count }
        return -1
    }

    private func ids(_ value: JSONValue) -> [String] {
        guard case .array(let items) = value else { return [] }
        return items.compactMap { if case .string(let id)? = $0["id"] { id } else { nil } }
    }
}
