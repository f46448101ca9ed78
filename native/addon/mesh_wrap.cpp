// JS class Mesh: new Mesh(options, onSnapshot) starts one loop thread with no
// targets; add(targetOptions) builds a target's stream on this thread (throwing
// on failure) and returns its id, remove(id) lets it go, snapshot() asks for a
// snapshot of every running target, delivered to onSnapshot; stop() and the
// `result` Promise end it as the other sessions do.
#include "../core/mesh.hpp"
#include "session_runner.hpp"
#include "wraps.hpp"

namespace rtt::addon {
namespace {

using Runner = SessionRunner<Mesh, MeshProgress>;

MeshConfig mesh_config_from_js(const Napi::Object& o) {
  MeshConfig c;
  c.busy_poll = get_bool(o, "busyPoll");
  c.clock = get_choice(o, "clock", kClockSources);
  c.pinning.cpu = int(get_number(o, "cpu"));
  c.pinning.rt_priority = int(get_number(o, "rtPriority"));
  c.pinning.mlock = get_bool(o, "mlock");
  Napi::Value bounds = o.Get("bucketBoundsNs");
  if (!bounds.IsArray()) throw invalid_type(o.Env(), "option 'bucketBoundsNs' must be an array of numbers");
  Napi::Array a = bounds.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value v = a.Get(i);
    if (!v.IsNumber()) throw invalid_type(o.Env(), "option 'bucketBoundsNs' must be an array of numbers");
    c.bucket_bounds_ns.push_back(int64_t(v.As<Napi::Number>().DoubleValue()));
  }
  return c;
}

Napi::Value progress_to_js(Napi::Env env, const MeshProgress& p) {
  const size_t slots = p.targets.empty() ? 0 : p.buckets.size() / p.targets.size() / kMetricCount;
  Napi::Object o = Napi::Object::New(env);
  o.Set("nowNs", double(p.now_ns));
  Napi::Array targets = Napi::Array::New(env, p.targets.size());
  for (size_t i = 0; i < p.targets.size(); ++i) {
    const MeshTargetProgress& t = p.targets[i];
    Napi::Object to = Napi::Object::New(env);
    to.Set("id", double(t.id));
    to.Set("counters", counters_to_js(env, t.counters));
    to.Set("lastReplyNs", t.last_reply_ns < 0 ? env.Null() : Napi::Number::New(env, double(t.last_reply_ns)));
    Napi::Object metrics = Napi::Object::New(env);
    for (size_t m = 0; m < kMetricCount; ++m) {
      if (t.count[m] == 0) continue;
      Napi::Object mo = Napi::Object::New(env);
      mo.Set("count", double(t.count[m]));
      mo.Set("sumNs", t.sum[m]);
      Napi::Float64Array buckets = Napi::Float64Array::New(env, slots);
      const uint64_t* from = p.buckets.data() + (i * kMetricCount + m) * slots;
      for (size_t b = 0; b < slots; ++b) buckets[b] = double(from[b]);
      mo.Set("buckets", buckets);
      metrics.Set(kMetricNames[m], mo);
    }
    to.Set("metrics", metrics);
    targets.Set(uint32_t(i), to);
  }
  o.Set("targets", targets);
  return o;
}

Napi::Value result_to_js(Napi::Env env, const Mesh& mesh) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("startedAtNs", Napi::BigInt::New(env, mesh.run_facts().started_ns));
  o.Set("endedAtNs", Napi::BigInt::New(env, mesh.run_facts().ended_ns));
  o.Set("cpuNs", double(mesh.run_facts().cpu_ns));
  return o;
}

class MeshWrap : public Napi::ObjectWrap<MeshWrap> {
 public:
  static Napi::Function define(Napi::Env env) {
    return DefineClass(env, "Mesh",
                       {InstanceMethod<&MeshWrap::add>("add"), InstanceMethod<&MeshWrap::remove>("remove"),
                        InstanceMethod<&MeshWrap::snapshot>("snapshot"), InstanceMethod<&MeshWrap::stop>("stop"),
                        InstanceAccessor<&MeshWrap::result>("result")});
  }

  explicit MeshWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<MeshWrap>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throw invalid_type(env, "new Mesh(options, onSnapshot) needs an options object and a function");
    }
    try {
      runner_ = Runner::start(env, std::make_unique<Mesh>(mesh_config_from_js(info[0].As<Napi::Object>())),
                              info[1].As<Napi::Function>(), progress_to_js, result_to_js);
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw error_to_js(env, e);
    }
  }

 private:
  Napi::Value add(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsObject()) throw invalid_type(info.Env(), "add(target) needs an options object");
    Napi::Object o = info[0].As<Napi::Object>();
    try {
      StreamConfig c = stream_config_from_js(o, read_common(o));
      c.jitter = get_number(o, "jitter");
      return Napi::Number::New(info.Env(), double(runner_->core().add(c)));
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw error_to_js(info.Env(), e);
    }
  }
  Napi::Value remove(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsNumber()) throw invalid_type(info.Env(), "remove(id) needs a target id");
    return Napi::Boolean::New(info.Env(), runner_->core().remove(uint64_t(info[0].As<Napi::Number>().DoubleValue())));
  }
  Napi::Value snapshot(const Napi::CallbackInfo& info) {
    runner_->core().request_snapshot();
    return info.Env().Undefined();
  }
  Napi::Value stop(const Napi::CallbackInfo& info) {
    runner_->stop();
    return info.Env().Undefined();
  }
  Napi::Value result(const Napi::CallbackInfo&) { return runner_->promise(); }

  std::shared_ptr<Runner> runner_;
};

}  // namespace

Napi::Function define_mesh(Napi::Env env) { return MeshWrap::define(env); }

}  // namespace rtt::addon
