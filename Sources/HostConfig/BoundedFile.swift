import Foundation

/// Reads a regular file of at most `limit` bytes, never more than
/// `limit + 1` bytes of it: a configuration or secret file too large, a
/// FIFO or a device is refused before its content is held in memory.
public enum BoundedFile {
    public enum Problem: Error, Equatable {
        /// `open` or `read` failed: the reason (strerror).
        case unreadable(String)
        /// A FIFO, device, socket or folder.
        case notRegularFile
        case tooLarge(limit: Int)

        public var message: String {
            switch self {
            case .unreadable(let reason): "cannot be read: \(reason)"
            case .notRegularFile: "is not a regular file"
            case .tooLarge(let limit): "is larger than \(ByteCount.describe(limit)), the limit"
            }
        }
    }

    public static func read(_ path: String, limit: Int) throws(Problem) -> [UInt8] {
        // Non-blocking, so that opening a FIFO never waits for a writer.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw .unreadable(String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw .unreadable(String(cString: strerror(errno))) }
        guard status.st_mode & S_IFMT == S_IFREG else { throw .notRegularFile }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { buffer in
                Foundation.read(descriptor, buffer.baseAddress! + count, buffer.count - count)
            }
            if got < 0 {
                if errno == EINTR { continue }
                throw .unreadable(String(cString: strerror(errno)))
            }
            if got == 0 { break }
            count += got
        }
        guard count <= limit else { throw .tooLarge(limit: limit) }
        return Array(bytes[..<count])
    }
}

enum ByteCount {
    /// "64 KiB", "1 MiB", "100 bytes".
    static func describe(_ bytes: Int) -> String {
        if bytes >= 1 << 20, bytes % (1 << 20) == 0 { return "\(bytes >> 20) MiB" }
        if bytes >= 1 << 10, bytes % (1 << 10) == 0 { return "\(bytes >> 10) KiB" }
        return "\(bytes) bytes"
    }
}
