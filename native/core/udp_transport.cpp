#include "udp_transport.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "errors.hpp"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif

namespace rtt {
namespace {

constexpr int kSocketBufferBytes = 4 << 20;

// libc's recvmsg, recvfrom and sendto are pthread cancellation points: in a
// process with more than one thread (every Node process) each call brackets
// the system call with two atomic read-modify-writes, 6 % of a spinning loop's
// time. Session threads are never cancelled, so they make the system calls
// directly.
ssize_t receive_message(int fd, msghdr* msg, int flags) noexcept { return syscall(SYS_recvmsg, fd, msg, flags); }
ssize_t receive_payload(int fd, void* data, size_t capacity) noexcept {
  return syscall(SYS_recvfrom, fd, data, capacity, MSG_DONTWAIT, nullptr, nullptr);
}
ssize_t send_to(int fd, const void* data, size_t length, const sockaddr* to, socklen_t to_length) noexcept {
  return syscall(SYS_sendto, fd, data, length, 0, to, to_length);
}

std::string describe(const Endpoint& e) {
  return e.family() == AF_INET6 ? "[" + e.host() + "]:" + std::to_string(e.port())
                                : e.host() + ":" + std::to_string(e.port());
}

}  // namespace

UdpTransport::UdpTransport(const UdpOptions& o) {
  fd_ = socket(o.bind.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw SystemError(errno, "cannot open a UDP socket");
  int on = 1;
  if (o.bind.family() == AF_INET6) {
    // A wildcard IPv6 reflector also serves IPv4 senders (v4-mapped).
    int off = 0;
    setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  // Room for bursts while this thread is descheduled; FORCE passes rmem_max when privileged.
  int buffer = kSocketBufferBytes;
  for (int opt : {SO_RCVBUF, SO_SNDBUF}) {
    if (setsockopt(fd_, SOL_SOCKET, opt == SO_RCVBUF ? SO_RCVBUFFORCE : SO_SNDBUFFORCE, &buffer, sizeof buffer) != 0) {
      setsockopt(fd_, SOL_SOCKET, opt, &buffer, sizeof buffer);
    }
  }
  // A TTL control message costs every recvmsg; only ask when it is used.
  if (o.receive_ttl) {
    if (o.bind.family() == AF_INET6) setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
    setsockopt(fd_, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
  }

  if (bind(fd_, o.bind.sa(), o.bind.length) != 0) {
    int err = errno;
    ::close(fd_);
    std::string hint = err == EACCES ? " (ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port >= 1024)"
                       : err == EADDRINUSE ? " (another process uses this port; choose another port or 0 for any)"
                       : err == EADDRNOTAVAIL ? " (no interface on this host has that address)"
                       : err == EAFNOSUPPORT ? " (IPv6 is disabled on this host; use an IPv4 address such as 0.0.0.0)"
                                               : "";
    throw SystemError(err, "cannot bind UDP socket to " + describe(o.bind) + hint);
  }
  if (o.connect && connect(fd_, o.connect->sa(), o.connect->length) != 0) {
    int err = errno;
    ::close(fd_);
    throw SystemError(err, "cannot connect UDP socket to " + describe(*o.connect));
  }
  connected_ = o.connect != nullptr;
  local_.length = sizeof local_.storage;
  getsockname(fd_, local_.sa(), &local_.length);

  busy_poll_.requested_us = o.busy_poll_us;
  if (o.busy_poll_us > 0) {
    int us = o.busy_poll_us;
    if (setsockopt(fd_, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us) != 0 ||
        setsockopt(fd_, SOL_SOCKET, SO_PREFER_BUSY_POLL, &on, sizeof on) != 0) {
      busy_poll_.refused_errno = errno;
    } else {
      busy_poll_.granted = true;
    }
  }
  timestamping_ = enable_timestamping(fd_, o.timestamps, o.tx_timestamps);
  control_expected_ = o.receive_ttl || timestamping_.software || timestamping_.hardware;
  user_clock_ = o.user_clock;
}

UdpTransport::~UdpTransport() { close(); }

void UdpTransport::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

ssize_t UdpTransport::receive(Datagram& d) noexcept {
  // Nothing but the payload to read (a connected socket without stamps or
  // TTL): recvfrom is the cheaper call, and a spinning loop makes it often.
  if (connected_ && !control_expected_) {
    ssize_t n = receive_payload(fd_, d.data, d.capacity);
    if (n < 0) return n;
    if (user_clock_) d.user_ns = user_clock_->now();
    d.length = size_t(n);
    d.peer.length = 0;
    d.stamps = RxStamps{};
    return n;
  }
  iovec iov{d.data, d.capacity};
  msghdr msg{};
  // A connected socket only hears its peer: no address to copy out.
  if (!connected_) {
    msg.msg_name = &d.peer.storage;
    msg.msg_namelen = sizeof d.peer.storage;
  }
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control_;
  msg.msg_controllen = sizeof control_;
  ssize_t n = receive_message(fd_, &msg, MSG_DONTWAIT);
  if (n < 0) return n;
  // Before the control messages are parsed: the time the application has the datagram.
  if (user_clock_) d.user_ns = user_clock_->now();
  d.length = size_t(n);
  d.peer.length = msg.msg_namelen;
  parse_rx_control(msg, d.stamps);
  return n;
}

ssize_t UdpTransport::send(const uint8_t* data, size_t length, const Endpoint* peer) noexcept {
  return peer ? send_to(fd_, data, length, peer->sa(), peer->length) : send_to(fd_, data, length, nullptr, 0);
}

bool UdpTransport::read_tx_stamp(TxStamp& out) noexcept {
  // ICMP errors share the error queue; skip them until a stamp or EAGAIN.
  for (;;) {
    msghdr msg{};
    msg.msg_control = error_control_;
    msg.msg_controllen = sizeof error_control_;
    if (receive_message(fd_, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) return false;
    if (parse_tx_stamp(msg, out)) return true;
  }
}


}  // namespace rtt
