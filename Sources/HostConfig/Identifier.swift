/// The one rule for every id a configuration file names that becomes a
/// path, a URL segment, a log field, a metric label or a store key: tenant
/// ids, instance ids, destination ids, tier names, `quotas.tenants` keys.
/// (A subscriber identity kind follows the Subscriptions contract's own
/// narrower rule, which plugins are held to.)
public enum Identifier {
    public static let rule = "1 to 63 of lowercase letters, digits, '-' and '_', starting with a letter or digit"

    public static func isValid(_ text: String) -> Bool { text.wholeMatch(of: #/[a-z0-9][a-z0-9_-]{0,62}/#) != nil }

    /// `what` ("instance id") of `text` breaks the rule: the message names
    /// the text as Swift would write it, so a newline shows as `\n`.
    static func problem(_ what: String, _ text: String) -> String? {
        isValid(text) ? nil : "\(what) \(text.debugDescription) is not a valid identifier (\(rule))"
    }
}

extension YAMLDocument {
    /// The node's string, which must be an identifier; else an error at the
    /// node naming `what` and the rule.
    func identifier(_ what: String) throws(ConfigError) -> String {
        let text = try string()
        if let problem = Identifier.problem(what, text) { throw error(problem) }
        return text
    }
}
