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
  Ack,        // TCP: the peer's ACK of the request's last byte - T1k
  Connect,    // TCP connect mode: connect() called to connection established
  Transaction,  // TCP connect mode: connect() called to reply read (netperf TCP_CRR)
};
constexpr size_t kMetricCount = 13;

constexpr const char* kMetricNames[kMetricCount] = {
    "rtt.user", "rtt.kernel", "rtt.hw", "residence", "rtt.net", "owd.fwd", "owd.rev", "stack.tx", "stack.rx", "send.error",
    "ack", "connect", "transaction",
};

constexpr size_t index(Metric m) noexcept { return size_t(m); }

// A probe's T1..T4 in ns since the epoch, each from every source it has; -1: absent.
struct ProbeTimes {
  int64_t t1_user = -1, t1_kernel = -1, t1_hw = -1;
  int64_t t2 = -1, t3 = -1;
  int64_t t4_user = -1, t4_kernel = -1, t4_hw = -1;
  int64_t acked = -1;  // TCP: kernel stamp of the peer's ACK of the request's last byte
  int64_t connect_start = -1, connected = -1;  // TCP connect mode, user clock
};

// The round-trip metrics one answered probe yields (all but send.error).
struct MetricValues {
  int64_t value[kMetricCount] = {};
  uint32_t present = 0;  // bit index(m): value[m] was measured
  bool has(Metric m) const noexcept { return present & (1u << index(m)); }
  void set(Metric m, int64_t v) noexcept {
    value[index(m)] = v;
    present |= 1u << index(m);
  }
};

// The formulas of docs/design.md#metrics, written once: the histograms and
// the per-probe capture both take their values from here.
inline MetricValues metric_values(const ProbeTimes& t) noexcept {
  MetricValues v;
  int64_t best = t.t4_user - t.t1_user;
  v.set(Metric::RttUser, best);
  if (t.t1_kernel >= 0 && t.t4_kernel >= 0) {
    best = t.t4_kernel - t.t1_kernel;
    v.set(Metric::RttKernel, best);
  }
  if (t.t1_hw >= 0 && t.t4_hw >= 0) {
    best = t.t4_hw - t.t1_hw;
    v.set(Metric::RttHw, best);
  }
  if (t.t2 >= 0 && t.t3 >= 0) {
    v.set(Metric::Residence, t.t3 - t.t2);
    v.set(Metric::RttNet, best - (t.t3 - t.t2));
  }
  // One-way delays stay in the CLOCK_REALTIME domain the reflector stamps in.
  if (t.t2 >= 0) v.set(Metric::OwdFwd, t.t2 - (t.t1_kernel >= 0 ? t.t1_kernel : t.t1_user));
  if (t.t3 >= 0) v.set(Metric::OwdRev, (t.t4_kernel >= 0 ? t.t4_kernel : t.t4_user) - t.t3);
  if (t.t1_kernel >= 0) v.set(Metric::StackTx, t.t1_kernel - t.t1_user);
  if (t.t4_kernel >= 0) v.set(Metric::StackRx, t.t4_user - t.t4_kernel);
  if (t.acked >= 0 && t.t1_kernel >= 0) v.set(Metric::Ack, t.acked - t.t1_kernel);
  if (t.connect_start >= 0 && t.connected >= 0) {
    v.set(Metric::Connect, t.connected - t.connect_start);
    v.set(Metric::Transaction, t.t4_user - t.connect_start);
  }
  return v;
}

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
  // interval when the range widens, never per packet. Empty unless the sink
  // wants counts.
  size_t counts_from = 0;
  std::vector<uint64_t> counts;
};

}  // namespace rtt
