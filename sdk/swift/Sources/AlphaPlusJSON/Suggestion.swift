/// "Did you mean" hints for misspelled keywords, field names and values.
public enum Suggestion {
    static let maximumDistance = 2

    /// The candidate closest to `word` within edit distance 2, or nil. Ties go to the
    /// earliest candidate. A candidate is never suggested when every character would
    /// have to change (e.g. "ab" → "cd").
    public static func closest(to word: String, among candidates: [String]) -> String? {
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(word, candidate)
            if distance <= maximumDistance, distance < word.count, distance < (best?.distance ?? .max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    /// "(label: a, b; did you mean 'a'?)" listing the valid `names` for an invalid `word`.
    static func listing(_ label: String, _ names: [String], for word: String) -> String {
        let list = names.isEmpty ? "none" : names.joined(separator: ", ")
        guard let suggestion = closest(to: word, among: names) else { return "(\(label): \(list))" }
        return "(\(label): \(list); did you mean '\(suggestion)'?)"
    }

    /// Optimal string alignment distance: insertions, deletions, substitutions and
    /// transpositions of adjacent characters each cost 1.
    static func editDistance(_ lhs: String, _ rhs: String) -> Int {
        let a = Array(lhs), b = Array(rhs)
        guard !a.isEmpty, !b.isEmpty else { return max(a.count, b.count) }
        var table = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in 0...a.count { table[i][0] = i }
        for j in 0...b.count { table[0][j] = j }
        for i in 1...a.count {
            for j in 1...b.count {
                let substitution = a[i - 1] == b[j - 1] ? 0 : 1
                table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1, table[i - 1][j - 1] + substitution)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    table[i][j] = min(table[i][j], table[i - 2][j - 2] + 1)
                }
            }
        }
        return table[a.count][b.count]
    }
}
