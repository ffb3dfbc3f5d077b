import HTTPClient

/// The network hosts a plugin's descriptor declares, as the host enforces
/// them on every HTTP request: an exact host, or "*.domain" for any
/// subdomain of domain (not the bare domain), compared case-insensitively.
/// Ports are not part of the match.
struct NetworkPermissions: Sendable {
    /// As declared, for messages.
    let declared: [String]
    private let exactHosts: Set<String>
    /// ".domain" for each "*.domain".
    private let subdomainSuffixes: [String]

    init(_ hosts: [String]) {
        declared = hosts
        let names = hosts.map { Self.bare($0.lowercased()) }
        exactHosts = Set(names.filter { !$0.hasPrefix("*.") })
        subdomainSuffixes = names.filter { $0.hasPrefix("*.") && $0.count > 2 }.map { String($0.dropFirst()) }
    }

    func allows(_ origin: HTTPOrigin) -> Bool {
        let host = Self.bare(origin.host)
        if exactHosts.contains(host) { return true }
        return subdomainSuffixes.contains { host.count > $0.count && host.hasSuffix($0) }
    }

    /// Why a request to `origin` is refused, or nil: https anywhere the
    /// plugin declared; plain http only to loopback.
    func refusal(of origin: HTTPOrigin) -> String? {
        if origin.scheme == "http" && !origin.isLoopback {
            return "plain http to '\(origin.host)' is not allowed: use https (http only to 127.0.0.1, ::1 or localhost)"
        }
        guard allows(origin) else {
            let list = declared.isEmpty ? "none" : declared.joined(separator: ", ")
            return "host '\(origin.host)' is not in the plugin's network permissions (declared: \(list))"
        }
        return nil
    }

    /// An IPv6 address without the brackets a URL puts around it.
    private static func bare(_ host: String) -> String {
        host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
    }
}
