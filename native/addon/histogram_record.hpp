// Records values into the core's histogram, so JavaScript builds histograms
// with exactly the buckets the engine uses.
#pragma once

#include <napi.h>

namespace rtt::addon {

Napi::Value record_histogram(const Napi::CallbackInfo& info);  // recordHistogram(Float64Array)

}  // namespace rtt::addon
