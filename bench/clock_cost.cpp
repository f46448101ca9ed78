// What a user stamp costs: rtt-probe's UserClock reading the TSC against the
// same clock reading CLOCK_REALTIME through the vDSO, and a bare rdtscp for
// scale. Each is read back to back for a while (the TSC clock re-anchors on
// the vDSO once a millisecond meanwhile, as in a session). Prints JSON:
// nanoseconds per read.
#include <x86intrin.h>

#include <cstdint>
#include <cstdio>

#include "user_clock.hpp"

namespace {

constexpr long kReads = 20000000;

double per_read(rtt::UserClock& clock) {
  volatile int64_t sink = 0;
  int64_t start = rtt::realtime_ns();
  for (long i = 0; i < kReads; i++) sink = sink + clock.now();
  return double(rtt::realtime_ns() - start) / kReads;
}

}  // namespace

int main() {
  rtt::UserClock vdso(rtt::ClockSource::Realtime);
  rtt::UserClock tsc(rtt::ClockSource::Auto);
  per_read(tsc);  // past its 10 ms calibration, served by the vDSO
  double realtime_ns = per_read(vdso);
  double tsc_ns = tsc.granted() == rtt::ClockSource::Tsc ? per_read(tsc) : -1;
  volatile int64_t sink = 0;
  unsigned aux;
  int64_t start = rtt::realtime_ns();
  for (long i = 0; i < kReads; i++) sink = sink + int64_t(__rdtscp(&aux));
  double rdtscp_ns = double(rtt::realtime_ns() - start) / kReads;
  char tsc_json[32] = "null";
  if (tsc_ns >= 0) std::snprintf(tsc_json, sizeof tsc_json, "%.2f", tsc_ns);
  std::printf("{\"realtimeNs\":%.2f,\"tscNs\":%s,\"rdtscpNs\":%.2f}\n", realtime_ns, tsc_json, rdtscp_ns);
  return 0;
}
