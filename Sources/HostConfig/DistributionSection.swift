import AlphaPlusJSON
import Distribution

/// Parses a tenant's `distribution:` section. Every key is optional and
/// defaults as documented; unknown keys, wrong types, missing fields, a
/// destination naming a tier, channel or destination that does not exist
/// and a template with an unknown placeholder are errors with the file,
/// line and column (and the nearest valid name).
enum DistributionSection {
    static func parse(_ node: YAMLDocument, instances: [String]) throws(ConfigError) -> DistributionSettings {
        let fields = try node.mapping(allowed: ["tiers", "templates", "destinations", "max_attempts", "backoff", "daily_summary", "alerts_to",
                                                   "subscribers"])
        var settings = DistributionSettings()
        if let tiers = fields["tiers"] { settings.tierDelaysNs = try parseTiers(tiers) }
        let tierNames = settings.tierDelaysNs.keys.sorted()
        if let templates = fields["templates"] {
            guard let mapping = templates.node.mapping else { throw templates.error("templates must be a mapping of tier to templates by kind") }
            for (key, value) in mapping {
                let tierNode = templates.child(key)
                let tier = try tierNode.string()
                try check(tier, in: tierNames, what: "tier", at: tierNode)
                let byKind = try templates.child(value).mapping(allowed: MessageKind.allCases.map(\.rawValue))
                for (kindName, textNode) in byKind {
                    let kind = MessageKind(rawValue: kindName)!
                    let text = try textNode.string()
                    do {
                        settings.templates[tier, default: [:]][kind] = try MessageTemplate(text, kind: kind)
                    } catch {
                        throw textNode.error("template distribution.templates.\(tier).\(kindName): \(error)")
                    }
                }
            }
        }
        if let destinations = fields["destinations"] {
            for item in try destinations.sequence() {
                let destination = try parseDestination(item, tiers: tierNames, instances: instances)
                if settings.destinations.contains(where: { $0.id == destination.id }) {
                    throw item.error("destination id '\(destination.id)' is used twice")
                }
                settings.destinations.append(destination)
            }
        }
        if let value = fields["max_attempts"] { settings.maxAttempts = try value.integer(in: 1...1000) }
        if let backoff = fields["backoff"] { settings.backoff = try parseBackoff(backoff) }
        if let summary = fields["daily_summary"] { settings.dailySummary = try parseSummary(summary) }
        if let alerts = fields["alerts_to"] {
            for item in try alerts.sequence() {
                let id = try item.string()
                try check(id, in: settings.destinations.map(\.id), what: "destination", at: item)
                settings.alertsTo.append(id)
            }
        }
        if let subscribers = fields["subscribers"] {
            settings.subscribers = try parseSubscribers(subscribers, tiers: tierNames, instances: instances)
        }
        return settings
    }

    /// `subscribers: { unpaid_tier: free, deliver: [ { channel: telegram, identity: telegram_chat, target_key: chat_id } ] }`
    private static func parseSubscribers(_ node: YAMLDocument, tiers: [String], instances: [String]) throws(ConfigError) -> SubscriberDeliverySettings {
        let fields = try node.mapping(allowed: ["unpaid_tier", "deliver"])
        guard let tierNode = fields["unpaid_tier"] else { throw node.error("subscribers is missing field 'unpaid_tier' (the tier of subscribers who do not pay, e.g. free)") }
        let unpaid = try tierNode.string()
        try check(unpaid, in: tiers, what: "tier", at: tierNode)
        var channels: [SubscriberChannel] = []
        for item in try fields["deliver"]?.sequence() ?? [] {
            let entry = try item.mapping(allowed: ["channel", "identity", "target_key"])
            for required in ["channel", "identity", "target_key"] where entry[required] == nil {
                throw item.error("subscribers.deliver entry is missing field '\(required)'")
            }
            let channel = try entry["channel"]!.string()
            try check(channel, in: instances, what: "channel instance", at: entry["channel"]!)
            let kind = try entry["identity"]!.string()
            guard kind.utf8.count <= 32, kind.wholeMatch(of: #/[a-z0-9_]+/#) != nil else {
                throw entry["identity"]!.error("identity kind '\(kind)' is not 1-32 characters of a-z, 0-9 and '_' (e.g. telegram_chat)")
            }
            let key = try entry["target_key"]!.string()
            guard !key.isEmpty else { throw entry["target_key"]!.error("target_key is empty (the target field the channel reads, e.g. chat_id)") }
            guard !channels.contains(where: { $0.channel == channel && $0.identityKind == kind }) else {
                throw item.error("subscribers.deliver names channel \(channel) with identity \(kind) twice")
            }
            channels.append(SubscriberChannel(channel: channel, identityKind: kind, targetKey: key))
        }
        return SubscriberDeliverySettings(unpaidTier: unpaid, channels: channels)
    }

    private static func parseTiers(_ node: YAMLDocument) throws(ConfigError) -> [String: Int64] {
        guard let mapping = node.node.mapping, !mapping.isEmpty else {
            throw node.error("tiers must be a mapping of tier name to delay in seconds, e.g. { premium: 0, basic: 60, free: 300 }")
        }
        var tiers: [String: Int64] = [:]
        for (key, value) in mapping {
            let name = try node.child(key).identifier("tier name")
            tiers[name] = Int64((try node.child(value).number(in: 0...(7 * 86_400)) * 1e9).rounded())
        }
        return tiers
    }

    private static func parseDestination(_ item: YAMLDocument, tiers: [String], instances: [String]) throws(ConfigError) -> DestinationSettings {
        let fields = try item.mapping(allowed: ["id", "channel", "tier", "target"])
        for required in ["id", "channel", "tier", "target"] where fields[required] == nil {
            throw item.error("destination is missing field '\(required)'")
        }
        let idNode = fields["id"]!, channelNode = fields["channel"]!, tierNode = fields["tier"]!, targetNode = fields["target"]!
        let id = try idNode.identifier("destination id")
        let channel = try channelNode.string()
        try check(channel, in: instances, what: "channel instance", at: channelNode)
        let tier = try tierNode.string()
        try check(tier, in: tiers, what: "tier", at: tierNode)
        let target = try targetNode.json()
        guard case .object = target else {
            throw targetNode.error("target must be a mapping (a JSON object handed to the channel, e.g. { chat_id: \"@channel\" })")
        }
        return DestinationSettings(id: id, channel: channel, tier: tier, targetJSON: target.jsonText)
    }

    private static func parseBackoff(_ node: YAMLDocument) throws(ConfigError) -> BackoffPolicy {
        let fields = try node.mapping(allowed: ["initial", "max", "jitter"])
        var policy = BackoffPolicy()
        if let value = fields["initial"] { policy.initialNs = Int64(try value.number(in: 0.001...86_400) * 1e9) }
        if let value = fields["max"] { policy.maxNs = Int64(try value.number(in: 0.001...(7 * 86_400)) * 1e9) }
        if let value = fields["jitter"] {
            policy.jitter = BackoffPolicy.Jitter(rawValue: try value.string(oneOf: BackoffPolicy.Jitter.allCases.map(\.rawValue)))!
        }
        guard policy.maxNs >= policy.initialNs else {
            throw (fields["max"] ?? node).error("backoff max (\(Double(policy.maxNs) / 1e9) s) is below initial (\(Double(policy.initialNs) / 1e9) s)")
        }
        return policy
    }

    private static func parseSummary(_ node: YAMLDocument) throws(ConfigError) -> DailySummarySettings {
        let fields = try node.mapping(allowed: ["enabled", "time"])
        var summary = DailySummarySettings()
        if let value = fields["enabled"] { summary.enabled = try value.bool() }
        if let value = fields["time"] {
            let text = try value.string()
            guard let match = text.wholeMatch(of: #/([01][0-9]|2[0-3]):([0-5][0-9])/#) else {
                throw value.error("time '\(text)' is not a UTC time HH:MM (00:00 to 23:59)")
            }
            summary.minuteOfDay = Int(match.1)! * 60 + Int(match.2)!
        }
        return summary
    }

    /// `name` must be one of `names`; the error names the nearest.
    private static func check(_ name: String, in names: [String], what: String, at node: YAMLDocument) throws(ConfigError) {
        guard !names.contains(name) else { return }
        let hint = Suggestion.closest(to: name, among: names).map { " (did you mean '\($0)'?)" } ?? ""
        throw node.error("\(what) '\(name)' does not exist\(hint); \(what)s: \(names.isEmpty ? "none" : names.joined(separator: ", "))")
    }
}
