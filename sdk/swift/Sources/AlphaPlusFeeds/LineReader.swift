import CZlib
#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// Reads a text file line by line, plain or gzip (zlib reads a file that is
/// not gzip as it is), lending each line without copying it. Lines end at
/// "\n"; a trailing "\r" is dropped. Memory stays at one buffer however
/// large the file.
public struct LineReader {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// Calls `body` with each line (without its terminator) and its 1-based
    /// number until the file ends or `body` returns false. The bytes are
    /// valid only during the call. Throws a FeedError at line 0 when the
    /// file cannot be opened or is a damaged gzip stream.
    public func forEachLine(_ body: (UnsafeBufferPointer<UInt8>, Int) throws -> Bool) throws {
        guard let file = gzopen(path, "rb") else {
            throw FeedError(FeedPosition(source: path, line: 0), "cannot open the file")
        }
        defer { gzclose(file) }
        gzbuffer(file, 1 << 17)

        var buffer = [UInt8](repeating: 0, count: 1 << 18)
        var filled = 0, lineNumber = 0
        while true {
            if filled == buffer.count { buffer.append(contentsOf: repeatElement(0, count: buffer.count)) }
            let read = buffer.withUnsafeMutableBufferPointer { all in
                gzread(file, all.baseAddress! + filled, UInt32(all.count - filled))
            }
            if read < 0 {
                var code: Int32 = 0
                let message = String(cString: gzerror(file, &code))
                throw FeedError(FeedPosition(source: path, line: lineNumber + 1), "cannot read: \(message)")
            }
            let atEnd = read == 0
            filled += Int(read)
            var consumed = 0
            let stop: Bool = try buffer.withUnsafeBufferPointer { all in
                var start = 0
                while start < filled {
                    guard let newline = all[start..<filled].firstIndex(of: UInt8(ascii: "\n")) else {
                        if !atEnd { break }
                        lineNumber += 1
                        consumed = filled
                        return try !body(Self.trimmed(all, start, filled), lineNumber)
                    }
                    lineNumber += 1
                    consumed = newline + 1
                    if try !body(Self.trimmed(all, start, newline), lineNumber) { return true }
                    start = newline + 1
                }
                return false
            }
            if stop || atEnd { return }
            // Keep the unfinished line at the front and read more after it.
            if consumed > 0 {
                let rest = filled - consumed
                buffer.withUnsafeMutableBufferPointer { all in
                    _ = memmove(all.baseAddress!, all.baseAddress! + consumed, rest)
                }
                filled -= consumed
            }
        }
    }

    private static func trimmed(_ all: UnsafeBufferPointer<UInt8>, _ start: Int, _ end: Int) -> UnsafeBufferPointer<UInt8> {
        var end = end
        if end > start && all[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        return UnsafeBufferPointer(rebasing: all[start..<end])
    }
}
