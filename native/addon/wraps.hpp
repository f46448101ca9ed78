// The session classes, Sender (sender_wrap.cpp) and Reflector (reflector_wrap.cpp).
#pragma once

#include <napi.h>

namespace rtt::addon {

Napi::Function define_sender(Napi::Env env);
Napi::Function define_reflector(Napi::Env env);

}  // namespace rtt::addon
