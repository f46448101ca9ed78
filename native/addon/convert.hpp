// Conversions between JavaScript values and core types. The TypeScript facade
// validates options with friendly messages first; these checks only guard the
// binding against misuse.
#pragma once

#include <napi.h>

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "../core/choices.hpp"
#include "../core/histogram.hpp"
#include "../core/open_transport.hpp"
#include "../core/pinning.hpp"
#include "../core/run_facts.hpp"
#include "../core/timestamping.hpp"
#include "../core/transport.hpp"
#include "../core/user_clock.hpp"
#include "../core/wire.hpp"

namespace rtt::addon {

// Argument errors as Node's own checks throw them, `code` included.
Napi::Error invalid_type(Napi::Env env, const std::string& message);   // TypeError, ERR_INVALID_ARG_TYPE
Napi::Error invalid_value(Napi::Env env, const std::string& message);  // RangeError, ERR_INVALID_ARG_VALUE
Napi::Error out_of_range(Napi::Env env, const std::string& message);   // RangeError, ERR_OUT_OF_RANGE

// "a string", "a number", "undefined", ...: what a message says it got.
std::string type_name(const Napi::Value& v);
// An integer min..max; what names it in messages.
uint64_t to_uint(Napi::Env env, const Napi::Value& v, const std::string& what, uint64_t min, uint64_t max);

// The choice a name stands for; an unknown name is an ERR_INVALID_ARG_VALUE
// RangeError listing the table: timestamps must be one of auto, software, hardware, none, got "x".
template <class E, size_t N>
E to_choice(Napi::Env env, const std::string& name, const std::string& what, const Choice<E> (&table)[N]) {
  if (const Choice<E>* c = find_choice(table, name)) return c->value;
  std::string names;
  for (const Choice<E>& c : table) names += (names.empty() ? "" : ", ") + std::string(c.name);
  throw invalid_value(env, what + " must be one of " + names + ", got \"" + name + "\"");
}

template <class E, size_t N>
Napi::Array choice_names_to_js(Napi::Env env, const Choice<E> (&table)[N]) {
  Napi::Array a = Napi::Array::New(env, N);
  for (uint32_t i = 0; i < N; ++i) a.Set(i, table[i].name);
  return a;
}

template <size_t N>
Napi::Array names_to_js(Napi::Env env, const char* const (&names)[N]) {
  Napi::Array a = Napi::Array::New(env, N);
  for (uint32_t i = 0; i < N; ++i) a.Set(i, names[i]);
  return a;
}

// SenderCounters or ReflectorCounters, by their JSON names in list order.
template <class Counters>
Napi::Object counters_to_js(Napi::Env env, const Counters& c) {
  Napi::Object o = Napi::Object::New(env);
  c.for_each([&](const char* name, uint64_t value) { o.Set(name, double(value)); });
  return o;
}

double get_number(const Napi::Object& o, const char* key);
bool get_bool(const Napi::Object& o, const char* key);
std::string get_string(const Napi::Object& o, const char* key);
uint64_t get_uint(const Napi::Object& o, const char* key, uint64_t max);
template <class E, size_t N>
E get_choice(const Napi::Object& o, const char* key, const Choice<E> (&table)[N]) {
  return to_choice(o.Env(), get_string(o, key), key, table);
}
// A Buffer's bytes, empty when the option is null (for the authentication key).
std::vector<uint8_t> get_bytes(const Napi::Object& o, const char* key);
std::vector<std::string> get_strings(const Napi::Object& o, const char* key);

Endpoint get_endpoint(const Napi::Object& o, const char* host_key, const char* port_key);

// The options both session types take.
struct CommonOptions {
  Endpoint bind;
  bool busy_poll = true;
  int socket_busy_poll_us = 0;
  TimestampSource timestamps = TimestampSource::Auto;
  wire::TimestampFormat format = wire::TimestampFormat::Ntp;
  ClockSource clock = ClockSource::Auto;
  PinningRequest pinning;
  int64_t duration_ns = 0;
  int64_t progress_interval_ns = 0;
  PathOptions path;
  // SessionRunner's loop thread publishes without descriptors, so it may always take a file table of its own.
  bool private_file_table = true;
};
CommonOptions read_common(const Napi::Object& o);

Napi::Object endpoint_to_js(Napi::Env env, const Endpoint& e);
Napi::Object histogram_to_js(Napi::Env env, const Histogram& h);
Napi::Object timestamping_to_js(Napi::Env env, const TimestampingGrant& ts);
// What both session types report about their run, set on a result object:
// granted, local, startedAtNs, endedAtNs, cpuNs.
void set_run_facts(Napi::Object result, const RunFacts& run, const TimestampingGrant& ts, const BusyPollGrant& busy,
                   const Endpoint& local);
// { txType, rxFilter } by name, or null when not known.
Napi::Value hwtstamp_config_to_js(Napi::Env env, const std::optional<hwtstamp_config>& config);
// An errno by name ("EOPNOTSUPP"), or null for 0.
Napi::Value errno_to_js(Napi::Env env, int err);

// A JS Error for a core exception: SystemError keeps its errno name as `code`.
Napi::Error error_to_js(Napi::Env env, const std::exception& e);

}  // namespace rtt::addon
