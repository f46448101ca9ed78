// Per-probe capture (docs/results.md#per-probe-capture): one row per measured
// probe, written to a CSV or JSON Lines file. The session loop pushes one
// fixed-size record per probe into a preallocated single-producer /
// single-consumer ring (no allocation, lock or system call); a writer thread
// of the capture's own drains it in batches, formats the rows and writes them.
// A full ring drops the row and counts it, so the loop never waits for a disk.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "choices.hpp"
#include "metrics.hpp"

namespace rtt {

enum class CaptureFormat : uint8_t { Csv, Jsonl };
inline constexpr Choice<CaptureFormat> kCaptureFormats[] = {
    {"csv", CaptureFormat::Csv},
    {"jsonl", CaptureFormat::Jsonl},
};

// What became of a probe. Late: timed out (counted lost), then its reply came.
enum class ProbeStatus : uint8_t { Answered, Lost, Late, InFlight };
inline constexpr const char* kProbeStatusNames[] = {"answered", "lost", "late", "in-flight"};

// The timestamp columns, in ProbeTimes' order; the metric columns follow, as kMetricNames.
inline constexpr const char* kTimestampColumns[] = {"t1.user", "t1.kernel", "t1.hw", "t2",
                                                    "t3",      "t4.user",   "t4.kernel", "t4.hw"};
constexpr size_t kCaptureColumnCount = 2 + std::size(kTimestampColumns) + kMetricCount;
// Every column of a row, in file order: seq, status, the timestamps, the metrics.
std::vector<std::string> capture_columns();

struct ProbeRecord {
  ProbeTimes times;
  int64_t send_error = 0;
  uint32_t seq = 0;
  ProbeStatus status = ProbeStatus::Lost;
  bool has_send_error = false;  // rate mode: T1u against the probe's schedule
};

struct CaptureConfig {
  std::string path;  // empty: no capture
  CaptureFormat format = CaptureFormat::Csv;
  uint32_t buffer_rows = 1u << 16;  // the ring's size, rounded up to a power of two
};

class Capture {
 public:
  // Opens (creates, truncates) the file and starts the writer; throws
  // SystemError naming the path when it cannot be opened for writing.
  explicit Capture(const CaptureConfig& config);
  ~Capture();
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  // Session loop only: one record into the ring; false (the row dropped) when full.
  bool push(const ProbeRecord& r) noexcept {
    uint64_t head = head_.load(std::memory_order_relaxed);
    if (head - cached_tail_ > mask_) {
      cached_tail_ = tail_.load(std::memory_order_acquire);
      if (head - cached_tail_ > mask_) return false;
    }
    ring_[head & mask_] = r;
    head_.store(head + 1, std::memory_order_release);
    return true;
  }
  // Session loop, after its last probe: waits for room while the writer
  // makes progress, so rows flushed at the end are not dropped needlessly.
  bool push_final(const ProbeRecord& r) noexcept;
  // Rows the writer took but could not write (a write error, or a reader
  // that stopped reading): they count as dropped too.
  uint64_t unwritten() const noexcept { return unwritten_.load(std::memory_order_relaxed); }
  // Lets the writer drain what is left, joins it and closes the file. Idempotent.
  void finish() noexcept;

 private:
  void writer_main() noexcept;
  size_t format_row(const ProbeRecord& r, char* out) const noexcept;
  // Bytes written: all of them, or fewer on an error or a stalled reader (write_errno_ set).
  size_t write_all(const char* data, size_t size) noexcept;

  CaptureConfig config_;
  int fd_ = -1;
  std::unique_ptr<ProbeRecord[]> ring_;
  uint64_t mask_ = 0;
  alignas(64) std::atomic<uint64_t> head_{0};  // written by the loop
  uint64_t cached_tail_ = 0;                   // the loop's last look at tail_
  bool final_stalled_ = false;                 // push_final gave up waiting once: it waits no more
  alignas(64) std::atomic<uint64_t> tail_{0};  // written by the writer
  std::atomic<bool> finishing_{false};
  std::atomic<uint64_t> unwritten_{0};
  int write_errno_ = 0;  // writer thread only
  std::vector<char> batch_;
  std::vector<size_t> row_ends_;  // where each row of the batch ends in batch_
  std::thread writer_;
};

}  // namespace rtt
