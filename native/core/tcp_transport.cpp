#include "tcp_transport.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "clock.hpp"
#include "errors.hpp"
#include "sockets.hpp"

namespace rtt {
namespace {

bool wildcard_any_port(const Endpoint& e) noexcept {
  if (e.port() != 0) return false;
  if (e.family() == AF_INET) return reinterpret_cast<const sockaddr_in*>(&e.storage)->sin_addr.s_addr == INADDR_ANY;
  return IN6_IS_ADDR_UNSPECIFIED(&reinterpret_cast<const sockaddr_in6*>(&e.storage)->sin6_addr);
}

}  // namespace

TcpTransport::TcpTransport(const TcpOptions& options)
    : options_(options),
      frame_size_(tcp::kLengthBytes + options.packet_size),
      unsent_(new uint8_t[tcp::kMaxFrame]) {
  busy_poll_.requested_us = options.busy_poll_us;
  local_ = options.bind;
}

TcpTransport::~TcpTransport() { drop(); }

bool TcpTransport::begin_connect() noexcept {
  drop();
  fd_ = socket(options_.target.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd_ < 0) return false;
  int on = 1;
  // A request leaves at once, not after the previous reply's ACK (Nagle).
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  // An RST on close (drop): no TIME_WAIT keeps the sender's port, so
  // connection after connection never runs out of ephemeral ports.
  linger reset{1, 0};
  setsockopt(fd_, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  set_ip_header_fields(fd_, options_.target.family(), options_.dscp, options_.ttl);
  if (!wildcard_any_port(options_.bind)) {
    // The port is chosen at connect, per destination, as without a bind.
    setsockopt(fd_, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &on, sizeof on);
    if (bind(fd_, options_.bind.sa(), options_.bind.length) != 0) {
      int err = errno;
      drop();
      errno = err;
      return false;
    }
  }
  if (connect(fd_, options_.target.sa(), options_.target.length) != 0 && errno != EINPROGRESS) {
    int err = errno;
    drop();
    errno = err;
    return false;
  }
  return true;
}

int TcpTransport::finish_connect() noexcept {
  pollfd p{fd_, POLLOUT, 0};
  if (poll(&p, 1, 0) == 0) return 0;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    drop();
    errno = err;
    return -1;
  }
  set_up_stamping();
  return 1;
}

void TcpTransport::set_up_stamping() noexcept {
  // OPT_ID on TCP keys a stamp by the offset of the stamped data's last byte
  // from where the stream stood when stamping was enabled: here, with nothing
  // sent yet on this connection, so request n's last byte is n * frame - 1.
  stamp_base_ = requests_;
  if (first_) {
    local_.length = sizeof local_.storage;
    getsockname(fd_, local_.sa(), &local_.length);
    timestamping_ = enable_timestamping(fd_, options_.timestamps, true, true);
    busy_poll_ = request_busy_poll(fd_, options_.busy_poll_us);
    first_ = false;
  } else {
    apply_timestamping(fd_, timestamping_);
    if (busy_poll_.granted) request_busy_poll(fd_, options_.busy_poll_us);
  }
}

void TcpTransport::connect_waiting(int64_t timeout_ns) {
  std::string where = "cannot connect over TCP to " + describe(options_.target);
  if (!begin_connect()) throw SystemError(errno, where);
  int64_t deadline = realtime_ns() + timeout_ns;
  for (;;) {
    pollfd p{fd_, POLLOUT, 0};
    int64_t left = deadline - realtime_ns();
    if (left <= 0) {
      drop();
      throw SystemError(ETIMEDOUT, where + " within the timeout (no answer to the SYN)");
    }
    poll(&p, 1, int(std::min<int64_t>(left / 1000000 + 1, 100)));
    int state = finish_connect();
    if (state > 0) return;
    if (state < 0) {
      int err = errno;
      std::string hint = err == ECONNREFUSED ? " (nothing listens on that TCP port: start the reflector with --proto tcp or udp,tcp)" : "";
      throw SystemError(err, where + hint);
    }
  }
}

void TcpTransport::drop() noexcept {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  reader_.clear();
  unsent_length_ = unsent_offset_ = 0;
}

void TcpTransport::close() noexcept {
  if (fd_ >= 0) {
    linger graceful{0, 0};
    setsockopt(fd_, SOL_SOCKET, SO_LINGER, &graceful, sizeof graceful);
  }
  drop();
}

bool TcpTransport::flush() noexcept {
  while (unsent_offset_ < unsent_length_) {
    ssize_t n = send_to(fd_, unsent_.get() + unsent_offset_, unsent_length_ - unsent_offset_, nullptr, 0);
    if (n < 0) return false;
    unsent_offset_ += size_t(n);
  }
  unsent_length_ = unsent_offset_ = 0;
  return true;
}

ssize_t TcpTransport::send(const uint8_t* data, size_t length, const Endpoint*) noexcept {
  if (fd_ < 0) {
    errno = ENOTCONN;
    return -1;
  }
  if (!flush()) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) errno = ENOBUFS;  // the peer is not reading
    return -1;
  }
  tcp::write_length(header_, length);
  iovec iov[2] = {{header_, tcp::kLengthBytes}, {const_cast<uint8_t*>(data), length}};
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = 2;
  ssize_t n = send_message(fd_, &msg, MSG_NOSIGNAL);
  if (n < 0) return n;
  ++requests_;
  size_t sent = size_t(n);
  if (sent < tcp::kLengthBytes + length) {
    // The rest goes when the send buffer has room again; the request counts as sent.
    size_t header_left = sent < tcp::kLengthBytes ? tcp::kLengthBytes - sent : 0;
    std::memcpy(unsent_.get(), header_ + (tcp::kLengthBytes - header_left), header_left);
    size_t data_sent = sent > tcp::kLengthBytes ? sent - tcp::kLengthBytes : 0;
    std::memcpy(unsent_.get() + header_left, data + data_sent, length - data_sent);
    unsent_length_ = header_left + length - data_sent;
    unsent_offset_ = 0;
  }
  return ssize_t(length);
}

ssize_t TcpTransport::receive(Datagram& d) noexcept {
  if (fd_ < 0) {
    errno = ENOTCONN;
    return -1;
  }
  if (unsent_length_) flush();
  size_t length = 0;
  uint8_t* packet = reader_.frame(length);
  if (!packet) {
    iovec iov{reader_.space(), reader_.room()};
    msghdr msg = message_into(iov, control_, sizeof control_);
    ssize_t n = receive_message(fd_, &msg, MSG_DONTWAIT);
    if (n < 0) return n;
    if (n == 0) {
      errno = ECONNRESET;  // closed by the peer: no reply will come
      return -1;
    }
    reader_.added(size_t(n));
    parse_rx_control(msg, rx_stamps_);
    packet = reader_.frame(length);
    if (!packet) {
      errno = EAGAIN;
      return -1;
    }
  }
  if (options_.user_clock) d.user_ns = options_.user_clock->now();
  d.length = std::min(length, d.capacity);
  std::memcpy(d.data, packet, d.length);
  d.stamps = rx_stamps_;
  d.peer.length = 0;
  reader_.consume(length);
  return ssize_t(d.length);
}

bool TcpTransport::read_tx_stamp(TxStamp& out) noexcept {
  if (fd_ < 0) return false;
  while (rtt::read_tx_stamp(fd_, error_control_, sizeof error_control_, out)) {
    // A stamp whose key is not a request's last byte marks part of one
    // (written in two pieces): only the whole request's stamp counts.
    uint64_t end = uint64_t(out.id) + 1;
    if (end % frame_size_ != 0) continue;
    out.id = uint32_t(stamp_base_ + end / frame_size_ - 1);
    return true;
  }
  return false;
}

}  // namespace rtt
