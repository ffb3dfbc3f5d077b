import AlphaPlusSDK
import MarketData
import XCTest

/// The SDK publishes the host's frame layout to plugin authors (the rules
/// head checks names against it); the two lists must never drift.
final class FrameLayoutContractTests: XCTestCase {
    func testTheSDKsStandardLayoutIsTheHostsFrameLayout() {
        XCTAssertEqual(FeatureFrame.standardIndicatorNames, FrameProducer.indicatorNames)
    }
}
