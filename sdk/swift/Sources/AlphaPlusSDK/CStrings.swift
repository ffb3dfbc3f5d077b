import CAlphaPlus
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension ap_str {
    /// The text, decoded as UTF-8 (invalid sequences become U+FFFD).
    public var string: String {
        guard let ptr, len > 0 else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: ptr, count: len), as: UTF8.self)
    }

    /// Compares with UTF-8 bytes without allocating.
    func equals(_ utf8: [UInt8]) -> Bool {
        guard len == utf8.count else { return false }
        guard len > 0, let ptr else { return true }
        return utf8.withUnsafeBytes { memcmp(ptr, $0.baseAddress!, len) == 0 }
    }

    /// An ap_str over a buffer that is never freed: for [load]-lifetime data
    /// such as the descriptor (plugins are never unloaded).
    static func permanent(_ text: String) -> ap_str {
        let bytes = Array(text.utf8)
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
        bytes.withUnsafeBytes { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
        return ap_str(ptr: UnsafePointer(buffer), len: bytes.count)
    }
}

/// Lends `text` to `body` as an ap_str, valid only during the call.
@inlinable
public func withAPStr<R>(_ text: String, _ body: (ap_str) throws -> R) rethrows -> R {
    var text = text
    return try text.withUTF8 { utf8 in
        try body(ap_str(ptr: UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self), len: utf8.count))
    }
}

/// Lends several strings at once.
public func withAPStrs<R>(_ texts: [String], _ body: ([ap_str]) throws -> R) rethrows -> R {
    var lent: [ap_str] = []
    lent.reserveCapacity(texts.count)
    func lend(_ index: Int) throws -> R {
        if index == texts.count { return try body(lent) }
        return try withAPStr(texts[index]) { str in
            lent.append(str)
            return try lend(index + 1)
        }
    }
    return try lend(0)
}

extension UnsafeMutablePointer where Pointee == ap_error {
    /// Writes an operator-facing message (truncated to the contract's capacity).
    func set(_ message: String) {
        ap_error_set(self, message)
    }
}

