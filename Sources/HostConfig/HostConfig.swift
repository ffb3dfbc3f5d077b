import AlphaPlusJSON
import Distribution
import Strategy
import Foundation
import HTTPClient
import Yams

/// A configuration error with the file, line and column it refers to.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String

    public var description: String { line > 0 ? "\(file):\(line):\(column): \(message)" : "\(file): \(message)" }
}

/// `config/alphaplus.yaml`: host settings. Relative paths are resolved
/// against the folder the file is in, so the host runs from any directory.
public struct HostConfig: Sendable {
    public var file: String
    public var pluginFolders: [String]
    public var tenantsFolder: String
    public var logLevel: String
    /// The store's SQLite file (`store: { path: … }`); default
    /// `../data/alphaplus.sqlite`, i.e. `data/` at the top of the checkout.
    public var storePath: String
    /// `network: { endpoint_overrides: { "https://discord.com": "http://127.0.0.1:18081" } }`:
    /// requests to a platform origin go to a local one instead (fakes, a
    /// proxy), path and query kept. Empty by default.
    public var endpointOverrides: [HTTPOrigin: HTTPOrigin] = [:]
    /// The `http:` section; nil (no server) when it is absent.
    public var http: HTTPSettings?
    /// The `quotas:` section; no limits when it is absent.
    public var quotas = QuotaSettings()

    public static func load(_ path: String) throws(ConfigError) -> HostConfig {
        let root = try YAMLDocument.load(path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") ? relative : base.appendingPathComponent(relative).standardizedFileURL.path
        }
        let top = try root.mapping(allowed: ["plugins", "tenants_folder", "log_level", "store", "network", "http", "quotas"])
        var config = HostConfig(file: path, pluginFolders: [resolve("../plugins")], tenantsFolder: resolve("tenants"), logLevel: "info",
                                storePath: resolve("../data/alphaplus.sqlite"))
        if let plugins = top["plugins"] {
            let section = try plugins.mapping(allowed: ["folders"])
            if let folders = section["folders"] { config.pluginFolders = try folders.strings().map(resolve) }
        }
        if let folder = top["tenants_folder"] { config.tenantsFolder = resolve(try folder.string()) }
        if let level = top["log_level"] {
            config.logLevel = try level.string(oneOf: ["trace", "debug", "info", "notice", "warning", "error", "critical"])
        }
        if let store = top["store"] {
            let section = try store.mapping(allowed: ["path"])
            if let storePath = section["path"] { config.storePath = resolve(try storePath.string()) }
        }
        if let network = top["network"] {
            let section = try network.mapping(allowed: ["endpoint_overrides"])
            if let overrides = section["endpoint_overrides"] { config.endpointOverrides = try endpointOverrides(overrides) }
        }
        if let http = top["http"] { config.http = try HTTPSection.parse(http) }
        if let quotas = top["quotas"] { config.quotas = try QuotasSection.parse(quotas) }
        return config
    }

    /// Origin → origin, each checked by the HTTP client's own URL parser;
    /// an origin given twice (even spelt differently) is an error.
    private static func endpointOverrides(_ node: YAMLDocument) throws(ConfigError) -> [HTTPOrigin: HTTPOrigin] {
        func origin(_ node: YAMLDocument) throws(ConfigError) -> HTTPOrigin {
            let text = try node.string()
            do { return try HTTPOrigin(parsing: text) } catch {
                throw node.error("network.endpoint_overrides: '\(text)' is not a usable origin: \(error.message)")
            }
        }
        var overrides: [HTTPOrigin: HTTPOrigin] = [:]
        for (key, value) in try node.entries() {
            let platform = try origin(key)
            guard overrides[platform] == nil else {
                throw key.error("network.endpoint_overrides: \(platform) is overridden twice")
            }
            overrides[platform] = try origin(value)
        }
        return overrides
    }
}

/// One plugin instance a tenant configures.
public struct InstanceConfig: Sendable {
    public var id: String
    public var plugin: String
    public var settings: JSONValue
    /// What an exchange instance is asked to stream once started.
    public var subscriptions: [SubscriptionConfig]
    /// Secret name → where its value comes from; resolved when the
    /// instance is created (`resolveSecrets`), never stored here.
    public var secrets: [String: SecretReference]
    /// When a secret is unset, run without the instance: its deliveries
    /// are shown on the console and recorded as `dry_run`, never sent.
    public var dryRunWithoutSecrets: Bool
}

/// `subscribe:` of an exchange instance: one symbol and its streams.
public struct SubscriptionConfig: Sendable, Equatable {
    public static let streamNames = ["trades", "quotes", "book", "candles", "news"]
    /// Canonical, e.g. "BTC-USDT".
    public var symbol: String
    public var streams: [String]
    /// Levels per side for the book stream; 0: the venue's default.
    public var bookDepth: Int
}

/// `config/tenants/<id>.yaml`. This first form lists plugin instances;
/// the tenancy issue grows it into symbols, heads, policies and channels.
public struct TenantConfig: Sendable {
    public var file: String
    public var id: String
    public var instances: [InstanceConfig]
    /// The `strategy:` section: heads, consensus, risk, costs. Nil when the
    /// tenant runs no strategy (only connectors, say).
    public var strategy: StrategySettings?
    /// The `distribution:` section: tiers, templates, destinations. Nil
    /// when the tenant distributes nothing.
    public var distribution: DistributionSettings?
    /// `admin_token`: the tenant's bearer token for its part of the admin
    /// API; resolved at start.
    public var adminToken: SecretReference?

    public static func load(_ path: String) throws(ConfigError) -> TenantConfig {
        let root = try YAMLDocument.load(path)
        let top = try root.mapping(allowed: ["id", "instances", "strategy", "distribution", "admin_token"])
        guard let idNode = top["id"] else { throw root.error("missing field 'id'") }
        let id = try idNode.string()
        guard id.wholeMatch(of: #/[a-z0-9][a-z0-9_-]{0,62}/#) != nil else {
            throw idNode.error("tenant id '\(id)' is not a safe identifier (lowercase letters, digits, '-', '_'; at most 63)")
        }
        var instances: [InstanceConfig] = []
        for node in try top["instances"]?.sequence() ?? [] {
            let fields = try node.mapping(allowed: ["id", "plugin", "settings", "subscribe", "secrets", "dry_run_without_secrets"])
            guard let instanceID = fields["id"] else { throw node.error("instance is missing field 'id'") }
            guard let plugin = fields["plugin"] else { throw node.error("instance is missing field 'plugin'") }
            let name = try instanceID.string()
            if instances.contains(where: { $0.id == name }) { throw instanceID.error("instance id '\(name)' is used twice") }
            var subscriptions: [SubscriptionConfig] = []
            for entry in try fields["subscribe"]?.sequence() ?? [] {
                let subscription = try entry.mapping(allowed: ["symbol", "streams", "book_depth"])
                guard let symbol = subscription["symbol"] else { throw entry.error("subscription is missing field 'symbol'") }
                let streams = try subscription["streams"]?.sequence().map { node throws(ConfigError) in
                    try node.string(oneOf: SubscriptionConfig.streamNames)
                } ?? ["trades", "quotes", "book"]
                var depth = 0
                if let depthNode = subscription["book_depth"] {
                    guard case .number(let value) = try depthNode.json(), value >= 0, value <= 10_000, value == value.rounded() else {
                        throw depthNode.error("book_depth must be a whole number from 0 to 10000")
                    }
                    depth = Int(value)
                }
                subscriptions.append(SubscriptionConfig(symbol: try symbol.string(), streams: streams, bookDepth: depth))
            }
            var secrets: [String: SecretReference] = [:]
            if let secretsNode = fields["secrets"] {
                guard let mapping = secretsNode.node.mapping else {
                    throw secretsNode.error("secrets must be a mapping of secret name to ${env:NAME} or ${file:path}")
                }
                for (key, value) in mapping {
                    guard let secretName = key.string, !secretName.isEmpty else { throw secretsNode.child(key).error("expected a secret name") }
                    secrets[secretName] = try SecretReference.parse(secretsNode.child(value), name: secretName)
                }
            }
            let dryRun = try fields["dry_run_without_secrets"]?.bool() ?? false
            instances.append(InstanceConfig(id: name, plugin: try plugin.string(),
                                            settings: try fields["settings"]?.json() ?? .object([:]),
                                            subscriptions: subscriptions, secrets: secrets, dryRunWithoutSecrets: dryRun))
        }
        let strategy = try top["strategy"].map { node throws(ConfigError) in
            try StrategySection.parse(node, instances: instances.map(\.id))
        }
        let distribution = try top["distribution"].map { node throws(ConfigError) in
            try DistributionSection.parse(node, instances: instances.map(\.id))
        }
        let adminToken = try top["admin_token"].map { node throws(ConfigError) in try SecretReference.parse(node, name: "admin_token") }
        return TenantConfig(file: path, id: id, instances: instances, strategy: strategy, distribution: distribution,
                            adminToken: adminToken)
    }

    /// Every `*.yaml` in the folder, in name order; each file's error is
    /// collected, so one bad tenant never hides another's problems.
    public static func loadAll(folder: String) -> (tenants: [TenantConfig], errors: [ConfigError]) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var tenants: [TenantConfig] = [], errors: [ConfigError] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = (folder as NSString).appendingPathComponent(name)
            do {
                let tenant = try load(path)
                if let other = tenants.first(where: { $0.id == tenant.id }) {
                    errors.append(ConfigError(file: path, line: 0, column: 0, message: "tenant id '\(tenant.id)' is also used by \(other.file)"))
                } else {
                    tenants.append(tenant)
                }
            } catch {
                errors.append(error)
            }
        }
        return (tenants, errors)
    }
}

/// A YAML node that knows its file and position, for precise errors.
struct YAMLDocument {
    let node: Node
    let file: String

    static func load(_ path: String) throws(ConfigError) -> YAMLDocument {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw ConfigError(file: path, line: 0, column: 0, message: "cannot be read: \(error.localizedDescription)")
        }
        do {
            guard let node = try Yams.compose(yaml: text) else {
                throw ConfigError(file: path, line: 0, column: 0, message: "is empty")
            }
            return YAMLDocument(node: node, file: path)
        } catch let error as ConfigError {
            throw error
        } catch let error as YamlError {
            if case .scanner(_, let problem, let mark, _) = error {
                throw ConfigError(file: path, line: mark.line, column: mark.column, message: "is not valid YAML: \(problem)")
            }
            if case .parser(_, let problem, let mark, _) = error {
                throw ConfigError(file: path, line: mark.line, column: mark.column, message: "is not valid YAML: \(problem)")
            }
            throw ConfigError(file: path, line: 0, column: 0, message: "is not valid YAML: \(error)")
        } catch {
            throw ConfigError(file: path, line: 0, column: 0, message: "is not valid YAML: \(error)")
        }
    }

    func error(_ message: String) -> ConfigError {
        ConfigError(file: file, line: node.mark?.line ?? 0, column: node.mark?.column ?? 0, message: message)
    }

    func child(_ node: Node) -> YAMLDocument { YAMLDocument(node: node, file: file) }

    /// A mapping whose keys must all be `allowed`; an unknown key names the
    /// nearest allowed one.
    func mapping(allowed: [String]) throws(ConfigError) -> [String: YAMLDocument] {
        guard let mapping = node.mapping else { throw error("expected a mapping of \(allowed.joined(separator: ", "))") }
        var result: [String: YAMLDocument] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard allowed.contains(name) else {
                let hint = allowed.min { editDistance($0, name) < editDistance($1, name) }
                    .flatMap { editDistance($0, name) <= 2 ? " (did you mean '\($0)'?)" : nil } ?? ""
                throw child(key).error("unknown key '\(name)'\(hint); allowed: \(allowed.joined(separator: ", "))")
            }
            result[name] = child(value)
        }
        return result
    }

    /// A mapping with keys of the user's choosing, in file order.
    func entries() throws(ConfigError) -> [(key: YAMLDocument, value: YAMLDocument)] {
        guard let mapping = node.mapping else { throw error("expected a mapping") }
        return mapping.map { (child($0.key), child($0.value)) }
    }

    func sequence() throws(ConfigError) -> [YAMLDocument] {
        guard let sequence = node.sequence else { throw error("expected a list") }
        return sequence.map(child)
    }

    func string() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string") }
        return scalar.string
    }

    func string(oneOf choices: [String]) throws(ConfigError) -> String {
        let value = try string()
        guard choices.contains(value) else { throw error("'\(value)' is not one of \(choices.joined(separator: ", "))") }
        return value
    }

    func bool() throws(ConfigError) -> Bool {
        guard case .bool(let value) = try json() else { throw error("expected true or false") }
        return value
    }

    func strings() throws(ConfigError) -> [String] {
        var result: [String] = []
        for item in try sequence() { result.append(try item.string()) }
        return result
    }

    /// The node as JSON, with YAML 1.2 core-schema scalars (quoted scalars
    /// stay strings).
    func json() throws(ConfigError) -> JSONValue {
        switch node {
        case .scalar(let scalar):
            if scalar.style != .plain { return .string(scalar.string) }
            if let bool = Bool.construct(from: scalar) { return .bool(bool) }
            // Yams reads numbers by YAML 1.1, where "https://x" and "12:30"
            // are base-60 integers: only decimal integers and floats are
            // numbers here, everything else plain is a string.
            let text = scalar.string
            if text.wholeMatch(of: #/[-+]?[0-9]+/#) != nil, let int = Int(text) { return .number(Double(int)) }
            if text.wholeMatch(of: #/[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?/#) != nil, let double = Double(text),
               double.isFinite { return .number(double) }
            if NSNull.construct(from: scalar) != nil { return .null }
            return .string(scalar.string)
        case .mapping(let mapping):
            var object: [String: JSONValue] = [:]
            for (key, value) in mapping {
                guard let name = key.string else { throw child(key).error("expected a string key") }
                object[name] = try child(value).json()
            }
            return .object(object)
        case .sequence(let sequence):
            var array: [JSONValue] = []
            for item in sequence { array.append(try child(item).json()) }
            return .array(array)
        }
    }
}

func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for i in 1...max(a.count, 1) where !a.isEmpty {
        var current = [i] + Array(repeating: 0, count: b.count)
        for j in stride(from: 1, through: b.count, by: 1) {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        previous = current
    }
    return a.isEmpty ? b.count : previous[b.count]
}
