import AlphaPlusSDK
import WebhookStripe

// The entry point lives in its own target so that tests can link the
// plugin beside other plugins without two `ap_plugin_entry` symbols.
@_cdecl("ap_plugin_entry")
public func ap_plugin_entry() -> UnsafePointer<ap_plugin_api> { PluginExport.entry(StripeWebhook.self) }
