#include "reflector.hpp"

#include <poll.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "clock.hpp"
#include "udp_transport.hpp"

namespace rtt {
namespace {
constexpr int64_t kMaxBlockNs = 20000000;  // blocking waits wake this often to see stop
}

Reflector::Reflector(const ReflectorConfig& config) : config_(config) {
  UdpOptions o;
  o.bind = config_.bind;
  o.timestamps = config_.timestamps;
  o.busy_poll_us = config_.socket_busy_poll_us;
  o.tx_timestamps = false;
  transport_ = std::make_unique<UdpTransport>(o);
  buffer_.resize(65536);
  datagram_.data = buffer_.data();
  datagram_.capacity = buffer_.size();
  error_estimate_ = wire::encode_error_estimate(local_error_estimate(config_.format));
}

Reflector::~Reflector() = default;

void Reflector::reflect(Datagram& d, int64_t t2_user) noexcept {
  wire::SenderPacket s;
  if (!wire::read_sender(d.data, d.length, s)) {
    ++counters_.malformed;
    return;
  }
  int64_t t2 = d.stamps.software;
  if (t2 < 0) {
    t2 = t2_user;
    ++counters_.rx_stamps_missing;
  }
  wire::ReflectorPacket r;
  r.seq = s.seq;  // stateless mode: the reflector echoes the sender's sequence number
  r.error_estimate = error_estimate_;
  r.ssid = s.ssid;
  r.receive_timestamp = wire::encode_timestamp(t2, config_.format);
  r.sender_seq = s.seq;
  r.sender_timestamp = s.timestamp;
  r.sender_error_estimate = s.error_estimate;
  r.sender_ttl = d.stamps.ttl >= 0 ? uint8_t(d.stamps.ttl) : 0;
  r.timestamp = wire::encode_timestamp(realtime_ns(), config_.format);
  wire::write_reflector(d.data, r);
  // Same length as the request: padding is echoed, never grown.
  if (transport_->send(d.data, d.length, &d.peer) < 0) {
    ++counters_.send_errors;
  } else {
    ++counters_.reflected;
  }
}

void Reflector::run(const std::atomic<bool>& stop, ProgressSink<ReflectorProgress>* sink) {
  pinning_ = apply_pinning(config_.pinning);
  started_ns_ = realtime_ns();
  int64_t cpu_start = thread_cpu_ns();
  int64_t until = config_.duration_ns ? started_ns_ + config_.duration_ns : INT64_MAX;
  int64_t next_progress = started_ns_ + config_.progress_interval_ns;
  ReflectorProgress progress;

  for (;;) {
    if (stop.load(std::memory_order_relaxed)) break;
    ssize_t n = transport_->receive(datagram_);
    int64_t now = realtime_ns();
    if (n >= 0) {
      ++counters_.received;
      reflect(datagram_, now);
    } else {
      if (now >= until) break;
      if (!config_.busy_poll) {
        int64_t wait = std::min({until, next_progress, now + kMaxBlockNs}) - now;
        pollfd p{transport_->fd(), POLLIN, 0};
        timespec ts{time_t(wait / 1000000000), long(wait % 1000000000)};
        ppoll(&p, 1, &ts, nullptr);
      }
    }
    if (sink && now >= next_progress) {
      progress.elapsed_ns = now - started_ns_;
      progress.counters = counters_;
      sink->publish(progress);
      next_progress = now + config_.progress_interval_ns;
    }
  }
  ended_ns_ = realtime_ns();
  cpu_ns_ = thread_cpu_ns() - cpu_start;
}

}  // namespace rtt
