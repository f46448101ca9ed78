#include "timestamping.hpp"

#include <ifaddrs.h>
#include <linux/errqueue.h>
#include <linux/if_packet.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

#include "caps.hpp"
#include "clock.hpp"

namespace rtt {
namespace {

// RX_SOFTWARE alone reports nothing: SOFTWARE must be set as well.
constexpr unsigned kSoftwareRx = SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
constexpr unsigned kHardwareRx = SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE;
// OPT_ID numbers TX stamps so they match probes; OPT_TSONLY returns the stamp
// without a copy of the packet, which keeps the error queue cheap to drain.
constexpr unsigned kOptions = SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY;

// Zero means "not taken"; a value that is no time in int64 nanoseconds
// (negative, past 2262, or a bad nanosecond field) is no stamp either.
int64_t stamp_ns(const timespec& ts) noexcept {
  constexpr time_t kMaxSeconds = INT64_MAX / 1000000000 - 1;
  if ((ts.tv_sec == 0 && ts.tv_nsec == 0) || ts.tv_sec < 0 || ts.tv_sec > kMaxSeconds || ts.tv_nsec < 0 ||
      ts.tv_nsec >= 1000000000) {
    return -1;
  }
  return timespec_ns(ts);
}

// SCM_TIMESTAMPING carries the software stamp in ts[0] and the raw NIC stamp in ts[2].
bool read_stamps(const cmsghdr* c, int64_t& software, int64_t& hardware) noexcept {
  if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_TIMESTAMPING ||
      c->cmsg_len < CMSG_LEN(sizeof(scm_timestamping))) {
    return false;
  }
  scm_timestamping ts;
  std::memcpy(&ts, CMSG_DATA(c), sizeof ts);
  software = stamp_ns(ts.ts[0]);
  hardware = stamp_ns(ts.ts[2]);
  return true;
}

bool interface_capable(int fd, const char* name) noexcept {
  ethtool_ts_info info;
  return read_ts_info(fd, name, info) == 0 && hardware_capable(info.so_timestamping);
}

bool same_address(const sockaddr* a, const sockaddr_storage& b) noexcept {
  if (!a || a->sa_family != b.ss_family) return false;
  if (a->sa_family == AF_INET) {
    return reinterpret_cast<const sockaddr_in*>(a)->sin_addr.s_addr ==
           reinterpret_cast<const sockaddr_in*>(&b)->sin_addr.s_addr;
  }
  return std::memcmp(&reinterpret_cast<const sockaddr_in6*>(a)->sin6_addr,
                     &reinterpret_cast<const sockaddr_in6*>(&b)->sin6_addr, sizeof(in6_addr)) == 0;
}

bool is_wildcard(const sockaddr_storage& s) noexcept {
  if (s.ss_family == AF_INET) return reinterpret_cast<const sockaddr_in*>(&s)->sin_addr.s_addr == INADDR_ANY;
  return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&s)->sin6_addr);
}

// Visits the control messages that lie wholly inside msg's buffer.
// CMSG_FIRSTHDR/CMSG_NXTHDR trust cmsg_len; one that runs past msg_controllen
// (never from a sane kernel, but found by fuzzing) ends the walk unread.
template <class Visit>
void for_each_cmsg(const msghdr& msg, Visit visit) noexcept {
  const auto* begin = static_cast<const unsigned char*>(msg.msg_control);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&msg), c)) {
    size_t offset = size_t(reinterpret_cast<const unsigned char*>(c) - begin);
    if (c->cmsg_len < sizeof(cmsghdr) || c->cmsg_len > msg.msg_controllen - offset) return;
    visit(c);
  }
}

}  // namespace

HardwareSupport hardware_support(int fd) noexcept {
  HardwareSupport h;
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  ifaddrs* list = nullptr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0 || getifaddrs(&list) != 0) return h;
  bool wildcard = is_wildcard(local);
  if (wildcard) h.interface = "*";
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!wildcard && !same_address(i->ifa_addr, local)) continue;
    if (!wildcard) h.interface = i->ifa_name;
    if (interface_capable(fd, i->ifa_name)) h.capable = true;
    if (!wildcard) break;
  }
  freeifaddrs(list);
  return h;
}

HardwareSupport interface_support(int fd, const std::string& name) noexcept {
  HardwareSupport h;
  h.interface = name;
  h.capable = interface_capable(fd, name.c_str());
  return h;
}

TimestampingGrant enable_timestamping(int fd, TimestampSource source, bool tx, bool tx_ack) noexcept {
  return enable_timestamping(fd, source, tx, hardware_support(fd), tx_ack);
}

TimestampingGrant enable_timestamping(int fd, TimestampSource source, bool tx, const HardwareSupport& support,
                                      bool tx_ack) noexcept {
  TimestampingGrant g;
  g.interface = support.interface;
  g.hardware_capable = support.capable;
  g.software_requested = source != TimestampSource::None;
  g.hardware_requested = source == TimestampSource::Hardware || (source == TimestampSource::Auto && support.capable);
  if (!g.software_requested) return g;
  // The NIC first, as ptp4l does: socket flags alone yield no hardware stamps.
  if (g.hardware_requested && !g.interface.empty() && g.interface != "*") {
    InterfaceHwtstamp device(fd, g.interface);
    g.hwtstamp = configure_hwtstamp(device);
  }
  unsigned software = kSoftwareRx | (tx ? SOF_TIMESTAMPING_TX_SOFTWARE : 0);
  unsigned hardware = kHardwareRx | (tx ? SOF_TIMESTAMPING_TX_HARDWARE : 0);
  // Auto leaves the hardware flags off where the NIC will stamp nothing: they
  // would cost every packet for no stamp.
  bool stampless = g.hwtstamp.attempted && !g.hwtstamp.tx && !g.hwtstamp.rx;
  bool hardware_flags = g.hardware_requested && !(source == TimestampSource::Auto && stampless);
  unsigned flags = software | (tx ? kOptions : 0) | (tx_ack ? SOF_TIMESTAMPING_TX_ACK : 0) | (hardware_flags ? hardware : 0);
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) != 0) {
    g.refused_errno = errno;
    return g;
  }
  unsigned granted = 0;
  socklen_t len = sizeof granted;
  if (getsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &granted, &len) != 0) granted = flags;
  g.flags = granted;
  g.software = (granted & software) == software;
  g.hardware = hardware_flags && (granted & hardware) == hardware;
  return g;
}

bool apply_timestamping(int fd, const TimestampingGrant& grant) noexcept {
  unsigned flags = grant.flags;
  return flags == 0 || setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) == 0;
}

void parse_rx_control(const msghdr& msg, RxStamps& out) noexcept {
  out = RxStamps{};
  for_each_cmsg(msg, [&out](const cmsghdr* c) {
    if (read_stamps(c, out.software, out.hardware)) return;
    if (((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
         (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) &&
        c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      std::memcpy(&out.ttl, CMSG_DATA(c), sizeof(int));
    }
  });
}

bool parse_tx_stamp(const msghdr& msg, TxStamp& out) noexcept {
  out = TxStamp{};
  bool have_stamp = false;
  bool have_id = false;
  for_each_cmsg(msg, [&](const cmsghdr* c) {
    if (read_stamps(c, out.software, out.hardware)) {
      have_stamp = out.software >= 0 || out.hardware >= 0;
    } else if (((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
                (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR) ||
                (c->cmsg_level == SOL_PACKET && c->cmsg_type == PACKET_TX_TIMESTAMP)) &&
               c->cmsg_len >= CMSG_LEN(sizeof(sock_extended_err))) {
      sock_extended_err err;
      std::memcpy(&err, CMSG_DATA(c), sizeof err);
      if (err.ee_errno == ENOMSG && err.ee_origin == SO_EE_ORIGIN_TIMESTAMPING &&
          (err.ee_info == SCM_TSTAMP_SND || err.ee_info == SCM_TSTAMP_ACK)) {
        out.id = err.ee_data;
        out.kind = err.ee_info == SCM_TSTAMP_ACK ? TxStampKind::Acked : TxStampKind::Sent;
        have_id = true;
      }
    }
  });
  return have_stamp && have_id;
}

}  // namespace rtt
