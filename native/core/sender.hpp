// STAMP Session-Sender: drives one or more probe streams (one per reflector)
// from the calling thread, spinning on non-blocking sockets, or blocking in
// ppoll on all of them when busy polling is off.
#pragma once

#include <poll.h>

#include <array>
#include <atomic>
#include <memory>
#include <vector>

#include "capture.hpp"
#include "pinning.hpp"
#include "probe_stream.hpp"
#include "progress.hpp"
#include "run_facts.hpp"
#include "user_clock.hpp"

namespace rtt {

struct SenderConfig {
  std::vector<StreamConfig> streams;
  bool busy_poll = true;  // spin on non-blocking recvmsg; false: block in ppoll
  ClockSource clock = ClockSource::Auto;  // user stamps and timers
  PinningRequest pinning;
  // The session thread takes a file table of its own (file_table.hpp); the
  // progress sink must then use no file descriptor.
  bool private_file_table = false;
  int64_t progress_interval_ns = 1000000000;
  CaptureConfig capture;  // one row per probe; a single stream only
};

struct StreamProgress {
  SenderCounters counters;
  std::array<MetricProgress, kMetricCount> metrics;
};

struct SenderProgress {
  int64_t elapsed_ns = 0;
  std::vector<StreamProgress> streams;  // sized once; copies reuse the storage
};

class Sender {
 public:
  // Opens every stream's socket; throws SystemError / ConfigError.
  explicit Sender(const SenderConfig& config);

  // On the session thread, before run(): pins it as asked and gives it a file
  // table of its own. Throws SystemError when pinning is refused, so a caller
  // can report a session that could not start before any probe is sent.
  void setup();
  // Runs on the session thread, after setup(), until every stream is done or stop is set.
  // Never inlined, so that profiles and callgrind's --toggle-collect can name the loop.
  [[gnu::noinline]] void run(const std::atomic<bool>& stop, ProgressSink<SenderProgress>* sink);
  // Closes every stream's socket and finishes the capture file once run()
  // has returned; results stay readable. Call it from a thread that shares
  // the process's file table.
  void close() noexcept;

  const std::vector<std::unique_ptr<ProbeStream>>& streams() const noexcept { return streams_; }
  const RunFacts& run_facts() const noexcept { return run_facts_; }
  bool busy_poll() const noexcept { return config_.busy_poll; }
  bool stopped() const noexcept { return stopped_; }

 private:
  void publish(int64_t now, ProgressSink<SenderProgress>* sink) noexcept;

  SenderConfig config_;
  UserClock clock_;  // read by the session thread only
  std::unique_ptr<Capture> capture_;
  std::vector<std::unique_ptr<ProbeStream>> streams_;
  std::vector<pollfd> pollfds_;
  SenderProgress progress_;
  RunFacts run_facts_;
  bool stopped_ = false;
};

}  // namespace rtt
