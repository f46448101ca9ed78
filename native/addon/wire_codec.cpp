#include "wire_codec.hpp"

#include <algorithm>
#include <limits>
#include <type_traits>

#include "../core/wire.hpp"
#include "convert.hpp"

namespace rtt::addon {
namespace {

// An optional choice argument: its default when absent.
template <class E, size_t N>
E choice_arg(const Napi::CallbackInfo& info, size_t i, const char* what, const Choice<E> (&table)[N], E fallback) {
  if (info.Length() <= i || info[i].IsUndefined()) return fallback;
  if (!info[i].IsString()) {
    throw invalid_type(info.Env(), std::string(what) + " must be a string, got " + type_name(info[i]));
  }
  return to_choice(info.Env(), info[i].As<Napi::String>().Utf8Value(), what, table);
}

wire::TimestampFormat format_arg(const Napi::CallbackInfo& info, size_t i) {
  return choice_arg(info, i, "timestamp format", wire::kTimestampFormats, wire::TimestampFormat::Ntp);
}

wire::Layout layout_arg(const Napi::CallbackInfo& info, size_t i) {
  return choice_arg(info, i, "layout", wire::kLayouts, wire::Layout::Unauthenticated);
}

Napi::Buffer<uint8_t> buffer_arg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    throw invalid_type(info.Env(), "packet must be a Buffer, got " + type_name(info[0]));
  }
  return info[0].As<Napi::Buffer<uint8_t>>();
}

Napi::Object fields_arg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) {
    throw invalid_type(info.Env(), "fields must be an object, got " + type_name(info[0]));
  }
  return info[0].As<Napi::Object>();
}

template <class T>
T field(const Napi::Object& o, const char* key) {
  return T(to_uint(o.Env(), o.Get(key), std::string("field '") + key + "'", 0, std::numeric_limits<T>::max()));
}

// A bigint that fits in 64 bits: signed for nanoseconds, unsigned for wire timestamps.
template <class T>
T to_bigint64(Napi::Env env, const Napi::Value& v, const std::string& what) {
  if (!v.IsBigInt()) throw invalid_type(env, what + " must be a bigint, got " + type_name(v));
  bool lossless = false;
  T n;
  if constexpr (std::is_signed_v<T>) {
    n = v.As<Napi::BigInt>().Int64Value(&lossless);
  } else {
    n = v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (!lossless) {
    throw out_of_range(env, what + " must fit in " + (std::is_signed_v<T> ? "a signed" : "an unsigned") +
                                " 64-bit integer, got " + v.ToString().Utf8Value() + "n");
  }
  return n;
}

uint64_t wire_timestamp_field(const Napi::Object& o, const char* key) {
  return to_bigint64<uint64_t>(o.Env(), o.Get(key), std::string("field '") + key + "'");
}

Napi::BigInt big(Napi::Env env, uint64_t v) { return Napi::BigInt::New(env, v); }

// A zeroed packet of the size asked for (the layout's own by default) to write into.
Napi::Buffer<uint8_t> packet_arg(const Napi::CallbackInfo& info, wire::Layout layout) {
  size_t size = wire::packet_size(layout);
  if (info.Length() >= 2 && !info[1].IsUndefined()) {
    size = to_uint(info.Env(), info[1], "size", size, wire::kMaxPacketSize);
  }
  auto buf = Napi::Buffer<uint8_t>::New(info.Env(), size);
  std::fill(buf.Data(), buf.Data() + buf.Length(), 0);
  return buf;
}

// The fields both packets start with (RFC 8762 4.2.1 and 4.3.1).
template <class Packet>
void read_header(const Napi::Object& o, Packet& p) {
  p.seq = field<uint32_t>(o, "seq");
  p.timestamp = wire_timestamp_field(o, "timestamp");
  p.error_estimate = field<uint16_t>(o, "errorEstimate");
  p.ssid = field<uint16_t>(o, "ssid");
}

template <class Packet>
Napi::Object header_to_js(Napi::Env env, const Packet& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("seq", p.seq);
  o.Set("timestamp", big(env, p.timestamp));
  o.Set("errorEstimate", p.error_estimate);
  o.Set("ssid", p.ssid);
  return o;
}

// encodeX(fields, size?, layout?): a zeroed packet of the size asked for, p written into it.
template <class Packet>
Napi::Value encode(const Napi::CallbackInfo& info, const Packet& p,
                   void (*write)(uint8_t*, const Packet&, wire::Layout) noexcept) {
  wire::Layout layout = layout_arg(info, 2);
  auto buf = packet_arg(info, layout);
  write(buf.Data(), p, layout);
  return buf;
}

}  // namespace

Napi::Value encode_sender(const Napi::CallbackInfo& info) {
  wire::SenderPacket p;
  read_header(fields_arg(info), p);
  return encode(info, p, wire::write_sender);
}

Napi::Value decode_sender(const Napi::CallbackInfo& info) {
  auto buf = buffer_arg(info);
  wire::SenderPacket p;
  if (!wire::read_sender(buf.Data(), buf.Length(), p, layout_arg(info, 1))) return info.Env().Null();
  return header_to_js(info.Env(), p);
}

Napi::Value encode_reflector(const Napi::CallbackInfo& info) {
  Napi::Object o = fields_arg(info);
  wire::ReflectorPacket p;
  read_header(o, p);
  p.receive_timestamp = wire_timestamp_field(o, "receiveTimestamp");
  p.sender_seq = field<uint32_t>(o, "senderSeq");
  p.sender_timestamp = wire_timestamp_field(o, "senderTimestamp");
  p.sender_error_estimate = field<uint16_t>(o, "senderErrorEstimate");
  p.sender_ttl = field<uint8_t>(o, "senderTtl");
  return encode(info, p, wire::write_reflector);
}

Napi::Value decode_reflector(const Napi::CallbackInfo& info) {
  auto buf = buffer_arg(info);
  wire::ReflectorPacket p;
  if (!wire::read_reflector(buf.Data(), buf.Length(), p, layout_arg(info, 1))) return info.Env().Null();
  Napi::Env env = info.Env();
  Napi::Object o = header_to_js(env, p);
  o.Set("receiveTimestamp", big(env, p.receive_timestamp));
  o.Set("senderSeq", p.sender_seq);
  o.Set("senderTimestamp", big(env, p.sender_timestamp));
  o.Set("senderErrorEstimate", p.sender_error_estimate);
  o.Set("senderTtl", p.sender_ttl);
  return o;
}

Napi::Value encode_timestamp(const Napi::CallbackInfo& info) {
  int64_t ns = to_bigint64<int64_t>(info.Env(), info[0], "unixNs");
  return big(info.Env(), wire::encode_timestamp(ns, format_arg(info, 1)));
}

Napi::Value decode_timestamp(const Napi::CallbackInfo& info) {
  uint64_t stamp = to_bigint64<uint64_t>(info.Env(), info[0], "wire timestamp");
  return Napi::BigInt::New(info.Env(), wire::decode_timestamp(stamp, format_arg(info, 1)));
}

Napi::Value encode_error_estimate(const Napi::CallbackInfo& info) {
  Napi::Object o = fields_arg(info);
  Napi::Value synchronized = o.Get("synchronized");
  if (!synchronized.IsBoolean()) {
    throw invalid_type(info.Env(), "field 'synchronized' must be a boolean, got " + type_name(synchronized));
  }
  Napi::Value format = o.Get("format");
  if (!format.IsString()) throw invalid_type(info.Env(), "field 'format' must be a string, got " + type_name(format));
  wire::ErrorEstimate e;
  e.synchronized = synchronized.As<Napi::Boolean>().Value();
  e.format = to_choice(info.Env(), format.As<Napi::String>().Utf8Value(), "field 'format'", wire::kTimestampFormats);
  e.scale = uint8_t(to_uint(info.Env(), o.Get("scale"), "field 'scale'", 0, 63));  // 6 bits
  e.multiplier = field<uint8_t>(o, "multiplier");
  return Napi::Number::New(info.Env(), wire::encode_error_estimate(e));
}

Napi::Value decode_error_estimate(const Napi::CallbackInfo& info) {
  auto stamp = uint16_t(to_uint(info.Env(), info[0], "error estimate", 0, UINT16_MAX));
  wire::ErrorEstimate e = wire::decode_error_estimate(stamp);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("synchronized", e.synchronized);
  o.Set("format", choice_name(wire::kTimestampFormats, e.format));
  o.Set("scale", e.scale);
  o.Set("multiplier", e.multiplier);
  return o;
}

}  // namespace rtt::addon
