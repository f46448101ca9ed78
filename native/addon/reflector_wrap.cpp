// JS class Reflector: new Reflector(options, onProgress) binds (throwing on
// failure) and starts answering; `result` resolves with its counters once stopped.
#include "../core/reflector.hpp"
#include "session_wrap.hpp"
#include "wraps.hpp"

namespace rtt::addon {
namespace {

ReflectorConfig reflector_config_from_js(const Napi::Object& o) {
  CommonOptions common = read_common(o);
  ReflectorConfig c;
  c.bind = common.bind;
  c.udp = c.tcp = false;
  for (const std::string& name : get_strings(o, "protocols")) {
    (to_choice(o.Env(), name, "protocols", kProtocols) == Protocol::Tcp ? c.tcp : c.udp) = true;
  }
  c.max_connections = size_t(get_number(o, "maxConnections"));
  c.busy_poll = common.busy_poll;
  c.socket_busy_poll_us = common.socket_busy_poll_us;
  c.timestamps = common.timestamps;
  c.clock = common.clock;
  c.format = common.format;
  c.pinning = common.pinning;
  c.private_file_table = common.private_file_table;
  c.duration_ns = common.duration_ns;
  c.progress_interval_ns = common.progress_interval_ns;
  c.key = get_bytes(o, "key");
  c.allow = get_strings(o, "allow");
  c.rate_limit_pps = get_number(o, "rateLimit");
  c.global_rate_limit_pps = get_number(o, "globalRateLimit");
  c.stateful = get_bool(o, "stateful");
  c.max_sessions = size_t(get_number(o, "maxSessions"));
  c.session_timeout_ns = int64_t(get_number(o, "sessionTimeoutNs"));
  c.twamp_light = get_bool(o, "twampLight");
  c.path = common.path;
  return c;
}

Napi::Value reflector_progress_to_js(Napi::Env env, const ReflectorProgress& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("elapsedNs", double(p.elapsed_ns));
  o.Set("counters", counters_to_js(env, p.counters));
  return o;
}

Napi::Value reflector_result_to_js(Napi::Env env, const Reflector& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("counters", counters_to_js(env, r.counters()));
  set_run_facts(o, r.run_facts(), r.timestamping(), r.busy_poll(), r.local());
  return o;
}

struct ReflectorTraits {
  using Core = Reflector;
  using Progress = ReflectorProgress;
  static constexpr const char* kName = "Reflector";
  static constexpr auto config_from_js = reflector_config_from_js;
  static constexpr auto progress_to_js = reflector_progress_to_js;
  static constexpr auto result_to_js = reflector_result_to_js;
  static Endpoint local(const Reflector& r) { return r.local(); }
  static const TimestampingGrant& timestamping(const Reflector& r) { return r.timestamping(); }
};

}  // namespace

Napi::Function define_reflector(Napi::Env env) { return SessionWrap<ReflectorTraits>::define(env); }

}  // namespace rtt::addon
