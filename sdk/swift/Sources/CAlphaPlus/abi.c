// The contract is a header; this translation unit makes the C target
// compile it once on its own, so a header that does not stand alone fails
// the SDK's build rather than a plugin author's.
#include "alphaplus/plugin.h"
