#include "histogram_record.hpp"

#include "../core/histogram.hpp"
#include "convert.hpp"

namespace rtt::addon {

Napi::Value record_histogram(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    throw invalid_type(info.Env(), "recordHistogram(values) needs a Float64Array of nanosecond values, got " +
                                       type_name(info[0]));
  }
  auto values = info[0].As<Napi::Float64Array>();
  Histogram h;
  for (size_t i = 0; i < values.ElementLength(); ++i) h.record(int64_t(values[i]));
  return histogram_to_js(info.Env(), h);
}

}  // namespace rtt::addon
