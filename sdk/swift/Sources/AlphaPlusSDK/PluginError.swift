import CAlphaPlus

/// An error a plugin reports to the host: a contract status and a message
/// for the operator (say what was wrong and where; never include a secret).
public struct PluginError: Error, CustomStringConvertible, Sendable {
    public var status: ap_status
    public var message: String

    public init(status: ap_status, _ message: String) {
        self.status = status
        self.message = message
    }

    public static func invalidArgument(_ message: String) -> PluginError { .init(status: ap_status(AP_ERR_INVALID_ARGUMENT), message) }
    public static func invalidConfig(_ message: String) -> PluginError { .init(status: ap_status(AP_ERR_INVALID_CONFIG), message) }
    public static func unsupported(_ message: String) -> PluginError { .init(status: ap_status(AP_ERR_UNSUPPORTED), message) }
    public static func notFound(_ message: String) -> PluginError { .init(status: ap_status(AP_ERR_NOT_FOUND), message) }
    public static func unavailable(_ message: String) -> PluginError { .init(status: ap_status(AP_ERR_UNAVAILABLE), message) }
    public static func wrongState(_ message: String) -> PluginError { .init(status: ap_status(AP_ERR_WRONG_STATE), message) }
    public static func internalError(_ message: String) -> PluginError { .init(status: ap_status(AP_ERR_INTERNAL), message) }

    public var description: String { message }

    /// Any Swift error as a contract status and message; errors never unwind
    /// across the boundary.
    static func from(_ error: any Error) -> PluginError {
        switch error {
        case let error as PluginError: return error
        case let error as DecodingError: return .invalidConfig(describe(error))
        default: return .internalError(String(describing: error))
        }
    }

    /// A configuration decoding error naming the field at fault.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            let text = codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
            return text.hasPrefix(".") ? String(text.dropFirst()) : (text.isEmpty ? "(root)" : text)
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : path(context.codingPath) + "."
            return "config field '\(parent)\(key.stringValue)' is missing"
        case .typeMismatch(let type, let context):
            return "config field '\(path(context.codingPath))': expected \(type)"
        case .valueNotFound(let type, let context):
            return "config field '\(path(context.codingPath))': expected \(type), found null"
        case .dataCorrupted(let context):
            return "config field '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return String(describing: error)
        }
    }
}
