#pragma once

#include <napi.h>

namespace rtt::addon {

Napi::Value interface_caps(const Napi::CallbackInfo& info);         // interfaceCaps(name)
Napi::Value interface_names(const Napi::CallbackInfo& info);        // interfaceNames()
Napi::Value tsc_clock_unavailable(const Napi::CallbackInfo& info);  // tscClockUnavailable()

}  // namespace rtt::addon
