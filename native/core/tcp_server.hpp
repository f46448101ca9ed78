// The reflector's TCP side (reflect --proto tcp): a listening socket, the
// accepted connections in a table sized once, each request read whole
// (tcp_framing.hpp) and answered in place by the reflector's Responder, with
// T2 the kernel RX stamp of the read that completed the request. One epoll
// set covers the listener and every connection; a peer that stalls mid-request
// holds only its own slot, until its deadline.
#pragma once

#include <sys/epoll.h>

#include <memory>
#include <vector>

#include "counters.hpp"
#include "tcp_framing.hpp"
#include "timestamping.hpp"
#include "transport.hpp"
#include "user_clock.hpp"

namespace rtt {

class Responder;

struct TcpServerOptions {
  Endpoint bind;
  TimestampSource timestamps = TimestampSource::Auto;
  size_t max_connections = 1024;
  int64_t request_timeout_ns = 2000000000;  // a partial request older than this closes its connection
  int dscp = 0;  // of the replies (accepted connections inherit the listener's)
  int ttl = 0;
  int busy_poll_us = 0;  // SO_BUSY_POLL on the listener, which accepted connections inherit
};

class TcpServer {
 public:
  // Binds and listens; throws SystemError (EADDRINUSE, ...) naming the address.
  explicit TcpServer(const TcpServerOptions& options);
  ~TcpServer();
  TcpServer(const TcpServer&) = delete;
  TcpServer& operator=(const TcpServer&) = delete;

  // Accepts waiting connections and answers every whole request that has
  // arrived; true when it did any work. now is the loop's timer clock.
  bool step(Responder& responder, UserClock& clock, int64_t now) noexcept;
  // Closes connections whose partial request is past its deadline (a stalled
  // or slowloris peer): on the sweep timer, not per packet.
  void expire(int64_t now, ReflectorCounters& counters) noexcept;
  // Readable when the listener or any connection is: for a blocking wait.
  int fd() const noexcept { return epoll_fd_; }
  int listener() const noexcept { return listen_fd_; }
  const TimestampingGrant& timestamping() const noexcept { return timestamping_; }
  const BusyPollGrant& busy_poll() const noexcept { return busy_poll_; }
  Endpoint local() const { return local_; }
  // Closes the listener and every connection; idempotent.
  void close() noexcept;

 private:
  struct Connection {
    int fd = -1;
    Endpoint peer;
    int64_t partial_since = -1;  // when the request now partial began arriving
    std::unique_ptr<tcp::FrameReader> reader;  // allocated at the slot's first use, then reused
  };

  void accept_waiting(ReflectorCounters& counters) noexcept;
  void serve(Connection& c, Responder& responder, UserClock& clock, int64_t now) noexcept;
  void release(Connection& c) noexcept;

  TcpServerOptions options_;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  Endpoint local_;
  TimestampingGrant timestamping_;
  BusyPollGrant busy_poll_;
  std::vector<Connection> connections_;
  std::vector<uint32_t> free_;  // indices of unused slots, a stack
  epoll_event events_[64];
  alignas(cmsghdr) uint8_t control_[kControlBufferSize];
};

}  // namespace rtt
