#include "convert.hpp"

#include <cmath>
#include <vector>

#include "../core/errors.hpp"

namespace rtt::addon {
namespace {

Napi::Value get(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) throw invalid_type(o.Env(), std::string("option '") + key + "' is missing");
  return v;
}

Napi::Error with_code(Napi::Error e, const char* code) {
  e.Set("code", code);
  return e;
}

Napi::Object granted_to_js(Napi::Env env, const RunFacts& run, const TimestampingGrant& ts, const BusyPollGrant& busy) {
  Napi::Object p = Napi::Object::New(env);
  p.Set("cpu", run.pinning.cpu >= 0 ? Napi::Value(Napi::Number::New(env, run.pinning.cpu)) : env.Null());
  p.Set("rtPriority", run.pinning.rt_priority);
  p.Set("mlock", run.pinning.mlock);
  Napi::Object b = Napi::Object::New(env);
  b.Set("socketBusyPollUs", busy.requested_us);
  b.Set("granted", busy.granted);
  b.Set("refused", errno_to_js(env, busy.refused_errno));
  Napi::Object g = Napi::Object::New(env);
  g.Set("timestamping", timestamping_to_js(env, ts));
  g.Set("pinning", p);
  g.Set("privateFileTable", run.private_file_table);
  g.Set("socketBusyPoll", b);
  g.Set("clock", choice_name(kClockSources, run.clock));
  return g;
}

Napi::Value hwtstamp_setup_to_js(Napi::Env env, const HwtstampSetup& hw) {
  if (!hw.attempted) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("previous", hwtstamp_config_to_js(env, hw.previous));
  o.Set("previousError", errno_to_js(env, hw.previous_errno));
  o.Set("changed", hw.changed);
  o.Set("refused", errno_to_js(env, hw.refused_errno));
  o.Set("granted", hwtstamp_config_to_js(env, hw.granted));
  o.Set("tx", hw.tx);
  o.Set("rx", hw.rx);
  return o;
}

}  // namespace

Napi::Value errno_to_js(Napi::Env env, int err) {
  if (err == 0) return env.Null();
  return Napi::String::New(env, errno_name(err));
}

Napi::Value hwtstamp_config_to_js(Napi::Env env, const std::optional<hwtstamp_config>& config) {
  if (!config) return env.Null();
  Napi::Object o = Napi::Object::New(env);
  o.Set("txType", tx_type_name(config->tx_type));
  o.Set("rxFilter", rx_filter_name(config->rx_filter));
  return o;
}

Napi::Error invalid_type(Napi::Env env, const std::string& message) {
  return with_code(Napi::TypeError::New(env, message), "ERR_INVALID_ARG_TYPE");
}

Napi::Error invalid_value(Napi::Env env, const std::string& message) {
  return with_code(Napi::RangeError::New(env, message), "ERR_INVALID_ARG_VALUE");
}

Napi::Error out_of_range(Napi::Env env, const std::string& message) {
  return with_code(Napi::RangeError::New(env, message), "ERR_OUT_OF_RANGE");
}

std::string type_name(const Napi::Value& v) {
  switch (v.Type()) {
    case napi_undefined: return "undefined";
    case napi_null: return "null";
    case napi_boolean: return "a boolean";
    case napi_number: return "a number";
    case napi_string: return "a string";
    case napi_symbol: return "a symbol";
    case napi_function: return "a function";
    case napi_bigint: return "a bigint";
    default: return "an object";
  }
}

uint64_t to_uint(Napi::Env env, const Napi::Value& v, const std::string& what, uint64_t min, uint64_t max) {
  if (!v.IsNumber()) throw invalid_type(env, what + " must be a number, got " + type_name(v));
  double n = v.As<Napi::Number>().DoubleValue();
  if (!(n >= double(min) && n <= double(max) && std::floor(n) == n)) {
    throw out_of_range(env, what + " must be an integer " + std::to_string(min) + ".." + std::to_string(max) +
                                ", got " + v.ToString().Utf8Value());
  }
  return uint64_t(n);
}

double get_number(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsNumber()) throw invalid_type(o.Env(), std::string("option '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

uint64_t get_uint(const Napi::Object& o, const char* key, uint64_t max) {
  return to_uint(o.Env(), get(o, key), std::string("option '") + key + "'", 0, max);
}

bool get_bool(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsBoolean()) throw invalid_type(o.Env(), std::string("option '") + key + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string get_string(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsString()) throw invalid_type(o.Env(), std::string("option '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

std::vector<uint8_t> get_bytes(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (v.IsNull()) return {};
  if (!v.IsBuffer()) throw invalid_type(o.Env(), std::string("option '") + key + "' must be a Buffer or null");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  return std::vector<uint8_t>(b.Data(), b.Data() + b.Length());
}

std::vector<std::string> get_strings(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsArray()) throw invalid_type(o.Env(), std::string("option '") + key + "' must be an array of strings");
  auto a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value item = a.Get(i);
    if (!item.IsString()) throw invalid_type(o.Env(), std::string("option '") + key + "' must be an array of strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

Endpoint get_endpoint(const Napi::Object& o, const char* host_key, const char* port_key) {
  return parse_endpoint(get_string(o, host_key), uint16_t(get_uint(o, port_key, 65535)));
}

CommonOptions read_common(const Napi::Object& o) {
  CommonOptions c;
  c.bind = get_endpoint(o, "bindHost", "bindPort");
  c.busy_poll = get_bool(o, "busyPoll");
  c.socket_busy_poll_us = int(get_number(o, "socketBusyPollUs"));
  c.timestamps = get_choice(o, "timestamps", kTimestampSources);
  c.format = get_choice(o, "timestampFormat", wire::kTimestampFormats);
  c.clock = get_choice(o, "clock", kClockSources);
  c.pinning.cpu = int(get_number(o, "cpu"));
  c.pinning.rt_priority = int(get_number(o, "rtPriority"));
  c.pinning.mlock = get_bool(o, "mlock");
  c.duration_ns = int64_t(get_number(o, "durationNs"));
  c.progress_interval_ns = int64_t(get_number(o, "progressIntervalNs"));
  c.path.transport = get_choice(o, "transport", kTransports);
  // null: the default (the route's interface, untagged, the system's TTL).
  if (!get(o, "interface").IsNull()) c.path.link.interface = get_string(o, "interface");
  if (!get(o, "vlan").IsNull()) c.path.link.vlan = uint16_t(get_uint(o, "vlan", 4094));
  c.path.dscp = int(get_uint(o, "dscp", 63));
  if (!get(o, "ttl").IsNull()) c.path.ttl = int(get_uint(o, "ttl", 255));
  return c;
}

Napi::Object endpoint_to_js(Napi::Env env, const Endpoint& e) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("address", e.host());
  o.Set("port", e.port());
  o.Set("family", e.family() == AF_INET6 ? "IPv6" : "IPv4");
  return o;
}

Napi::Object histogram_to_js(Napi::Env env, const Histogram& h) {
  std::vector<uint32_t> indices;
  std::vector<double> counts;
  const uint64_t* c = h.counts();
  for (size_t i = 0; i < Histogram::kCountsLength; ++i) {
    if (c[i] == 0) continue;
    indices.push_back(uint32_t(i));
    counts.push_back(double(c[i]));
  }
  auto idx = Napi::Uint32Array::New(env, indices.size());
  auto cnt = Napi::Float64Array::New(env, counts.size());
  std::copy(indices.begin(), indices.end(), idx.Data());
  std::copy(counts.begin(), counts.end(), cnt.Data());
  Napi::Object o = Napi::Object::New(env);
  o.Set("count", double(h.count()));
  o.Set("min", double(h.min()));
  o.Set("max", double(h.max()));
  o.Set("mean", h.mean());
  o.Set("stddev", h.stddev());
  o.Set("underflow", double(h.underflow()));
  o.Set("overflow", double(h.overflow()));
  o.Set("indices", idx);
  o.Set("counts", cnt);
  return o;
}

Napi::Object timestamping_to_js(Napi::Env env, const TimestampingGrant& ts) {
  Napi::Object t = Napi::Object::New(env);
  t.Set("interface", ts.interface);
  t.Set("hardwareCapable", ts.hardware_capable);
  t.Set("softwareRequested", ts.software_requested);
  t.Set("hardwareRequested", ts.hardware_requested);
  t.Set("software", ts.software);
  t.Set("hardware", ts.hardware);
  t.Set("refused", errno_to_js(env, ts.refused_errno));
  t.Set("flags", ts.flags);
  t.Set("hwtstamp", hwtstamp_setup_to_js(env, ts.hwtstamp));
  return t;
}

void set_run_facts(Napi::Object result, const RunFacts& run, const TimestampingGrant& ts, const BusyPollGrant& busy,
                   const Endpoint& local) {
  Napi::Env env = result.Env();
  result.Set("granted", granted_to_js(env, run, ts, busy));
  result.Set("local", endpoint_to_js(env, local));
  result.Set("startedAtNs", Napi::BigInt::New(env, run.started_ns));
  result.Set("endedAtNs", Napi::BigInt::New(env, run.ended_ns));
  result.Set("cpuNs", double(run.cpu_ns));
}

Napi::Error error_to_js(Napi::Env env, const std::exception& e) {
  if (auto* s = dynamic_cast<const SystemError*>(&e)) {
    Napi::Error err = Napi::Error::New(env, s->what());
    err.Set("code", s->code());
    err.Set("errno", Napi::Number::New(env, -s->err()));
    return err;
  }
  if (dynamic_cast<const ConfigError*>(&e)) return invalid_value(env, e.what());
  return Napi::Error::New(env, e.what());
}

}  // namespace rtt::addon
