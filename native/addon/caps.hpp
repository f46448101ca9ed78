#pragma once

#include <napi.h>

namespace rtt::addon {

Napi::Function interface_caps_function(Napi::Env env);   // interfaceCaps(name)
Napi::Function interface_names_function(Napi::Env env);  // interfaceNames()
Napi::Function tsc_clock_unavailable_function(Napi::Env env);  // tscClockUnavailable()

}  // namespace rtt::addon
