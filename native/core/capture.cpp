#include "capture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "errors.hpp"

namespace rtt {
namespace {

constexpr size_t kBatchRows = 1024;
// Longest row: every column a key of at most 12 characters and a 20-digit value, with punctuation.
constexpr size_t kMaxRowBytes = 64 + kCaptureColumnCount * 40;
constexpr int64_t kIdleSleepNs = 1000000;  // an empty ring: look again in 1 ms
// At the end of the run, a writer that has made no progress for this long
// (a FIFO nobody reads) is given up on and its rows counted as dropped.
constexpr auto kStallLimit = std::chrono::seconds(1);

void sleep_ns(int64_t ns) {
  timespec t{time_t(ns / 1000000000), long(ns % 1000000000)};
  nanosleep(&t, nullptr);
}

char* put(char* out, const char* s) {
  size_t n = std::strlen(s);
  std::memcpy(out, s, n);
  return out + n;
}

char* put(char* out, int64_t v) { return std::to_chars(out, out + 20, v).ptr; }

}  // namespace

std::vector<std::string> capture_columns() {
  std::vector<std::string> c = {"seq", "status"};
  for (const char* t : kTimestampColumns) c.emplace_back(t);
  for (const char* m : kMetricNames) c.emplace_back(m);
  return c;
}

Capture::Capture(const CaptureConfig& config) : config_(config) {
  uint64_t rows = 2;
  while (rows < config_.buffer_rows) rows <<= 1;
  mask_ = rows - 1;
  // O_NONBLOCK: a FIFO without a reader fails here (ENXIO) rather than
  // blocking the caller, and one whose reader stalls cannot wedge the writer.
  fd_ = ::open(config_.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK, 0644);
  if (fd_ < 0) {
    int err = errno;
    std::string hint = err == ENXIO ? " (a FIFO needs its reader first)" : "";
    throw SystemError(err, "cannot write the capture file " + config_.path + hint);
  }
  ring_ = std::make_unique<ProbeRecord[]>(rows);
  batch_.resize(kBatchRows * kMaxRowBytes);
  row_ends_.resize(kBatchRows);
  writer_ = std::thread([this] { writer_main(); });
}

Capture::~Capture() { finish(); }

bool Capture::push_final(const ProbeRecord& r) noexcept {
  auto last_progress = std::chrono::steady_clock::now();
  uint64_t seen_tail = tail_.load(std::memory_order_acquire);
  while (!push(r)) {
    if (final_stalled_) return false;
    uint64_t tail = tail_.load(std::memory_order_acquire);
    auto now = std::chrono::steady_clock::now();
    if (tail != seen_tail) {
      seen_tail = tail;
      last_progress = now;
    } else if (now - last_progress > kStallLimit) {
      final_stalled_ = true;
      return false;
    }
    sleep_ns(100000);
  }
  return true;
}

void Capture::finish() noexcept {
  finishing_.store(true, std::memory_order_release);
  if (writer_.joinable()) writer_.join();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

size_t Capture::format_row(const ProbeRecord& r, char* out) const noexcept {
  const bool csv = config_.format == CaptureFormat::Csv;
  const int64_t times[] = {r.times.t1_user, r.times.t1_kernel, r.times.t1_hw,     r.times.t2,
                           r.times.t3,      r.times.t4_user,   r.times.t4_kernel, r.times.t4_hw};
  MetricValues metrics;
  if (r.status == ProbeStatus::Answered) metrics = metric_values(r.times);
  if (r.has_send_error) metrics.set(Metric::SendError, r.send_error);

  char* p = out;
  // One field: CSV leaves an absent value empty, JSON Lines writes null.
  auto field = [&](const char* name, bool present, int64_t value) {
    if (csv) {
      *p++ = ',';
    } else {
      p = put(p, ",\"");
      p = put(p, name);
      p = put(p, "\":");
    }
    if (present) {
      p = put(p, value);
    } else if (!csv) {
      p = put(p, "null");
    }
  };
  const char* status = kProbeStatusNames[size_t(r.status)];
  if (csv) {
    p = put(p, int64_t(r.seq));
    *p++ = ',';
    p = put(p, status);
  } else {
    p = put(p, "{\"seq\":");
    p = put(p, int64_t(r.seq));
    p = put(p, ",\"status\":\"");
    p = put(p, status);
    *p++ = '"';
  }
  for (size_t i = 0; i < std::size(times); ++i) field(kTimestampColumns[i], times[i] >= 0, times[i]);
  for (size_t m = 0; m < kMetricCount; ++m) field(kMetricNames[m], metrics.has(Metric(m)), metrics.value[m]);
  if (!csv) *p++ = '}';
  *p++ = '\n';
  return size_t(p - out);
}

size_t Capture::write_all(const char* data, size_t size) noexcept {
  auto last_progress = std::chrono::steady_clock::now();
  size_t written = 0;
  while (written < size) {
    ssize_t n = ::write(fd_, data + written, size - written);
    if (n > 0) {
      written += size_t(n);
      last_progress = std::chrono::steady_clock::now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) {
      write_errno_ = errno;
      return written;
    }
    // A pipe or FIFO whose reader is slow: wait for room, but at the end of
    // the run not for ever.
    if (finishing_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() - last_progress > kStallLimit) {
      write_errno_ = EAGAIN;
      return written;
    }
    pollfd pfd{fd_, POLLOUT, 0};
    ::poll(&pfd, 1, 100);
  }
  return written;
}

void Capture::writer_main() noexcept {
  if (config_.format == CaptureFormat::Csv) {
    std::string header;
    for (const std::string& c : capture_columns()) header += (header.empty() ? "" : ",") + c;
    header += '\n';
    write_all(header.data(), header.size());
  }
  for (;;) {
    bool finishing = finishing_.load(std::memory_order_acquire);
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    uint64_t head = head_.load(std::memory_order_acquire);
    if (head == tail) {
      if (finishing) return;
      sleep_ns(kIdleSleepNs);
      continue;
    }
    size_t rows = size_t(std::min<uint64_t>(head - tail, kBatchRows));
    if (write_errno_ != 0) {  // the file takes no more: count what it misses
      tail_.store(tail + rows, std::memory_order_release);
      unwritten_.fetch_add(rows, std::memory_order_relaxed);
      continue;
    }
    size_t bytes = 0;
    for (size_t i = 0; i < rows; ++i) {
      bytes += format_row(ring_[(tail + i) & mask_], batch_.data() + bytes);
      row_ends_[i] = bytes;
    }
    tail_.store(tail + rows, std::memory_order_release);  // the rows are copied out: their slots are free
    size_t written = write_all(batch_.data(), bytes);
    if (written < bytes) {
      size_t whole = size_t(std::upper_bound(row_ends_.begin(), row_ends_.begin() + rows, written) - row_ends_.begin());
      unwritten_.fetch_add(rows - whole, std::memory_order_relaxed);
    }
  }
}

}  // namespace rtt
