import XCTest
@testable import Trading

final class ConsensusTests: XCTestCase {
    private func decide(_ votes: [VoteSlot]) -> ConsensusResult { decide(ConsensusPolicy(), votes) }

    private func decide(_ policy: ConsensusPolicy, weights: [Double]? = nil, _ votes: [VoteSlot]) -> ConsensusResult {
        let consensus = Consensus(policy: policy, weights: weights ?? Array(repeating: 1, count: votes.count))
        return votes.withUnsafeBufferPointer { consensus.decide($0) }
    }

    private func ok(_ direction: VoteDirection, _ confidence: Double) -> VoteSlot {
        VoteSlot(status: .ok, direction: direction, confidence: confidence, calibrated: confidence)
    }

    func testThreeOfFourAgreeingAboveTheMinimumMakeASignal() {
        let result = decide([ok(.long, 0.8), ok(.long, 0.75), ok(.long, 0.9), ok(.flat, 0)])
        XCTAssertEqual(result.side, .long)
        XCTAssertEqual(result.agreeing, 3)
        // Flat heads abstain from the weighted average: (0.8 + 0.75 + 0.9) / 3.
        XCTAssertEqual(result.confidence, (0.8 + 0.75 + 0.9) / 3, accuracy: 1e-12)
        XCTAssertFalse(result.high)
    }

    func testTwoOfFourIsNotEnoughByDefault() {
        let result = decide([ok(.short, 0.95), ok(.short, 0.95), ok(.flat, 0), ok(.flat, 0)])
        XCTAssertNil(result.side)
        XCTAssertEqual(result.shortfall, .tooFewAgree)
        XCTAssertEqual(result.agreeing, 2)
    }

    func testAnOpposingHeadDilutesTheConfidence() {
        var policy = ConsensusPolicy()
        policy.minAgree = 2
        let result = decide(policy, [ok(.long, 0.9), ok(.long, 0.9), ok(.short, 0.9)])
        XCTAssertEqual(result.confidence, 1.8 / 3, accuracy: 1e-12)
        XCTAssertNil(result.side)
        XCTAssertEqual(result.shortfall, .belowMinimumConfidence)
    }

    func testHighConfidenceIsMarked() {
        let result = decide([ok(.long, 0.9), ok(.long, 0.86), ok(.long, 0.88), ok(.long, 0.87)])
        XCTAssertEqual(result.side, .long)
        XCTAssertTrue(result.high)
    }

    func testWeightsShiftTheAverage() {
        var policy = ConsensusPolicy()
        policy.minAgree = 1
        policy.minConfidence = 0.5
        let votes = [ok(.long, 0.9), ok(.short, 0.6)]
        XCTAssertEqual(decide(policy, weights: [1, 1], votes).confidence, 0.45, accuracy: 1e-12)
        let weighted = decide(policy, weights: [3, 1], votes)
        XCTAssertEqual(weighted.side, .long)
        XCTAssertEqual(weighted.confidence, 2.7 / 4, accuracy: 1e-12)
    }

    func testMajorityCountsVoteShareIncludingFlatHeads() {
        var policy = ConsensusPolicy()
        policy.method = .majority
        let result = decide(policy, [ok(.short, 0.1), ok(.short, 0.2), ok(.short, 0.3), ok(.flat, 0)])
        XCTAssertEqual(result.side, .short)
        XCTAssertEqual(result.confidence, 0.75, accuracy: 1e-12)
        let split = decide(policy, [ok(.short, 0.9), ok(.short, 0.9), ok(.long, 0.9), ok(.long, 0.9)])
        XCTAssertNil(split.side)
    }

    func testFailedHeadsAbstainAndNeverCountAsAgreement() {
        let votes = [ok(.long, 0.9), ok(.long, 0.9), VoteSlot(status: .error), VoteSlot(status: .timeout)]
        let result = decide(votes)
        XCTAssertNil(result.side)
        XCTAssertEqual(result.shortfall, .tooFewAgree)
        XCTAssertEqual(result.confidence, 0.9, accuracy: 1e-12)
        let missing = decide([ok(.long, 0.9), ok(.long, 0.9), ok(.long, 0.9), VoteSlot(status: .missing)])
        XCTAssertEqual(missing.side, .long)
    }

    func testATieIsNoSignal() {
        var policy = ConsensusPolicy()
        policy.minAgree = 1
        let result = decide(policy, [ok(.long, 0.8), ok(.short, 0.8)])
        XCTAssertNil(result.side)
        XCTAssertEqual(result.shortfall, .tie)
    }

    func testCalibrationMapsConfidence() {
        XCTAssertEqual(Calibration.temperature(1).apply(0.8), 0.8, accuracy: 1e-12)
        // Temperature 2 halves the log-odds: logit(0.8) = ln 4 → σ(ln 2) = 2/3.
        XCTAssertEqual(Calibration.temperature(2).apply(0.8), 2.0 / 3, accuracy: 1e-12)
        XCTAssertEqual(Calibration.temperature(0.5).apply(1.0), 1.0, accuracy: 1e-9)
        XCTAssertTrue(Calibration.temperature(0.5).apply(1.0).isFinite)
        // Platt: 1 / (1 + exp(a·c + b)).
        XCTAssertEqual(Calibration.platt(a: -4, b: 2).apply(0.5), 0.5, accuracy: 1e-12)
        XCTAssertEqual(Calibration.platt(a: -4, b: 2).apply(1), 1 / (1 + exp(-2.0)), accuracy: 1e-12)
    }
}
