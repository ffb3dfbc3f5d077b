import Foundation

/// Where a secret's value comes from. Config files hold references only,
/// never values: `${env:NAME}` (an environment variable) or
/// `${file:path}` (a file's content without its final line break; a
/// relative path is relative to the tenant file's folder).
public enum SecretReference: Sendable, Equatable, CustomStringConvertible {
    case environment(String)
    /// An absolute path.
    case file(String)

    public var description: String {
        switch self {
        case .environment(let name): "${env:\(name)}"
        case .file(let path): "${file:\(path)}"
        }
    }

    static func parse(_ node: YAMLDocument, name: String) throws(ConfigError) -> SecretReference {
        let text = try node.string()
        if let match = text.wholeMatch(of: #/\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/#) {
            return .environment(String(match.1))
        }
        if let match = text.wholeMatch(of: #/\$\{file:(.+)\}/#) {
            let path = String(match.1)
            let folder = URL(fileURLWithPath: node.file).deletingLastPathComponent()
            return .file(path.hasPrefix("/") ? path : folder.appendingPathComponent(path).standardizedFileURL.path)
        }
        // Never echo the text: it may be the secret itself.
        throw node.error("secret '\(name)' must be a reference, ${env:NAME} or ${file:path}; a secret's value never goes into a config file")
    }

    /// The most a secret file may hold; a larger one is refused after
    /// reading at most one byte more.
    public static let maxFileBytes = 64 << 10

    /// The value, or nil when it is not set (`lookup` says why).
    public func resolve(environment: [String: String]) -> String? { try? lookup(environment: environment).get() }

    /// The value, or why it is not set: an unset or empty variable; a
    /// missing, unreadable, empty or over-size file, or one that is no
    /// regular file. The reason never holds the value.
    public func lookup(environment: [String: String]) -> Result<String, SecretAbsence> {
        switch self {
        case .environment(let name):
            guard let value = environment[name], !value.isEmpty else { return .failure(SecretAbsence("unset or empty")) }
            return .success(value)
        case .file(let path):
            let bytes: [UInt8]
            do { bytes = try BoundedFile.read(path, limit: Self.maxFileBytes) } catch {
                switch error {
                case .unreadable: return .failure(SecretAbsence("missing, unreadable or empty"))
                case .notRegularFile: return .failure(SecretAbsence("not a regular file"))
                case .tooLarge(let limit): return .failure(SecretAbsence("larger than \(ByteCount.describe(limit)), the limit"))
                }
            }
            guard var text = String(validating: bytes, as: UTF8.self) else { return .failure(SecretAbsence("not UTF-8 text")) }
            if text.hasSuffix("\n") { text.removeLast() }  // "\r\n" is one Character
            guard !text.isEmpty else { return .failure(SecretAbsence("missing, unreadable or empty")) }
            return .success(text)
        }
    }
}

/// Why a secret reference gives no value, e.g. "unset or empty"; never
/// the value or any part of it.
public struct SecretAbsence: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String

    init(_ description: String) { self.description = description }
}

/// Secrets of an instance that are not set, naming tenant, instance and
/// each secret with its reference and why (never a value).
public struct MissingSecrets: Error, Sendable, CustomStringConvertible {
    public var tenant: String
    public var instance: String
    /// Secret names, their references and why each is not set, by name.
    public var secrets: [(name: String, reference: SecretReference, absence: SecretAbsence)]

    public var description: String {
        "tenant \(tenant), instance \(instance): " + secrets.map { Self.describe($0.name, $0.reference, $0.absence) }.joined(separator: "; ")
    }

    /// "secret 'bot_token' is not set (${env:TOKEN} is unset or empty)".
    static func describe(_ name: String, _ reference: SecretReference, _ absence: SecretAbsence) -> String {
        "secret '\(name)' is not set (\(reference) is \(absence))"
    }
}

extension InstanceConfig {
    /// The instance's secrets by name, read now; throws naming every one
    /// that is not set.
    public func resolveSecrets(tenant: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(MissingSecrets) -> [String: String] {
        var values: [String: String] = [:]
        var missing: [(name: String, reference: SecretReference, absence: SecretAbsence)] = []
        for (name, reference) in secrets.sorted(by: { $0.key < $1.key }) {
            switch reference.lookup(environment: environment) {
            case .success(let value): values[name] = value
            case .failure(let absence): missing.append((name, reference, absence))
            }
        }
        guard missing.isEmpty else { throw MissingSecrets(tenant: tenant, instance: id, secrets: missing) }
        return values
    }
}

/// `secrets: { files: [secrets/{tenant}] }` in the host configuration:
/// the folders a tenant's `${file:…}` secrets must be in, `{tenant}`
/// standing for the tenant's id, so that no tenant names a file outside
/// its own (`/proc/self/environ`, another tenant's secret). Default: the
/// folder `secrets/{tenant}` beside the host configuration.
public struct SecretFileFolders: Sendable, Equatable {
    public static let placeholder = "{tenant}"
    /// Absolute paths, each with `placeholder` in it.
    public var templates: [String]

    public init(templates: [String]) { self.templates = templates }

    /// The tenant's folders.
    public func folders(of tenant: String) -> [String] {
        templates.map { $0.replacingOccurrences(of: Self.placeholder, with: tenant) }
    }

    /// Whether `path`, its links and `..` resolved, is inside one of the
    /// tenant's folders (each resolved too). A file that does not exist is
    /// not: it cannot be checked.
    public func confine(_ path: String, tenant: String) -> Bool {
        guard let real = Self.realPath(path) else { return false }
        return folders(of: tenant).contains { folder in
            guard let base = Self.realPath(folder) else { return false }
            return real.hasPrefix(base.hasSuffix("/") ? base : base + "/")
        }
    }

    private static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

/// Parses the host configuration's `secrets:` section.
enum SecretsSection {
    static func parse(_ node: YAMLDocument, resolve: (String) -> String) throws(ConfigError) -> SecretFileFolders {
        let fields = try node.mapping(allowed: ["files"])
        guard let files = fields["files"] else { throw node.error("secrets is missing field 'files' (the folders of the tenants' secret files, e.g. [secrets/{tenant}])") }
        var templates: [String] = []
        for item in try files.sequence() {
            let folder = try item.string()
            guard folder.contains(SecretFileFolders.placeholder) else {
                throw item.error("secrets.files: '\(folder)' has no \(SecretFileFolders.placeholder): each tenant's secret files are in a folder of its own, e.g. secrets/{tenant}")
            }
            templates.append(resolve(folder))
        }
        return SecretFileFolders(templates: templates)
    }
}
