// JS class Reflector: new Reflector(options, onProgress) binds (throwing on
// failure) and starts answering; `result` resolves with its counters once stopped.
#include "../core/reflector.hpp"
#include "session_wrap.hpp"
#include "wraps.hpp"

namespace rtt::addon {
namespace {

ReflectorConfig reflector_config_from_js(const Napi::Object& o) {
  ReflectorConfig c;
  c.bind = get_endpoint(o, "bindHost", "bindPort");
  c.busy_poll = get_bool(o, "busyPoll");
  c.socket_busy_poll_us = int(get_number(o, "socketBusyPollUs"));
  c.timestamps = get_timestamp_source(o);
  c.clock = get_clock_source(o);
  c.format = get_timestamp_format(o);
  c.pinning = get_pinning(o);
  c.private_file_table = true;  // SessionRunner's loop thread publishes without descriptors
  c.duration_ns = int64_t(get_number(o, "durationNs"));
  c.progress_interval_ns = int64_t(get_number(o, "progressIntervalNs"));
  c.key = get_bytes(o, "key");
  c.allow = get_strings(o, "allow");
  c.rate_limit_pps = get_number(o, "rateLimit");
  c.global_rate_limit_pps = get_number(o, "globalRateLimit");
  c.stateful = get_bool(o, "stateful");
  c.max_sessions = size_t(get_number(o, "maxSessions"));
  c.session_timeout_ns = int64_t(get_number(o, "sessionTimeoutNs"));
  c.twamp_light = get_bool(o, "twampLight");
  return c;
}

Napi::Object counters_to_js(Napi::Env env, const ReflectorCounters& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("received", double(c.received));
  o.Set("reflected", double(c.reflected));
  o.Set("malformed", double(c.malformed));
  o.Set("loops", double(c.loops));
  o.Set("authFailures", double(c.auth_failures));
  o.Set("denied", double(c.denied));
  o.Set("rateLimited", double(c.rate_limited));
  o.Set("globalRateLimited", double(c.global_rate_limited));
  o.Set("replayed", double(c.replayed));
  o.Set("sessionsRefused", double(c.sessions_refused));
  o.Set("sendErrors", double(c.send_errors));
  o.Set("rxStampsMissing", double(c.rx_stamps_missing));
  o.Set("activeSessions", double(c.active_sessions));
  return o;
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
  o.Set("granted", granted_to_js(env, r.timestamping(), r.pinning(), r.private_file_table(), r.busy_poll(), r.clock()));
  o.Set("local", endpoint_to_js(env, r.local()));
  o.Set("startedAtNs", ns_to_js(env, r.started_ns()));
  o.Set("endedAtNs", ns_to_js(env, r.ended_ns()));
  o.Set("cpuNs", double(r.cpu_ns()));
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
