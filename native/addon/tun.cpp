// openTun(name): the lab's TUN forwarder gets its descriptor here and does
// the rest in JavaScript.
#include "tun.hpp"

#include "../core/tun.hpp"
#include "convert.hpp"

namespace rtt::addon {

Napi::Value open_tun(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw invalid_type(env, "openTun(name) needs a device name, got " + type_name(info[0]));
  try {
    return Napi::Number::New(env, rtt::open_tun(info[0].As<Napi::String>().Utf8Value()));
  } catch (const std::exception& e) {
    throw error_to_js(env, e);
  }
}

}  // namespace rtt::addon
