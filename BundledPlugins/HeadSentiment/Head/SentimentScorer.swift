/// Scores text with `SentimentLexicon`: tokenise, match the longest
/// lexicon terms, apply negation and intensifiers, sum, normalise.
public enum SentimentScorer {
    /// A word of the text and the clause it is in.
    public struct Token: Sendable, Equatable {
        public var text: String
        public var clause: Int
    }

    /// One lexicon term found in a text.
    public struct Match: Sendable, Equatable {
        /// The entry's term (the text may have matched one of its variants).
        public var term: String
        public var baseScore: Double
        /// The product of the intensifiers qualifying it (1 when none).
        public var multiplier: Double
        public var negated: Bool

        public var score: Double { (negated ? -1 : 1) * baseScore * multiplier }
    }

    public struct Score: Sendable, Equatable {
        /// The sum of the matches' scores.
        public var sum: Double
        public var matches: [Match]
        /// `sum` mapped into (-1, 1).
        public var normalized: Double { SentimentScorer.normalized(sum) }
    }

    public static func normalized(_ sum: Double) -> Double {
        sum / (sum * sum + SentimentLexicon.normalisationAlpha).squareRoot()
    }

    /// Lowercase words (letters, digits, inner apostrophes; "’" read as
    /// "'"), a possessive "'s" dropped, each with its clause number. Digits
    /// around "." or "," stay one token ("2.5").
    public static func tokens(_ text: String) -> [Token] {
        let characters = text.lowercased().map { $0 == "’" ? "'" : $0 }
        func isWord(_ index: Int) -> Bool {
            index >= 0 && index < characters.count && (characters[index].isLetter || characters[index].isNumber)
        }
        var tokens: [Token] = []
        var current = "", clause = 0
        func flush() {
            var word = Substring(current)
            while word.first == "'" { word.removeFirst() }
            while word.last == "'" { word.removeLast() }
            if word.hasSuffix("'s") { word.removeLast(2) }
            if !word.isEmpty { tokens.append(Token(text: String(word), clause: clause)) }
            current = ""
        }
        for (index, character) in characters.enumerated() {
            let between = isWord(index - 1) && isWord(index + 1)
            if character.isLetter || character.isNumber || character == "'"
                || ((character == "." || character == ",") && between && characters[index - 1].isNumber && characters[index + 1].isNumber) {
                current.append(character)
                continue
            }
            flush()
            if SentimentLexicon.clauseBreaks.contains(character) || (character == "-" && !between) { clause += 1 }
        }
        flush()
        return tokens
    }

    public static func score(_ text: String) -> Score {
        let tokens = tokens(text)
        var matches: [Match] = []
        /// Token ranges of the matches, parallel to `matches`.
        var spans: [Range<Int>] = []
        var negatorPositions: [Int] = []
        var intensifierPositions: [(position: Int, multiplier: Double)] = []
        var index = 0
        while index < tokens.count {
            if let (entry, length) = longestTerm(in: tokens, at: index) {
                matches.append(Match(term: entry.term, baseScore: entry.score, multiplier: 1, negated: false))
                spans.append(index..<index + length)
                index += length
                continue
            }
            let word = tokens[index].text
            if negators.contains(word) || word.hasSuffix(SentimentLexicon.negationSuffix) {
                negatorPositions.append(index)
            } else if let multiplier = intensifiers[word] {
                intensifierPositions.append((index, multiplier))
            }
            index += 1
        }
        for (match, span) in zip(matches.indices, spans) {
            let clause = tokens[span.lowerBound].clause
            matches[match].negated = negatorPositions.contains {
                tokens[$0].clause == clause && span.lowerBound > $0 && span.lowerBound <= $0 + SentimentLexicon.negationWindow
            }
        }
        let reach = SentimentLexicon.intensifierReach
        for (position, multiplier) in intensifierPositions {
            let clause = tokens[position].clause
            let inClause = spans.indices.filter { tokens[spans[$0].lowerBound].clause == clause }
            let after = inClause.first { spans[$0].lowerBound > position && spans[$0].lowerBound <= position + reach }
            let before = inClause.last { spans[$0].upperBound <= position && spans[$0].upperBound > position - reach }
            if let target = after ?? before { matches[target].multiplier *= multiplier }
        }
        return Score(sum: matches.reduce(0) { $0 + $1.score }, matches: matches)
    }

    /// The entry whose term or variant spans the most tokens from `start`
    /// within one clause, and how many.
    private static func longestTerm(in tokens: [Token], at start: Int) -> (LexiconEntry, Int)? {
        let clause = tokens[start].clause
        var length = min(maxTermTokens, tokens.count - start)
        while length > 0 {
            if tokens[start + length - 1].clause == clause {
                let key = tokens[start..<start + length].map(\.text).joined(separator: " ")
                if let entry = termIndex[key] { return (entry, length) }
            }
            length -= 1
        }
        return nil
    }

    /// Every term and variant, to its entry.
    static let termIndex: [String: LexiconEntry] = {
        var index: [String: LexiconEntry] = [:]
        for entry in SentimentLexicon.entries {
            for text in [entry.term] + entry.variants { index[text] = entry }
        }
        return index
    }()

    private static let maxTermTokens = termIndex.keys.map { $0.split(separator: " ").count }.max() ?? 1
    private static let negators = Set(SentimentLexicon.negators)
    private static let intensifiers = Dictionary(uniqueKeysWithValues: SentimentLexicon.intensifiers.map { ($0.word, $0.multiplier) })
}
