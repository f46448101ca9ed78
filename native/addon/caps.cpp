// The core's interface capabilities (ETHTOOL_GET_TS_INFO, SIOCGHWTSTAMP) and
// whether the TSC clock is available, for `rtt-probe caps`; src/caps.ts
// assembles the report.
#include "caps.hpp"

#include "../core/caps.hpp"
#include "../core/user_clock.hpp"
#include "convert.hpp"

namespace rtt::addon {
namespace {

Napi::Array strings_to_js(Napi::Env env, const std::vector<std::string>& list) {
  Napi::Array a = Napi::Array::New(env, list.size());
  for (uint32_t i = 0; i < list.size(); ++i) a.Set(i, list[i]);
  return a;
}

}  // namespace

Napi::Value interface_caps(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) {
    throw invalid_type(env, "interfaceCaps(name) needs an interface name, got " + type_name(info[0]));
  }
  InterfaceCaps c;
  try {
    c = rtt::interface_caps(info[0].As<Napi::String>().Utf8Value());
  } catch (const std::exception& e) {
    throw error_to_js(env, e);
  }
  Napi::Object o = Napi::Object::New(env);
  o.Set("interface", c.interface);
  o.Set("soTimestamping", strings_to_js(env, c.ts_info.so_timestamping));
  o.Set("hardwareCapable", c.ts_info.hardware_capable);
  o.Set("phcIndex", c.ts_info.phc_index >= 0 ? Napi::Value(Napi::Number::New(env, c.ts_info.phc_index)) : env.Null());
  o.Set("txTypes", strings_to_js(env, c.ts_info.tx_types));
  o.Set("rxFilters", strings_to_js(env, c.ts_info.rx_filters));
  o.Set("tsInfoError", errno_to_js(env, c.ts_info_errno));
  o.Set("hwtstamp", hwtstamp_config_to_js(env, c.hwtstamp));
  o.Set("hwtstampError", errno_to_js(env, c.hwtstamp_errno));
  return o;
}

Napi::Value interface_names(const Napi::CallbackInfo& info) {
  try {
    return strings_to_js(info.Env(), rtt::interface_names());
  } catch (const std::exception& e) {
    throw error_to_js(info.Env(), e);
  }
}

Napi::Value tsc_clock_unavailable(const Napi::CallbackInfo& info) {
  std::string why = rtt::host_tsc_unusable_reason();
  return why.empty() ? info.Env().Null() : Napi::Value(Napi::String::New(info.Env(), why));
}

}  // namespace rtt::addon
