/// Validation of descriptor identifiers.
enum Identifiers {
    /// Reverse-DNS: at least two dot-separated labels of lowercase letters,
    /// digits and '-', each starting with a letter or digit.
    static func isReverseDNS(_ id: String) -> Bool {
        let labels = id.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, id.utf8.count <= 255 else { return false }
        return labels.allSatisfy { label in
            guard let first = label.utf8.first, first != UInt8(ascii: "-"), label.utf8.count <= 63 else { return false }
            return label.utf8.allSatisfy { (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// Semantic Versioning 2.0.0 (semver.org's grammar).
    static func isSemver(_ version: String) -> Bool {
        version.wholeMatch(of: semver) != nil
    }

    nonisolated(unsafe) private static let semver = #/(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?/#
}
