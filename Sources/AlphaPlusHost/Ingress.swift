import Distribution
import Foundation
import HostConfig
import HostMetrics
import Ingress
import Logging
import PluginRuntime
import Store
import Tenancy
import Timekeeping

/// Starts the HTTP server when the host config has an `http:` section (nil
/// without one): webhooks to the tenants' instances as created, the admin
/// API with the operator's and the tenants' tokens, health and readiness.
func startIngress(_ config: HostConfig, running: [TenantHost.Running], registry: PluginRegistry, store: HostStore,
                  readiness: Readiness, clock: any HostClock, logger: Logger, serverLogger: Logger) throws -> IngressServer? {
    guard let http = config.http else { return nil }
    let catalog = ingressCatalog(running, registry: registry, logger: logger)
    let operatorToken = adminToken(http.adminToken, of: "the operator (\(config.file))", logger: logger)
    if operatorToken == nil, !catalog.tenants.contains(where: { $0.adminToken != nil }) {
        logger.notice("http: admin API disabled: no token configured (http.admin_token, or a tenant's admin_token)")
    }
    let server = IngressServer(
        settings: IngressSettings(host: http.host, port: http.port, maxBodyBytes: http.maxBodyBytes,
                                  requestDeadline: .milliseconds(http.requestDeadlineMs), operatorToken: operatorToken,
                                  limits: serverLimits(http.limits)),
        catalog: catalog, store: store, readiness: readiness, metricsText: { HostMetrics.exposition() }, nowNs: clock.nowNs, logger: serverLogger)
    do { try server.start() } catch { throw HostError(description: "\(error)") }
    return server
}

/// The `http:` section's limits as the server takes them.
func serverLimits(_ limits: HTTPSettings.Limits) -> ServerLimits {
    ServerLimits(idleTimeout: .milliseconds(limits.idleTimeoutMs), headerTimeout: .milliseconds(limits.headerTimeoutMs),
                 bodyTimeout: .milliseconds(limits.bodyTimeoutMs), maxConnections: limits.maxConnections,
                 maxConnectionsPerSource: limits.maxConnectionsPerSource, reservedFiles: limits.reservedFiles,
                 authFailuresAllowed: limits.authFailuresAllowed, authBackoff: .milliseconds(limits.authBackoffMs),
                 authBackoffMax: .milliseconds(limits.authBackoffMaxMs), refusalLogInterval: .milliseconds(limits.refusalLogIntervalMs))
}

/// What the ingress serves of the running tenants: each instance as it
/// came out (a shared connector as the tenant's instance), each tenant's
/// admin token as it resolves now.
func ingressCatalog(_ running: [TenantHost.Running], registry: PluginRegistry, logger: Logger) -> IngressCatalog {
    IngressCatalog(
        tenants: running.map { tenant in
            IngressTenant(
                id: tenant.config.id,
                instances: tenant.config.instances.map { instance in
                    let state: IngressInstance.State = switch tenant.instances[instance.id] {
                    case .created(let created): .running(created)
                    case .dryRun: .dryRun
                    case .failed(let reason): .failed(reason: reason)
                    case nil: .failed(reason: "not created")
                    }
                    return IngressInstance(id: instance.id, pluginID: instance.plugin, state: state)
                },
                adminToken: adminToken(tenant.config.adminToken, of: "tenant \(tenant.config.id) (\(tenant.config.file))", logger: logger),
                hasStrategy: tenant.config.strategy != nil,
                destinations: tenant.config.distribution?.destinations.map(\.id) ?? [],
                unpaidTier: tenant.config.distribution?.subscribers?.unpaidTier)
        },
        plugins: registry.plugins, refusedPlugins: registry.failures)
}

/// The token a reference names, or nil (with a notice) when it names none
/// or is unset: a missing token disables that part of the admin API, it
/// does not stop the host.
private func adminToken(_ reference: SecretReference?, of owner: String, logger: Logger) -> AdminToken? {
    guard let reference else { return nil }
    guard let value = reference.resolve(environment: ProcessInfo.processInfo.environment) else {
        logger.notice("http: the admin token of \(owner), \(reference), is not set: that token is disabled")
        return nil
    }
    return AdminToken(value)
}
