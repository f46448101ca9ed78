// STAMP Session-Reflector. A Responder decides, per request, whether it may
// be answered and builds the reply in place; the Reflector runs it on a
// socket from the calling thread. Stateless by default (the reply echoes the
// sender's sequence number); stateful, authenticated, allow-listed,
// rate-limited and TWAMP-Light compatible when configured. Every request
// that is not answered is counted under the reason.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "allow_list.hpp"
#include "auth.hpp"
#include "open_transport.hpp"
#include "counters.hpp"
#include "pinning.hpp"
#include "progress.hpp"
#include "rate_limit.hpp"
#include "run_facts.hpp"
#include "tcp_server.hpp"
#include "reflector_sessions.hpp"
#include "transport.hpp"
#include "user_clock.hpp"
#include "wire.hpp"

namespace rtt {

struct ReflectorConfig {
  Endpoint bind;
  // Which protocols are served; TCP listens on the UDP socket's port number.
  bool udp = true;
  bool tcp = false;
  size_t max_connections = 1024;  // TCP connections open at once; more are reset and counted
  bool busy_poll = true;
  int socket_busy_poll_us = 0;
  ClockSource clock = ClockSource::Auto;  // T3 and timers
  TimestampSource timestamps = TimestampSource::Auto;
  wire::TimestampFormat format = wire::TimestampFormat::Ntp;
  PinningRequest pinning;
  // The session thread takes a file table of its own (file_table.hpp); the
  // progress sink must then use no file descriptor.
  bool private_file_table = false;
  int64_t duration_ns = 0;  // 0: until stopped
  int64_t progress_interval_ns = 1000000000;

  std::vector<uint8_t> key;          // authenticated mode when set
  std::vector<std::string> allow;    // CIDR prefixes; empty: every source
  double rate_limit_pps = 0;         // replies per second per source address; 0: none
  double global_rate_limit_pps = 0;  // replies per second in total; 0: none
  bool stateful = false;
  size_t max_sessions = 1024;        // stateful mode
  int64_t session_timeout_ns = 60000000000;
  bool twamp_light = false;
  PathOptions path;                  // transport, DSCP, TTL          // also answer 14..43-byte TWAMP-Light requests (replies may be larger)
};

class Responder {
 public:
  // Throws ConfigError (allow-list entry, key, max_sessions). T3 is read on
  // clock, the answering thread's; it outlives the responder.
  Responder(const ReflectorConfig& config, uint64_t seed, UserClock& clock);

  // Answers the request in buf[0, len) from peer: writes the reply over it
  // and returns the reply's length, or returns 0 and counts why not. The
  // reply is never longer than the request, except a TWAMP-Light reply
  // (41 bytes) to a shorter request when twamp_light is on. buf must hold
  // capacity >= max(len, kAuthPacketSize) bytes. received_ns is when the
  // request arrived: its kernel RX stamp, or a clock read where it has none
  // (T2 then); the policy's "now" either way.
  size_t answer(uint8_t* buf, size_t len, size_t capacity, const Endpoint& peer, const RxStamps& stamps,
                int64_t received_ns) noexcept;
  // Expires idle sessions and refilled rate buckets: on a timer, not per packet.
  void sweep(int64_t now) noexcept;

  ReflectorCounters& counters() noexcept { return counters_; }
  const ReflectorCounters& counters() const noexcept { return counters_; }

 private:
  bool parse(const uint8_t* buf, size_t len, wire::SenderPacket& s, size_t& reply_len) noexcept;

  UserClock& clock_;
  wire::TimestampFormat format_;
  wire::Layout layout_;
  bool twamp_light_;
  uint16_t error_estimate_;
  AllowList allow_;
  RateLimiter limiter_;
  std::unique_ptr<PacketAuth> auth_;
  std::unique_ptr<ReflectorSessions> sessions_;
  ReflectorCounters counters_;
};

struct ReflectorProgress {
  int64_t elapsed_ns = 0;
  ReflectorCounters counters;
};

class Reflector {
 public:
  explicit Reflector(const ReflectorConfig& config);  // binds; throws SystemError / ConfigError
  ~Reflector();

  // On the session thread, before run(): pins it as asked and gives it a file
  // table of its own; throws SystemError when pinning is refused.
  void setup();
  // Never inlined, so that profiles and callgrind's --toggle-collect can name the loop.
  [[gnu::noinline]] void run(const std::atomic<bool>& stop, ProgressSink<ReflectorProgress>* sink);
  // Closes the socket once run() has returned, freeing the port; counters and
  // grants stay readable. Call it from a thread that shares the process's file table.
  void close() noexcept;

  const ReflectorConfig& config() const noexcept { return config_; }
  const ReflectorCounters& counters() const noexcept { return responder_.counters(); }
  const RunFacts& run_facts() const noexcept { return run_facts_; }
  // The UDP socket's, or the TCP listener's when only TCP is served.
  const TimestampingGrant& timestamping() const noexcept {
    return transport_ ? transport_->timestamping() : tcp_->timestamping();
  }
  const BusyPollGrant& busy_poll() const noexcept { return transport_ ? transport_->busy_poll() : tcp_->busy_poll(); }
  Endpoint local() const { return transport_ ? transport_->local() : tcp_->local(); }

 private:
  ReflectorConfig config_;
  UserClock clock_;  // read by the session thread only
  Responder responder_;
  std::unique_ptr<Transport> transport_;  // UDP; null when only TCP is served
  std::unique_ptr<TcpServer> tcp_;        // null when only UDP is served
  std::vector<uint8_t> buffer_;
  Datagram datagram_;
  RunFacts run_facts_;
};

}  // namespace rtt
