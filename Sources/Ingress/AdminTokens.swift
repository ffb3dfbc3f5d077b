import Crypto
import HTTPTypes
import Hummingbird

/// A bearer token for the admin API, kept only as its SHA-256 digest: the
/// text is never stored, printed or logged.
public struct AdminToken: Sendable, CustomStringConvertible {
    fileprivate let digest: [UInt8]

    public init(_ secret: String) {
        digest = Array(SHA256.hash(data: Array(secret.utf8)))
    }

    public var description: String { "(an admin token)" }

    /// Compares every byte whatever the first difference, so the time
    /// taken says nothing about the token (digests have one length).
    fileprivate func matches(_ other: [UInt8]) -> Bool {
        var difference: UInt8 = 0
        for (a, b) in zip(digest, other) { difference |= a ^ b }
        return difference == 0 && digest.count == other.count
    }
}

/// Who an admin request comes from.
enum AdminCaller: Equatable {
    case `operator`
    case tenant(String)
}

/// Tells the operator's token and the tenants' tokens apart, and
/// throttles a source after failed authentications.
struct AdminAuthenticator: Sendable {
    let operatorToken: AdminToken?
    /// The tenants' tokens as the current catalog has them (a reload may change them).
    let catalog: LiveCatalog
    let throttle: AuthThrottle

    var tenantTokens: [(tenant: String, token: AdminToken)] {
        catalog.current.tenants.compactMap { tenant in tenant.adminToken.map { (tenant.id, $0) } }
    }

    /// The caller the request's `Authorization: Bearer` token belongs to.
    /// 503 when no token is configured at all; 429 (with `Retry-After`)
    /// while `source` is throttled, the token unread; 401 (with
    /// `WWW-Authenticate: Bearer`) when the header is missing, is not a
    /// bearer token or matches no token, a failure counted against `source`.
    func caller(of request: Request, from source: String) throws(APIError) -> AdminCaller {
        let tenantTokens = tenantTokens
        guard operatorToken != nil || !tenantTokens.isEmpty else {
            throw APIError(.serviceUnavailable, "admin API disabled: no token configured")
        }
        if let wait = throttle.throttled(source) {
            let seconds = Self.retryAfter(wait)
            throw APIError(.tooManyRequests, "too many failed authentications from your address: try again in \(seconds) s",
                           headers: [.retryAfter: String(seconds)])
        }
        do {
            let caller = try authenticate(request, tenantTokens: tenantTokens)
            throttle.succeeded(source)
            return caller
        } catch {
            throttle.failed(source)
            throw error
        }
    }

    /// Whole seconds, rounded up (Retry-After has no fractions), at least 1.
    static func retryAfter(_ wait: Duration) -> Int64 {
        let (seconds, attoseconds) = wait.components
        return max(1, seconds + (attoseconds > 0 ? 1 : 0))
    }

    private func authenticate(_ request: Request, tenantTokens: [(tenant: String, token: AdminToken)]) throws(APIError) -> AdminCaller {
        guard let header = request.headers[.authorization] else {
            throw unauthorized("missing bearer token: send Authorization: Bearer <token>", challenge: "Bearer")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw unauthorized("the Authorization header is not a bearer token (Authorization: Bearer <token>)",
                               challenge: "Bearer error=\"invalid_request\"")
        }
        let presented = Array(SHA256.hash(data: Array(parts[1].utf8)))
        // Every token is compared, matched or not, so the time taken does
        // not tell which one (if any) matched.
        var caller: AdminCaller?
        if operatorToken?.matches(presented) == true { caller = .operator }
        for (tenant, token) in tenantTokens where token.matches(presented) && caller == nil { caller = .tenant(tenant) }
        guard let caller else { throw unauthorized("wrong token", challenge: "Bearer error=\"invalid_token\"") }
        return caller
    }

    private func unauthorized(_ message: String, challenge: String) -> APIError {
        APIError(.unauthorized, message, headers: [.wwwAuthenticate: challenge])
    }
}
