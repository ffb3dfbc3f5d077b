import AlphaPlusJSON
import Distribution
import Trading
import Foundation
import HTTPClient
import Yams

/// A configuration error with the file, line and column it refers to.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
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
    /// `secrets: { files: [...] }`: where the tenants' `${file:…}` secrets
    /// may be; default `secrets/{tenant}` beside this file.
    public var secretFiles: SecretFileFolders

    public static func load(_ path: String) throws(ConfigError) -> HostConfig {
        let root = try YAMLDocument.load(path)
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ relative: String) -> String {
            relative.hasPrefix("/") ? relative : base.appendingPathComponent(relative).standardizedFileURL.path
        }
        let top = try root.mapping(allowed: ["plugins", "tenants_folder", "log_level", "store", "network", "http", "quotas", "secrets"])
        var config = HostConfig(file: path, pluginFolders: [resolve("../plugins")], tenantsFolder: resolve("tenants"), logLevel: "info",
                                storePath: resolve("../data/alphaplus.sqlite"),
                                secretFiles: SecretFileFolders(templates: [resolve("secrets/\(SecretFileFolders.placeholder)")]))
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
        if let secrets = top["secrets"] { config.secretFiles = try SecretsSection.parse(secrets, resolve: resolve) }
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
    /// Where its parts are in the tenant file.
    public var source: InstanceSource
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

/// `config/tenants/<id>.yaml`: the tenant's plugin instances, its strategy
/// and its distribution. `TenantFile` reads one with every error in it.
public struct TenantConfig: Sendable {
    public var file: String
    public var id: String
    /// Where `id:` is in the file.
    public var idPosition: SourcePosition
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
    /// Where `admin_token:`'s reference is in the file.
    public var adminTokenPosition: SourcePosition?

    /// The tenant in `path`; throws the file's first error (`TenantFile`
    /// has them all).
    public static func load(_ path: String) throws(ConfigError) -> TenantConfig {
        let file = TenantFile(parsing: path)
        if let first = file.errors.first { throw first }
        guard let tenant = file.tenant else { throw ConfigError(file: path, line: 0, column: 0, message: "has no tenant") }
        return tenant
    }

    /// Every tenant file in the folder that has no error (`TenantFolder`
    /// has the rules); each file's errors are collected, so one bad tenant
    /// never hides another's problems.
    public static func loadAll(folder: String) -> (tenants: [TenantConfig], errors: [ConfigError]) {
        let loaded = TenantFolder(loading: folder)
        return (loaded.validTenants, loaded.errors)
    }
}

/// A YAML node that knows its file and position, for precise errors.
struct YAMLDocument {
    let node: Node
    let file: String

    /// The file's document, held to `YAMLLimits` before the YAML library
    /// composes it.
    static func load(_ path: String) throws(ConfigError) -> YAMLDocument {
        let bytes: [UInt8]
        do { bytes = try BoundedFile.read(path, limit: YAMLLimits.fileBytes) } catch {
            throw ConfigError(file: path, line: 0, column: 0, message: error.message)
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(file: path, line: 0, column: 0, message: "is not UTF-8 text")
        }
        if let violation = YAMLLimits.violation(in: text) {
            throw ConfigError(file: path, line: violation.line, column: violation.column, message: violation.message)
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

    /// Where the node starts.
    var position: SourcePosition { SourcePosition(line: node.mark?.line ?? 0, column: node.mark?.column ?? 0) }

    /// A mapping whose keys must all be `allowed`; an unknown key names the
    /// nearest allowed one.
    func mapping(allowed: [String]) throws(ConfigError) -> [String: YAMLDocument] {
        var unknown: [ConfigError] = []
        let known = try mapping(allowed: allowed, unknownKeys: &unknown)
        if let first = unknown.first { throw first }
        return known
    }

    /// The `allowed` keys of a mapping; each unknown key is an error in
    /// `unknownKeys` (naming the nearest allowed one) and is left out.
    func mapping(allowed: [String], unknownKeys: inout [ConfigError]) throws(ConfigError) -> [String: YAMLDocument] {
        guard let mapping = node.mapping else { throw error("expected a mapping of \(allowed.joined(separator: ", "))") }
        var result: [String: YAMLDocument] = [:]
        for (key, value) in mapping {
            let name = key.string ?? ""
            guard allowed.contains(name) else {
                let hint = Suggestion.closest(to: name, among: allowed).map { " (did you mean '\($0)'?)" } ?? ""
                unknownKeys.append(child(key).error("unknown key '\(name)'\(hint); allowed: \(allowed.joined(separator: ", "))"))
                continue
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
