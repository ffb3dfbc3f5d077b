import Foundation
import HostConfig

/// Host configuration texts, each written to its own temporary file and
/// loaded as `alphaplus run` loads `config/alphaplus.yaml`: for the tests
/// of the file's sections.
public enum HostConfigFiles {
    public static func load(_ yaml: String) throws -> HostConfig {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("host-config-\(UUID().uuidString).yaml")
        try Data(yaml.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try HostConfig.load(file.path)
    }

    /// The error without the temporary file's path ("line:column: message"),
    /// or "loaded" when there is none.
    public static func failure(_ yaml: String) -> String {
        do {
            _ = try load(yaml)
            return "loaded"
        } catch {
            return "\(error)".components(separatedBy: ".yaml:").last ?? "\(error)"
        }
    }
}
