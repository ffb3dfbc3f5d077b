import Foundation

/// A Tweet's length as X counts it: twitter-text v3 (config v3 in
/// twitter/twitter-text `config/v3.json`; facts in channels.md §3).
///
/// The text is NFC-normalised and its line endings made "\n" first. Then
/// every URL counts 23, every emoji (a ZWJ sequence, a flag, a keycap, a
/// skin-tone or presentation sequence: twitter-text's Emoji 12.0 list)
/// counts 2, a code point in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F
/// or U+2032–U+2037 counts 1, and any other counts 2. At most 280.
///
/// Agrees with twitter-text-parser (the Python port) on the corpus and the
/// random mixes the tests compare, including which URLs it finds.
public enum TwitterText {
    public static let maxWeightedLength = 280

    /// What twitter-text's `parse_tweet` reports.
    public struct Parsed: Equatable, Sendable {
        public var weightedLength: Int
        /// Within 1…280 and free of U+FFFE, U+FEFF and U+FFFF.
        public var valid: Bool

        public init(weightedLength: Int, valid: Bool) {
            self.weightedLength = weightedLength
            self.valid = valid
        }
    }

    /// A URL twitter-text recognises: its text as twitter-text reports it
    /// and its code-point range in the normalised text.
    public struct URLEntity: Equatable, Sendable {
        public var url: String
        public var indices: Range<Int>
    }

    static let scale = 100
    static let defaultWeight = 200
    static let urlWeight = 23 * scale
    static let weightedRanges: [(range: ClosedRange<UInt32>, weight: Int)] = [
        (0x0000...0x10FF, 100), (0x2000...0x200D, 100), (0x2010...0x201F, 100), (0x2032...0x2037, 100),
    ]
    /// Characters twitter-text calls invalid in a Tweet.
    static let invalidCharacters: Set<Unicode.Scalar> = ["\u{FFFE}", "\u{FEFF}", "\u{FFFF}"]
    static let ellipsis: Unicode.Scalar = "\u{2026}"

    /// NFC, then "\r\n" and "\r" made "\n": the text twitter-text counts.
    public static func normalized(_ text: String) -> String {
        var scalars: [Unicode.Scalar] = []
        var previousWasCR = false
        for scalar in text.precomposedStringWithCanonicalMapping.unicodeScalars {
            if scalar == "\n", previousWasCR { previousWasCR = false; continue }
            previousWasCR = scalar == "\r"
            scalars.append(previousWasCR ? "\n" : scalar)
        }
        return String(String.UnicodeScalarView(scalars))
    }

    public static func parse(_ text: String) -> Parsed {
        Measure(normalized(text)).parsed
    }

    public static func weightedLength(_ text: String) -> Int { parse(text).weightedLength }

    /// The URLs in `text` (indices into `normalized(text)`, in code points).
    public static func urls(in text: String) -> [URLEntity] {
        let normalizedText = normalized(text)
        return TwitterURLs.extract(from: normalizedText, Array(normalizedText.unicodeScalars)).map {
            URLEntity(url: String(String.UnicodeScalarView($0.url)), indices: $0.indices)
        }
    }

    /// The emoji in `text` (code-point ranges of `normalized(text)`).
    public static func emoji(in text: String) -> [Range<Int>] {
        TwitterEmoji.matches(in: Array(normalized(text).unicodeScalars))
    }

    /// The text to post: normalised, without the invalid characters, and
    /// when it weighs more than `maxWeightedLength`, cut at a grapheme
    /// boundary (trailing white space dropped) and ended with "…" so that it
    /// fits. A URL is never cut: one that does not fit is dropped whole.
    public static func fitted(_ text: String, maxWeightedLength: Int = maxWeightedLength) -> String {
        var cleaned = text
        cleaned.unicodeScalars.removeAll { invalidCharacters.contains($0) }
        let measure = Measure(normalized(cleaned))
        guard measure.weight > maxWeightedLength * scale else { return measure.text }

        let limit = maxWeightedLength * scale - weight(of: ellipsis)
        // Grapheme boundaries (code-point offsets), none inside a URL.
        var boundaries: [Int] = [0]
        for character in measure.text { boundaries.append(boundaries.last! + character.unicodeScalars.count) }
        boundaries.removeLast()
        boundaries.removeAll { offset in measure.urls.contains { $0.indices.lowerBound < offset && offset < $0.indices.upperBound } }

        // The longest prefix whose walk fits, then shorter ones until the
        // exact count of the cut text fits (a cut can turn what follows into
        // a URL, "example.comx" → "example.com…", which then counts 23).
        var candidate = boundaries.partitioningIndex { measure.weight(before: $0) > limit } - 1
        while candidate >= 0 {
            var prefix = Array(measure.scalars[..<boundaries[candidate]])
            while let last = prefix.last, last.properties.isWhitespace { prefix.removeLast() }
            let cut = String(String.UnicodeScalarView(prefix + [ellipsis]))
            if Measure(cut).weight <= maxWeightedLength * scale { return cut }
            candidate -= 1
        }
        return String(ellipsis)
    }

    static func weight(of scalar: Unicode.Scalar) -> Int {
        weightedRanges.first { $0.range.contains(scalar.value) }?.weight ?? defaultWeight
    }
}

/// twitter-text's walk over a normalised text: at each code point a URL
/// starting there counts 23, else an emoji starting there counts 2, else
/// the code point counts by its range; a URL or emoji is skipped whole.
/// URLs and emoji are found independently over the whole text, as
/// twitter-text does, so one that starts inside another is never counted.
struct Measure {
    let text: String
    let scalars: [Unicode.Scalar]
    let urls: [TwitterURLs.Match]
    /// Weight (scaled by 100) of the text.
    let weight: Int
    let valid: Bool
    /// The walk's steps: where each starts and the weight after it.
    private let steps: [(start: Int, weightAfter: Int)]

    init(_ normalizedText: String) {
        text = normalizedText
        scalars = Array(normalizedText.unicodeScalars)
        urls = TwitterURLs.extract(from: normalizedText, scalars)
        let urlsByStart = Dictionary(urls.map { ($0.indices.lowerBound, $0) }, uniquingKeysWith: { $1 })
        let emojiByStart = Dictionary(TwitterEmoji.matches(in: scalars).map { ($0.lowerBound, $0) }, uniquingKeysWith: { $1 })
        var weight = 0, valid = true, index = 0
        var steps: [(Int, Int)] = []
        while index < scalars.count {
            let start = index
            if let url = urlsByStart[index] {
                weight += TwitterText.urlWeight
                index += url.url.count - 1
            } else if let emoji = emojiByStart[index] {
                weight += TwitterText.defaultWeight
                index += emoji.count - 1
            } else {
                weight += TwitterText.weight(of: scalars[index])
            }
            // twitter-text checks the code point the step ends on.
            if valid, index < scalars.count { valid = !TwitterText.invalidCharacters.contains(scalars[index]) }
            steps.append((start, weight))
            index += 1
        }
        self.weight = weight
        self.valid = valid
        self.steps = steps
    }

    var parsed: TwitterText.Parsed {
        let length = weight / TwitterText.scale
        return TwitterText.Parsed(weightedLength: length, valid: valid && length > 0 && length <= TwitterText.maxWeightedLength)
    }

    /// The weight of every step that starts before `offset` (a step that
    /// straddles it counts whole).
    func weight(before offset: Int) -> Int {
        let count = steps.partitioningIndex { $0.start >= offset }
        return count == 0 ? 0 : steps[count - 1].weightAfter
    }
}

extension RandomAccessCollection {
    /// The first index whose element satisfies `predicate`, which must be
    /// false for a prefix and true for the rest (binary search).
    func partitioningIndex(where predicate: (Element) -> Bool) -> Index {
        var low = startIndex, count = self.count
        while count > 0 {
            let half = count / 2
            let middle = index(low, offsetBy: half)
            if predicate(self[middle]) { count = half } else { low = index(after: middle); count -= half + 1 }
        }
        return low
    }
}
