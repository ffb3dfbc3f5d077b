import AlphaPlusJSON

/// A line and column in a config file, 1-based (0 when not known).
public struct SourcePosition: Sendable, Equatable {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }
}

/// Where an instance's parts are in its tenant file, for the errors found
/// after parsing (against the loaded plugins, secrets not set).
public struct InstanceSource: Sendable {
    /// The instance's list item.
    public var item: SourcePosition
    /// The `plugin:` value.
    public var plugin: SourcePosition
    /// Every key and list item under `settings:`, by its path as
    /// `SchemaViolation.path` writes it (`symbols[0].tick_size`); "" is the
    /// `settings:` key itself. Empty when the instance has no settings.
    public var settings: [String: SourcePosition]
    /// Each secret's reference, by secret name.
    public var secrets: [String: SourcePosition]

    /// Where a settings violation at `path` is: the key or item it names,
    /// else the `settings:` key, else the instance.
    public func position(ofSettings path: String) -> SourcePosition {
        settings[path] ?? settings[""] ?? item
    }
}

/// One tenant file as read: the tenant and every error in the file, not
/// just the first. A bad instance or section is reported and left out, and
/// reading goes on with the next; `validate` and `TenantFolder` add the
/// errors found against the loaded plugins, the environment and the other
/// files.
public struct TenantFile: Sendable {
    public let path: String
    /// Nil when the file has no usable tenant: not readable, not YAML, empty,
    /// not a mapping, or without a valid `id`.
    public var tenant: TenantConfig?
    /// In file order.
    public var errors: [ConfigError]
    /// Problems that do not stop the tenant (a secret not set on an instance
    /// that runs dry without it); each message starts with "warning: ".
    public var warnings: [ConfigError] = []

    public var isValid: Bool { tenant != nil && errors.isEmpty }

    /// Every error and warning in file order, one line each:
    /// `file:line:column: message`.
    public var diagnostics: [String] { (errors + warnings).inFileOrder.map(\.description) }

    public init(parsing path: String) {
        self.path = path
        var errors: [ConfigError] = []
        tenant = TenantParser.parse(path, errors: &errors)
        self.errors = errors.inFileOrder
    }
}

extension [ConfigError] {
    /// Sorted by line and column, stable; errors without a position first.
    var inFileOrder: [ConfigError] {
        enumerated().sorted { lhs, rhs in
            (lhs.element.line, lhs.element.column, lhs.offset) < (rhs.element.line, rhs.element.column, rhs.offset)
        }.map(\.element)
    }
}

/// `parse`'s result, or nil with its error added to `errors`: one bad part
/// never hides the next.
func collecting<T>(_ errors: inout [ConfigError], _ parse: () throws(ConfigError) -> T) -> T? {
    do { return try parse() } catch {
        errors.append(error)
        return nil
    }
}

/// Reads a tenant file part by part, collecting every error.
enum TenantParser {
    static let topLevelKeys = ["id", "instances", "strategy", "distribution", "admin_token"]
    static let instanceKeys = ["id", "plugin", "settings", "subscribe", "secrets", "dry_run_without_secrets"]

    static func parse(_ path: String, errors: inout [ConfigError]) -> TenantConfig? {
        guard let root = collecting(&errors, { () throws(ConfigError) in try YAMLDocument.load(path) }) else { return nil }
        guard root.node.mapping != nil else {
            errors.append(root.error("a tenant file is a mapping of \(topLevelKeys.joined(separator: ", ")); this one's top level is \(root.kind)"))
            return nil
        }
        // A mapping, so only unknown keys are errors here.
        let top = (try? root.mapping(allowed: topLevelKeys, unknownKeys: &errors)) ?? [:]
        let idNode = top["id"]
        let id = collecting(&errors) { () throws(ConfigError) -> String in
            guard let idNode else { throw root.error("missing field 'id' (the tenant's id, the file's name without .yaml)") }
            return try idNode.identifier("tenant id")
        }
        var instances: [InstanceConfig] = []
        // Every instance id the file names, those of instances with errors
        // too: a head or destination naming one is not reported again.
        var declared: [String] = []
        let items = top["instances"].flatMap { node in collecting(&errors) { () throws(ConfigError) in try node.sequence() } } ?? []
        for item in items {
            let (name, instance) = parseInstance(item, errors: &errors)
            guard let name else { continue }
            if declared.contains(name) {
                errors.append((item.node.mapping?["id"].map(item.child) ?? item).error("instance id '\(name)' is used twice"))
                continue
            }
            declared.append(name)
            if let instance { instances.append(instance) }
        }
        let strategy = top["strategy"].flatMap { node in
            collecting(&errors) { () throws(ConfigError) in try StrategySection.parse(node, instances: declared) }
        }
        let distribution = top["distribution"].flatMap { node in
            collecting(&errors) { () throws(ConfigError) in try DistributionSection.parse(node, instances: declared) }
        }
        let adminToken = top["admin_token"].flatMap { node in
            collecting(&errors) { () throws(ConfigError) in try SecretReference.parse(node, name: "admin_token") }
        }
        guard let id, let idNode else { return nil }
        return TenantConfig(file: path, id: id, idPosition: idNode.position, instances: instances, strategy: strategy,
                            distribution: distribution, adminToken: adminToken, adminTokenPosition: top["admin_token"]?.position)
    }

    /// The instance's id (when it has one) and the instance (when it has
    /// no error; each of its errors is added to `errors`).
    private static func parseInstance(_ item: YAMLDocument, errors: inout [ConfigError]) -> (id: String?, instance: InstanceConfig?) {
        let before = errors.count
        guard item.node.mapping != nil else {
            errors.append(item.error("an instance is a mapping of \(instanceKeys.joined(separator: ", ")); this one is \(item.kind)"))
            return (nil, nil)
        }
        // A mapping, so only unknown keys are errors here.
        let fields = (try? item.mapping(allowed: instanceKeys, unknownKeys: &errors)) ?? [:]
        let id = collecting(&errors) { () throws(ConfigError) -> String in
            guard let node = fields["id"] else { throw item.error("instance is missing field 'id'") }
            return try node.identifier("instance id")
        }
        let plugin = collecting(&errors) { () throws(ConfigError) -> String in
            guard let node = fields["plugin"] else { throw item.error("instance is missing field 'plugin' (a plugin id, e.g. com.alphaplus.head-rules)") }
            return try node.string()
        }
        let settings = fields["settings"].flatMap { node in collecting(&errors) { () throws(ConfigError) in try node.json() } } ?? .object([:])
        var subscriptions: [SubscriptionConfig] = []
        let entries = fields["subscribe"].flatMap { node in collecting(&errors) { () throws(ConfigError) in try node.sequence() } } ?? []
        for entry in entries {
            if let subscription = collecting(&errors, { () throws(ConfigError) in try parseSubscription(entry) }) {
                subscriptions.append(subscription)
            }
        }
        var secrets: [String: SecretReference] = [:]
        var secretPositions: [String: SourcePosition] = [:]
        if let secretsNode = fields["secrets"] {
            if let mapping = secretsNode.node.mapping {
                for (key, value) in mapping {
                    guard let name = key.string, !name.isEmpty else {
                        errors.append(secretsNode.child(key).error("expected a secret name"))
                        continue
                    }
                    let valueNode = secretsNode.child(value)
                    if let reference = collecting(&errors, { () throws(ConfigError) in try SecretReference.parse(valueNode, name: name) }) {
                        secrets[name] = reference
                        secretPositions[name] = valueNode.position
                    }
                }
            } else {
                errors.append(secretsNode.error("secrets must be a mapping of secret name to ${env:NAME} or ${file:path}"))
            }
        }
        let dryRun = fields["dry_run_without_secrets"].flatMap { node in collecting(&errors) { () throws(ConfigError) in try node.bool() } }
        guard errors.count == before, let id, let plugin else { return (id, nil) }
        var settingsPositions: [String: SourcePosition] = [:]
        if let node = fields["settings"], let key = item.node.mapping?.first(where: { $0.key.string == "settings" })?.key {
            settingsPositions[""] = item.child(key).position
            record(node, at: "", in: &settingsPositions)
        }
        let source = InstanceSource(item: item.position, plugin: fields["plugin"]!.position, settings: settingsPositions, secrets: secretPositions)
        return (id, InstanceConfig(id: id, plugin: plugin, settings: settings, subscriptions: subscriptions, secrets: secrets,
                                   dryRunWithoutSecrets: dryRun ?? false, source: source))
    }

    private static func parseSubscription(_ entry: YAMLDocument) throws(ConfigError) -> SubscriptionConfig {
        let subscription = try entry.mapping(allowed: ["symbol", "streams", "book_depth"])
        guard let symbol = subscription["symbol"] else { throw entry.error("subscription is missing field 'symbol'") }
        var streams = ["trades", "quotes", "book"]
        if let node = subscription["streams"] {
            streams = []
            for item in try node.sequence() { streams.append(try item.string(oneOf: SubscriptionConfig.streamNames)) }
        }
        var depth = 0
        if let depthNode = subscription["book_depth"] {
            guard case .number(let value) = try depthNode.json(), value >= 0, value <= 10_000, value == value.rounded() else {
                throw depthNode.error("book_depth must be a whole number from 0 to 10000")
            }
            depth = Int(value)
        }
        return SubscriptionConfig(symbol: try symbol.string(), streams: streams, bookDepth: depth)
    }

    /// Adds the position of every key (a member is located at its key) and
    /// list item under `node`, whose path is `path`.
    private static func record(_ node: YAMLDocument, at path: String, in positions: inout [String: SourcePosition]) {
        if let mapping = node.node.mapping {
            for (key, value) in mapping {
                guard let name = key.string else { continue }
                let member = SchemaPath.member(name, of: path)
                positions[member] = node.child(key).position
                record(node.child(value), at: member, in: &positions)
            }
        } else if let sequence = node.node.sequence {
            for (index, item) in sequence.enumerated() {
                let element = SchemaPath.element(index, of: path)
                positions[element] = node.child(item).position
                record(node.child(item), at: element, in: &positions)
            }
        }
    }
}

extension YAMLDocument {
    /// "a list", "a string", … for messages about the wrong kind of node.
    var kind: String {
        switch node {
        case .scalar: "a single value"
        case .mapping: "a mapping"
        case .sequence: "a list"
        }
    }
}
