// SO_TIMESTAMPING: which stamps a socket asks for, and reading them back from
// control messages. The parsers are pure functions over a msghdr so they can be
// fed synthetic control messages (tests, fuzzing, NICs this host lacks).
#pragma once

#include <sys/socket.h>

#include <cstdint>

namespace rtt {

enum class TimestampSource : uint8_t { None, Software, Hardware, Auto };

struct TimestampingGrant {
  bool software_requested = false;
  bool hardware_requested = false;
  bool software = false;  // kernel accepted software stamping (RX, and TX when asked)
  bool hardware = false;  // socket accepted hardware flags (stamps arrive only from a configured NIC)
  int refused_errno = 0;  // setsockopt failure, 0 when accepted
  unsigned flags = 0;     // SOF_TIMESTAMPING_* as read back from the socket
};

// Never throws: a refusal is recorded in the grant and the run goes on without stamps.
// tx: also stamp outgoing datagrams (a reflector only needs RX stamps).
TimestampingGrant enable_timestamping(int fd, TimestampSource source, bool tx) noexcept;

struct RxStamps {
  int64_t software = -1;  // ns, CLOCK_REALTIME; -1 when absent
  int64_t hardware = -1;  // ns, NIC PHC domain
  int ttl = -1;           // IP TTL / IPv6 hop limit of the received packet
};

struct TxStamp {
  uint32_t id = 0;  // SOF_TIMESTAMPING_OPT_ID: index of the datagram since stamping was enabled
  int64_t software = -1;
  int64_t hardware = -1;
};

// Control-message buffer big enough for a timestamp, TTL and an extended error.
constexpr size_t kControlBufferSize = 256;

void parse_rx_control(const msghdr& msg, RxStamps& out) noexcept;
// True when msg, read from MSG_ERRQUEUE, is a TX timestamp (not an ICMP error).
bool parse_tx_stamp(const msghdr& msg, TxStamp& out) noexcept;

}  // namespace rtt
