// How a session ran, one record for senders and reflectors: what pinning and
// the file table granted, the clock it read, and when and at what CPU cost it
// ran. The session thread writes it around its loop; it is read once the
// loop has ended.
#pragma once

#include <cstddef>
#include <cstdint>

#include "pinning.hpp"
#include "user_clock.hpp"

namespace rtt {

struct RunFacts {
  PinningGrant pinning;
  bool private_file_table = false;
  ClockSource clock = ClockSource::Realtime;  // the one granted
  int64_t started_ns = 0;
  int64_t ended_ns = 0;
  int64_t cpu_ns = 0;  // the session thread's CPU time

  // On the session thread before its loop: pins it, takes a private file
  // table holding fds when asked, and starts the clocks.
  void begin(const PinningRequest& request, bool private_table, const int* fds, size_t n, UserClock& clock);
  // On the session thread after its loop.
  void end(UserClock& clock) noexcept;

 private:
  int64_t cpu_start_ = 0;
};

}  // namespace rtt
