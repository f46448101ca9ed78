#include "sockets.hpp"

#include <netinet/in.h>

#include <cerrno>

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif

namespace rtt {
namespace {
constexpr int kSocketBufferBytes = 4 << 20;
}  // namespace

ssize_t receive_stamped(int fd, void* data, size_t capacity, bool with_peer, uint8_t* control, size_t control_size,
                        UserClock* clock, Datagram& d) noexcept {
  iovec iov{data, capacity};
  msghdr msg = message_into(iov, control, control_size);
  if (with_peer) {
    msg.msg_name = &d.peer.storage;
    msg.msg_namelen = sizeof d.peer.storage;
  }
  ssize_t n = receive_message(fd, &msg, MSG_DONTWAIT);
  if (n < 0) return n;
  // Before the control messages are parsed: the time the application has the datagram.
  if (clock) d.user_ns = clock->now();
  d.peer.length = msg.msg_namelen;
  parse_rx_control(msg, d.stamps);
  return n;
}

void enlarge_buffers(int fd) noexcept {
  // FORCE passes rmem_max/wmem_max when privileged.
  int buffer = kSocketBufferBytes;
  for (int opt : {SO_RCVBUF, SO_SNDBUF}) {
    if (setsockopt(fd, SOL_SOCKET, opt == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0) {
      setsockopt(fd, SOL_SOCKET, opt, &buffer, sizeof buffer);
    }
  }
}

BusyPollGrant request_busy_poll(int fd, int us) noexcept {
  BusyPollGrant g;
  g.requested_us = us;
  if (us <= 0) return g;
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &on, sizeof on) != 0) {
    g.refused_errno = errno;
  } else {
    g.granted = true;
  }
  return g;
}

void set_ip_header_fields(int fd, int family, int dscp, int ttl) noexcept {
  int tos = dscp << 2;
  if (tos) setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof tos);
  if (ttl) setsockopt(fd, IPPROTO_IP, IP_TTL, &ttl, sizeof ttl);
  if (family != AF_INET6) return;
  if (tos) setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof tos);
  if (ttl) setsockopt(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &ttl, sizeof ttl);
}

bool read_tx_stamp(int fd, uint8_t* control, size_t control_size, TxStamp& out) noexcept {
  for (;;) {
    msghdr msg{};
    msg.msg_control = control;
    msg.msg_controllen = control_size;
    if (receive_message(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return false;
    if (parse_tx_stamp(msg, out)) return true;
  }
}

}  // namespace rtt
