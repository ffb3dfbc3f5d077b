/// One head's answer on the hot path: numbers only, so a frame's votes
/// cost no allocation. The strings of a `HeadVote` are made only for
/// frames that become signals.
public struct VoteSlot: Sendable, Equatable {
    public var status: VoteStatus
    public var direction: VoteDirection
    /// As the head returned it.
    public var confidence: Double
    /// After the head's calibration.
    public var calibrated: Double

    public init(status: VoteStatus = .missing, direction: VoteDirection = .flat, confidence: Double = 0, calibrated: Double = 0) {
        self.status = status
        self.direction = direction
        self.confidence = confidence
        self.calibrated = calibrated
    }
}

/// What the consensus made of one frame's votes.
public struct ConsensusResult: Sendable, Equatable {
    public enum Shortfall: String, Sendable, CaseIterable {
        /// Fewer heads than `min_agree` voted the leading side.
        case tooFewAgree = "too_few_agree"
        case belowMinimumConfidence = "below_min_confidence"
        /// Both sides equally strong.
        case tie
    }

    /// nil: no signal (see `shortfall`).
    public var side: Side?
    /// The fused confidence of the leading side (also when it fell short).
    public var confidence: Double
    /// Heads that voted the leading side.
    public var agreeing: Int
    public var high: Bool
    public var shortfall: Shortfall?
}

/// A tenant's consensus policy applied to one frame's votes. Heads that
/// errored, timed out or are missing abstain: they count neither for nor
/// against, so they make `min_agree` harder to reach, never easier.
public struct Consensus: Sendable {
    public let policy: ConsensusPolicy
    /// In the tenant's head order, like the slots.
    public let weights: [Double]

    public init(policy: ConsensusPolicy, weights: [Double]) {
        self.policy = policy
        self.weights = weights
    }

    public func decide(_ votes: UnsafeBufferPointer<VoteSlot>) -> ConsensusResult {
        precondition(votes.count == weights.count, "one vote slot per head")
        var longCount = 0, shortCount = 0
        var longWeight = 0.0, shortWeight = 0.0, flatWeight = 0.0
        var longScore = 0.0, shortScore = 0.0
        for (vote, weight) in zip(votes, weights) where vote.status == .ok {
            switch vote.direction {
            case .long:
                longCount += 1; longWeight += weight; longScore += weight * vote.calibrated
            case .short:
                shortCount += 1; shortWeight += weight; shortScore += weight * vote.calibrated
            case .flat:
                flatWeight += weight
            }
        }
        let longStrength: Double, shortStrength: Double
        switch policy.method {
        case .weightedAverage:
            let directional = longWeight + shortWeight
            longStrength = directional > 0 ? longScore / directional : 0
            shortStrength = directional > 0 ? shortScore / directional : 0
        case .majority:
            let answered = longWeight + shortWeight + flatWeight
            longStrength = answered > 0 ? longWeight / answered : 0
            shortStrength = answered > 0 ? shortWeight / answered : 0
        }
        let side: Side = longStrength >= shortStrength ? .long : .short
        let confidence = side == .long ? longStrength : shortStrength
        let agreeing = side == .long ? longCount : shortCount
        var result = ConsensusResult(side: nil, confidence: confidence, agreeing: agreeing, high: false, shortfall: nil)
        if agreeing < policy.minAgree {
            result.shortfall = .tooFewAgree
        } else if longStrength == shortStrength {
            result.shortfall = .tie
        } else if confidence < policy.minConfidence {
            result.shortfall = .belowMinimumConfidence
        } else {
            result.side = side
            result.high = confidence >= policy.highConfidence
        }
        return result
    }
}
