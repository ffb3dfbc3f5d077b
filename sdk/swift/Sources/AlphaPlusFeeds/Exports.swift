// UTCTime moved to its own module, AlphaPlusTime, so that code that only
// formats dates need not link the feed decoders; a plugin that imports
// AlphaPlusFeeds for it keeps compiling.
@_exported import AlphaPlusTime
