import CAlphaPlus

/// The limits every host puts on one entry of an instance's state (the
/// contract's `AP_STATE_KEY_MAX_BYTES` and `AP_STATE_VALUE_MAX_BYTES`).
/// `setState` with a key or value beyond them fails with
/// `.invalidArgument`, on the host as in `AlphaPlusSDKTesting`.
public enum StateLimits {
    public static let maxKeyBytes = Int(AP_STATE_KEY_MAX_BYTES)
    public static let maxValueBytes = Int(AP_STATE_VALUE_MAX_BYTES)

    /// Why the key bytes a plugin passed are refused, nil when they are a
    /// key: 1 to `maxKeyBytes` bytes of UTF-8 without NUL (a store would
    /// cut a key at NUL, and "a\0b" would be "a").
    public static func keyProblem(_ bytes: UnsafeRawBufferPointer) -> String? {
        let problem: String
        if !(1...maxKeyBytes).contains(bytes.count) {
            problem = "the key is \(bytes.count) bytes"
        } else if let nul = bytes.firstIndex(of: 0) {
            problem = "the key holds NUL at byte \(nul)"
        } else if String(validating: bytes, as: UTF8.self) == nil {
            problem = "the key is not UTF-8"
        } else {
            return nil
        }
        return problem + "; a key is 1 to \(maxKeyBytes) bytes of UTF-8 without NUL"
    }

    /// Why a value of `length` bytes is refused, nil when it is not.
    public static func valueProblem(length: Int) -> String? {
        length > maxValueBytes ? "the value is \(length) bytes, more than \(maxValueBytes)" : nil
    }
}
