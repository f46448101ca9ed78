/*
 * What a timestamp costs: CLOCK_REALTIME through the vDSO (what rtt-probe
 * uses, the clock kernel software stamps share) against a raw rdtscp, which a
 * TSC clock would need plus a calibrated conversion to CLOCK_REALTIME.
 * Prints JSON: nanoseconds per call of each.
 */
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <x86intrin.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(void) {
  const long n = 20000000;
  volatile int64_t sink = 0;
  int64_t t0 = now_ns();
  for (long i = 0; i < n; i++) sink += now_ns();
  int64_t t1 = now_ns();
  unsigned aux;
  for (long i = 0; i < n; i++) sink += (int64_t)__rdtscp(&aux);
  int64_t t2 = now_ns();
  printf("{\"clockGettimeNs\":%.2f,\"rdtscpNs\":%.2f}\n", (double)(t1 - t0) / n, (double)(t2 - t1) / n);
  return 0;
}
