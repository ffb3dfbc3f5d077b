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

    /// The value, or nil when it is not set: an unset or empty variable, a
    /// missing, unreadable or empty file.
    public func resolve(environment: [String: String]) -> String? {
        let value: String?
        switch self {
        case .environment(let name):
            value = environment[name]
        case .file(let path):
            var text = try? String(contentsOfFile: path, encoding: .utf8)
            if text?.hasSuffix("\n") == true { text?.removeLast() }  // "\r\n" is one Character
            value = text
        }
        return value?.isEmpty == false ? value : nil
    }
}

/// Secrets of an instance that are not set, naming tenant, instance and
/// each secret with its reference (never a value).
public struct MissingSecrets: Error, Sendable, CustomStringConvertible {
    public var tenant: String
    public var instance: String
    /// Secret names and their references, by name.
    public var secrets: [(name: String, reference: SecretReference)]

    public var description: String {
        "tenant \(tenant), instance \(instance): " + secrets.map { Self.describe($0.name, $0.reference) }.joined(separator: "; ")
    }

    /// "secret 'bot_token' is not set (${env:TOKEN} is unset or empty)".
    static func describe(_ name: String, _ reference: SecretReference) -> String {
        "secret '\(name)' is not set (\(reference) is \(absence(reference)))"
    }

    private static func absence(_ reference: SecretReference) -> String {
        switch reference {
        case .environment: "unset or empty"
        case .file: "missing, unreadable or empty"
        }
    }
}

extension InstanceConfig {
    /// The instance's secrets by name, read now; throws naming every one
    /// that is not set.
    public func resolveSecrets(tenant: String,
                               environment: [String: String] = ProcessInfo.processInfo.environment) throws(MissingSecrets) -> [String: String] {
        var values: [String: String] = [:]
        var missing: [(name: String, reference: SecretReference)] = []
        for (name, reference) in secrets.sorted(by: { $0.key < $1.key }) {
            if let value = reference.resolve(environment: environment) { values[name] = value } else { missing.append((name, reference)) }
        }
        guard missing.isEmpty else { throw MissingSecrets(tenant: tenant, instance: id, secrets: missing) }
        return values
    }
}
