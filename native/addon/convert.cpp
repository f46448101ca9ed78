#include "convert.hpp"

#include <vector>

#include "../core/errors.hpp"

namespace rtt::addon {
namespace {

Napi::Value get(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' is missing");
  return v;
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

double get_number(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

bool get_bool(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

std::string get_string(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a string");
  return v.As<Napi::String>().Utf8Value();
}

std::vector<uint8_t> get_bytes(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (v.IsNull()) return {};
  if (!v.IsBuffer()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be a Buffer or null");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  return std::vector<uint8_t>(b.Data(), b.Data() + b.Length());
}

std::vector<std::string> get_strings(const Napi::Object& o, const char* key) {
  Napi::Value v = get(o, key);
  if (!v.IsArray()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be an array of strings");
  auto a = v.As<Napi::Array>();
  std::vector<std::string> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value item = a.Get(i);
    if (!item.IsString()) throw Napi::TypeError::New(o.Env(), std::string("option '") + key + "' must be an array of strings");
    out.push_back(item.As<Napi::String>().Utf8Value());
  }
  return out;
}

Endpoint get_endpoint(const Napi::Object& o, const char* host_key, const char* port_key) {
  double port = get_number(o, port_key);
  if (port < 0 || port > 65535) throw Napi::RangeError::New(o.Env(), std::string(port_key) + " must be 0..65535");
  return parse_endpoint(get_string(o, host_key), uint16_t(port));
}

TimestampSource get_timestamp_source(const Napi::Object& o) {
  std::string s = get_string(o, "timestamps");
  if (s == "auto") return TimestampSource::Auto;
  if (s == "software") return TimestampSource::Software;
  if (s == "hardware") return TimestampSource::Hardware;
  if (s == "none") return TimestampSource::None;
  throw Napi::RangeError::New(o.Env(), "timestamps must be auto, software, hardware or none");
}

wire::TimestampFormat get_timestamp_format(const Napi::Object& o) {
  std::string s = get_string(o, "timestampFormat");
  if (s == "ntp") return wire::TimestampFormat::Ntp;
  if (s == "ptp") return wire::TimestampFormat::Ptp;
  throw Napi::RangeError::New(o.Env(), "timestampFormat must be ntp or ptp");
}

ClockSource get_clock_source(const Napi::Object& o) {
  std::string s = get_string(o, "clock");
  if (s == "auto") return ClockSource::Auto;
  if (s == "tsc") return ClockSource::Tsc;
  if (s == "realtime") return ClockSource::Realtime;
  throw Napi::RangeError::New(o.Env(), "clock must be auto, tsc or realtime");
}

PinningRequest get_pinning(const Napi::Object& o) {
  PinningRequest p;
  p.cpu = int(get_number(o, "cpu"));
  p.rt_priority = int(get_number(o, "rtPriority"));
  p.mlock = get_bool(o, "mlock");
  return p;
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

Napi::Object granted_to_js(Napi::Env env, const TimestampingGrant& ts, const PinningGrant& pin,
                           bool private_file_table, const BusyPollGrant& busy, ClockSource clock) {
  Napi::Object p = Napi::Object::New(env);
  p.Set("cpu", pin.cpu >= 0 ? Napi::Value(Napi::Number::New(env, pin.cpu)) : env.Null());
  p.Set("rtPriority", pin.rt_priority);
  p.Set("mlock", pin.mlock);
  Napi::Object b = Napi::Object::New(env);
  b.Set("socketBusyPollUs", busy.requested_us);
  b.Set("granted", busy.granted);
  b.Set("refused", errno_to_js(env, busy.refused_errno));
  Napi::Object g = Napi::Object::New(env);
  g.Set("timestamping", timestamping_to_js(env, ts));
  g.Set("pinning", p);
  g.Set("privateFileTable", private_file_table);
  g.Set("socketBusyPoll", b);
  g.Set("clock", clock == ClockSource::Tsc ? "tsc" : "realtime");
  return g;
}

Napi::BigInt ns_to_js(Napi::Env env, int64_t ns) { return Napi::BigInt::New(env, ns); }

Napi::Error error_to_js(Napi::Env env, const std::exception& e) {
  if (auto* s = dynamic_cast<const SystemError*>(&e)) {
    Napi::Error err = Napi::Error::New(env, s->what());
    err.Set("code", s->code());
    err.Set("errno", Napi::Number::New(env, -s->err()));
    return err;
  }
  if (dynamic_cast<const ConfigError*>(&e)) {
    Napi::Error err = Napi::RangeError::New(env, e.what());
    err.Set("code", "ERR_INVALID_ARG_VALUE");
    return err;
  }
  return Napi::Error::New(env, e.what());
}

}  // namespace rtt::addon
