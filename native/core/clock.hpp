// User-space timestamps. CLOCK_REALTIME is the clock the kernel uses for
// software SO_TIMESTAMPING stamps, so user and kernel stamps subtract directly.
#pragma once

#include <cstdint>
#include <ctime>

#include "wire.hpp"

namespace rtt {

inline int64_t realtime_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);  // vDSO: no syscall
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

inline int64_t timespec_ns(const timespec& ts) noexcept {
  return int64_t(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

// CPU time the calling thread has used: a session loop's own cost.
inline int64_t thread_cpu_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return timespec_ns(ts);
}

// The error estimate this host's clock deserves: S from the kernel's NTP
// state (adjtimex), the error from its estimated error when synchronized.
wire::ErrorEstimate local_error_estimate(wire::TimestampFormat format) noexcept;

}  // namespace rtt
