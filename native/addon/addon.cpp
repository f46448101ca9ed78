#include <napi.h>

#include "../core/histogram.hpp"
#include "../core/metrics.hpp"
#include "caps.hpp"
#include "wire_codec.hpp"
#include "wraps.hpp"

namespace rtt::addon {

Napi::Object init(Napi::Env env, Napi::Object exports) {
  exports.Set("Sender", define_sender(env));
  exports.Set("Reflector", define_reflector(env));
  exports.Set("wire", codec_exports(env));
  exports.Set("recordHistogram", histogram_recorder(env));
  exports.Set("interfaceCaps", interface_caps_function(env));
  exports.Set("interfaceNames", interface_names_function(env));
  exports.Set("tscClockUnavailable", tsc_clock_unavailable_function(env));
  Napi::Array names = Napi::Array::New(env, kMetricCount);
  for (uint32_t i = 0; i < kMetricCount; ++i) names.Set(i, kMetricNames[i]);
  exports.Set("metricNames", names);
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
