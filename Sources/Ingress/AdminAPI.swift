import AlphaPlusTime
import AlphaPlusJSON
import Distribution
import Foundation
import Hummingbird
import Logging
import PluginRuntime
import Store
import Trading
import Subscriptions

/// The admin API under /admin/v1: read-only JSON behind bearer tokens. The
/// operator's token reads everything; a tenant's token reads only that
/// tenant's routes and the tenant list (its own entry). docs/admin-api.yaml
/// describes every route; a test holds the two together.
struct AdminAPI: Sendable {
    static let base = "/admin/v1"
    static let deadLetterLimit = 100

    let live: LiveCatalog
    let store: HostStore
    let authenticator: AdminAuthenticator
    let refusals: RefusalLog
    /// The host's clock (ns since the epoch): which tier a subscriber receives now.
    let nowNs: @Sendable () -> Int64

    var catalog: IngressCatalog { live.current }

    func register(on router: Router<IngressRequestContext>) {
        route(router, "plugins") { caller, _, _ in
            guard caller == .operator else { throw APIError(.forbidden, "this route is for the operator's token") }
            return plugins()
        }
        route(router, "tenants") { caller, _, _ in tenants(visibleTo: caller) }
        tenantRoute(router, "") { tenant, _ in try detail(of: tenant) }
        tenantRoute(router, "instances") { tenant, _ in instances(of: tenant) }
        tenantRoute(router, "signals", query: [.integer("limit", in: 1...500), .cursor("before")]) { tenant, query in
            try signals(of: tenant, limit: query.integer("limit") ?? 50, before: query.cursor("before"))
        }
        tenantRoute(router, "outbox") { tenant, _ in try outbox(of: tenant) }
        tenantRoute(router, "subscribers") { tenant, _ in try subscribers(of: tenant) }
    }

    // MARK: - Routes

    /// A GET route at `base/path`: the caller is authenticated first, then
    /// the query parsed against `parameters`, then `answer` gives the 200
    /// body. A store that cannot be read is a 500 (logged, not shown).
    private func route(_ router: Router<IngressRequestContext>, _ path: String, query parameters: [QueryParameter] = [],
                       _ answer: @escaping @Sendable (AdminCaller, ParsedQuery, IngressRequestContext) throws -> JSONValue) {
        router.get(RouterPath(Self.base + "/" + path)) { request, context in
            let caller: AdminCaller
            do throws(APIError) {
                caller = try authenticator.caller(of: request, from: context.source)
            } catch {
                let reason: RefusalReason = error.status == .tooManyRequests ? .authThrottled : .unauthorized
                refusals.refused(reason, logger: context.logger,
                                 "admin: \(request.method) \(Names.shown(request.uri.path)) from \(context.source) refused (\(error))")
                throw error
            }
            let query = try request.query(accepting: parameters)
            do {
                return Response.json(try answer(caller, query, context))
            } catch let error as APIError {
                throw error
            } catch {
                context.logger.error("admin: \(request.method) \(request.uri.path): \(error)")
                throw APIError(.internalServerError, "the store could not be read (see the host's log)")
            }
        }
    }

    /// A route under `base/tenants/{tenant}`: the operator or that tenant's
    /// own token. Another tenant's token gets 403 whether the tenant exists
    /// or not; the operator gets 404 for a tenant that does not.
    private func tenantRoute(_ router: Router<IngressRequestContext>, _ suffix: String, query parameters: [QueryParameter] = [],
                             _ answer: @escaping @Sendable (IngressTenant, ParsedQuery) throws -> JSONValue) {
        route(router, "tenants/{tenant}" + (suffix.isEmpty ? "" : "/" + suffix), query: parameters) { caller, query, context in
            let id = context.parameters.get("tenant") ?? ""
            if case .tenant(let own) = caller, own != id {
                throw APIError(.forbidden, "this token is tenant '\(own)''s: it reads only that tenant")
            }
            guard let tenant = catalog.tenant(id) else { throw APIError(.notFound, "no tenant '\(Names.shown(id))'") }
            return try answer(tenant, query)
        }
    }

    // MARK: - Bodies

    private func plugins() -> JSONValue {
        let running = catalog.tenants.flatMap(\.instances).reduce(into: [String: Int]()) { counts, instance in
            if case .running = instance.state { counts[instance.pluginID, default: 0] += 1 }
        }
        return .object([
            "plugins": .array(catalog.plugins.map { plugin in
                .object([
                    "id": .string(plugin.id), "name": .string(plugin.name), "version": .string(plugin.version),
                    "vendor": .string(plugin.vendor), "abi": .string("\(plugin.abiMajor).\(plugin.abiMinor)"),
                    "toolchain": .string(plugin.toolchain), "capabilities": .array(plugin.capabilities.map(JSONValue.string)),
                    "file": .string(plugin.path), "running_instances": .number(Double(running[plugin.id] ?? 0)),
                ])
            }),
            "refused": .array(catalog.refusedPlugins.map { .object(["file": .string($0.path), "reason": .string($0.reason)]) }),
        ])
    }

    private func tenants(visibleTo caller: AdminCaller) -> JSONValue {
        let visible = catalog.tenants.filter { tenant in
            if case .tenant(let own) = caller { return tenant.id == own }
            return true
        }
        return .object(["tenants": .array(visible.map { .object(summary(of: $0)) })])
    }

    private func summary(of tenant: IngressTenant) -> [String: JSONValue] {
        var counts = ["running": 0, "dry_run": 0, "failed": 0]
        for instance in tenant.instances { counts[Self.stateName(instance.state), default: 0] += 1 }
        return [
            "id": .string(tenant.id),
            "instances": .object(counts.mapValues { .number(Double($0)) }),
            "strategy": .bool(tenant.hasStrategy),
            "destinations": .array(tenant.destinations.map(JSONValue.string)),
            "admin_token": .bool(tenant.adminToken != nil),
        ]
    }

    private func detail(of tenant: IngressTenant) throws -> JSONValue {
        let counts = try store.countsByTenant().first { $0.tenant == tenant.id }
        var fields = summary(of: tenant)
        fields["store"] = .object([
            "signals": .number(Double(counts?.signals ?? 0)), "risk_decisions": .number(Double(counts?.riskDecisions ?? 0)),
            "rejections": .number(Double(counts?.rejections ?? 0)), "outcomes": .number(Double(counts?.outcomes ?? 0)),
        ])
        return .object(fields)
    }

    private func instances(of tenant: IngressTenant) -> JSONValue {
        .object(["instances": .array(tenant.instances.map { instance in
            var fields: [String: JSONValue] = [
                "id": .string(instance.id), "plugin": .string(instance.pluginID), "state": .string(Self.stateName(instance.state)),
            ]
            switch instance.state {
            case .running(let running):
                fields["capabilities"] = .array(running.plugin.capabilities.map(JSONValue.string))
                if running.isWebhook { fields["webhook_path"] = .string("\(WebhookRoute.prefix)/\(tenant.id)/\(instance.id)") }
            case .dryRun:
                fields["reason"] = .string("its secrets are not set and the tenant runs it dry (dry_run_without_secrets)")
            case .failed(let reason):
                fields["reason"] = .string(reason)
            }
            return .object(fields)
        })])
    }

    private func signals(of tenant: IngressTenant, limit: Int, before: PageCursor?) throws -> JSONValue {
        let page = try store.signals(tenant: tenant.id, limit: limit, before: before.map { TimeCursor(ns: $0.ns, id: $0.id) })
        return .object([
            "signals": .array(page.items.map(Self.json)),
            "next": page.next.map { .string(PageCursor(ns: $0.ns, id: $0.id).description) } ?? .null,
        ])
    }

    private func outbox(of tenant: IngressTenant) throws -> JSONValue {
        let destinations = try store.outboxStatus(tenant: tenant.id)
        let dead = try store.deadLetters(tenant: tenant.id, limit: Self.deadLetterLimit)
        return .object([
            "destinations": .array(destinations.map { status in
                let destination = status.destination
                return .object([
                    "id": .string(destination.id), "channel": .string(destination.channel), "tier": .string(destination.tier),
                    "enabled": .bool(destination.enabled),
                    "disabled_reason": destination.enabled ? .null : .string(destination.disabledReason),
                    "counts": .object(Dictionary(uniqueKeysWithValues: OutboxState.allCases.map {
                        ($0.rawValue, JSONValue.number(Double(status.counts[$0] ?? 0)))
                    })),
                    "oldest_pending_at": status.oldestPendingNs.map { .string(UTCTime.iso8601(ns: $0)) } ?? .null,
                ])
            }),
            "dead_letters": .array(dead.map { entry in
                .object([
                    "id": .number(Double(entry.id)), "destination": .string(entry.destination), "kind": .string(entry.kind.rawValue),
                    "subject": .string(entry.subject), "attempts": .number(Double(entry.attempts)),
                    "last_error": .string(entry.lastError), "given_up_at": .string(UTCTime.iso8601(ns: entry.updatedNs)),
                ])
            }),
        ])
    }

    /// Every subscriber with the tier it receives now, its identities and
    /// its history (who changed what, with the source's reference).
    private func subscribers(of tenant: IngressTenant) throws -> JSONValue {
        let now = nowNs()
        func time(_ ns: Int64) -> JSONValue { ns == 0 ? .null : .string(UTCTime.iso8601(ns: ns)) }
        let histories = try store.histories(tenant: tenant.id)
        return .object(["subscribers": .array(try store.subscribers(tenant: tenant.id).map { record in
            .object([
                "id": .string(record.id),
                "tier": tenant.unpaidTier.map { .string(record.tier(atNs: now, unpaidTier: $0)) }
                    ?? (record.isPaying(atNs: now) ? .string(record.paidTier) : .null),
                "paid_tier": record.paidTier.isEmpty ? .null : .string(record.paidTier),
                "status": .string(record.status.rawValue),
                "period_end": time(record.periodEndNs), "grace_until": time(record.graceUntilNs),
                "identities": .array(record.identities.map { .object(["kind": .string($0.kind), "value": .string($0.value)]) }),
                "created_at": .string(UTCTime.iso8601(ns: record.createdNs)), "updated_at": .string(UTCTime.iso8601(ns: record.updatedNs)),
                "history": .array((histories[record.id] ?? []).map { entry in
                    .object(["at": .string(UTCTime.iso8601(ns: entry.atNs)), "change": .string(entry.change), "source": .string(entry.source),
                             "reference": entry.reference.isEmpty ? .null : .string(entry.reference)])
                }),
            ])
        })])
    }

    static func stateName(_ state: IngressInstance.State) -> String {
        switch state {
        case .running: "running"
        case .dryRun: "dry_run"
        case .failed: "failed"
        }
    }

    /// A signal as the API shows it; times in ISO 8601 (a JSON number
    /// cannot hold nanoseconds since the epoch exactly).
    static func json(_ signal: Signal) -> JSONValue {
        .object([
            "id": .string(signal.id), "venue": .string(signal.venue), "symbol": .string(signal.symbol),
            "timeframe_s": .number(Double(signal.timeframeSeconds)), "side": .string(signal.side.rawValue),
            "confidence": .number(signal.confidence), "high_confidence": .bool(signal.highConfidence),
            "entry": .number(signal.entry), "stop": .number(signal.stop), "targets": .array(signal.targets.map(JSONValue.number)),
            "scale_out": .array(signal.scaleOut.map(JSONValue.number)), "quantity": .number(signal.quantity),
            "created_at": .string(UTCTime.iso8601(ns: signal.createdAtNs)),
            "expires_at": signal.expiresAtNs > 0 ? .string(UTCTime.iso8601(ns: signal.expiresAtNs)) : .null,
            "votes": .array(signal.votes.map { vote in
                .object([
                    "head": .string(vote.head), "plugin": .string(vote.plugin), "status": .string(vote.status.rawValue),
                    "direction": .string(vote.direction.rawValue), "confidence": .number(vote.confidence),
                    "calibrated_confidence": .number(vote.calibratedConfidence), "weight": .number(vote.weight),
                    "rationale": .string(vote.rationale), "error": .string(vote.error),
                ])
            }),
        ])
    }
}
