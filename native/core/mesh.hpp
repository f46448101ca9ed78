// A sender whose targets come and go while it runs: one thread probes every
// target, continuously, in rate mode. The JS thread builds each target's
// stream (allocating, opening its socket) and hands it over through a
// lock-free ring; a removal is a request through the same ring, and the loop
// hands the stream back through a second ring to be destroyed off its path.
// Blocking waits use epoll, so a wake-up costs the targets it concerns, not
// a scan of every socket: ppoll over 1 000 idle UDP sockets took 170 us a
// call here against 0.3 us for epoll_wait, and 1 000 targets at 10/s wake
// the loop some 2 500 times a second. Only the due times, plain integers,
// are scanned.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "counters.hpp"
#include "metrics.hpp"
#include "pinning.hpp"
#include "probe_stream.hpp"
#include "progress.hpp"
#include "run_facts.hpp"
#include "spsc_ring.hpp"
#include "user_clock.hpp"

namespace rtt {

struct MeshConfig {
  bool busy_poll = false;  // spin over every stream; false: block in epoll
  ClockSource clock = ClockSource::Auto;
  PinningRequest pinning;
  // Upper bounds (ns, ascending) every target's samples are counted under (Prometheus buckets).
  std::vector<int64_t> bucket_bounds_ns;
};

struct MeshTargetProgress {
  uint64_t id = 0;
  SenderCounters counters;
  int64_t last_reply_ns = -1;
  std::array<uint64_t, kMetricCount> count{};
  std::array<double, kMetricCount> sum{};  // ns
};

// Cumulative since each target was added: what a scrape reads.
struct MeshProgress {
  int64_t now_ns = 0;  // the loop's clock as it was taken, the one last_reply_ns is read from
  std::vector<MeshTargetProgress> targets;
  // targets x kMetricCount x (bounds + 1) samples per bucket, not cumulative; the last above every bound.
  std::vector<uint64_t> buckets;
};

class Mesh {
 public:
  static constexpr size_t kMaxTargets = 65536;

  // Opens the epoll instance and the wake-up eventfd; throws SystemError / ConfigError.
  explicit Mesh(const MeshConfig& config);
  ~Mesh();

  // JS thread: builds the stream (throws SystemError / ConfigError), watches
  // its socket and hands it to the loop, which starts it at its next wake-up.
  // Returns the target's id.
  uint64_t add(StreamConfig config);
  // JS thread: asks the loop to let the target go; false when no such target is running.
  bool remove(uint64_t id);
  // JS thread: asks the loop for a MeshProgress through the sink, whether or not it is wanted.
  void request_snapshot();

  void setup();
  // Never inlined, so that profiles and callgrind's --toggle-collect can name the loop.
  [[gnu::noinline]] void run(const std::atomic<bool>& stop, ProgressSink<MeshProgress>* sink);
  // After run(), from the thread that joined it: closes the running targets' sockets.
  void close() noexcept;

  const RunFacts& run_facts() const noexcept { return run_facts_; }
  bool busy_poll() const noexcept { return config_.busy_poll; }

 private:
  struct Member {
    uint64_t id = 0;
    std::unique_ptr<ProbeStream> stream;
    int64_t due = 0;         // when the loop must next step it (no socket event needed)
    size_t slot = SIZE_MAX;  // index in active_ while the loop runs it
    bool removing = false;   // JS thread: remove() was asked
  };
  enum class Op : uint8_t { Add, Remove, Snapshot };
  struct Command {
    Op op;
    Member* member;
  };

  // JS thread: destroys the members the loop has let go of.
  void reap() noexcept;
  void send(Command c);
  void take_commands(int64_t now, ProgressSink<MeshProgress>* sink);
  void publish(int64_t now, ProgressSink<MeshProgress>* sink) noexcept;
  void step(Member& m, int64_t now) noexcept;

  MeshConfig config_;
  UserClock clock_;  // read by the loop; streams built on the JS thread only keep a reference
  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  SpscRing<Command> commands_;  // JS thread -> loop
  SpscRing<Member*> retired_;   // loop -> JS thread
  std::unordered_map<uint64_t, std::unique_ptr<Member>> members_;  // JS thread: every member not yet reaped
  uint64_t next_id_ = 1;
  std::vector<Member*> active_;  // the loop's, reserved for kMaxTargets
  MeshProgress progress_;
  RunFacts run_facts_;
};

}  // namespace rtt
