import CYaml

/// What a configuration file (the host file, a tenant file) may hold,
/// checked on libyaml's event stream before the document is composed:
/// composing recurses once per level, and every alias is expanded when the
/// document is read, so a deep or alias-bombed file would crash the host
/// or take its memory. The libyaml parser itself keeps its state on the
/// heap, so scanning is safe at any depth.
public enum YAMLLimits {
    /// The file's size.
    public static let fileBytes = 1 << 20
    /// Mappings and lists inside each other (block or flow).
    public static let depth = 64
    /// Nodes (mappings, lists, values) once every alias is expanded.
    public static let expandedNodes = 100_000
    /// The bytes of the values once every alias is expanded.
    public static let expandedValueBytes = 16 << 20

    /// A refusal, at a 1-based line and column.
    struct Violation: Error, Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    /// The document's first violation, or nil within the limits (a syntax
    /// error ends the scan: the YAML library reports it).
    static func violation(in text: String) -> Violation? {
        var bytes = Array(text.utf8)
        return bytes.withUnsafeMutableBufferPointer { buffer in
            var parser = yaml_parser_t()
            guard yaml_parser_initialize(&parser) == 1 else { return nil }
            defer { yaml_parser_delete(&parser) }
            yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING)
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            var scan = Scan()
            while true {
                var event = yaml_event_t()
                guard yaml_parser_parse(&parser, &event) == 1 else { return nil }
                defer { yaml_event_delete(&event) }
                if event.type == YAML_STREAM_END_EVENT { return nil }
                if let violation = scan.add(event) { return violation }
            }
        }
    }

    /// The expanded size of the nodes open around the event being read,
    /// and of each anchor seen.
    private struct Scan {
        struct Size {
            var nodes = 0
            var valueBytes = 0

            mutating func add(_ other: Size) {
                // Saturating: an alias bomb's size overflows Int.
                nodes = nodes.addingReportingOverflow(other.nodes).overflow ? .max : nodes + other.nodes
                valueBytes = valueBytes.addingReportingOverflow(other.valueBytes).overflow ? .max : valueBytes + other.valueBytes
            }
        }

        /// Open mappings and lists, outermost first, with their anchor and
        /// their size so far (for the anchor).
        var open: [(anchor: String?, size: Size)] = []
        var anchors: [String: Size] = [:]
        /// Everything read so far, aliases expanded.
        var total = Size()

        mutating func add(_ event: yaml_event_t) -> Violation? {
            let line = Int(event.start_mark.line) + 1, column = Int(event.start_mark.column) + 1
            func refuse(_ message: String) -> Violation { Violation(line: line, column: column, message: message) }
            // The node the event adds (a whole one: a value, an alias, a closed
            // mapping or list) and what it adds to the total.
            var node: (anchor: String?, size: Size)?
            var added = Size()
            switch event.type {
            case YAML_SEQUENCE_START_EVENT, YAML_MAPPING_START_EVENT:
                let anchor = event.type == YAML_SEQUENCE_START_EVENT ? event.data.sequence_start.anchor : event.data.mapping_start.anchor
                open.append((Self.name(anchor), Size(nodes: 1)))
                guard open.count <= YAMLLimits.depth else {
                    return refuse("nests mappings and lists deeper than \(YAMLLimits.depth) levels, the limit of a configuration file")
                }
                added = Size(nodes: 1)
            case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
                node = open.popLast()
            case YAML_SCALAR_EVENT:
                added = Size(nodes: 1, valueBytes: event.data.scalar.length)
                node = (Self.name(event.data.scalar.anchor), added)
            case YAML_ALIAS_EVENT:
                // An undefined alias is the YAML library's error to report.
                added = Self.name(event.data.alias.anchor).flatMap { anchors[$0] } ?? Size(nodes: 1)
                node = (nil, added)
            default:
                return nil
            }
            if let node {
                if let anchor = node.anchor { anchors[anchor] = node.size }
                if !open.isEmpty { open[open.count - 1].size.add(node.size) }
            }
            total.add(added)
            if total.nodes > YAMLLimits.expandedNodes {
                return refuse("expands to more than \(YAMLLimits.expandedNodes) nodes (aliases included), the limit of a configuration file")
            }
            if total.valueBytes > YAMLLimits.expandedValueBytes {
                return refuse("expands to more than \(ByteCount.describe(YAMLLimits.expandedValueBytes)) of values (aliases included), the limit of a configuration file")
            }
            return nil
        }

        private static func name(_ anchor: UnsafeMutablePointer<yaml_char_t>?) -> String? {
            anchor.map { String(cString: $0) }
        }
    }
}
