import Foundation

/// The Prometheus text exposition format (0.0.4), read strictly: every
/// sample belongs to a family declared by a `# TYPE` line before it, at
/// most one `# HELP` and one `# TYPE` per family, valid metric and label
/// names, quoted and escaped label values, numeric values; a histogram's
/// buckets carry `le`, count up cumulatively and end at `+Inf` = `_count`.
struct PrometheusText {
    struct Family {
        var type: String
        var help: String?
    }

    struct Sample {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var problem: String
        var description: String { "line \(line): \(problem)" }
    }

    private(set) var families: [String: Family] = [:]
    private(set) var samples: [Sample] = []

    init(_ text: String) throws {
        var helps: [String: String] = [:]
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = offset + 1
            func fail(_ problem: String) -> ParseError { ParseError(line: number, problem: "\(problem): \(line)") }
            if line.isEmpty { continue }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
                let name = String(parts[0])
                guard Self.isMetricName(name) else { throw fail("bad metric name") }
                guard samples.allSatisfy({ family(of: $0.name) != name }) else { throw fail("declared after its samples") }
                if line.hasPrefix("# HELP ") {
                    guard helps[name] == nil else { throw fail("a second HELP") }
                    helps[name] = parts.count > 1 ? String(parts[1]) : ""
                    families[name]?.help = helps[name]
                } else {
                    guard families[name] == nil else { throw fail("a second TYPE") }
                    let type = parts.count > 1 ? String(parts[1]) : ""
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(type) else { throw fail("unknown type") }
                    families[name] = Family(type: type, help: helps[name])
                }
                continue
            }
            if line.hasPrefix("#") { continue }
            let sample = try Self.sample(line, fail)
            guard family(of: sample.name) != nil else { throw fail("a sample of no declared family") }
            samples.append(sample)
        }
        try checkHistograms()
    }

    /// The family a sample name belongs to (a histogram's `_bucket`,
    /// `_sum` and `_count` belong to it), nil when none is declared.
    func family(of name: String) -> String? {
        if families[name] != nil { return name }
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if families[base]?.type == "histogram" { return base }
        }
        return nil
    }

    /// The value of the one sample named `name` with exactly `labels`.
    func value(_ name: String, _ labels: [String: String]) -> Double? {
        let matches = samples.filter { $0.name == name && $0.labels == labels }
        return matches.count == 1 ? matches[0].value : nil
    }

    private func checkHistograms() throws {
        for (name, family) in families where family.type == "histogram" {
            var series: [[String: String]: [(le: Double, count: Double)]] = [:]
            for sample in samples where sample.name == name + "_bucket" {
                var labels = sample.labels
                guard let le = labels.removeValue(forKey: "le"), let bound = Double(le.replacingOccurrences(of: "+Inf", with: "inf")) else {
                    throw ParseError(line: 0, problem: "\(name)_bucket without a numeric le: \(sample.labels)")
                }
                series[labels, default: []].append((bound, sample.value))
            }
            for (labels, buckets) in series {
                let sorted = buckets.sorted { $0.le < $1.le }
                guard zip(sorted, sorted.dropFirst()).allSatisfy({ $0.count <= $1.count }) else {
                    throw ParseError(line: 0, problem: "\(name)\(labels): buckets are not cumulative")
                }
                guard sorted.last?.le == .infinity, sorted.last?.count == value(name + "_count", labels) else {
                    throw ParseError(line: 0, problem: "\(name)\(labels): no +Inf bucket equal to _count")
                }
                guard value(name + "_sum", labels) != nil else { throw ParseError(line: 0, problem: "\(name)\(labels): no _sum") }
            }
        }
    }

    private static func sample(_ line: Substring, _ fail: (String) -> ParseError) throws -> Sample {
        var rest = line[...]
        let name = String(rest.prefix { $0 != "{" && $0 != " " })
        guard isMetricName(name) else { throw fail("bad metric name") }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = String(rest.prefix { $0 != "=" })
                guard isLabelName(label), labels[label] == nil else { throw fail("bad or repeated label name '\(label)'") }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { throw fail("label \(label) without a quoted value") }
                rest = rest.dropFirst(2)
                var value = ""
                while let character = rest.first, character != "\"" {
                    rest = rest.dropFirst()
                    guard character == "\\" else { value.append(character); continue }
                    switch rest.first {
                    case "\\": value.append("\\")
                    case "\"": value.append("\"")
                    case "n": value.append("\n")
                    default: throw fail("bad escape in label \(label)")
                    }
                    rest = rest.dropFirst()
                }
                guard rest.first == "\"" else { throw fail("label \(label)'s value is not closed") }
                rest = rest.dropFirst()
                labels[label] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { throw fail("labels not separated by ','") }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw fail("no space before the value") }
        let fields = rest.dropFirst().split(separator: " ")
        guard (1...2).contains(fields.count), let value = number(fields[0]) else { throw fail("bad value") }
        return Sample(name: name, labels: labels, value: value)
    }

    private static func number(_ text: Substring) -> Double? {
        switch text {
        case "+Inf": .infinity
        case "-Inf": -.infinity
        case "NaN": .nan
        default: Double(text)
        }
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == ":" }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
