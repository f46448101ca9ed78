// The clock a session loop reads its user-space stamps from (rtt.user's T1 and
// T4, the reflector's T3) and runs its timers on: CLOCK_REALTIME, the clock
// kernel software stamps use, read through the vDSO or from the TSC with a
// conversion calibrated against it. A TSC read costs about half a vDSO read
// (8 against 17 ns here: no fence, no sequence lock, no timespec), and a
// ping-pong round trip reads the clock three or four times.
//
// One UserClock belongs to one thread: it re-anchors itself as it is read.
#pragma once

#include <cstdint>
#include <string>

#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "choices.hpp"
#include "clock.hpp"

namespace rtt {

enum class ClockSource { Auto, Tsc, Realtime };
inline constexpr Choice<ClockSource> kClockSources[] = {
    {"auto", ClockSource::Auto},
    {"tsc", ClockSource::Tsc},
    {"realtime", ClockSource::Realtime},
};

// Why the TSC cannot stand in for CLOCK_REALTIME, or "" when it can: the
// kernel must itself keep time with the TSC (clocksource "tsc", which it
// abandons when it finds the TSC unstable or unsynchronized across CPUs), and
// the TSC must tick at one rate through frequency changes and idle states
// (cpuinfo flags constant_tsc and nonstop_tsc).
std::string tsc_unusable_reason(const std::string& clocksource, const std::string& cpu_flags);
// The same for this host (reads /sys and /proc/cpuinfo).
std::string host_tsc_unusable_reason();

class UserClock {
 public:
  // Auto takes the TSC where the host allows it; Tsc throws ConfigError where
  // it does not, saying why. Either falls back to the vDSO for good when the
  // anchor reads keep being interrupted (granted() then says realtime).
  explicit UserClock(ClockSource source);

  int64_t now() noexcept {
#if defined(__x86_64__)
    if (tsc_) {
      // Unsigned: a read behind the anchor wraps and re-anchors.
      uint64_t ticks = __rdtsc() - anchor_tsc_;
      if (ticks < reanchor_ticks_) return anchor_ns_ + int64_t((ticks * mult_) >> 32);
      return reanchor();
    }
#endif
    return realtime_ns();
  }

  ClockSource granted() const noexcept { return tsc_ ? ClockSource::Tsc : ClockSource::Realtime; }
  uint64_t recalibrations() const noexcept { return recalibrations_; }

 private:
  int64_t reanchor() noexcept;
  void restart(uint64_t tsc, int64_t ns) noexcept;

  bool tsc_ = false;
  // now = anchor_ns_ + (tsc - anchor_tsc_) * mult_ / 2^32 for up to
  // reanchor_ticks_ ticks; then a vDSO read sets a new anchor.
  uint64_t anchor_tsc_ = 0;
  int64_t anchor_ns_ = 0;
  uint64_t mult_ = 0;  // nanoseconds per tick, 32.32 fixed point; 0 while calibrating
  uint64_t reanchor_ticks_ = 0;
  // The rate is measured from base_ to the newest anchor, a baseline of 1-2 s
  // once the clock has run that long; next_base_ takes over every second, so
  // a change in CLOCK_REALTIME's rate (NTP) is followed within seconds.
  uint64_t base_tsc_ = 0;
  int64_t base_ns_ = 0;
  uint64_t next_base_tsc_ = 0;
  int64_t next_base_ns_ = 0;
  uint64_t recalibrations_ = 0;  // times CLOCK_REALTIME left the prediction (stepped or slewed)
  uint32_t failed_anchors_ = 0;   // interrupted anchor reads in a row
};

}  // namespace rtt
