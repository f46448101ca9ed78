// SO_TIMESTAMPING: which stamps a socket asks for, and reading them back from
// control messages. The parsers are pure functions over a msghdr so they can be
// fed synthetic control messages (tests, fuzzing, NICs this host lacks).
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>

#include "choices.hpp"
#include "hwtstamp.hpp"

namespace rtt {

enum class TimestampSource : uint8_t { None, Software, Hardware, Auto };
inline constexpr Choice<TimestampSource> kTimestampSources[] = {
    {"auto", TimestampSource::Auto},
    {"software", TimestampSource::Software},
    {"hardware", TimestampSource::Hardware},
    {"none", TimestampSource::None},
};

struct TimestampingGrant {
  std::string interface;         // carrying this socket's traffic ("*" for a wildcard bind)
  bool hardware_capable = false;  // its driver reports hardware timestamping (ETHTOOL_GET_TS_INFO)
  bool software_requested = false;
  bool hardware_requested = false;
  bool software = false;  // kernel accepted software stamping (RX, and TX when asked)
  bool hardware = false;  // socket accepted hardware flags (stamps arrive only from a configured NIC)
  int refused_errno = 0;  // setsockopt failure, 0 when accepted
  unsigned flags = 0;     // SOF_TIMESTAMPING_* as read back from the socket
  HwtstampSetup hwtstamp;  // the NIC's configuration, when hardware stamps were requested on a known interface
};

// Never throws: a refusal is recorded in the grant and the run goes on without stamps.
// tx: also stamp outgoing datagrams (a reflector only needs RX stamps).
// Auto asks for hardware stamps only where the interface can give them: the
// flags cost every packet (a PTP classifier runs on each transmit) even when
// no stamp ever comes. When hardware stamps are requested and the socket's
// interface is known (not a wildcard bind), the NIC is configured to give them
// (configure_hwtstamp, needs CAP_NET_ADMIN) and left so. Call after
// bind/connect so the local address is known.
// tx_ack (TCP): also report when the peer acknowledged the stamped bytes.
TimestampingGrant enable_timestamping(int fd, TimestampSource source, bool tx, bool tx_ack = false) noexcept;
// Gives another socket the flags a grant holds, without probing the interface
// again: one system call, for a connection per transaction. False when refused.
bool apply_timestamping(int fd, const TimestampingGrant& grant) noexcept;

struct HardwareSupport {
  std::string interface;
  bool capable = false;
};
// The interface owning the socket's local address and whether it can stamp in
// hardware; for a wildcard address, whether any interface can.
HardwareSupport hardware_support(int fd) noexcept;
// Whether the named interface can stamp in hardware (fd: any socket, for the ioctl).
HardwareSupport interface_support(int fd, const std::string& name) noexcept;
// enable_timestamping for a socket whose interface is known otherwise (a
// packet socket has no IP address to find it by).
TimestampingGrant enable_timestamping(int fd, TimestampSource source, bool tx, const HardwareSupport& support,
                                      bool tx_ack = false) noexcept;

struct RxStamps {
  int64_t software = -1;  // ns, CLOCK_REALTIME; -1 when absent
  int64_t hardware = -1;  // ns, NIC PHC domain
  int ttl = -1;           // IP TTL / IPv6 hop limit of the received packet
};

// When a TX stamp was taken: the packet left (SCM_TSTAMP_SND), or the peer
// acknowledged its last byte (SCM_TSTAMP_ACK, TCP with SOF_TIMESTAMPING_TX_ACK).
enum class TxStampKind : uint8_t { Sent, Acked };

struct TxStamp {
  // SOF_TIMESTAMPING_OPT_ID: index of the datagram since stamping was enabled
  // (on TCP the offset of the message's last byte; the transport maps it to the index).
  uint32_t id = 0;
  TxStampKind kind = TxStampKind::Sent;
  int64_t software = -1;
  int64_t hardware = -1;
};

// Control-message buffer big enough for a timestamp, TTL and an extended error.
constexpr size_t kControlBufferSize = 256;

void parse_rx_control(const msghdr& msg, RxStamps& out) noexcept;
// True when msg, read from MSG_ERRQUEUE, is a TX timestamp (not an ICMP error).
bool parse_tx_stamp(const msghdr& msg, TxStamp& out) noexcept;

}  // namespace rtt
