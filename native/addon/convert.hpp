// Conversions between JavaScript values and core types. The TypeScript facade
// validates options with friendly messages first; these checks only guard the
// binding against misuse.
#pragma once

#include <napi.h>

#include <exception>
#include <optional>
#include <string>
#include <vector>

#include "../core/histogram.hpp"
#include "../core/pinning.hpp"
#include "../core/timestamping.hpp"
#include "../core/transport.hpp"
#include "../core/user_clock.hpp"
#include "../core/wire.hpp"

namespace rtt::addon {

double get_number(const Napi::Object& o, const char* key);
bool get_bool(const Napi::Object& o, const char* key);
std::string get_string(const Napi::Object& o, const char* key);
// A Buffer's bytes, empty when the option is null (for the authentication key).
std::vector<uint8_t> get_bytes(const Napi::Object& o, const char* key);
std::vector<std::string> get_strings(const Napi::Object& o, const char* key);

Endpoint get_endpoint(const Napi::Object& o, const char* host_key, const char* port_key);
TimestampSource get_timestamp_source(const Napi::Object& o);
wire::TimestampFormat get_timestamp_format(const Napi::Object& o);
ClockSource get_clock_source(const Napi::Object& o);
PinningRequest get_pinning(const Napi::Object& o);

Napi::Object endpoint_to_js(Napi::Env env, const Endpoint& e);
Napi::Object histogram_to_js(Napi::Env env, const Histogram& h);
Napi::Object timestamping_to_js(Napi::Env env, const TimestampingGrant& ts);
Napi::Object granted_to_js(Napi::Env env, const TimestampingGrant& ts, const PinningGrant& pin,
                           bool private_file_table, const BusyPollGrant& busy, ClockSource clock);
// { txType, rxFilter } by name, or null when not known.
Napi::Value hwtstamp_config_to_js(Napi::Env env, const std::optional<hwtstamp_config>& config);
// An errno by name ("EOPNOTSUPP"), or null for 0.
Napi::Value errno_to_js(Napi::Env env, int err);
Napi::BigInt ns_to_js(Napi::Env env, int64_t ns);

// A JS Error for a core exception: SystemError keeps its errno name as `code`.
Napi::Error error_to_js(Napi::Env env, const std::exception& e);

}  // namespace rtt::addon
