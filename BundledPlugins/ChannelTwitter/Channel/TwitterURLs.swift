import Foundation

/// twitter-text's URL extraction (`extract_urls_with_indices` of
/// twitter-text-parser), rule for rule: the same regular expressions,
/// assembled the same way, run by ICU (a backtracking engine with the same
/// leftmost-alternative semantics as Python's `re`), then the same checks:
/// the domain must convert to IDNA, a URL without a scheme keeps only its
/// ASCII domain part and must not follow "-", "_", "." or "/", and a t.co
/// URL ends after its slug (and query).
enum TwitterURLs {
    struct Match {
        /// The URL's text as twitter-text holds it; its length is what the
        /// weighted count skips (for a URL without a scheme, the domain is
        /// replaced by its ASCII part, so it may differ from `indices`).
        var url: [Unicode.Scalar]
        var indices: Range<Int>
    }

    // The pieces of twitter-text's patterns (twitter_text/regexp/*.py), with
    // set syntax escaped for ICU. Assembled by plain text substitution as
    // `regex_supplant` does: an alternation inside a piece is not grouped.
    private static let directionalMarkers = #"\u202A-\u202E\u061C\u200E\u200F\u2066\u2067\u2068\u2069"#
    private static let invalidCharacters = #"\uFFFE\uFEFF\uFFFF"#
    private static let punctuation = #"!'#%\&()*+,\\\-./:;<=>?@\[\]\^_\{\|\}~\$"#
    private static let spaces = #"\x09-\x0D\x20\x85\xA0\u1680\u180E\u2000-\u200A\u2028\u2029\u202F\u205F\u3000"#
    private static let latinAccents = #"\xC0-\xD6\xD8-\xF6\xF8-\xFF\u0100-\u024F\u0253\u0254\u0256\u0257\u0259\u025B\u0263\u0268\u026F\u0272\u0289\u028B\u02BB\u0300-\u036F\u1E00-\u1EFF"#
    private static let cyrillic = #"\u0400-\u04FF"#

    private static let domainCharacter = "[^\(punctuation)\(spaces)\(invalidCharacters)\(directionalMarkers)]"
    private static let subdomain = #"(?:(?:\#(domainCharacter)(?:[_\-]|\#(domainCharacter))*)?\#(domainCharacter)\.)"#
    private static let domainName = #"(?:(?:\#(domainCharacter)(?:-|\#(domainCharacter))*)?\#(domainCharacter)\.)"#
    private static let tldEnd = #"(?=[^0-9a-zA-Z@+\-]|$)"#
    private static let genericTLD = "(?:(?:\(TwitterTextData.genericTLDs))\(tldEnd))"
    private static let countryTLD = "(?:(?:\(TwitterTextData.countryTLDs))\(tldEnd))"
    private static let punycode = #"(?:xn--[\-0-9a-z]+)"#
    private static let domain = "(?:\(subdomain)*\(domainName)(?:\(genericTLD)|\(countryTLD)|\(punycode)))"
    private static let asciiDomain = #"(?:(?:[\-a-z0-9\#(latinAccents)]+)\.)+(?:\#(genericTLD)|\#(countryTLD)|\#(punycode))"#

    private static let pathCharacter = #"[a-z\#(cyrillic)0-9!*';:=+,.\$/%#\[\]\-\u2013_~@\|\&\#(latinAccents)]"#
    private static let balancedParentheses =
        #"\((?:\#(pathCharacter)+|(?:\#(pathCharacter)*\(\#(pathCharacter)+\)\#(pathCharacter)*))\)"#
    private static let pathEnding = #"[+\-a-z\#(cyrillic)0-9=_#/\#(latinAccents)]|(?:\#(balancedParentheses))"#
    private static let path =
        #"(?:(?:\#(pathCharacter)*(?:\#(balancedParentheses)\#(pathCharacter)*)*\#(pathEnding))|(?:@\#(pathCharacter)+/))"#
    private static let queryCharacter = #"[a-z0-9!?*'@();:\&=+\$/%#\[\]\-_.,~\|]"#
    private static let queryEnding = #"[a-z0-9\-_\&=#/]"#
    private static let preceding = #"(?:[^A-Za-z0-9@＠\$#＃\#(invalidCharacters)]|[\#(directionalMarkers)]|^)"#

    /// Groups: 1 all, 2 preceding character, 3 URL, 4 scheme, 5 domain,
    /// 6 port, 7 path, 8 query.
    private static let url = #"((\#(preceding))((https?://)?(\#(domain))(?::([0-9]+))?(/\#(path)*)?(\?\#(queryCharacter)*\#(queryEnding))?))"#
    private static let tco = #"^https?://t\.co/([a-z0-9]+)(?:\?\#(queryCharacter)*\#(queryEnding))?"#

    private static let urlExpression = compile(url)
    private static let asciiDomainExpression = compile(asciiDomain)
    private static let tcoExpression = compile(tco)

    private static func compile(_ pattern: String) -> NSRegularExpression {
        // The patterns are constants: failing to compile is a bug, caught by every test.
        try! NSRegularExpression(pattern: pattern, options: [.caseInsensitive])
    }

    private static let maxURLLength = 4096
    private static let maxTcoSlugLength = 40
    private static let defaultScheme = Array("https://".unicodeScalars)

    /// The URLs in a normalised text, `scalars` being its code points.
    static func extract(from text: String, _ scalars: [Unicode.Scalar]) -> [Match] {
        guard scalars.contains(".") else { return [] }
        let offsets = ScalarOffsets(scalars)
        var urls: [Match] = []
        for match in urlExpression.matches(in: text, range: NSRange(location: 0, length: offsets.utf16Count)) {
            func group(_ index: Int) -> Range<Int>? { offsets.scalarRange(match.range(at: index)) }
            guard let urlRange = group(3), let domainRange = group(5) else { continue }
            let url = Array(scalars[urlRange]), domain = Array(scalars[domainRange])
            let scheme = group(4).map { Array(scalars[$0]) }
            guard let asciiLength = IDNA.asciiLength(ofDomain: domain),
                  (scheme ?? defaultScheme).count + url.count + asciiLength - domain.count <= maxURLLength else { continue }

            guard scheme != nil else {
                if let before = group(2), let character = scalars[before].first, "-_./".unicodeScalars.contains(character) { continue }
                let domainText = String(String.UnicodeScalarView(domain))
                let domainOffsets = ScalarOffsets(domain)
                let parts = asciiDomainExpression.matches(in: domainText, range: NSRange(location: 0, length: domainOffsets.utf16Count))
                    .compactMap { domainOffsets.scalarRange($0.range) }
                for part in parts {
                    urls.append(Match(url: Array(domain[part]), indices: urlRange.lowerBound + part.lowerBound..<urlRange.lowerBound + part.upperBound))
                }
                // The last part takes the path (and whatever follows) along.
                if let last = parts.last, let pathRange = group(7), !pathRange.isEmpty {
                    urls[urls.count - 1] = Match(url: replacing(domain, with: Array(domain[last]), in: url),
                                                 indices: urlRange.lowerBound + last.lowerBound..<urlRange.upperBound)
                }
                continue
            }
            let urlText = String(String.UnicodeScalarView(url))
            if let tco = tcoExpression.firstMatch(in: urlText, range: NSRange(location: 0, length: urlText.utf16.count)) {
                let urlOffsets = ScalarOffsets(url)
                if let slug = urlOffsets.scalarRange(tco.range(at: 1)), slug.count > maxTcoSlugLength { continue }
                let kept = urlOffsets.scalarRange(tco.range)!.count
                urls.append(Match(url: Array(url[..<kept]), indices: urlRange.lowerBound..<urlRange.lowerBound + kept))
            } else {
                urls.append(Match(url: url, indices: urlRange))
            }
        }
        return urls
    }

    /// Python's `str.replace`: every non-overlapping occurrence, left to right.
    private static func replacing(_ target: [Unicode.Scalar], with replacement: [Unicode.Scalar], in text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        var index = 0
        while index < text.count {
            if index + target.count <= text.count, text[index..<index + target.count].elementsEqual(target) {
                result += replacement
                index += target.count
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }
}

/// Converts ICU's UTF-16 ranges to code-point ranges (Python's indices).
private struct ScalarOffsets {
    private var scalarIndexByUTF16: [Int] = []
    var utf16Count: Int { scalarIndexByUTF16.count - 1 }

    init(_ scalars: [Unicode.Scalar]) {
        scalarIndexByUTF16.reserveCapacity(scalars.count * 2 + 1)
        for (index, scalar) in scalars.enumerated() {
            scalarIndexByUTF16.append(index)
            if scalar.utf16.count == 2 { scalarIndexByUTF16.append(index) }
        }
        scalarIndexByUTF16.append(scalars.count)
    }

    /// nil for a group that did not take part in the match.
    func scalarRange(_ range: NSRange) -> Range<Int>? {
        guard range.location != NSNotFound else { return nil }
        return scalarIndexByUTF16[range.location]..<scalarIndexByUTF16[range.location + range.length]
    }
}

/// Whether and how long Python's "idna" codec (IDNA 2003: nameprep, then
/// Punycode) encodes a domain; twitter-text drops a URL it cannot encode.
/// Nameprep is approximated by Unicode case folding and NFKC with its
/// prohibited code points; the bidi rule is not checked.
enum IDNA {
    private static let dots: Set<Unicode.Scalar> = [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"]
    private static let maxLabelLength = 63

    /// The encoded length, nil when the codec would fail.
    static func asciiLength(ofDomain domain: [Unicode.Scalar]) -> Int? {
        if domain.allSatisfy(\.isASCII) {
            let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
            guard labels.dropLast().allSatisfy({ (1...maxLabelLength).contains($0.count) }),
                  (labels.last?.count ?? 0) <= maxLabelLength else { return nil }
            return domain.count
        }
        var labels = domain.split(omittingEmptySubsequences: false) { dots.contains($0) }
        let trailingDot = labels.count > 1 && labels.last!.isEmpty
        if trailingDot { labels.removeLast() }
        var length = trailingDot ? 1 : 0
        for label in labels {
            guard let encoded = asciiLength(ofLabel: Array(label)) else { return nil }
            length += encoded
        }
        return length + labels.count - 1
    }

    private static func asciiLength(ofLabel label: [Unicode.Scalar]) -> Int? {
        func checked(_ length: Int) -> Int? { (1...maxLabelLength).contains(length) ? length : nil }
        if label.allSatisfy(\.isASCII) { return checked(label.count) }
        let mapped = String(String.UnicodeScalarView(label.filter { !mappedToNothing($0) }))
        let prepared = Array(mapped.folding(options: [.caseInsensitive], locale: nil)
            .precomposedStringWithCompatibilityMapping.unicodeScalars)
        guard !prepared.contains(where: prohibited) else { return nil }
        if prepared.allSatisfy(\.isASCII) { return checked(prepared.count) }
        guard !prepared.starts(with: "xn--".unicodeScalars) else { return nil }
        return checked(4 + Punycode.encode(prepared.map(\.value)).count)
    }

    /// RFC 3454 table B.1.
    private static func mappedToNothing(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00AD, 0x034F, 0x1806, 0x180B...0x180D, 0x200B...0x200D, 0x2060, 0xFE00...0xFE0F, 0xFEFF: return true
        default: return false
        }
    }

    /// RFC 3454 tables C.1.2, C.2.2, C.3–C.9, as nameprep prohibits them.
    private static func prohibited(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00A0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000,  // C.1.2
             0x0080...0x009F, 0x06DD, 0x070F, 0x180E, 0x200C, 0x200D, 0x2028, 0x2029, 0x2060...0x2063,
             0x206A...0x206F, 0xFEFF, 0xFFF9...0xFFFC, 0x1D173...0x1D17A,  // C.2.2
             0xE000...0xF8FF, 0xF0000...0xFFFFD, 0x100000...0x10FFFD,  // C.3
             0xFDD0...0xFDEF, 0xFFFD,  // C.4 (with the plane ends below), C.6
             0x2FF0...0x2FFB, 0x0340, 0x0341, 0x200E, 0x200F, 0x202A...0x202E,  // C.7, C.8
             0xE0001, 0xE0020...0xE007F:  // C.9
            return true
        default:
            return scalar.value & 0xFFFE == 0xFFFE  // C.4: U+xxFFFE and U+xxFFFF
        }
    }
}

/// RFC 3492 Punycode encoding (the label after "xn--").
enum Punycode {
    private static let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700, initialBias = 72, initialN = 0x80

    static func encode(_ input: [UInt32]) -> String {
        var output = input.filter { $0 < 0x80 }.map { Character(Unicode.Scalar($0)!) }
        let basicCount = output.count
        if basicCount > 0 { output.append("-") }
        var n = initialN, delta = 0, bias = initialBias, handled = basicCount
        while handled < input.count {
            let next = Int(input.filter { Int($0) >= n }.min()!)
            delta += (next - n) * (handled + 1)
            n = next
            for codePoint in input.map(Int.init) {
                if codePoint < n { delta += 1 }
                guard codePoint == n else { continue }
                var q = delta, k = base
                while true {
                    let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                    if q < t { break }
                    output.append(digit(t + (q - t) % (base - t)))
                    q = (q - t) / (base - t)
                    k += base
                }
                output.append(digit(q))
                bias = adapt(delta, handled + 1, first: handled == basicCount)
                delta = 0
                handled += 1
            }
            delta += 1
            n += 1
        }
        return String(output)
    }

    private static func digit(_ value: Int) -> Character {
        Character(Unicode.Scalar(UInt8(value < 26 ? 97 + value : 22 + value)))
    }

    private static func adapt(_ delta: Int, _ count: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / count
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }
}
