#pragma once

#include <sys/socket.h>

#include "transport.hpp"
#include "user_clock.hpp"

namespace rtt {

struct UdpOptions {
  Endpoint bind;              // family decides IPv4/IPv6; port 0 picks one
  const Endpoint* connect = nullptr;
  TimestampSource timestamps = TimestampSource::Auto;
  bool tx_timestamps = true;  // TX stamps on the error queue (senders)
  bool receive_ttl = true;    // IP_RECVTTL / IPV6_RECVHOPLIMIT (reflectors report the sender's TTL)
  int busy_poll_us = 0;       // SO_BUSY_POLL; 0 leaves the socket default
  int dscp = 0;               // 0..63, the upper six bits of the TOS / traffic class
  int ttl = 0;                // TTL / hop limit; 0: the system default
  UserClock* user_clock = nullptr;  // when set, Datagram::user_ns is read on it as the receive returns (the sender's T4)
};

class UdpTransport final : public Transport {
 public:
  // Throws SystemError (EADDRINUSE, EACCES, ...) with the address in the message.
  explicit UdpTransport(const UdpOptions& options);
  ~UdpTransport() override;
  UdpTransport(const UdpTransport&) = delete;
  UdpTransport& operator=(const UdpTransport&) = delete;

  ssize_t receive(Datagram& d) noexcept override;
  ssize_t send(const uint8_t* data, size_t length, const Endpoint* peer) noexcept override;
  bool read_tx_stamp(TxStamp& out) noexcept override;
  int fd() const noexcept override { return fd_; }
  const TimestampingGrant& timestamping() const noexcept override { return timestamping_; }
  const BusyPollGrant& busy_poll() const noexcept override { return busy_poll_; }
  Endpoint local() const override { return local_; }
  void close() noexcept override;

 private:
  int fd_ = -1;
  Endpoint local_;  // read once bound: no system call for a closed socket
  bool connected_ = false;
  bool control_expected_ = true;  // RX stamps or TTL arrive as control messages
  UserClock* user_clock_ = nullptr;
  TimestampingGrant timestamping_;
  BusyPollGrant busy_poll_;
  // Reused for every recvmsg so the per-packet path never allocates.
  alignas(cmsghdr) uint8_t control_[kControlBufferSize];
  alignas(cmsghdr) uint8_t error_control_[kControlBufferSize];
};

}  // namespace rtt
