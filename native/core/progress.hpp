// Progress snapshots leave the session thread through a sink called once per
// progress interval, never per packet, and only while the sink wants them: a
// session nobody watches takes no snapshot and wakes no consumer.
// SnapshotSlots is the double buffer a sink can use: the loop fills a free
// slot, the consumer frees it after reading, and with both slots busy the
// snapshot is dropped, never waited for.
#pragma once

#include <atomic>
#include <cstddef>

namespace rtt {

template <class Snapshot>
class ProgressSink {
 public:
  virtual ~ProgressSink() = default;
  virtual bool wanted() const noexcept = 0;
  // Whether snapshots carry each metric's bucket counts: copying them costs
  // the loop a few hundred KiB a snapshot, and only interval logs read them.
  virtual bool counts_wanted() const noexcept { return false; }
  virtual void publish(const Snapshot& snapshot) noexcept = 0;
};

template <class Snapshot>
class SnapshotSlots {
 public:
  Snapshot* acquire() noexcept {
    for (size_t i = 0; i < 2; ++i) {
      bool expected = false;
      if (busy_[i].compare_exchange_strong(expected, true, std::memory_order_acq_rel)) return &slots_[i];
    }
    return nullptr;
  }
  void release(Snapshot* s) noexcept { busy_[s - slots_].store(false, std::memory_order_release); }

 private:
  Snapshot slots_[2];
  std::atomic<bool> busy_[2] = {false, false};
};

}  // namespace rtt
