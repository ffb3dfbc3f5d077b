import CAlphaPlus
import Dispatch
import Foundation
import Metrics

/// One head's evaluate run on the instance's own executor, so the caller
/// can stop waiting at a deadline. The frame is copied into the call's own
/// storage first: a head that answers late never reads a frame the host
/// has since overwritten. While a late call is still running the head
/// gets no new frame (`begin` returns false). Storage (and the semaphore
/// `wait` sleeps on) is allocated once (and again only if a frame carries
/// more indicators). Each evaluate's duration, a late one's too, goes to
/// `duration`.
// @unchecked: the call's buffers are written by `begin` and read after `wait` (ordered by the semaphore); `running` under `lock`.
public final class HeadCall: @unchecked Sendable {
    public let instance: HostedInstance
    /// Valid to read after `wait` returned true for the call.
    public let vote = UnsafeMutablePointer<ap_vote>.allocate(capacity: 1)
    public let error = UnsafeMutablePointer<ap_error>.allocate(capacity: 1)
    public private(set) var status = ap_status(AP_OK)
    private let frame = UnsafeMutablePointer<ap_feature_frame>.allocate(capacity: 1)
    private let book = UnsafeMutablePointer<ap_book_features>.allocate(capacity: 1)
    private var values = UnsafeMutablePointer<Double>.allocate(capacity: 64)
    private var valueCapacity = 64
    private let duration: CoreMetrics.Timer
    private let lock = NSLock()
    private var running = false
    /// Signalled when a call returns; a signal nobody waited for (the call
    /// was late) is taken back by the next `begin`.
    private let answered = DispatchSemaphore(value: 0)
    /// When the last call returned (uptime ns).
    private var answeredAtNs: UInt64 = 0

    public init(instance: HostedInstance, duration: CoreMetrics.Timer) {
        self.instance = instance
        self.duration = duration
        vote.initialize(to: ap_vote())
        error.initialize(to: ap_error.empty())
        frame.initialize(to: ap_feature_frame())
        book.initialize(to: ap_book_features())
    }

    deinit {
        vote.deallocate()
        error.deallocate()
        frame.deallocate()
        book.deallocate()
        values.deallocate()
    }

    /// Starts evaluate on a copy of `frame`. False (nothing started) when
    /// the previous call is still running.
    public func begin(_ source: UnsafePointer<ap_feature_frame>) -> Bool {
        let claimed = lock.withLock { () -> Bool in
            if running { return false }
            running = true
            return true
        }
        guard claimed else { return false }
        // The previous call is over: its signal was taken or is there now.
        _ = answered.wait(timeout: .now())
        copy(source)
        instance.context.executor.async { [self] in
            // Already on the executor: the evaluator is read directly.
            let started = DispatchTime.now()
            status = instance.headEvaluator()?.evaluate(UnsafePointer(frame), vote, error) ?? ap_status(AP_ERR_NOT_FOUND)
            let finished = DispatchTime.now()
            duration.recordNanoseconds(finished.nanoseconds(since: started))
            lock.withLock { answeredAtNs = finished.uptimeNanoseconds }
            // Signalled before `running` clears, so a `begin` that finds
            // the call over also finds its signal.
            answered.signal()
            lock.withLock { running = false }
        }
        return true
    }

    /// Waits for the call `begin` started until `deadline`: true when it
    /// returned by then (`status`, `vote` and `error` are its answer),
    /// false when it is late (it keeps running; `begin` refuses until it
    /// returns).
    public func wait(until deadline: DispatchTime) -> Bool {
        guard answered.wait(timeout: deadline) == .success else { return false }
        // Returned, but maybe after the deadline (the caller looked late).
        return lock.withLock { answeredAtNs } <= deadline.uptimeNanoseconds
    }

    private func copy(_ source: UnsafePointer<ap_feature_frame>) {
        let count = source.pointee.indicator_count
        if count > valueCapacity {
            values.deallocate()
            values = .allocate(capacity: count)
            valueCapacity = count
        }
        frame.pointee = source.pointee
        if count > 0 { values.update(from: source.pointee.indicator_values, count: count) }
        frame.pointee.indicator_values = UnsafePointer(values)
        // Names, venue and symbol live as long as the frame's producer.
        if let sourceBook = source.pointee.book {
            book.pointee = sourceBook.pointee
            frame.pointee.book = UnsafePointer(book)
        }
        error.pointee = ap_error.empty()
    }
}
