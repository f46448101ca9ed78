// The core's STAMP codec as JavaScript functions (the addon's `wire`
// namespace), so tools and tests work with exactly the bytes the engine uses.
// Every argument is checked before it is converted: a wrong type is a
// TypeError (ERR_INVALID_ARG_TYPE), an unknown name an ERR_INVALID_ARG_VALUE
// RangeError, a number or bigint that does not fit its field ERR_OUT_OF_RANGE.
#pragma once

#include <napi.h>

namespace rtt::addon {

Napi::Value encode_sender(const Napi::CallbackInfo& info);     // encodeSender(fields, size?, layout?)
Napi::Value decode_sender(const Napi::CallbackInfo& info);     // decodeSender(packet, layout?)
Napi::Value encode_reflector(const Napi::CallbackInfo& info);  // encodeReflector(fields, size?, layout?)
Napi::Value decode_reflector(const Napi::CallbackInfo& info);  // decodeReflector(packet, layout?)
Napi::Value encode_timestamp(const Napi::CallbackInfo& info);  // encodeTimestamp(unixNs, format?)
Napi::Value decode_timestamp(const Napi::CallbackInfo& info);  // decodeTimestamp(wire, format?)
Napi::Value encode_error_estimate(const Napi::CallbackInfo& info);  // encodeErrorEstimate(fields)
Napi::Value decode_error_estimate(const Napi::CallbackInfo& info);  // decodeErrorEstimate(wire)

}  // namespace rtt::addon
