// STAMP Session-Reflector in stateless mode: every valid request is answered
// in place, from the buffer it arrived in, on the calling thread.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "pinning.hpp"
#include "progress.hpp"
#include "transport.hpp"
#include "wire.hpp"

namespace rtt {

struct ReflectorConfig {
  Endpoint bind;
  bool busy_poll = true;
  int socket_busy_poll_us = 0;
  TimestampSource timestamps = TimestampSource::Auto;
  wire::TimestampFormat format = wire::TimestampFormat::Ntp;
  PinningRequest pinning;
  int64_t duration_ns = 0;  // 0: until stopped
  int64_t progress_interval_ns = 1000000000;
};

struct ReflectorCounters {
  uint64_t received = 0;      // datagrams read
  uint64_t reflected = 0;     // replies sent
  uint64_t malformed = 0;     // shorter than a STAMP test packet: dropped, never answered
  uint64_t send_errors = 0;
  uint64_t rx_stamps_missing = 0;  // T2 fell back to the user-space clock
};

struct ReflectorProgress {
  int64_t elapsed_ns = 0;
  ReflectorCounters counters;
};

class Reflector {
 public:
  explicit Reflector(const ReflectorConfig& config);  // binds; throws SystemError
  ~Reflector();

  void run(const std::atomic<bool>& stop, ProgressSink<ReflectorProgress>* sink);

  const ReflectorConfig& config() const noexcept { return config_; }
  const ReflectorCounters& counters() const noexcept { return counters_; }
  const PinningGrant& pinning() const noexcept { return pinning_; }
  const TimestampingGrant& timestamping() const noexcept { return transport_->timestamping(); }
  const BusyPollGrant& busy_poll() const noexcept { return transport_->busy_poll(); }
  Endpoint local() const { return transport_->local(); }
  int64_t started_ns() const noexcept { return started_ns_; }
  int64_t ended_ns() const noexcept { return ended_ns_; }
  int64_t cpu_ns() const noexcept { return cpu_ns_; }  // the session thread's CPU time

 private:
  void reflect(Datagram& d, int64_t t2_user) noexcept;

  ReflectorConfig config_;
  std::unique_ptr<Transport> transport_;
  std::vector<uint8_t> buffer_;
  Datagram datagram_;
  uint16_t error_estimate_ = 0;
  ReflectorCounters counters_;
  PinningGrant pinning_;
  int64_t started_ns_ = 0;
  int64_t ended_ns_ = 0;
  int64_t cpu_ns_ = 0;
};

}  // namespace rtt
