#include "tcp_server.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <cerrno>
#include <iterator>

#include "errors.hpp"
#include "reflector.hpp"
#include "sockets.hpp"

namespace rtt {
namespace {

constexpr uint64_t kListenerTag = UINT64_MAX;
constexpr int kAcceptBatch = 64;
constexpr int kBacklog = 4096;

// An RST instead of a FIN: the socket is gone at once, with no TIME_WAIT.
void reset_and_close(int fd) noexcept {
  linger reset{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  ::close(fd);
}

}  // namespace

TcpServer::TcpServer(const TcpServerOptions& options) : options_(options) {
  if (options_.max_connections < 1) throw ConfigError("max connections must be at least 1");
  listen_fd_ = socket(options_.bind.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
  if (listen_fd_ < 0) throw SystemError(errno, "cannot open a TCP socket");
  int on = 1;
  int off = 0;
  // A restarted reflector binds again while its old connections sit in TIME_WAIT.
  setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (options_.bind.family() == AF_INET6) setsockopt(listen_fd_, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  // Accepted connections inherit it: a reply leaves at once.
  setsockopt(listen_fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
  set_ip_header_fields(listen_fd_, options_.bind.family(), options_.dscp, options_.ttl);
  if (bind(listen_fd_, options_.bind.sa(), options_.bind.length) != 0 || listen(listen_fd_, kBacklog) != 0) {
    int err = errno;
    close();
    throw SystemError(err, "cannot listen on TCP " + describe(options_.bind) + bind_hint(err));
  }
  local_.length = sizeof local_.storage;
  getsockname(listen_fd_, local_.sa(), &local_.length);
  // Accepted sockets inherit the listener's stamping flags and SO_BUSY_POLL.
  timestamping_ = enable_timestamping(listen_fd_, options_.timestamps, false);
  busy_poll_ = request_busy_poll(listen_fd_, options_.busy_poll_us);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    int err = errno;
    close();
    throw SystemError(err, "cannot create an epoll set");
  }
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = kListenerTag;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &e);
  connections_.resize(options_.max_connections);
  free_.reserve(options_.max_connections);
  for (size_t i = options_.max_connections; i-- > 0;) free_.push_back(uint32_t(i));
}

TcpServer::~TcpServer() { close(); }

void TcpServer::close() noexcept {
  for (Connection& c : connections_) {
    if (c.fd >= 0) reset_and_close(c.fd);
    c.fd = -1;
  }
  if (listen_fd_ >= 0) ::close(listen_fd_);
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  listen_fd_ = epoll_fd_ = -1;
}

void TcpServer::release(Connection& c) noexcept {
  // Closing drops the socket from the epoll set; a peer that closed first
  // leaves no TIME_WAIT here, and one that reset none anywhere.
  ::close(c.fd);
  c.fd = -1;
  c.partial_since = -1;
  c.reader->clear();
  free_.push_back(uint32_t(&c - connections_.data()));
}

void TcpServer::accept_waiting(ReflectorCounters& counters) noexcept {
  for (int i = 0; i < kAcceptBatch; ++i) {
    Endpoint peer;
    peer.length = sizeof peer.storage;
    int fd = accept4(listen_fd_, peer.sa(), &peer.length, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;
    if (free_.empty()) {
      ++counters.connections_refused;
      reset_and_close(fd);
      continue;
    }
    uint32_t index = free_.back();
    free_.pop_back();
    Connection& c = connections_[index];
    if (!c.reader) c.reader = std::make_unique<tcp::FrameReader>();
    c.fd = fd;
    c.peer = peer;
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = index;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &e);
    ++counters.connections;
  }
}

void TcpServer::serve(Connection& c, Responder& responder, UserClock& clock, int64_t now) noexcept {
  ReflectorCounters& counters = responder.counters();
  tcp::FrameReader& reader = *c.reader;
  iovec iov{reader.space(), reader.room()};
  msghdr msg = message_into(iov, control_, sizeof control_);
  ssize_t n = receive_message(c.fd, &msg, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
  if (n <= 0) {  // closed or reset by the peer
    release(c);
    return;
  }
  reader.added(size_t(n));
  RxStamps stamps;
  parse_rx_control(msg, stamps);
  size_t length = 0;
  while (uint8_t* packet = reader.frame(length)) {
    ++counters.received;
    int64_t received_ns = stamps.software >= 0 ? stamps.software : clock.now();
    size_t reply = responder.answer(packet, length, tcp::kMaxFrame - tcp::kLengthBytes, c.peer, stamps, received_ns);
    if (reply > 0) {
      uint8_t* frame = packet - tcp::kLengthBytes;
      tcp::write_length(frame, reply);
      // A reply the send buffer cannot take whole means the peer stopped
      // reading: its connection goes rather than the loop waiting on it.
      if (send_to(c.fd, frame, tcp::kLengthBytes + reply, nullptr, 0) != ssize_t(tcp::kLengthBytes + reply)) {
        ++counters.send_errors;
        release(c);
        return;
      }
      ++counters.reflected;
    }
    reader.consume(length);
  }
  c.partial_since = reader.partial() ? (c.partial_since >= 0 ? c.partial_since : now) : -1;
}

bool TcpServer::step(Responder& responder, UserClock& clock, int64_t now) noexcept {
  int n = epoll_wait(epoll_fd_, events_, int(std::size(events_)), 0);
  for (int i = 0; i < n; ++i) {
    uint64_t tag = events_[i].data.u64;
    if (tag == kListenerTag) {
      accept_waiting(responder.counters());
    } else if (connections_[tag].fd >= 0) {
      serve(connections_[tag], responder, clock, now);
    }
  }
  return n > 0;
}

void TcpServer::expire(int64_t now, ReflectorCounters& counters) noexcept {
  for (Connection& c : connections_) {
    if (c.fd >= 0 && c.partial_since >= 0 && now - c.partial_since > options_.request_timeout_ns) {
      ++counters.request_timeouts;
      release(c);
    }
  }
}

}  // namespace rtt
