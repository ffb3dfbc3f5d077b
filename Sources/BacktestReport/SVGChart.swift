import AlphaPlusTime
import Foundation

/// A line chart of a time series as inline SVG, drawn here (no library,
/// no script) so that report.html is one self-contained file.
struct SVGChart {
    struct Point: Equatable {
        var ns: Int64
        var value: Double
    }

    var title: String
    var points: [Point]
    /// Formats the y-axis labels.
    var label: (Double) -> String
    /// Shades between the line and 0 at the top (a drawdown hangs from 0).
    var hangsFromZero = false

    static let width = 960.0, height = 260.0
    static let left = 90.0, right = 12.0, top = 28.0, bottom = 26.0

    /// At most `maxPoints`, the same for the same input: the points are cut
    /// into maxPoints / 2 runs of equal length (by index) and each run keeps
    /// its lowest and its highest point, in time order, so that no peak or
    /// trough disappears.
    static func downsample(_ points: [Point], maxPoints: Int = 2000) -> [Point] {
        guard points.count > maxPoints else { return points }
        let buckets = maxPoints / 2
        var kept: [Point] = []
        kept.reserveCapacity(maxPoints)
        for bucket in 0..<buckets {
            let range = (bucket * points.count / buckets)..<((bucket + 1) * points.count / buckets)
            guard let low = range.min(by: { points[$0].value < points[$1].value }),
                  let high = range.max(by: { points[$0].value < points[$1].value }) else { continue }
            kept.append(points[min(low, high)])
            if low != high { kept.append(points[max(low, high)]) }
        }
        return kept
    }

    func svg() -> String {
        let shown = Self.downsample(points)
        let plotWidth = Self.width - Self.left - Self.right, plotHeight = Self.height - Self.top - Self.bottom
        var text = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Self.width) \(Self.height)\" role=\"img\">"
        text += "<title>\(HTMLReport.escape(title))</title>"
        text += "<text x=\"\(Self.left)\" y=\"18\" font-size=\"13\" font-weight=\"600\">\(HTMLReport.escape(title))</text>"
        text += "<rect x=\"\(Self.left)\" y=\"\(Self.top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#d0d5dd\"/>"
        // The time axis spans the whole series, whichever points the downsampling kept.
        guard let first = points.first, let last = points.last else {
            return text + "<text x=\"\(Self.left + 10)\" y=\"\(Self.top + 20)\" font-size=\"12\">no data</text></svg>"
        }
        let low = shown.map(\.value).min() ?? 0
        let high = max(shown.map(\.value).max() ?? 0, hangsFromZero ? 0 : -.infinity)
        let timeSpan = Double(last.ns - first.ns), valueSpan = high - low
        func x(_ point: Point) -> String {
            coordinate(Self.left + (timeSpan > 0 ? Double(point.ns - first.ns) / timeSpan : 0.5) * plotWidth)
        }
        func y(_ value: Double) -> String {
            coordinate(Self.top + (valueSpan > 0 ? (high - value) / valueSpan : 0.5) * plotHeight)
        }
        let vertices = shown.map { "\(x($0)) \(y($0.value))" }
        if hangsFromZero {
            let area = ["\(x(first)) \(y(0))"] + vertices + ["\(x(last)) \(y(0))"]
            text += "<path d=\"M\(area.joined(separator: " L")) Z\" fill=\"#e8806f\" fill-opacity=\"0.35\"/>"
        }
        let line = "M" + vertices.joined(separator: " L")
        text += "<path d=\"\(line)\" fill=\"none\" stroke=\"#2358c4\" stroke-width=\"1.2\"/>"
        let axis = "font-size=\"11\" fill=\"#5b6475\""
        text += "<text x=\"\(Self.left - 6)\" y=\"\(Self.top + 10)\" \(axis) text-anchor=\"end\">\(HTMLReport.escape(label(high)))</text>"
        text += "<text x=\"\(Self.left - 6)\" y=\"\(Self.top + plotHeight)\" \(axis) text-anchor=\"end\">\(HTMLReport.escape(label(low)))</text>"
        text += "<text x=\"\(Self.left)\" y=\"\(Self.height - 8)\" \(axis)>\(minute(first.ns))</text>"
        text += "<text x=\"\(Self.width - Self.right)\" y=\"\(Self.height - 8)\" \(axis) text-anchor=\"end\">\(minute(last.ns))</text>"
        return text + "</svg>"
    }

    private func coordinate(_ value: Double) -> String { String(format: "%.1f", value) }

    /// "2024-01-31 23:59" (UTC).
    private func minute(_ ns: Int64) -> String {
        String(UTCTime.iso8601(ns: ns).prefix(16)).replacingOccurrences(of: "T", with: " ")
    }
}
