import AlphaPlusJSON
import Foundation

extension TenantFile {
    /// Checks the tenant against what it needs at run time, adding to
    /// `errors` (and `warnings`):
    /// - each instance's plugin is one of `plugins` (loaded plugin id → its
    ///   config schema), else an error at `plugin:` naming the nearest;
    /// - its settings satisfy the plugin's schema: one error per violation,
    ///   at the key or item the violation names;
    /// - each `${file:…}` secret (and the admin token's) is in one of the
    ///   tenant's `secretFiles` folders, links and `..` resolved: else an
    ///   error naming the reference, and the file is not read;
    /// - each secret is set in `environment` (or its file): an error naming
    ///   tenant, instance, plugin, secret, reference and why, never a
    ///   value; a warning when the instance runs dry without its secrets.
    public mutating func validate(plugins: [String: JSONSchema], environment: [String: String], secretFiles: SecretFileFolders) {
        guard let tenant else { return }
        var found: [ConfigError] = [], warned: [ConfigError] = []
        func report(_ position: SourcePosition, _ message: String, warning: Bool = false) {
            let error = ConfigError(file: path, line: position.line, column: position.column, message: message)
            if warning { warned.append(error) } else { found.append(error) }
        }
        let loaded = plugins.keys.sorted()
        /// Whether `reference` may be read: an error at `position` when it names a file outside the tenant's folders.
        func confined(_ reference: SecretReference, _ subject: String, at position: SourcePosition) -> Bool {
            guard case .file(let path) = reference, !secretFiles.confine(path, tenant: tenant.id) else { return true }
            report(position, "\(subject): \(reference) is not a file in the tenant's secret folders (\(secretFiles.folders(of: tenant.id).joined(separator: ", "))): "
                       + "secrets.files in the host configuration names them; links and '..' are resolved first")
            return false
        }
        if let token = tenant.adminToken {
            _ = confined(token, "tenant \(tenant.id), admin_token", at: tenant.adminTokenPosition ?? tenant.idPosition)
        }
        for instance in tenant.instances {
            let subject = "tenant \(tenant.id), instance \(instance.id) (plugin \(instance.plugin))"
            if let schema = plugins[instance.plugin] {
                for violation in schema.validate(instance.settings) {
                    let field = violation.path.isEmpty ? "settings" : "settings.\(violation.path)"
                    report(instance.source.position(ofSettings: violation.path), "\(subject): \(field): \(violation.message)")
                }
            } else {
                let hint = Suggestion.closest(to: instance.plugin, among: loaded).map { " (did you mean '\($0)'?)" } ?? ""
                report(instance.source.plugin, "\(subject): plugin '\(instance.plugin)' is not loaded\(hint); loaded: "
                           + (loaded.isEmpty ? "none (check plugins.folders in the host config)" : loaded.joined(separator: ", ")))
            }
            for (name, reference) in instance.secrets.sorted(by: { $0.key < $1.key }) {
                let position = instance.source.secrets[name] ?? instance.source.item
                guard confined(reference, "\(subject): secret '\(name)'", at: position),
                      case .failure(let absence) = reference.lookup(environment: environment) else { continue }
                let missing = MissingSecrets.describe(name, reference, absence)
                if instance.dryRunWithoutSecrets {
                    report(position, "warning: \(subject): \(missing); the instance runs dry (dry_run_without_secrets)", warning: true)
                } else {
                    report(position, "\(subject): \(missing)")
                }
            }
        }
        errors = (errors + found).inFileOrder
        warnings = (warnings + warned).inFileOrder
    }

    /// The tenants folder's rules for this file among the folder's `others`:
    /// its name is its id's (`<id>.yaml`), and no other file has its id.
    public mutating func checkPlacement(among others: [TenantFile]) {
        guard let tenant else { return }
        func error(_ message: String) -> ConfigError {
            ConfigError(file: path, line: tenant.idPosition.line, column: tenant.idPosition.column, message: message)
        }
        let name = (path as NSString).lastPathComponent
        if (name as NSString).deletingPathExtension != tenant.id {
            errors.append(error("tenant id '\(tenant.id)' does not match the file name '\(name)': a tenant's file is named after its id, \(tenant.id).yaml"))
        }
        let standardized = URL(fileURLWithPath: path).standardizedFileURL.path
        if let other = others.first(where: { $0.tenant?.id == tenant.id && URL(fileURLWithPath: $0.path).standardizedFileURL.path != standardized }) {
            errors.append(error("tenant id '\(tenant.id)' is also used by \(other.path); one tenant, one file"))
        }
        errors = errors.inFileOrder
    }
}

/// The tenants folder: every `*.yaml` (and `*.yml`) in it, in name order,
/// each with every error in it and the folder's rules: a file is named
/// after its tenant's id, and two files never share one id (the later file
/// in name order is in error, naming the earlier).
public struct TenantFolder: Sendable {
    public let path: String
    public var files: [TenantFile]
    /// The folder itself cannot be read.
    public var problems: [ConfigError]
    /// `quotas.tenants` keys naming no valid tenant (`init(validating:)`):
    /// warnings, so that a removed tenant's quota never blocks a reload.
    public var quotaWarnings: [ConfigError] = []

    public init(loading path: String) {
        self.path = path
        files = []
        problems = []
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch {
            problems = [ConfigError(file: path, line: 0, column: 0, message: "the tenants folder cannot be read: \(error.localizedDescription)")]
            return
        }
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            var file = TenantFile(parsing: (path as NSString).appendingPathComponent(name))
            file.checkPlacement(among: files)
            files.append(file)
        }
    }

    /// The folder as `run`, a reload and `config validate` check it: every
    /// file read, then checked against the loaded plugins (id → config
    /// schema), the secret folders and the environment's secrets
    /// (`TenantFile.validate`), then
    /// against the operator's quotas (`TenantFile.check(quotas:)`).
    public init(validating path: String, plugins: [String: JSONSchema], quotas: QuotaSettings, secretFiles: SecretFileFolders,
                environment: [String: String] = ProcessInfo.processInfo.environment) {
        self.init(loading: path)
        for index in files.indices {
            files[index].validate(plugins: plugins, environment: environment, secretFiles: secretFiles)
            files[index].check(quotas: quotas)
        }
        quotaWarnings = quotas.unknownTenants(validTenants.map(\.id))
    }

    /// The tenants of the files without an error.
    public var validTenants: [TenantConfig] { files.filter(\.isValid).compactMap(\.tenant) }
    public var errors: [ConfigError] { problems + files.flatMap(\.errors) }
    public var warnings: [ConfigError] { files.flatMap(\.warnings) }

    /// The file of tenant `id`.
    public func file(of id: String) -> TenantFile? { files.first { $0.tenant?.id == id } }
}

extension TenantFile {
    /// The operator's quotas: a tenant over its `symbols` quota is an
    /// error of its file (it does not run).
    public mutating func check(quotas: QuotaSettings) {
        guard isValid, let tenant, let problem = quotas.symbolQuotaProblem(tenant) else { return }
        errors.append(problem)
    }
}

extension TenantConfig {
    /// What `alphaplus run` starts (and a reload applies): the tenants of
    /// the folder that have no error, checked against the loaded plugins
    /// (id → config schema), the environment's secrets and the operator's
    /// quotas; every error and warning of the others. A `quotas.tenants`
    /// key naming no valid tenant is a warning (a removed tenant's quota
    /// must not block a reload).
    public static func loadValidated(folder: String, plugins: [String: JSONSchema], quotas: QuotaSettings = QuotaSettings(),
                                     secretFiles: SecretFileFolders, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> (tenants: [TenantConfig], errors: [ConfigError], warnings: [ConfigError]) {
        let loaded = TenantFolder(validating: folder, plugins: plugins, quotas: quotas, secretFiles: secretFiles, environment: environment)
        return (loaded.validTenants, loaded.errors, loaded.warnings + loaded.quotaWarnings)
    }
}
