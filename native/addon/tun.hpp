#pragma once

#include <napi.h>

namespace rtt::addon {

Napi::Value open_tun(const Napi::CallbackInfo& info);  // openTun(name): fd

}  // namespace rtt::addon
