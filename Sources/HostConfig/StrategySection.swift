import Trading

/// Parses a tenant's `strategy:` section. Every key is optional and
/// defaults to the documented value; unknown keys, wrong types and
/// contradictory limits are errors with the file, line and column.
enum StrategySection {
    static func parse(_ node: YAMLDocument, instances: [String]) throws(ConfigError) -> StrategySettings {
        let fields = try node.mapping(allowed: ["symbols", "timeframes", "initial_equity", "heads", "consensus", "risk", "costs"])
        var settings = StrategySettings()
        if let symbols = fields["symbols"] { settings.symbols = try symbols.strings() }
        if let timeframes = fields["timeframes"] {
            settings.timeframes = []
            for item in try timeframes.sequence() {
                let seconds = try item.integer(in: 1...86_400)
                guard [60, 300, 900, 3600, 14_400, 86_400].contains(seconds) else {
                    throw item.error("timeframe \(seconds) s is not one of 60, 300, 900, 3600, 14400, 86400")
                }
                settings.timeframes.append(Int64(seconds))
            }
        }
        if let equity = fields["initial_equity"] { settings.initialEquity = try equity.number(above: 0) }
        guard let headsNode = fields["heads"] else { throw node.error("strategy is missing field 'heads' (the head instances it asks)") }
        for item in try headsNode.sequence() {
            let head = try item.mapping(allowed: ["instance", "weight", "calibration"])
            guard let instanceNode = head["instance"] else { throw item.error("head is missing field 'instance'") }
            let instance = try instanceNode.string()
            guard instances.contains(instance) else {
                throw instanceNode.error("head '\(instance)' is not an instance of this tenant; instances: \(instances.joined(separator: ", "))")
            }
            var spec = HeadSpec(instance: instance)
            if let weight = head["weight"] { spec.weight = try weight.number(above: 0) }
            if let calibration = head["calibration"] { spec.calibration = try parseCalibration(calibration) }
            settings.heads.append(spec)
        }
        if let consensus = fields["consensus"] { settings.consensus = try parseConsensus(consensus) }
        if let risk = fields["risk"] { settings.risk = try parseRisk(risk) }
        if let costs = fields["costs"] { settings.costs = try parseCosts(costs) }
        let problems = settings.problems
        if let first = problems.first {
            let listed = problems.map { "\($0.field): \($0.problem)" }.joined(separator: "; ")
            throw (locate(first.field, in: fields) ?? node).error("strategy settings contradict each other: \(listed)")
        }
        return settings
    }

    private static func parseCalibration(_ node: YAMLDocument) throws(ConfigError) -> Calibration {
        let fields = try node.mapping(allowed: ["platt", "temperature"])
        switch (fields["platt"], fields["temperature"]) {
        case (let platt?, nil):
            let parameters = try platt.mapping(allowed: ["a", "b"])
            guard let a = parameters["a"], let b = parameters["b"] else { throw platt.error("platt needs both 'a' and 'b'") }
            return .platt(a: try a.number(), b: try b.number())
        case (nil, let temperature?):
            return .temperature(try temperature.number(above: 0))
        default:
            throw node.error("calibration takes exactly one of 'platt' or 'temperature'")
        }
    }

    private static func parseConsensus(_ node: YAMLDocument) throws(ConfigError) -> ConsensusPolicy {
        let fields = try node.mapping(allowed: ["min_agree", "min_confidence", "high_confidence", "method", "head_deadline_ms"])
        var policy = ConsensusPolicy()
        if let value = fields["min_agree"] { policy.minAgree = try value.integer(in: 1...64) }
        if let value = fields["min_confidence"] { policy.minConfidence = try value.number(in: 0...1) }
        if let value = fields["high_confidence"] { policy.highConfidence = try value.number(in: 0...1) }
        if let value = fields["method"] {
            policy.method = ConsensusPolicy.Method(rawValue: try value.string(oneOf: ConsensusPolicy.Method.allCases.map(\.rawValue)))!
        }
        if let value = fields["head_deadline_ms"] { policy.headDeadlineNs = Int64(try value.number(above: 0) * 1_000_000) }
        return policy
    }

    private static func parseRisk(_ node: YAMLDocument) throws(ConfigError) -> RiskLimits {
        let fields = try node.mapping(allowed: [
            "daily_loss_limit", "max_consecutive_losses", "max_drawdown", "max_open_positions", "max_open_per_symbol",
            "kelly_fraction", "max_position_fraction", "stop_atr", "targets_r", "scale_out", "cooldown_s", "max_hold_bars",
            "min_quantity",
        ])
        var limits = RiskLimits()
        if let value = fields["daily_loss_limit"] { limits.dailyLossLimit = try value.number(in: 0...1) }
        if let value = fields["max_consecutive_losses"] { limits.maxConsecutiveLosses = try value.integer(in: 1...1_000) }
        if let value = fields["max_drawdown"] { limits.maxDrawdown = try value.number(in: 0...1) }
        if let value = fields["max_open_positions"] { limits.maxOpenPositions = try value.integer(in: 1...10_000) }
        if let value = fields["max_open_per_symbol"] { limits.maxOpenPerSymbol = try value.integer(in: 1...10_000) }
        if let value = fields["kelly_fraction"] { limits.kellyFraction = try value.number(in: 0...1) }
        if let value = fields["max_position_fraction"] { limits.maxPositionFraction = try value.number(in: 0...1) }
        if let value = fields["stop_atr"] { limits.stopATR = try value.number(above: 0) }
        if let value = fields["targets_r"] { limits.targetsR = try value.numbers() }
        if let value = fields["scale_out"] { limits.scaleOut = try value.numbers() }
        if let value = fields["cooldown_s"] { limits.cooldownNs = Int64(try value.number(in: 0...(30 * 86_400)) * 1e9) }
        if let value = fields["max_hold_bars"] { limits.maxHoldBars = try value.integer(in: 0...1_000_000) }
        if let value = fields["min_quantity"] { limits.minQuantity = try value.number(in: 0...Double.greatestFiniteMagnitude) }
        return limits
    }

    private static func parseCosts(_ node: YAMLDocument) throws(ConfigError) -> CostModel {
        let fields = try node.mapping(allowed: ["maker_fee", "taker_fee", "slippage_bps"])
        var costs = CostModel()
        if let value = fields["maker_fee"] { costs.makerFee = try value.number(in: -0.01...0.1) }
        if let value = fields["taker_fee"] { costs.takerFee = try value.number(in: 0...0.1) }
        if let value = fields["slippage_bps"] { costs.slippageBps = try value.number(in: 0...10_000) }
        return costs
    }

    /// The node a problem's field path ("risk.max_open_per_symbol") names.
    private static func locate(_ path: String, in fields: [String: YAMLDocument]) -> YAMLDocument? {
        let parts = path.split(separator: ".").map(String.init)
        guard let first = parts.first, var node = fields[first.split(separator: "[").first.map(String.init) ?? first] else { return nil }
        for part in parts.dropFirst() {
            guard let next = node.node.mapping?[part].map(node.child) else { break }
            node = next
        }
        return node
    }
}

extension YAMLDocument {
    func number() throws(ConfigError) -> Double {
        guard case .number(let value) = try json() else { throw error("expected a number") }
        return value
    }

    func number(in range: ClosedRange<Double>) throws(ConfigError) -> Double {
        let value = try number()
        guard range.contains(value) else { throw error("\(value) is outside \(range.lowerBound)…\(range.upperBound)") }
        return value
    }

    func number(above minimum: Double) throws(ConfigError) -> Double {
        let value = try number()
        guard value > minimum else { throw error("\(value) must be greater than \(minimum)") }
        return value
    }

    func integer(in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let value = try number()
        guard value == value.rounded(), let whole = Int(exactly: value), range.contains(whole) else {
            throw error("expected a whole number from \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return whole
    }

    func numbers() throws(ConfigError) -> [Double] {
        var result: [Double] = []
        for item in try sequence() { result.append(try item.number()) }
        return result
    }
}
