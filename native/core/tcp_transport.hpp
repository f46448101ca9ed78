// The sender's end of a TCP request/response session (netperf TCP_RR), or of
// one connection per transaction (TCP_CRR): a non-blocking TCP_NODELAY
// socket, requests and replies framed as in tcp_framing.hpp, kernel stamps of
// each request's send and of the peer's ACK of it (SOF_TIMESTAMPING_TX_ACK),
// and RX stamps with the read that completes a reply.
#pragma once

#include <sys/socket.h>

#include "tcp_framing.hpp"
#include "transport.hpp"
#include "user_clock.hpp"

namespace rtt {

struct TcpOptions {
  Endpoint bind;  // wildcard with port 0: the kernel picks at connect
  Endpoint target;
  TimestampSource timestamps = TimestampSource::Auto;
  int busy_poll_us = 0;
  UserClock* user_clock = nullptr;  // Datagram::user_ns is read on it as a reply completes
  size_t packet_size = 0;           // STAMP bytes per request; each frame adds kLengthBytes
  int dscp = 0;
  int ttl = 0;                      // 0: the system default
};

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(const TcpOptions& options);  // no socket until a connect
  ~TcpTransport() override;
  TcpTransport(const TcpTransport&) = delete;
  TcpTransport& operator=(const TcpTransport&) = delete;

  // Opens a connection and waits up to timeout_ns for it: a session's first,
  // so a target that refuses or does not answer fails the start. Throws
  // SystemError (ECONNREFUSED, ETIMEDOUT, ...) naming the target.
  void connect_waiting(int64_t timeout_ns);
  // Starts a connection on a new socket without waiting; false (errno set)
  // when it failed at once.
  bool begin_connect() noexcept;
  // After begin_connect: 1 established (stamping set up), 0 still opening,
  // -1 failed (errno set; the socket is closed).
  int finish_connect() noexcept;
  bool open() const noexcept { return fd_ >= 0; }
  // Resets the connection (SO_LINGER 0, so an RST): neither end keeps a
  // TIME_WAIT socket, and the local port is free again at once.
  void drop() noexcept;

  // One whole reply, copied into d; -1 with errno EAGAIN while it is
  // partial, ECONNRESET when the peer closed or reset the connection,
  // ENOTCONN between connections.
  ssize_t receive(Datagram& d) noexcept override;
  // Writes one framed request; a write the send buffer takes only in part is
  // finished on later calls (EAGAIN for a request sent meanwhile), so a peer
  // that stops reading never blocks the loop.
  ssize_t send(const uint8_t* data, size_t length, const Endpoint* peer) noexcept override;
  // TX stamps carry the request's index on this transport, as on UDP.
  bool read_tx_stamp(TxStamp& out) noexcept override;
  int fd() const noexcept override { return fd_; }
  const TimestampingGrant& timestamping() const noexcept override { return timestamping_; }
  const BusyPollGrant& busy_poll() const noexcept override { return busy_poll_; }
  Endpoint local() const override { return local_; }
  // Ends the session's connection with a FIN, as any client would.
  void close() noexcept override;

 private:
  bool flush() noexcept;
  void set_up_stamping() noexcept;

  TcpOptions options_;
  int fd_ = -1;
  bool first_ = true;  // no connection yet: the first one reads the grants
  Endpoint local_;
  TimestampingGrant timestamping_;
  BusyPollGrant busy_poll_;
  uint64_t requests_ = 0;      // requests written on every connection so far
  uint64_t stamp_base_ = 0;    // requests before this connection's stamp keys start
  size_t frame_size_ = 0;      // kLengthBytes + packet_size
  tcp::FrameReader reader_;
  RxStamps rx_stamps_;         // of the read that completed the reply
  uint8_t header_[tcp::kLengthBytes] = {};
  std::unique_ptr<uint8_t[]> unsent_;  // the rest of a request written in part
  size_t unsent_length_ = 0;
  size_t unsent_offset_ = 0;
  alignas(cmsghdr) uint8_t control_[kControlBufferSize];
  alignas(cmsghdr) uint8_t error_control_[kControlBufferSize];
};

}  // namespace rtt
