// What the sender and reflector loops need from a socket. UDP and TCP
// (tcp_transport.hpp) implement it; a raw AF_PACKET transport is another
// implementation of the same calls.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstddef>
#include <cstdint>

#include "address.hpp"
#include "choices.hpp"
#include "timestamping.hpp"

namespace rtt {

// The protocol a session's STAMP packets travel in. TCP frames them on a stream (tcp_framing.hpp).
enum class Protocol : uint8_t { Udp, Tcp };
inline constexpr Choice<Protocol> kProtocols[] = {
    {"udp", Protocol::Udp},
    {"tcp", Protocol::Tcp},
};

struct Datagram {
  uint8_t* data = nullptr;
  size_t capacity = 0;
  size_t length = 0;
  RxStamps stamps;
  int64_t user_ns = -1;  // the user clock as the receive returned, where the transport was given one
  Endpoint peer;
};

struct BusyPollGrant {
  int requested_us = 0;
  bool granted = false;
  int refused_errno = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Non-blocking; -1 with errno EAGAIN when nothing is waiting.
  virtual ssize_t receive(Datagram& d) noexcept = 0;
  // peer == nullptr sends to the connected peer.
  virtual ssize_t send(const uint8_t* data, size_t length, const Endpoint* peer) noexcept = 0;
  // Drains one TX timestamp from the error queue; false when none is waiting.
  virtual bool read_tx_stamp(TxStamp& out) noexcept = 0;
  // For poll/ppoll: readable when data waits, POLLERR when the error queue does.
  virtual int fd() const noexcept = 0;
  virtual const TimestampingGrant& timestamping() const noexcept = 0;
  virtual const BusyPollGrant& busy_poll() const noexcept = 0;
  // The address bound (and the real port when 0 was asked for); still
  // readable after close().
  virtual Endpoint local() const = 0;
  // Releases the socket once the loop that used it has ended, so its port is
  // free again and the process's descriptor count back where it was; the
  // grants stay readable. Idempotent.
  virtual void close() noexcept = 0;
};

// Blocking waits wake at least this often to see a stop request.
constexpr int64_t kMaxBlockNs = 20000000;

// Blocks until one of the sockets has data or an error-queue entry (POLLERR
// is always reported), or timeout_ns passes: the loops' non-busy-poll wait.
inline void wait_readable(pollfd* fds, size_t n, int64_t timeout_ns) noexcept {
  if (timeout_ns < 0) timeout_ns = 0;
  timespec ts{time_t(timeout_ns / 1000000000), long(timeout_ns % 1000000000)};
  ppoll(fds, n, &ts, nullptr);
}

}  // namespace rtt
