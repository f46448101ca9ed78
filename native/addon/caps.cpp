// The core's interface capabilities (ETHTOOL_GET_TS_INFO, SIOCGHWTSTAMP, the
// ethtool settings that add latency) and
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

// Sets key to the reading's value (to_js) or null, and keyError to its errno name or null.
template <typename T, typename ToJs>
void set_reading(Napi::Object o, const char* key, const Reading<T>& r, ToJs to_js) {
  Napi::Env env = o.Env();
  o.Set(key, r.value ? Napi::Value(to_js(env, *r.value)) : env.Null());
  o.Set(std::string(key) + "Error", errno_to_js(env, r.error));
}

void set_ethtool(Napi::Object o, const EthtoolSettings& e) {
  set_reading(o, "driver", e.driver, [](Napi::Env env, const DriverInfo& d) {
    Napi::Object v = Napi::Object::New(env);
    v.Set("driver", d.driver);
    v.Set("firmware", d.firmware);
    v.Set("bus", d.bus);
    return v;
  });
  set_reading(o, "link", e.link, [](Napi::Env env, const LinkInfo& l) {
    Napi::Object v = Napi::Object::New(env);
    v.Set("speedMbps", l.speed_mbps < 0 ? env.Null() : Napi::Value(Napi::Number::New(env, static_cast<double>(l.speed_mbps))));
    v.Set("duplex", l.duplex);
    return v;
  });
  set_reading(o, "coalesce", e.coalesce, [](Napi::Env env, const CoalesceInfo& c) {
    Napi::Object v = Napi::Object::New(env);
    v.Set("rxUsecs", c.rx_usecs);
    v.Set("txUsecs", c.tx_usecs);
    v.Set("adaptiveRx", c.adaptive_rx);
    v.Set("adaptiveTx", c.adaptive_tx);
    return v;
  });
  set_reading(o, "rings", e.rings, [](Napi::Env env, const RingInfo& r) {
    Napi::Object v = Napi::Object::New(env);
    v.Set("rx", r.rx);
    v.Set("rxMax", r.rx_max);
    v.Set("tx", r.tx);
    v.Set("txMax", r.tx_max);
    return v;
  });
  auto boolean = [](Napi::Env env, bool b) { return Napi::Boolean::New(env, b); };
  set_reading(o, "gro", e.gro, boolean);
  set_reading(o, "lro", e.lro, boolean);
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
  set_ethtool(o, c.ethtool);
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
