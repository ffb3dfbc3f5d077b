extension FakeClock {
    /// Times this close count as equal: a clock is a Double of seconds since
    /// the epoch (a step of about 0.2 µs), so a fake judging "one second
    /// later" must not be thrown by that rounding.
    public static let tolerance = 1e-6
}
