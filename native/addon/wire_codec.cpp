// The core's STAMP codec and histogram exposed to JavaScript, so tools and
// tests work with exactly the bytes and buckets the engine uses.
#include "wire_codec.hpp"

#include "../core/histogram.hpp"
#include "../core/wire.hpp"
#include "convert.hpp"

namespace rtt::addon {
namespace {

wire::TimestampFormat format_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return wire::TimestampFormat::Ntp;
  std::string f = info[i].As<Napi::String>().Utf8Value();
  if (f == "ntp") return wire::TimestampFormat::Ntp;
  if (f == "ptp") return wire::TimestampFormat::Ptp;
  throw Napi::RangeError::New(info.Env(), "timestamp format must be 'ntp' or 'ptp'");
}

wire::Layout layout_arg(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || info[i].IsUndefined()) return wire::Layout::Unauthenticated;
  std::string l = info[i].IsString() ? info[i].As<Napi::String>().Utf8Value() : "";
  if (l == "unauthenticated") return wire::Layout::Unauthenticated;
  if (l == "authenticated") return wire::Layout::Authenticated;
  throw Napi::RangeError::New(info.Env(), "layout must be 'unauthenticated' or 'authenticated'");
}

Napi::Buffer<uint8_t> buffer_arg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(info.Env(), "expected a Buffer");
  return info[0].As<Napi::Buffer<uint8_t>>();
}

Napi::Object object_arg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(info.Env(), "expected an object");
  return info[0].As<Napi::Object>();
}

uint64_t u64(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBigInt()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a bigint");
  bool lossless;
  return v.As<Napi::BigInt>().Uint64Value(&lossless);
}

Napi::BigInt big(Napi::Env env, uint64_t v) { return Napi::BigInt::New(env, v); }

size_t size_arg(const Napi::CallbackInfo& info, wire::Layout layout) {
  size_t min = wire::packet_size(layout);
  if (info.Length() < 2 || info[1].IsUndefined()) return min;
  double n = info[1].As<Napi::Number>().DoubleValue();
  if (n < min || n > 65507) throw Napi::RangeError::New(info.Env(), "size must be " + std::to_string(min) + "..65507");
  return size_t(n);
}

Napi::Value encode_sender(const Napi::CallbackInfo& info) {
  Napi::Object o = object_arg(info);
  wire::SenderPacket p;
  p.seq = uint32_t(get_number(o, "seq"));
  p.timestamp = u64(o, "timestamp");
  p.error_estimate = uint16_t(get_number(o, "errorEstimate"));
  p.ssid = uint16_t(get_number(o, "ssid"));
  wire::Layout layout = layout_arg(info, 2);
  auto buf = Napi::Buffer<uint8_t>::New(info.Env(), size_arg(info, layout));
  std::fill(buf.Data(), buf.Data() + buf.Length(), 0);
  wire::write_sender(buf.Data(), p, layout);
  return buf;
}

Napi::Value decode_sender(const Napi::CallbackInfo& info) {
  auto buf = buffer_arg(info);
  wire::SenderPacket p;
  if (!wire::read_sender(buf.Data(), buf.Length(), p, layout_arg(info, 1))) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("seq", p.seq);
  o.Set("timestamp", big(info.Env(), p.timestamp));
  o.Set("errorEstimate", p.error_estimate);
  o.Set("ssid", p.ssid);
  return o;
}

Napi::Value encode_reflector(const Napi::CallbackInfo& info) {
  Napi::Object o = object_arg(info);
  wire::ReflectorPacket p;
  p.seq = uint32_t(get_number(o, "seq"));
  p.timestamp = u64(o, "timestamp");
  p.error_estimate = uint16_t(get_number(o, "errorEstimate"));
  p.ssid = uint16_t(get_number(o, "ssid"));
  p.receive_timestamp = u64(o, "receiveTimestamp");
  p.sender_seq = uint32_t(get_number(o, "senderSeq"));
  p.sender_timestamp = u64(o, "senderTimestamp");
  p.sender_error_estimate = uint16_t(get_number(o, "senderErrorEstimate"));
  p.sender_ttl = uint8_t(get_number(o, "senderTtl"));
  wire::Layout layout = layout_arg(info, 2);
  auto buf = Napi::Buffer<uint8_t>::New(info.Env(), size_arg(info, layout));
  std::fill(buf.Data(), buf.Data() + buf.Length(), 0);
  wire::write_reflector(buf.Data(), p, layout);
  return buf;
}

Napi::Value decode_reflector(const Napi::CallbackInfo& info) {
  auto buf = buffer_arg(info);
  wire::ReflectorPacket p;
  if (!wire::read_reflector(buf.Data(), buf.Length(), p, layout_arg(info, 1))) return info.Env().Null();
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("seq", p.seq);
  o.Set("timestamp", big(env, p.timestamp));
  o.Set("errorEstimate", p.error_estimate);
  o.Set("ssid", p.ssid);
  o.Set("receiveTimestamp", big(env, p.receive_timestamp));
  o.Set("senderSeq", p.sender_seq);
  o.Set("senderTimestamp", big(env, p.sender_timestamp));
  o.Set("senderErrorEstimate", p.sender_error_estimate);
  o.Set("senderTtl", p.sender_ttl);
  return o;
}

Napi::Value encode_timestamp(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBigInt()) throw Napi::TypeError::New(info.Env(), "expected nanoseconds as a bigint");
  bool lossless;
  int64_t ns = info[0].As<Napi::BigInt>().Int64Value(&lossless);
  return big(info.Env(), wire::encode_timestamp(ns, format_arg(info, 1)));
}

Napi::Value decode_timestamp(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsBigInt()) throw Napi::TypeError::New(info.Env(), "expected a wire timestamp bigint");
  bool lossless;
  uint64_t wire = info[0].As<Napi::BigInt>().Uint64Value(&lossless);
  return Napi::BigInt::New(info.Env(), wire::decode_timestamp(wire, format_arg(info, 1)));
}

Napi::Value encode_error_estimate(const Napi::CallbackInfo& info) {
  Napi::Object o = object_arg(info);
  wire::ErrorEstimate e;
  e.synchronized = get_bool(o, "synchronized");
  e.format = get_string(o, "format") == "ptp" ? wire::TimestampFormat::Ptp : wire::TimestampFormat::Ntp;
  e.scale = uint8_t(get_number(o, "scale"));
  e.multiplier = uint8_t(get_number(o, "multiplier"));
  return Napi::Number::New(info.Env(), wire::encode_error_estimate(e));
}

Napi::Value decode_error_estimate(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a number");
  wire::ErrorEstimate e = wire::decode_error_estimate(uint16_t(info[0].As<Napi::Number>().Uint32Value()));
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("synchronized", e.synchronized);
  o.Set("format", e.format == wire::TimestampFormat::Ptp ? "ptp" : "ntp");
  o.Set("scale", e.scale);
  o.Set("multiplier", e.multiplier);
  return o;
}

Napi::Value record_histogram(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw Napi::TypeError::New(info.Env(), "expected a Float64Array of nanosecond values");
  }
  auto values = info[0].As<Napi::Float64Array>();
  Histogram h;
  for (size_t i = 0; i < values.ElementLength(); ++i) h.record(int64_t(values[i]));
  return histogram_to_js(info.Env(), h);
}

}  // namespace

Napi::Object codec_exports(Napi::Env env) {
  Napi::Object wire = Napi::Object::New(env);
  wire.Set("packetSize", Napi::Number::New(env, wire::kPacketSize));
  wire.Set("authPacketSize", Napi::Number::New(env, wire::kAuthPacketSize));
  wire.Set("replyMinSize", Napi::Number::New(env, wire::kReplyMinSize));
  wire.Set("encodeSender", Napi::Function::New<encode_sender>(env, "encodeSender"));
  wire.Set("decodeSender", Napi::Function::New<decode_sender>(env, "decodeSender"));
  wire.Set("encodeReflector", Napi::Function::New<encode_reflector>(env, "encodeReflector"));
  wire.Set("decodeReflector", Napi::Function::New<decode_reflector>(env, "decodeReflector"));
  wire.Set("encodeTimestamp", Napi::Function::New<encode_timestamp>(env, "encodeTimestamp"));
  wire.Set("decodeTimestamp", Napi::Function::New<decode_timestamp>(env, "decodeTimestamp"));
  wire.Set("encodeErrorEstimate", Napi::Function::New<encode_error_estimate>(env, "encodeErrorEstimate"));
  wire.Set("decodeErrorEstimate", Napi::Function::New<decode_error_estimate>(env, "decodeErrorEstimate"));
  return wire;
}

Napi::Function histogram_recorder(Napi::Env env) {
  return Napi::Function::New<record_histogram>(env, "recordHistogram");
}

}  // namespace rtt::addon
