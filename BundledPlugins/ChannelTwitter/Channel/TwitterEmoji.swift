/// twitter-text's emoji matcher: at each code point the longest listed
/// sequence starting there, else a single listed code point; scanning
/// resumes after a match. The lists are twitter-text-parser's
/// (`TwitterTextData`). A sequence newer than its Emoji 12.0 list counts
/// by its parts, which only overestimates, so a Tweet that fits here fits
/// on X too.
enum TwitterEmoji {
    /// Sequences by their first code point, longest first.
    private static let sequencesByFirst: [UInt32: [[UInt32]]] = {
        var byFirst: [UInt32: [[UInt32]]] = [:]
        for sequence in TwitterTextData.emojiSequences.split(separator: ";") {
            let codePoints = sequence.split(separator: " ").map { UInt32($0, radix: 16)! }
            byFirst[codePoints[0], default: []].append(codePoints)
        }
        return byFirst.mapValues { sequences in sequences.sorted { $0.count > $1.count } }
    }()

    private static let singles: Set<UInt32> = Set(TwitterTextData.singleEmoji.split(separator: " ").flatMap { item in
        let bounds = item.split(separator: "-").map { UInt32($0, radix: 16)! }
        return bounds[0]...bounds[bounds.count - 1]
    })

    static func matches(in scalars: [Unicode.Scalar]) -> [Range<Int>] {
        let codePoints = scalars.map(\.value)
        var matches: [Range<Int>] = []
        var index = 0
        while index < codePoints.count {
            let length = matchLength(in: codePoints, at: index)
            if length > 0 { matches.append(index..<index + length) }
            index += max(length, 1)
        }
        return matches
    }

    private static func matchLength(in codePoints: [UInt32], at index: Int) -> Int {
        if let sequences = sequencesByFirst[codePoints[index]] {
            for sequence in sequences where codePoints[index...].starts(with: sequence) { return sequence.count }
        }
        return singles.contains(codePoints[index]) ? 1 : 0
    }
}
