/// The compiler this SDK (and so the plugin) was built with, recorded in the
/// descriptor. A Swift plugin runs in the host's process only when its
/// toolchain's major.minor matches the host's: Swift has no stable ABI on
/// Linux, and two Swift runtimes in one process are unsafe.
public let swiftToolchain: String = {
    #if compiler(>=7.0)
    return "swift-7+"
    #elseif compiler(>=6.4)
    return "swift-6.4"
    #elseif compiler(>=6.3)
    return "swift-6.3"
    #elseif compiler(>=6.2)
    return "swift-6.2"
    #elseif compiler(>=6.1)
    return "swift-6.1"
    #else
    return "swift-6.0"
    #endif
}()
