import Foundation
import XCTest

/// The real market data in `../shared/data` beside the checkout (or where
/// ALPHAPLUS_SHARED_DATA points). Tests that need it skip, saying so, where
/// it is absent; nothing from it is ever copied into the project.
public enum SharedData {
    public static let root: URL = {
        if let explicit = ProcessInfo.processInfo.environment["ALPHAPLUS_SHARED_DATA"] {
            return URL(fileURLWithPath: explicit)
        }
        // Tests/SharedTestData/SharedData.swift -> the checkout -> ../shared/data
        let checkout = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        return checkout.deletingLastPathComponent().appendingPathComponent("shared/data")
    }()

    /// The file at `relativePath` under the data folder; skips the test when
    /// it is missing.
    public static func file(_ relativePath: String) throws -> URL {
        let url = root.appendingPathComponent(relativePath)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw XCTSkip("skipped: \(url.path) is not here (the shared market data sits in ../shared/data beside the checkout)")
        }
        return url
    }
}
