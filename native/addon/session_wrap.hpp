// The JS class of a session: new Class(options, onProgress) builds the core
// session on the JS thread and sets up its thread (so bind, connect, pinning,
// priority and mlock failures throw synchronously with an errno `code`), then
// runs it; stop(), setProgressWanted(bool) (onProgress
// is called only while it is true), setProgressCounts(bool) (snapshots carry
// bucket counts only while it is true), the `result` Promise, the `local`
// address and the `timestamping` grant are the rest of its surface. Traits
// supply the conversions.
#pragma once

#include <napi.h>

#include <memory>
#include <string>

#include "session_runner.hpp"

namespace rtt::addon {

template <class Traits>
class SessionWrap : public Napi::ObjectWrap<SessionWrap<Traits>> {
  using Core = typename Traits::Core;
  using Runner = SessionRunner<Core, typename Traits::Progress>;
  using Base = Napi::ObjectWrap<SessionWrap<Traits>>;

 public:
  static Napi::Function define(Napi::Env env) {
    return Base::DefineClass(env, Traits::kName,
                             {Base::template InstanceMethod<&SessionWrap::stop>("stop"),
                              Base::template InstanceMethod<&SessionWrap::set_progress_wanted>("setProgressWanted"),
                              Base::template InstanceMethod<&SessionWrap::set_progress_counts>("setProgressCounts"),
                              Base::template InstanceAccessor<&SessionWrap::result>("result"),
                              Base::template InstanceAccessor<&SessionWrap::local>("local"),
                              Base::template InstanceAccessor<&SessionWrap::timestamping>("timestamping")});
  }

  explicit SessionWrap(const Napi::CallbackInfo& info) : Base(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsObject() || !info[1].IsFunction()) {
      throw invalid_type(env, std::string("new ") + Traits::kName +
                                          "(options, onProgress) needs an options object and a function");
    }
    std::unique_ptr<Core> core;
    try {
      core = std::make_unique<Core>(Traits::config_from_js(info[0].As<Napi::Object>()));
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw error_to_js(env, e);
    }
    try {
      runner_ = Runner::start(env, std::move(core), info[1].As<Napi::Function>(), Traits::progress_to_js,
                              Traits::result_to_js);
    } catch (const Napi::Error&) {
      throw;
    } catch (const std::exception& e) {
      throw error_to_js(env, e);
    }
  }

 private:
  Napi::Value stop(const Napi::CallbackInfo& info) {
    runner_->stop();
    return info.Env().Undefined();
  }
  Napi::Value set_progress_wanted(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsBoolean()) {
      throw invalid_type(info.Env(), "setProgressWanted(wanted) needs a boolean");
    }
    runner_->set_progress_wanted(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  }
  Napi::Value set_progress_counts(const Napi::CallbackInfo& info) {
    if (info.Length() < 1 || !info[0].IsBoolean()) {
      throw invalid_type(info.Env(), "setProgressCounts(wanted) needs a boolean");
    }
    runner_->set_counts_wanted(info[0].As<Napi::Boolean>().Value());
    return info.Env().Undefined();
  }
  Napi::Value result(const Napi::CallbackInfo&) { return runner_->promise(); }
  Napi::Value local(const Napi::CallbackInfo& info) { return endpoint_to_js(info.Env(), Traits::local(runner_->core())); }
  // Settled before the thread starts and never written again, so safe to read while it runs.
  Napi::Value timestamping(const Napi::CallbackInfo& info) {
    return timestamping_to_js(info.Env(), Traits::timestamping(runner_->core()));
  }

  std::shared_ptr<Runner> runner_;
};

}  // namespace rtt::addon
