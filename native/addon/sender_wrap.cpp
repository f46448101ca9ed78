// JS class Sender: new Sender(options, onProgress) opens the socket (throwing
// on failure) and starts probing; `result` is a Promise of the raw result.
#include "../core/sender.hpp"
#include "session_wrap.hpp"
#include "wraps.hpp"

namespace rtt::addon {

StreamConfig stream_config_from_js(const Napi::Object& o, const CommonOptions& common) {
  StreamConfig c;
  c.target = get_endpoint(o, "host", "port");
  c.bind = common.bind;
  c.mode = get_choice(o, "mode", kSenderModes);
  c.protocol = get_choice(o, "protocol", kProtocols);
  c.count = uint64_t(get_number(o, "count"));
  c.duration_ns = common.duration_ns;
  c.warmup = uint32_t(get_uint(o, "warmup", UINT32_MAX));
  c.rate_pps = get_number(o, "rate");
  c.size = size_t(get_uint(o, "size", wire::kMaxPacketSize));
  c.timeout_ns = int64_t(get_number(o, "timeoutNs"));
  c.socket_busy_poll_us = common.socket_busy_poll_us;
  c.timestamps = common.timestamps;
  c.format = common.format;
  c.ssid = uint16_t(get_uint(o, "ssid", UINT16_MAX));
  c.key = get_bytes(o, "key");
  c.stop_on_unreachable = get_bool(o, "stopOnUnreachable");
  c.path = common.path;
  if (Napi::Value mac = o.Get("dstMac"); !mac.IsNull() && !mac.IsUndefined()) {
    c.path.link.dst_mac = parse_mac(get_string(o, "dstMac"));
    if (!c.path.link.dst_mac) throw invalid_value(o.Env(), "option 'dstMac' must be a MAC address like aa:bb:cc:dd:ee:ff");
  }
  return c;
}

namespace {

SenderConfig sender_config_from_js(const Napi::Object& o) {
  CommonOptions common = read_common(o);
  StreamConfig c = stream_config_from_js(o, common);
  SenderConfig config;
  config.streams.push_back(c);
  config.busy_poll = common.busy_poll;
  config.clock = common.clock;
  config.pinning = common.pinning;
  config.private_file_table = common.private_file_table;
  config.progress_interval_ns = common.progress_interval_ns;
  config.capture.path = get_string(o, "captureFile");
  config.capture.format = get_choice(o, "captureFormat", kCaptureFormats);
  config.capture.buffer_rows = uint32_t(get_uint(o, "captureBufferRows", 1u << 24));
  return config;
}

// The JS API probes one target per session: stream 0.
Napi::Value sender_progress_to_js(Napi::Env env, const SenderProgress& p) {
  const StreamProgress& stream = p.streams.front();
  Napi::Object o = Napi::Object::New(env);
  o.Set("elapsedNs", double(p.elapsed_ns));
  o.Set("counters", counters_to_js(env, stream.counters));
  Napi::Object metrics = Napi::Object::New(env);
  for (size_t i = 0; i < kMetricCount; ++i) {
    const MetricProgress& m = stream.metrics[i];
    if (m.count == 0) continue;
    Napi::Object v = Napi::Object::New(env);
    v.Set("count", double(m.count));
    v.Set("min", double(m.min));
    v.Set("p50", double(m.p50));
    v.Set("p90", double(m.p90));
    v.Set("p99", double(m.p99));
    v.Set("p999", double(m.p999));
    v.Set("max", double(m.max));
    if (!m.counts.empty()) {
      Napi::Float64Array counts = Napi::Float64Array::New(env, m.counts.size());
      for (size_t k = 0; k < m.counts.size(); ++k) counts[k] = double(m.counts[k]);
      v.Set("countsFrom", double(m.counts_from));
      v.Set("counts", counts);
    }
    metrics.Set(kMetricNames[i], v);
  }
  o.Set("metrics", metrics);
  return o;
}

Napi::Value sender_result_to_js(Napi::Env env, const Sender& sender) {
  const ProbeStream& s = *sender.streams().front();
  Napi::Object o = Napi::Object::New(env);
  o.Set("counters", counters_to_js(env, s.counters()));
  Napi::Object stamps = Napi::Object::New(env);
  stamps.Set("txSoftware", double(s.stamps().tx_software));
  stamps.Set("txHardware", double(s.stamps().tx_hardware));
  stamps.Set("rxSoftware", double(s.stamps().rx_software));
  stamps.Set("rxHardware", double(s.stamps().rx_hardware));
  o.Set("stamps", stamps);
  Napi::Object metrics = Napi::Object::New(env);
  Napi::Object missing = Napi::Object::New(env);
  for (size_t i = 0; i < kMetricCount; ++i) {
    Metric m = Metric(i);
    if (s.histogram(m).count() > 0) {
      metrics.Set(kMetricNames[i], histogram_to_js(env, s.histogram(m)));
    } else if (std::string why = s.missing_reason(m); !why.empty()) {
      missing.Set(kMetricNames[i], why);
    }
  }
  o.Set("metrics", metrics);
  o.Set("missing", missing);
  set_run_facts(o, sender.run_facts(), s.timestamping(), s.busy_poll(), s.local());
  o.Set("sendSpanNs", double(s.send_span_ns()));
  o.Set("stopped", sender.stopped());
  o.Set("lastSendError", s.last_send_errno() ? Napi::Value(Napi::String::New(env, errno_name(s.last_send_errno())))
                                             : env.Null());
  return o;
}

struct SenderTraits {
  using Core = Sender;
  using Progress = SenderProgress;
  static constexpr const char* kName = "Sender";
  static constexpr auto config_from_js = sender_config_from_js;
  static constexpr auto progress_to_js = sender_progress_to_js;
  static constexpr auto result_to_js = sender_result_to_js;
  static Endpoint local(const Sender& s) { return s.streams().front()->local(); }
  static const TimestampingGrant& timestamping(const Sender& s) { return s.streams().front()->timestamping(); }
};

}  // namespace

Napi::Function define_sender(Napi::Env env) { return SessionWrap<SenderTraits>::define(env); }

}  // namespace rtt::addon
