import AlphaPlusSDK
import HeadOrderflow

// The entry point lives in its own target so that tests can link the head
// beside other plugins without two `ap_plugin_entry` symbols.
@_cdecl("ap_plugin_entry")
public func ap_plugin_entry() -> UnsafePointer<ap_plugin_api> { PluginExport.entry(OrderflowHead.self) }
