#pragma once

#include <napi.h>

namespace rtt::addon {

Napi::Object codec_exports(Napi::Env env);      // the `wire` namespace
Napi::Function histogram_recorder(Napi::Env env);  // recordHistogram(Float64Array)

}  // namespace rtt::addon
