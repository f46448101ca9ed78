// The metrics of docs/design.md#metrics, one name per concept across C++, TypeScript, JSON and CLI.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace rtt {

enum class Metric : uint8_t {
  RttUser,    // T4u - T1u: what an application sees
  RttKernel,  // T4k - T1k: stack to stack
  RttHw,      // T4h - T1h: wire to wire (NIC stamps, one PHC)
  Residence,  // T3 - T2: time inside the reflector
  RttNet,     // best RTT - residence
  OwdFwd,     // T2 - T1: one clock or synced clocks only
  OwdRev,     // T4 - T3: one clock or synced clocks only
  StackTx,    // T1k - T1u
  StackRx,    // T4u - T4k
  SendError,  // rate mode: T1u - the probe's scheduled send time
};
constexpr size_t kMetricCount = 10;

constexpr const char* kMetricNames[kMetricCount] = {
    "rtt.user", "rtt.kernel", "rtt.hw", "residence", "rtt.net", "owd.fwd", "owd.rev", "stack.tx", "stack.rx", "send.error",
};

constexpr size_t index(Metric m) noexcept { return size_t(m); }

// Running figures for one metric in a progress snapshot.
struct MetricProgress {
  uint64_t count = 0;
  int64_t min = 0;
  int64_t p50 = 0;
  int64_t p90 = 0;
  int64_t p99 = 0;
  int64_t p999 = 0;
  int64_t max = 0;
  // The cumulative bucket counts from the bucket of min to that of max (the
  // rest are zero): a reader diffs two snapshots into an interval histogram,
  // and a dropped snapshot only merges two intervals. Grows at a progress
  // interval when the range widens, never per packet.
  size_t counts_from = 0;
  std::vector<uint64_t> counts;
};

}  // namespace rtt
