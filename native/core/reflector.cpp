#include "reflector.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>

#include "clock.hpp"
#include "errors.hpp"

namespace rtt {
namespace {
constexpr int64_t kSweepIntervalNs = 1000000000;
constexpr uint32_t kPollsPerClockRead = 16;
}  // namespace

Responder::Responder(const ReflectorConfig& config, uint64_t seed, UserClock& clock)
    : clock_(clock),
      format_(config.format),
      layout_(config.key.empty() ? wire::Layout::Unauthenticated : wire::Layout::Authenticated),
      twamp_light_(config.twamp_light),
      error_estimate_(wire::encode_error_estimate(local_error_estimate(config.format))),
      allow_(config.allow),
      limiter_(config.rate_limit_pps, config.global_rate_limit_pps, seed) {
  if (!config.key.empty()) auth_ = std::make_unique<PacketAuth>(config.key);
  if (config.twamp_light && config.tcp) {
    throw ConfigError("TWAMP-Light test packets come over UDP only; serve TCP without twampLight");
  }
  if (config.twamp_light && auth_) {
    throw ConfigError("TWAMP-Light compatibility is for unauthenticated senders; drop the key or twampLight");
  }
  if (config.stateful) {
    if (config.max_sessions < 1 || config.max_sessions > kMaxSessionsLimit) {
      throw ConfigError("max sessions must be 1.." + std::to_string(kMaxSessionsLimit));
    }
    sessions_ = std::make_unique<ReflectorSessions>(config.max_sessions, config.session_timeout_ns, seed);
  }
}

bool Responder::parse(const uint8_t* buf, size_t len, wire::SenderPacket& s, size_t& reply_len) noexcept {
  reply_len = len;
  if (wire::read_sender(buf, len, s, layout_)) return true;
  if (!twamp_light_ || !wire::read_twamp_light_sender(buf, len, s)) return false;
  reply_len = std::max(len, wire::kTwampLightReplySize);
  return true;
}

size_t Responder::answer(uint8_t* buf, size_t len, size_t capacity, const Endpoint& peer, const RxStamps& stamps,
                         int64_t received_ns) noexcept {
  // Cheapest checks first; nothing a sender without the key can send costs a
  // legitimate sender its rate budget or a replay-window slot.
  if (!allow_.allows(peer)) {
    ++counters_.denied;
    return 0;
  }
  wire::SenderPacket s;
  size_t reply_len;
  if (capacity < std::max(len, wire::kAuthPacketSize) || !parse(buf, len, s, reply_len)) {
    ++counters_.malformed;
    return 0;
  }
  if (wire::is_reflected(buf, len, layout_)) {
    ++counters_.loops;
    return 0;
  }
  if (auth_ && !auth_->verify(buf)) {
    ++counters_.auth_failures;
    return 0;
  }
  ReflectorSession* session = nullptr;
  if (sessions_) {
    session = sessions_->find(flow_key(peer, true, s.ssid), received_ns);
    counters_.active_sessions = sessions_->active();
    counters_.sessions_evicted = sessions_->evicted();
    if (!session) {
      ++counters_.sessions_refused;
      return 0;
    }
    switch (session->check(s.seq, auth_ != nullptr)) {
      case ReflectorSession::Verdict::Replayed:
        ++counters_.replayed;
        return 0;
      case ReflectorSession::Verdict::OutOfWindow:
        ++counters_.out_of_window;
        return 0;
      case ReflectorSession::Verdict::Fresh:
        break;
    }
  }
  switch (limiter_.admit(peer, received_ns)) {
    case RateLimiter::Verdict::SourceLimited:
      ++counters_.rate_limited;
      return 0;
    case RateLimiter::Verdict::GlobalLimited:
      ++counters_.global_rate_limited;
      return 0;
    case RateLimiter::Verdict::Pass:
      break;
  }

  int64_t t2 = stamps.software;
  if (t2 < 0) {
    t2 = received_ns;
    ++counters_.rx_stamps_missing;
  }
  wire::ReflectorPacket r;
  if (session) {
    session->record(s.seq, received_ns);
    r.seq = session->next_seq++;
  } else {
    r.seq = s.seq;  // stateless mode: the reflector echoes the sender's sequence number
  }
  r.error_estimate = error_estimate_;
  r.ssid = s.ssid;
  r.receive_timestamp = wire::encode_timestamp(t2, format_);
  r.sender_seq = s.seq;
  r.sender_timestamp = s.timestamp;
  r.sender_error_estimate = s.error_estimate;
  r.sender_ttl = stamps.ttl >= 0 ? uint8_t(stamps.ttl) : 0;
  r.timestamp = wire::encode_timestamp(clock_.now(), format_);
  wire::write_reflector(buf, r, layout_);
  if (auth_) auth_->sign(buf);
  // Padding past the header is echoed as received, never grown.
  return reply_len;
}

void Responder::sweep(int64_t now) noexcept {
  limiter_.sweep(now);
  if (sessions_) {
    sessions_->expire(now);
    counters_.active_sessions = sessions_->active();
  }
}

Reflector::Reflector(const ReflectorConfig& config)
    : config_(config), clock_(config.clock), responder_(config_, random_seed(), clock_) {
  if (!config_.udp && !config_.tcp) throw ConfigError("a reflector serves udp, tcp or both");
  if (config_.tcp && config_.path.transport != TransportKind::Udp) {
    throw ConfigError("the raw transport carries UDP only: serve TCP on sockets");
  }
  if (config_.udp) {
    UdpOptions o;
    o.bind = config_.bind;
    o.timestamps = config_.timestamps;
    o.busy_poll_us = config_.socket_busy_poll_us;
    o.tx_timestamps = false;
    transport_ = open_transport(o, config_.path);
  }
  if (config_.tcp) {
    TcpServerOptions o;
    o.bind = config_.bind;
    // The same port number as UDP, also when the kernel picked it.
    if (transport_) o.bind = transport_->local();
    o.timestamps = config_.timestamps;
    o.max_connections = config_.max_connections;
    o.dscp = config_.path.dscp;
    o.ttl = config_.path.ttl;
    o.busy_poll_us = config_.socket_busy_poll_us;
    tcp_ = std::make_unique<TcpServer>(o);
  }
  buffer_.resize(65536);
  datagram_.data = buffer_.data();
  datagram_.capacity = buffer_.size();
}

Reflector::~Reflector() = default;

void Reflector::setup() {
  int fds[3];
  size_t n = 0;
  if (transport_) fds[n++] = transport_->fd();
  if (tcp_) {
    fds[n++] = tcp_->fd();
    fds[n++] = tcp_->listener();
  }
  // Accepted TCP connections are opened on the session thread, where close() cannot reach them.
  run_facts_.setup(config_.pinning, config_.private_file_table && !tcp_, fds, n);
}

void Reflector::close() noexcept {
  if (transport_) transport_->close();
  if (tcp_) tcp_->close();
}

void Reflector::run(const std::atomic<bool>& stop, ProgressSink<ReflectorProgress>* sink) {
  run_facts_.begin(clock_);
  const int64_t started_ns = run_facts_.started_ns;
  int64_t until = config_.duration_ns ? started_ns + config_.duration_ns : INT64_MAX;
  int64_t next_progress = started_ns + config_.progress_interval_ns;
  int64_t next_sweep = started_ns + kSweepIntervalNs;
  ReflectorCounters& counters = responder_.counters();
  ReflectorProgress progress;

  int64_t now = started_ns;  // the timers' clock: deadline, sweep, progress
  uint32_t polls = 0;
  for (;;) {
    // Checked on every pass, not only when the socket is empty: a flood that
    // keeps the queue full must not keep the loop past its deadline.
    if (stop.load(std::memory_order_relaxed) || now >= until) break;
    ssize_t n = transport_ ? transport_->receive(datagram_) : -1;
    // A request's kernel stamp is when it arrived, the policy's "now": the
    // only clock read between request and reply is then T3's. It cannot
    // drive the timers: under a flood it lags the clock by the time the
    // request waited in the queue (0.4 s on a loaded 2-vCPU host with the
    // 4 MiB receive buffer full). So a spinning loop also reads the clock on
    // every 16th poll, empty or not: it notices a request sooner, a flood
    // costs a sixteenth of a clock read per request, and the timers run late
    // by 16 polls at most.
    bool stamped = n >= 0 && datagram_.stamps.software >= 0;
    if ((n >= 0 && !stamped) || (n < 0 && !config_.busy_poll) || ++polls % kPollsPerClockRead == 0) {
      now = clock_.now();
    }
    if (n >= 0) {
      ++counters.received;
      size_t reply = responder_.answer(datagram_.data, datagram_.length, datagram_.capacity, datagram_.peer,
                                       datagram_.stamps, stamped ? datagram_.stamps.software : now);
      if (reply > 0) {
        if (transport_->send(datagram_.data, reply, &datagram_.peer) < 0) {
          ++counters.send_errors;
        } else {
          ++counters.reflected;
        }
      }
    }
    bool served = tcp_ && tcp_->step(responder_, clock_, now);
    if (n < 0 && !served && !config_.busy_poll) {
      pollfd p[2];
      size_t count = 0;
      if (transport_) p[count++] = pollfd{transport_->fd(), POLLIN, 0};
      if (tcp_) p[count++] = pollfd{tcp_->fd(), POLLIN, 0};
      wait_readable(p, count, std::min({until, next_progress, next_sweep, now + kMaxBlockNs}) - now);
    }
    if (now >= next_sweep) {
      responder_.sweep(now);
      if (tcp_) tcp_->expire(now, counters);
      next_sweep = now + kSweepIntervalNs;
    }
    if (sink && now >= next_progress) {
      if (sink->wanted()) {
        progress.elapsed_ns = now - started_ns;
        progress.counters = counters;
        sink->publish(progress);
      }
      next_progress = now + config_.progress_interval_ns;
    }
  }
  run_facts_.end(clock_);
}

}  // namespace rtt
