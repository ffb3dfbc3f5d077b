import AlphaPlusJSON
import Distribution
import Foundation
import Trading
import Yams

extension TenantConfig {
    /// The tenant as the host runs it, in the file's own keys: the
    /// strategy and distribution sections with every default filled in,
    /// durations in the file's units. Every secret (and `admin_token`) is
    /// its reference and whether it is set, `${env:NAME} (set)` or
    /// `${env:NAME} (not set)`: never a value.
    public func effectiveConfiguration(environment: [String: String]) -> JSONValue {
        func secret(_ reference: SecretReference) -> JSONValue {
            .string("\(reference) (\(reference.resolve(environment: environment) == nil ? "not set" : "set"))")
        }
        var tenant: [String: JSONValue] = [
            "id": .string(id),
            "instances": .array(instances.map { instance in
                var fields: [String: JSONValue] = [
                    "id": .string(instance.id), "plugin": .string(instance.plugin), "settings": instance.settings,
                    "dry_run_without_secrets": .bool(instance.dryRunWithoutSecrets),
                ]
                if !instance.subscriptions.isEmpty {
                    fields["subscribe"] = .array(instance.subscriptions.map { subscription in
                        .object(["symbol": .string(subscription.symbol), "streams": .array(subscription.streams.map(JSONValue.string)),
                                 "book_depth": .number(Double(subscription.bookDepth))])
                    })
                }
                if !instance.secrets.isEmpty { fields["secrets"] = .object(instance.secrets.mapValues(secret)) }
                return .object(fields)
            }),
        ]
        if let adminToken { tenant["admin_token"] = secret(adminToken) }
        if let strategy { tenant["strategy"] = Self.effective(strategy) }
        if let distribution { tenant["distribution"] = Self.effective(distribution) }
        return .object(tenant)
    }

    private static func seconds(_ nanoseconds: Int64) -> JSONValue { .number(Double(nanoseconds) / 1e9) }
    private static func numbers(_ values: [Double]) -> JSONValue { .array(values.map(JSONValue.number)) }

    private static func effective(_ strategy: StrategySettings) -> JSONValue {
        let consensus = strategy.consensus, risk = strategy.risk, costs = strategy.costs
        return .object([
            "symbols": .array(strategy.symbols.map(JSONValue.string)),
            "timeframes": .array(strategy.timeframes.map { .number(Double($0)) }),
            "initial_equity": .number(strategy.initialEquity),
            "heads": .array(strategy.heads.map { head in
                var fields: [String: JSONValue] = ["instance": .string(head.instance), "weight": .number(head.weight)]
                switch head.calibration {
                case .platt(let a, let b): fields["calibration"] = .object(["platt": .object(["a": .number(a), "b": .number(b)])])
                case .temperature(let t): fields["calibration"] = .object(["temperature": .number(t)])
                case nil: break
                }
                return .object(fields)
            }),
            "consensus": .object([
                "min_agree": .number(Double(consensus.minAgree)), "min_confidence": .number(consensus.minConfidence),
                "high_confidence": .number(consensus.highConfidence), "method": .string(consensus.method.rawValue),
                "head_deadline_ms": .number(Double(consensus.headDeadlineNs) / 1e6),
            ]),
            "risk": .object([
                "daily_loss_limit": .number(risk.dailyLossLimit), "max_consecutive_losses": .number(Double(risk.maxConsecutiveLosses)),
                "max_drawdown": .number(risk.maxDrawdown), "max_open_positions": .number(Double(risk.maxOpenPositions)),
                "max_open_per_symbol": .number(Double(risk.maxOpenPerSymbol)), "kelly_fraction": .number(risk.kellyFraction),
                "max_position_fraction": .number(risk.maxPositionFraction), "stop_atr": .number(risk.stopATR),
                "targets_r": numbers(risk.targetsR), "scale_out": numbers(risk.scaleOut), "cooldown_s": seconds(risk.cooldownNs),
                "max_hold_bars": .number(Double(risk.maxHoldBars)), "min_quantity": .number(risk.minQuantity),
            ]),
            "costs": .object([
                "maker_fee": .number(costs.makerFee), "taker_fee": .number(costs.takerFee), "slippage_bps": .number(costs.slippageBps),
            ]),
        ])
    }

    private static func effective(_ distribution: DistributionSettings) -> JSONValue {
        var fields: [String: JSONValue] = [
            "tiers": .object(distribution.tierDelaysNs.mapValues(seconds)),
            "destinations": .array(distribution.destinations.map { destination in
                .object(["id": .string(destination.id), "channel": .string(destination.channel), "tier": .string(destination.tier),
                         "target": (try? JSONValue(parsing: destination.targetJSON)) ?? .object([:])])
            }),
            "max_attempts": .number(Double(distribution.maxAttempts)),
            "backoff": .object(["initial": seconds(distribution.backoff.initialNs), "max": seconds(distribution.backoff.maxNs),
                                "jitter": .string(distribution.backoff.jitter.rawValue)]),
            "daily_summary": .object([
                "enabled": .bool(distribution.dailySummary.enabled),
                "time": .string(String(format: "%02d:%02d", distribution.dailySummary.minuteOfDay / 60, distribution.dailySummary.minuteOfDay % 60)),
            ]),
            "alerts_to": .array(distribution.alertsTo.map(JSONValue.string)),
        ]
        if !distribution.templates.isEmpty {
            fields["templates"] = .object(distribution.templates.mapValues { byKind in
                .object(Dictionary(uniqueKeysWithValues: byKind.map { ($0.key.rawValue, JSONValue.string($0.value.source)) }))
            })
        }
        if let subscribers = distribution.subscribers {
            fields["subscribers"] = .object([
                "unpaid_tier": .string(subscribers.unpaidTier),
                "deliver": .array(subscribers.channels.map { channel in
                    .object(["channel": .string(channel.channel), "identity": .string(channel.identityKind),
                             "target_key": .string(channel.targetKey)])
                }),
            ])
        }
        return .object(fields)
    }
}

extension JSONValue {
    /// The value as a YAML document, keys sorted, strings quoted where
    /// YAML would read them as something else.
    public var yamlText: String { (try? Yams.serialize(node: yamlNode)) ?? jsonText }

    private var yamlNode: Node {
        switch self {
        case .null: Node("null", Tag(.null))
        case .bool(let value): Node(value ? "true" : "false", Tag(.bool))
        case .number(let value) where value == value.rounded() && abs(value) < 1e15: Node(String(Int64(value)), Tag(.int))
        case .number(let value): Node("\(value)", Tag(.float))
        case .string(let value):
            // Quoted where a plain scalar would read as something else: "65000.00", "21:00" (YAML 1.1 base 60), "yes".
            Node(value, Tag(.str), Resolver.default.resolveTag(of: Node(value)) == .str ? .any : .singleQuoted)
        case .array(let elements): Node(elements.map(\.yamlNode))
        case .object(let members): Node(members.sorted { $0.key < $1.key }.map { (Node($0.key, Tag(.str)), $0.value.yamlNode) })
        }
    }
}
