// JS class Mesh: new Mesh(options, onSnapshot) starts one loop thread with no
// targets; add(targetOptions) builds a target's stream on this thread (throwing
// on failure) and returns its id, remove(id) lets it go, snapshot() asks for a
// snapshot of every running target, delivered to onSnapshot; stop() and the
// `result` Promise end it as the other sessions do.
#include <iterator>

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

// Flat arrays, a handful of N-API values for any number of targets: a
// scrape of 1 000 targets made as objects took 0.2-0.4 s here.
Napi::Value progress_to_js(Napi::Env env, const MeshProgress& p) {
  const size_t n = p.targets.size();
  constexpr size_t kCounters = std::size(SenderCounters::kNames);
  const size_t slots = n ? p.buckets.size() / n / kMetricCount : 0;
  auto ids = Napi::Float64Array::New(env, n);
  auto last_reply = Napi::Float64Array::New(env, n);
  auto counters = Napi::Float64Array::New(env, n * kCounters);
  auto counts = Napi::Float64Array::New(env, n * kMetricCount);
  auto sums = Napi::Float64Array::New(env, n * kMetricCount);
  auto buckets = Napi::Float64Array::New(env, p.buckets.size());
  for (size_t i = 0; i < n; ++i) {
    const MeshTargetProgress& t = p.targets[i];
    ids[i] = double(t.id);
    last_reply[i] = double(t.last_reply_ns);
    size_t c = i * kCounters;
    t.counters.for_each([&](const char*, uint64_t v) { counters[c++] = double(v); });
    for (size_t m = 0; m < kMetricCount; ++m) {
      counts[i * kMetricCount + m] = double(t.count[m]);
      sums[i * kMetricCount + m] = t.sum[m];
    }
  }
  std::copy(p.buckets.begin(), p.buckets.end(), buckets.Data());
  Napi::Object o = Napi::Object::New(env);
  o.Set("nowNs", double(p.now_ns));
  o.Set("ids", ids);
  o.Set("lastReplyNs", last_reply);
  o.Set("counters", counters);
  o.Set("counts", counts);
  o.Set("sumsNs", sums);
  o.Set("slots", double(slots));
  o.Set("buckets", buckets);
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
