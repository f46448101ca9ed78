#include "udp_transport.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cerrno>

#include "errors.hpp"
#include "sockets.hpp"

namespace rtt {

UdpTransport::UdpTransport(const UdpOptions& o) {
  fd_ = socket(o.bind.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw SystemError(errno, "cannot open a UDP socket");
  int on = 1;
  if (o.bind.family() == AF_INET6) {
    // A wildcard IPv6 reflector also serves IPv4 senders (v4-mapped).
    int off = 0;
    setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  }
  enlarge_buffers(fd_);
  set_ip_header_fields(fd_, o.bind.family(), o.dscp, o.ttl);
  // A TTL control message costs every recvmsg; only ask when it is used.
  if (o.receive_ttl) {
    if (o.bind.family() == AF_INET6) setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &on, sizeof on);
    setsockopt(fd_, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
  }

  if (bind(fd_, o.bind.sa(), o.bind.length) != 0) {
    int err = errno;
    ::close(fd_);
    throw SystemError(err, "cannot bind UDP socket to " + describe(o.bind) + bind_hint(err));
  }
  if (o.connect && connect(fd_, o.connect->sa(), o.connect->length) != 0) {
    int err = errno;
    ::close(fd_);
    throw SystemError(err, "cannot connect UDP socket to " + describe(*o.connect));
  }
  connected_ = o.connect != nullptr;
  local_.length = sizeof local_.storage;
  getsockname(fd_, local_.sa(), &local_.length);

  busy_poll_ = request_busy_poll(fd_, o.busy_poll_us);
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
  // A connected socket only hears its peer: no address to copy out.
  ssize_t n = receive_stamped(fd_, d.data, d.capacity, !connected_, control_, sizeof control_, user_clock_, d);
  if (n >= 0) d.length = size_t(n);
  return n;
}

ssize_t UdpTransport::send(const uint8_t* data, size_t length, const Endpoint* peer) noexcept {
  return peer ? send_to(fd_, data, length, peer->sa(), peer->length) : send_to(fd_, data, length, nullptr, 0);
}

bool UdpTransport::read_tx_stamp(TxStamp& out) noexcept {
  return rtt::read_tx_stamp(fd_, error_control_, sizeof error_control_, out);
}

}  // namespace rtt
