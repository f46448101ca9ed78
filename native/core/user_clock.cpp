#include "user_clock.hpp"

#include <fstream>
#include <sstream>

#include "errors.hpp"

namespace rtt {
namespace {

constexpr int64_t kCalibrationNs = 10000000;  // first rate from a 10 ms baseline; the vDSO serves meanwhile
constexpr int64_t kReanchorNs = 1000000;      // a vDSO read per millisecond keeps the offset to a few ns
constexpr int64_t kBaselineNs = 1000000000;
// Further from the prediction than this, CLOCK_REALTIME was stepped or is
// slewed faster than the rate in use: calibrate again.
constexpr int64_t kMaxErrorNs = 100;
// The vDSO read takes about 50 ticks; a longer one was interrupted (by an
// interrupt, the scheduler, the hypervisor), and its midpoint says little.
constexpr uint64_t kMaxBracketTicks = 400;
constexpr int kAnchorTries = 3;
// A thread that cannot read the vDSO cleanly this many times in a row (under
// valgrind, on a host that steals its CPU constantly) reads it directly.
constexpr uint32_t kMaxFailedAnchors = 8;

std::string read_text(const char* path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

#if defined(__x86_64__)
// A TSC reading and the CLOCK_REALTIME the vDSO computed from (about) it: the
// vDSO reads the TSC somewhere between the two reads around it. False when
// even the narrowest of the tries was interrupted.
bool read_anchor(uint64_t& tsc, int64_t& ns, int tries) noexcept {
  uint64_t bracket = UINT64_MAX;
  for (int i = 0; i < tries && bracket > kMaxBracketTicks; ++i) {
    uint64_t before = __rdtsc();
    int64_t read = realtime_ns();
    uint64_t after = __rdtsc();
    if (after - before < bracket) {
      bracket = after - before;
      tsc = before + bracket / 2;
      ns = read;
    }
  }
  return bracket <= kMaxBracketTicks;
}
#endif

bool has_word(const std::string& text, const std::string& word) {
  std::istringstream words(text);
  for (std::string w; words >> w;) {
    if (w == word) return true;
  }
  return false;
}

}  // namespace

std::string tsc_unusable_reason(const std::string& clocksource, const std::string& cpu_flags) {
#if !defined(__x86_64__)
  (void)clocksource;
  (void)cpu_flags;
  return "the TSC clock is for x86-64 CPUs";
#else
  std::string source = clocksource.substr(0, clocksource.find_first_of(" \n"));
  if (source != "tsc") {
    return "the kernel keeps time with clocksource " + (source.empty() ? std::string("(unknown)") : source) +
           ", not tsc, so the TSC is not known to be stable and synchronized across CPUs";
  }
  for (const char* flag : {"constant_tsc", "nonstop_tsc"}) {
    if (!has_word(cpu_flags, flag)) return std::string("the CPU does not report ") + flag + " (invariant TSC)";
  }
  return "";
#endif
}

std::string host_tsc_unusable_reason() {
  // The first CPU's flags are enough: constant_tsc and nonstop_tsc describe
  // the CPU model, and a TSC out of step across CPUs makes the kernel leave
  // clocksource tsc. Stopping there spares a large host generating the rest.
  std::string flags;
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("flags", 0) == 0) {
      flags = line;
      break;
    }
  }
  return tsc_unusable_reason(read_text("/sys/devices/system/clocksource/clocksource0/current_clocksource"), flags);
}

UserClock::UserClock(ClockSource source) {
  if (source == ClockSource::Realtime) return;
  std::string why = host_tsc_unusable_reason();
  if (!why.empty()) {
    if (source == ClockSource::Tsc) throw ConfigError("clock tsc is not available: " + why + "; use clock realtime");
    return;
  }
#if defined(__x86_64__)
  tsc_ = true;
  // The first reads also fault in the vDSO's data page: more tries.
  uint64_t tsc = 0;
  int64_t ns = 0;
  read_anchor(tsc, ns, 10);
  restart(tsc, ns);
#endif
}

void UserClock::restart(uint64_t tsc, int64_t ns) noexcept {
  anchor_tsc_ = base_tsc_ = next_base_tsc_ = tsc;
  anchor_ns_ = base_ns_ = next_base_ns_ = ns;
  mult_ = 0;
  reanchor_ticks_ = 0;  // every read comes here until the rate is known
}

int64_t UserClock::reanchor() noexcept {
#if defined(__x86_64__)
  if (mult_ == 0) {
    int64_t ns = realtime_ns();
    if (ns - base_ns_ < kCalibrationNs) return ns;
  }
  uint64_t tsc = 0;
  int64_t ns = 0;
  // No clean read this time: keep the anchor, and try again at the next read.
  if (!read_anchor(tsc, ns, kAnchorTries)) {
    if (++failed_anchors_ >= kMaxFailedAnchors) tsc_ = false;
    return ns;
  }
  failed_anchors_ = 0;
  if (mult_ != 0) {
    // A late re-anchor (a descheduled thread) spans many ticks: 128-bit product.
    int64_t predicted = anchor_ns_ + int64_t((static_cast<unsigned __int128>(tsc - anchor_tsc_) * mult_) >> 32);
    int64_t error = ns - predicted;
    if (error > kMaxErrorNs || error < -kMaxErrorNs) {
      ++recalibrations_;
      restart(tsc, ns);
      return ns;
    }
  }
  if (ns - next_base_ns_ >= kBaselineNs) {
    base_tsc_ = next_base_tsc_;
    base_ns_ = next_base_ns_;
    next_base_tsc_ = tsc;
    next_base_ns_ = ns;
  }
  if (ns <= base_ns_ || tsc <= base_tsc_) {
    ++recalibrations_;
    restart(tsc, ns);
    return ns;
  }
  mult_ = uint64_t((static_cast<unsigned __int128>(ns - base_ns_) << 32) / (tsc - base_tsc_));
  reanchor_ticks_ = mult_ ? (uint64_t(kReanchorNs) << 32) / mult_ : 0;
  anchor_tsc_ = tsc;
  anchor_ns_ = ns;
  return ns;
#else
  return realtime_ns();
#endif
}

}  // namespace rtt
