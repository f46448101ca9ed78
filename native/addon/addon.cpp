// The addon's exports, every one set here: the session classes, the wire
// codec, the histogram recorder, the capability probes, the lab's TUN opener,
// and the lists and constants TypeScript checks its own against (test/native-lists.test.ts).
#include <napi.h>

#include "../core/capture.hpp"
#include "../core/counters.hpp"
#include "../core/histogram.hpp"
#include "../core/metrics.hpp"
#include "../core/probe_stream.hpp"
#include "../core/wire.hpp"
#include "caps.hpp"
#include "convert.hpp"
#include "histogram_record.hpp"
#include "tun.hpp"
#include "wire_codec.hpp"
#include "wraps.hpp"

namespace rtt::addon {
namespace {

template <Napi::Value (*fn)(const Napi::CallbackInfo&)>
void set_function(Napi::Object target, const char* name) {
  target.Set(name, Napi::Function::New<fn>(target.Env(), name));
}

}  // namespace

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("Sender", define_sender(env));
  exports.Set("Reflector", define_reflector(env));
  exports.Set("Mesh", define_mesh(env));

  Napi::Object wire = Napi::Object::New(env);
  wire.Set("packetSize", wire::kPacketSize);
  wire.Set("authPacketSize", wire::kAuthPacketSize);
  wire.Set("replyMinSize", wire::kReplyMinSize);
  wire.Set("maxPacketSize", wire::kMaxPacketSize);
  set_function<encode_sender>(wire, "encodeSender");
  set_function<decode_sender>(wire, "decodeSender");
  set_function<encode_reflector>(wire, "encodeReflector");
  set_function<decode_reflector>(wire, "decodeReflector");
  set_function<encode_timestamp>(wire, "encodeTimestamp");
  set_function<decode_timestamp>(wire, "decodeTimestamp");
  set_function<encode_error_estimate>(wire, "encodeErrorEstimate");
  set_function<decode_error_estimate>(wire, "decodeErrorEstimate");
  exports.Set("wire", wire);

  set_function<record_histogram>(exports, "recordHistogram");
  set_function<interface_caps>(exports, "interfaceCaps");
  set_function<interface_names>(exports, "interfaceNames");
  set_function<tsc_clock_unavailable>(exports, "tscClockUnavailable");
  set_function<open_tun>(exports, "openTun");

  exports.Set("metricNames", names_to_js(env, kMetricNames));
  std::vector<std::string> columns = capture_columns();
  Napi::Array capture_columns_js = Napi::Array::New(env, columns.size());
  for (size_t i = 0; i < columns.size(); ++i) capture_columns_js.Set(uint32_t(i), columns[i]);
  exports.Set("captureColumns", capture_columns_js);
  exports.Set("captureStatuses", names_to_js(env, kProbeStatusNames));
  Napi::Object counter_names = Napi::Object::New(env);
  counter_names.Set("sender", names_to_js(env, SenderCounters::kNames));
  counter_names.Set("reflector", names_to_js(env, ReflectorCounters::kNames));
  exports.Set("counterNames", counter_names);
  Napi::Object choices = Napi::Object::New(env);
  choices.Set("mode", choice_names_to_js(env, kSenderModes));
  choices.Set("protocol", choice_names_to_js(env, kProtocols));
  choices.Set("timestamps", choice_names_to_js(env, kTimestampSources));
  choices.Set("timestampFormat", choice_names_to_js(env, wire::kTimestampFormats));
  choices.Set("clock", choice_names_to_js(env, kClockSources));
  choices.Set("layout", choice_names_to_js(env, wire::kLayouts));
  choices.Set("captureFormat", choice_names_to_js(env, kCaptureFormats));
  choices.Set("transport", choice_names_to_js(env, kTransports));
  exports.Set("choices", choices);

  Napi::Object layout = Napi::Object::New(env);
  layout.Set("subBucketHalfCountMagnitude", Histogram::kSubBucketHalfCountMagnitude);
  layout.Set("bucketCount", Histogram::kBucketCount);
  layout.Set("highestTrackable", double(Histogram::kHighestTrackable));
  exports.Set("histogramLayout", layout);
  return exports;
}

}  // namespace rtt::addon

static Napi::Object Init(Napi::Env env, Napi::Object exports) { return rtt::addon::init(env, exports); }

NODE_API_MODULE(rtt_probe, Init)
