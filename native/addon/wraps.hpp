// The session classes, Sender (sender_wrap.cpp), Mesh (mesh_wrap.cpp) and Reflector (reflector_wrap.cpp).
#pragma once

#include <napi.h>

#include "../core/probe_stream.hpp"
#include "convert.hpp"

namespace rtt::addon {

Napi::Function define_sender(Napi::Env env);
Napi::Function define_mesh(Napi::Env env);
// One target's stream from a Sender's options (the Mesh's targets take the same).
StreamConfig stream_config_from_js(const Napi::Object& o, const CommonOptions& common);
Napi::Function define_reflector(Napi::Env env);

}  // namespace rtt::addon
