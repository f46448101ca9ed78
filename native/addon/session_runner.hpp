// Runs one core session (Sender or Reflector) on a std::thread it owns, the
// loop thread, which takes a file table of its own (core/file_table.hpp) and
// so may not touch the event loop's eventfd. The loop thread first sets
// itself up (pinning, priority, mlock) while start() waits, so a session that
// cannot start throws from its constructor instead of failing later. A second
// thread it owns, the relay, passes progress snapshots on through a
// non-blocking typed ThreadSafeFunction (a full queue drops the snapshot),
// joins the loop thread when it ends and closes the session's sockets (the
// relay shares the process's file table); the result resolves a Promise from
// the TSFN finalizer, which runs on the JS thread after the relay has
// released it and been joined. The TSFN holds no reference on the event
// loop: JavaScript decides what keeps the process alive (ref/unref).
// Environment teardown stops the loop and joins the relay.
#pragma once

#include <napi.h>
#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "../core/errors.hpp"
#include "../core/progress.hpp"
#include "convert.hpp"

namespace rtt::addon {

template <class Core, class Progress>
class SessionRunner final : public ProgressSink<Progress> {
 public:
  using ProgressToJs = Napi::Value (*)(Napi::Env, const Progress&);
  using ResultToJs = Napi::Value (*)(Napi::Env, const Core&);

  static std::shared_ptr<SessionRunner> start(Napi::Env env, std::unique_ptr<Core> core, Napi::Function on_progress,
                                              ProgressToJs progress_to_js, ResultToJs result_to_js) {
    std::shared_ptr<SessionRunner> r(new SessionRunner(env, std::move(core), progress_to_js, result_to_js));
    r->keepalive_ = r;
    r->tsfn_ = Tsfn::New(env, on_progress, "rtt-probe session", 2, 1, r.get(), &SessionRunner::finalize);
    r->tsfn_.Unref(env);
    napi_add_env_cleanup_hook(env, &SessionRunner::on_teardown, r.get());
    r->hook_ = true;
    r->relay_ = std::thread([raw = r.get()] { raw->relay_main(); });
    std::exception_ptr setup_failure;
    {
      std::unique_lock<std::mutex> lock(r->relay_mutex_);
      r->setup_wake_.wait(lock, [&] { return r->setup_done_; });
      setup_failure = r->setup_failure_;
    }
    if (setup_failure) {
      r->setup_failed_ = true;  // the finalizer then settles nothing: the constructor threw instead
      r->relay_.join();         // the loop never ran: this returns at once, the socket closed
      std::rethrow_exception(setup_failure);
    }
    return r;
  }

  ~SessionRunner() override = default;

  Napi::Value promise() const { return promise_.Value(); }
  const Core& core() const { return *core_; }
  // For the thread-safe parts of a core's API (Mesh's add and remove).
  Core& core() { return *core_; }
  void stop() noexcept { stop_.store(true, std::memory_order_relaxed); }
  // Set from JS while it has 'progress' listeners; read once per interval.
  void set_progress_wanted(bool wanted) noexcept { progress_wanted_.store(wanted, std::memory_order_relaxed); }
  bool wanted() const noexcept override { return progress_wanted_.load(std::memory_order_relaxed); }
  void set_counts_wanted(bool wanted) noexcept { counts_wanted_.store(wanted, std::memory_order_relaxed); }
  bool counts_wanted() const noexcept override { return counts_wanted_.load(std::memory_order_relaxed); }

  // On the loop thread, once per progress interval: a futex wake at most.
  void publish(const Progress& snapshot) noexcept override {
    Progress* slot = slots_.acquire();
    if (!slot) return;
    *slot = snapshot;
    {
      std::lock_guard<std::mutex> lock(relay_mutex_);
      ready_[ready_count_++] = slot;  // at most two slots are ever busy
    }
    relay_wake_.notify_one();
  }

 private:
  static void call_js(Napi::Env env, Napi::Function callback, SessionRunner* self, Progress* snapshot) {
    if (!snapshot) return;
    if (env == nullptr) {
      self->slots_.release(snapshot);
      return;
    }
    Napi::Value value = self->progress_to_js_(env, *snapshot);
    self->slots_.release(snapshot);
    if (!callback.IsEmpty() && callback.IsFunction()) callback.Call({value});
  }
  using Tsfn = Napi::TypedThreadSafeFunction<SessionRunner, Progress, &SessionRunner::call_js>;

  SessionRunner(Napi::Env env, std::unique_ptr<Core> core, ProgressToJs progress_to_js, ResultToJs result_to_js)
      : env_(env),
        core_(std::move(core)),
        deferred_(Napi::Promise::Deferred::New(env)),
        // A napi_value dies with its handle scope; `result` is read later.
        promise_(Napi::Persistent<Napi::Object>(deferred_.Promise())),
        progress_to_js_(progress_to_js),
        result_to_js_(result_to_js) {}

  void loop_main() noexcept {
    pthread_setname_np(pthread_self(), "rtt-probe loop");  // what top -H and /proc show
    std::exception_ptr setup_failure;
    try {
      core_->setup();
    } catch (const std::exception&) {
      setup_failure = std::current_exception();
    }
    report_setup(setup_failure);
    if (!setup_failure) {
      try {
        core_->run(stop_, this);
      } catch (const std::exception&) {
        failure_ = std::current_exception();
      }
    }
    {
      std::lock_guard<std::mutex> lock(relay_mutex_);
      loop_done_ = true;
    }
    relay_wake_.notify_one();
  }

  void relay_main() noexcept {
    pthread_setname_np(pthread_self(), "rtt-probe relay");
    std::thread loop;
    try {
      loop = std::thread([this] { loop_main(); });
    } catch (const std::exception&) {
      loop_done_ = true;
      report_setup(std::current_exception());
    }
    for (bool done = false; !done;) {
      Progress* ready[2];
      size_t count;
      {
        std::unique_lock<std::mutex> lock(relay_mutex_);
        relay_wake_.wait(lock, [this] { return ready_count_ > 0 || loop_done_; });
        count = ready_count_;
        std::copy(ready_, ready_ + count, ready);
        ready_count_ = 0;
        done = loop_done_;
      }
      // Outside the lock: the loop never waits on a ThreadSafeFunction call.
      for (size_t i = 0; i < count; ++i) {
        if (tsfn_.NonBlockingCall(ready[i]) != napi_ok) slots_.release(ready[i]);
      }
    }
    if (loop.joinable()) loop.join();
    core_->close();
    tsfn_.Release();
  }

  void report_setup(std::exception_ptr failure) noexcept {
    {
      std::lock_guard<std::mutex> lock(relay_mutex_);
      setup_failure_ = failure;
      setup_done_ = true;
    }
    setup_wake_.notify_one();
  }

  static void finalize(Napi::Env env, void*, SessionRunner* self) {
    if (self->relay_.joinable()) self->relay_.join();
    if (self->hook_) napi_remove_env_cleanup_hook(self->env_, &SessionRunner::on_teardown, self);
    if (!self->tearing_down_ && !self->setup_failed_) {
      Napi::HandleScope scope(env);
      if (self->failure_) {
        try {
          std::rethrow_exception(self->failure_);
        } catch (const std::exception& e) {
          self->deferred_.Reject(error_to_js(env, e).Value());
        }
      } else {
        self->deferred_.Resolve(self->result_to_js_(env, *self->core_));
      }
    }
    self->keepalive_.reset();  // may delete self
  }

  static void on_teardown(void* arg) {
    auto* self = static_cast<SessionRunner*>(arg);
    self->hook_ = false;
    self->tearing_down_ = true;
    self->stop();
    if (self->relay_.joinable()) self->relay_.join();
  }

  napi_env env_;
  std::unique_ptr<Core> core_;
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference promise_;
  ProgressToJs progress_to_js_;
  ResultToJs result_to_js_;
  Tsfn tsfn_;
  std::thread relay_;
  // Read by the session loop on every iteration: its own cache line, so the
  // JS thread freeing snapshot slots next to it never invalidates it.
  alignas(64) std::atomic<bool> stop_{false};
  alignas(64) SnapshotSlots<Progress> slots_;
  std::atomic<bool> progress_wanted_{false};
  std::atomic<bool> counts_wanted_{false};
  std::mutex relay_mutex_;
  std::condition_variable relay_wake_;
  Progress* ready_[2] = {nullptr, nullptr};  // published, not yet passed on
  size_t ready_count_ = 0;
  bool loop_done_ = false;
  std::condition_variable setup_wake_;
  bool setup_done_ = false;
  std::exception_ptr setup_failure_;
  bool setup_failed_ = false;  // JS thread only
  std::exception_ptr failure_;
  std::shared_ptr<SessionRunner> keepalive_;
  bool hook_ = false;
  bool tearing_down_ = false;
};

}  // namespace rtt::addon
