import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Checks a plugin file before anything of it runs: dlopen executes a
/// library's initialisers, so every check that can be made on the bytes is
/// made first.
enum PluginFileCheck {
    static let entrySymbol = "ap_plugin_entry"

    /// Refuses what is not a regular, safely owned ELF shared object for this
    /// machine that exports the entry function.
    static func check(_ path: String) throws(PluginLoadError) {
        try checkPermissions(path)
        let bytes: Data
        do {
            bytes = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw PluginLoadError(path, "cannot be read: \(error.localizedDescription)")
        }
        let elf = try ELFFile(bytes, path: path)
        guard elf.definesFunction(entrySymbol) else {
            throw PluginLoadError(path, "is not an AlphaPlus plugin: it does not export '\(entrySymbol)'")
        }
    }

    private static func checkPermissions(_ path: String) throws(PluginLoadError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw PluginLoadError(path, "cannot be read: \(String(cString: strerror(errno)))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw PluginLoadError(path, "is not a regular file") }
        guard info.st_mode & S_IWOTH == 0 else {
            throw PluginLoadError(path, "is world-writable (mode \(String(info.st_mode & 0o777, radix: 8))): anyone could replace its code; chmod o-w it")
        }
        let folder = (path as NSString).deletingLastPathComponent
        var folderInfo = stat()
        if stat(folder.isEmpty ? "." : folder, &folderInfo) == 0,
           folderInfo.st_mode & S_IWOTH != 0, folderInfo.st_mode & S_ISVTX == 0 {
            throw PluginLoadError(path, "is in a world-writable folder \(folder): anyone could replace it")
        }
    }
}

/// The parts of an ELF file the loader needs, read defensively: every
/// offset is checked against the file's size, so a truncated or corrupt file
/// is refused with a reason instead of read out of bounds.
struct ELFFile {
    private let bytes: Data
    private let path: String
    private let sections: [(type: UInt32, offset: Int, size: Int, link: Int, entrySize: Int)]

    static let hostMachine: UInt16 = {
        #if arch(x86_64)
        return 62 // EM_X86_64
        #elseif arch(arm64)
        return 183 // EM_AARCH64
        #else
        return 0
        #endif
    }()

    static func machineName(_ machine: UInt16) -> String {
        switch machine {
        case 3: "x86 (32-bit)"
        case 40: "ARM (32-bit)"
        case 62: "x86-64"
        case 183: "AArch64"
        case 243: "RISC-V"
        default: "machine \(machine)"
        }
    }

    init(_ bytes: Data, path: String) throws(PluginLoadError) {
        self.bytes = bytes
        self.path = path
        guard bytes.count >= 4, bytes.prefix(4).elementsEqual([0x7F, 0x45, 0x4C, 0x46]) else {
            throw PluginLoadError(path, "is not an ELF file (no ELF magic number)")
        }
        guard bytes.count >= 64 else { throw PluginLoadError(path, "is a truncated ELF file (\(bytes.count) bytes, no complete header)") }
        guard bytes[bytes.startIndex + 4] == 2 else { throw PluginLoadError(path, "is a 32-bit ELF file; this host is 64-bit") }
        guard bytes[bytes.startIndex + 5] == 1 else { throw PluginLoadError(path, "is a big-endian ELF file; this host is little-endian") }
        let type: UInt16 = Self.read(bytes, 16)
        guard type == 3 else { throw PluginLoadError(path, "is not an ELF shared object (ELF type \(type), expected ET_DYN)") }
        let machine: UInt16 = Self.read(bytes, 18)
        guard machine == Self.hostMachine else {
            throw PluginLoadError(path, "is built for \(Self.machineName(machine)); this host is \(Self.machineName(Self.hostMachine))")
        }
        let programOffset = Int(Self.read(bytes, 32) as UInt64)
        let sectionOffset = Int(Self.read(bytes, 40) as UInt64)
        let programEntrySize = Int(Self.read(bytes, 54) as UInt16), programCount = Int(Self.read(bytes, 56) as UInt16)
        let sectionEntrySize = Int(Self.read(bytes, 58) as UInt16), sectionCount = Int(Self.read(bytes, 60) as UInt16)
        let truncated = PluginLoadError(path, "is a truncated ELF file (\(bytes.count) bytes; its headers point past the end)")
        guard programOffset + programEntrySize * programCount <= bytes.count,
              sectionOffset + sectionEntrySize * sectionCount <= bytes.count,
              sectionCount == 0 || sectionEntrySize >= 64 else { throw truncated }
        var sections: [(UInt32, Int, Int, Int, Int)] = []
        for index in 0..<sectionCount {
            let base = sectionOffset + index * sectionEntrySize
            let sectionType: UInt32 = Self.read(bytes, base + 4)
            let offset = Int(Self.read(bytes, base + 24) as UInt64), size = Int(Self.read(bytes, base + 32) as UInt64)
            // SHT_NOBITS (8) occupies no file space.
            if sectionType != 8, offset + size > bytes.count { throw truncated }
            sections.append((sectionType, offset, size, Int(Self.read(bytes, base + 40) as UInt32), Int(Self.read(bytes, base + 56) as UInt64)))
        }
        self.sections = sections.map { (type: $0.0, offset: $0.1, size: $0.2, link: $0.3, entrySize: $0.4) }
    }

    /// Whether the dynamic symbol table defines a function of this name.
    func definesFunction(_ name: String) -> Bool {
        let wanted = Array(name.utf8)
        for table in sections where table.type == 11 /* SHT_DYNSYM */ && table.entrySize >= 24 && table.link < sections.count {
            let strings = sections[table.link]
            for index in 0..<(table.size / table.entrySize) {
                let symbol = table.offset + index * table.entrySize
                let nameOffset = Int(Self.read(bytes, symbol) as UInt32)
                let info: UInt8 = Self.read(bytes, symbol + 4)
                let sectionIndex: UInt16 = Self.read(bytes, symbol + 6)
                guard info & 0xF == 2 /* STT_FUNC */, sectionIndex != 0 /* defined */, nameOffset < strings.size else { continue }
                let start = strings.offset + nameOffset
                guard start + wanted.count < strings.offset + strings.size else { continue }
                if bytes[(bytes.startIndex + start)...].prefix(wanted.count).elementsEqual(wanted),
                   bytes[bytes.startIndex + start + wanted.count] == 0 {
                    return true
                }
            }
        }
        return false
    }

    private static func read<T: FixedWidthInteger>(_ bytes: Data, _ offset: Int) -> T {
        var value: T = 0
        withUnsafeMutableBytes(of: &value) { target in
            bytes.copyBytes(to: target.bindMemory(to: UInt8.self), from: (bytes.startIndex + offset)..<(bytes.startIndex + offset + MemoryLayout<T>.size))
        }
        return T(littleEndian: value)
    }
}
