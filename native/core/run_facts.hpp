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

  // On the session thread before its loop: pins it and takes a private file
  // table holding fds when asked. Throws SystemError when pinning is refused,
  // so the caller learns of it before the session counts as started.
  void setup(const PinningRequest& request, bool private_table, const int* fds, size_t n);
  // On the session thread as its loop starts: the clocks.
  void begin(UserClock& clock) noexcept;
  // On the session thread after its loop: stops the clocks and closes the
  // thread's own copies of its descriptors (see close_private_file_table).
  void end(UserClock& clock) noexcept;

 private:
  int64_t cpu_start_ = 0;
};

}  // namespace rtt
