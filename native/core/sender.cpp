#include "sender.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>

#include "clock.hpp"
#include "errors.hpp"
#include "udp_transport.hpp"

namespace rtt {
namespace {

constexpr int64_t kMaxBlockNs = 20000000;  // blocking waits wake this often to see stop
constexpr int kReplyBatch = 64;

uint32_t ring_size(const SenderConfig& c) {
  // Enough slots for every probe that can be in flight within one timeout.
  double in_flight = c.mode == SenderMode::Rate ? c.rate_pps * double(c.timeout_ns) / 1e9 : 1;
  uint64_t want = uint64_t(std::ceil(in_flight)) * 2 + 64;
  uint64_t size = 64;
  while (size < want && size < (uint64_t(1) << 24)) size <<= 1;
  return uint32_t(size);
}

void fill_progress(const Histogram& h, MetricProgress& out) noexcept {
  static constexpr double kPs[3] = {50, 99, 99.9};
  int64_t v[3];
  h.values_at_percentiles(kPs, v, 3);
  out.count = h.count();
  out.min = h.min();
  out.p50 = v[0];
  out.p99 = v[1];
  out.p999 = v[2];
  out.max = h.max();
}

}  // namespace

Sender::Sender(const SenderConfig& config) : config_(config) {
  if (config_.size < wire::kPacketSize || config_.size > 65507) {
    throw ConfigError("size must be between 44 and 65507 bytes");
  }
  if (config_.bind.family() != config_.target.family()) {
    throw ConfigError("bind address and target must both be IPv4 or both IPv6");
  }
  UdpOptions o;
  o.bind = config_.bind;
  o.connect = &config_.target;
  o.timestamps = config_.timestamps;
  o.busy_poll_us = config_.socket_busy_poll_us;
  transport_ = std::make_unique<UdpTransport>(o);

  uint32_t n = ring_size(config_);
  probes_.resize(n);
  key_to_seq_.resize(n);
  mask_ = n - 1;
  packet_.assign(config_.size, 0);
  wire::SenderPacket header;
  header.error_estimate = wire::encode_error_estimate(local_error_estimate(config_.format));
  header.ssid = config_.ssid;
  wire::write_sender(packet_.data(), header);
  receive_buffer_.resize(65536);
  datagram_.data = receive_buffer_.data();
  datagram_.capacity = receive_buffer_.size();
  if (config_.mode == SenderMode::Rate) interval_ns_ = int64_t(std::llround(1e9 / config_.rate_pps));
}

Sender::~Sender() = default;

bool Sender::ready_to_send(int64_t now) const noexcept {
  if (next_seq_ >= total_ || now >= send_until_ns_) return false;
  if (config_.mode == SenderMode::PingPong) return in_flight_ == 0;
  if (now < next_send_ns_) return false;
  State s = probes_[next_seq_ & mask_].state;
  return s != State::InFlight && s != State::Answered;
}

void Sender::send_probe() noexcept {
  uint32_t seq = next_seq_++;
  Probe& p = slot(seq);
  p = Probe{};
  p.seq = seq;
  p.measured = seq >= config_.warmup;
  if (p.measured) ++counters_.sent;
  next_send_ns_ += interval_ns_;

  p.t1_user = realtime_ns();
  wire::update_sender(packet_.data(), seq, wire::encode_timestamp(p.t1_user, config_.format));
  if (transport_->send(packet_.data(), packet_.size(), nullptr) < 0) {
    // A probe that never left is lost, so count- and time-bounded runs still end.
    last_send_errno_ = errno;
    ++counters_.send_errors;
    if (errno == ECONNREFUSED) ++counters_.icmp_errors;
    p.state = State::Expired;
    if (p.measured) ++counters_.lost;
    return;
  }
  p.state = State::InFlight;
  p.deadline = p.t1_user + config_.timeout_ns;
  ++in_flight_;
  if (transport_->timestamping().software) {
    p.tx_key = next_tx_key_++;
    key_to_seq_[p.tx_key & mask_] = seq;
    ++tx_pending_;
  }
}

bool Sender::drain_tx_stamps() noexcept {
  bool any = false;
  TxStamp ts;
  while (transport_->read_tx_stamp(ts)) {
    any = true;
    if (ts.software >= 0) ++stamps_.tx_software;
    if (ts.hardware >= 0) {
      ++stamps_.tx_hardware;
      hw_tx_seen_ = true;
    }
    uint32_t seq = key_to_seq_[ts.id & mask_];
    Probe& p = slot(seq);
    if (p.seq != seq || p.tx_key != ts.id || (p.state != State::InFlight && p.state != State::Answered)) continue;
    // A stamp older than the probe's own send belongs to another datagram.
    if (ts.software >= 0 && ts.software < p.t1_user) continue;
    if (ts.software >= 0 && p.t1_kernel < 0) {
      p.t1_kernel = ts.software;
      if (tx_pending_) --tx_pending_;
    }
    if (ts.hardware >= 0) p.t1_hw = ts.hardware;
    if (p.state == State::Answered && tx_complete(p)) finalize(p);
  }
  return any;
}

bool Sender::drain_replies() noexcept {
  for (int i = 0; i < kReplyBatch; ++i) {
    ssize_t n = transport_->receive(datagram_);
    int64_t t4_user = realtime_ns();
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return i > 0;
      // A connected UDP socket reports ICMP unreachable as ECONNREFUSED once.
      ++counters_.icmp_errors;
      continue;
    }
    on_reply(datagram_, t4_user);
  }
  return true;
}

void Sender::on_reply(const Datagram& d, int64_t t4_user) noexcept {
  wire::ReflectorPacket r;
  if (!wire::read_reflector(d.data, d.length, r)) {
    ++counters_.malformed;
    return;
  }
  uint32_t seq = r.sender_seq;
  if (seq >= next_seq_) {
    ++counters_.unexpected;
    return;
  }
  Probe& p = slot(seq);
  if (p.seq != seq || p.state == State::Expired) {
    if (seq >= config_.warmup) ++counters_.late;
    return;
  }
  if (p.state == State::Answered || p.state == State::Done) {
    if (p.measured) ++counters_.duplicates;
    return;
  }
  if (p.state != State::InFlight) {
    ++counters_.unexpected;
    return;
  }
  if (d.stamps.software >= 0) ++stamps_.rx_software;
  if (d.stamps.hardware >= 0) ++stamps_.rx_hardware;
  // Each timestamp is read in the format its writer declares (Z bit).
  auto reflector_format = wire::decode_error_estimate(r.error_estimate).format;
  p.t2 = r.receive_timestamp ? wire::decode_timestamp(r.receive_timestamp, reflector_format) : -1;
  p.t3 = r.timestamp ? wire::decode_timestamp(r.timestamp, reflector_format) : -1;
  p.t4_user = t4_user;
  p.t4_kernel = d.stamps.software;
  p.t4_hw = d.stamps.hardware;
  if (p.measured) {
    if (int64_t(seq) < highest_answered_) ++counters_.reordered;
    highest_answered_ = std::max<int64_t>(highest_answered_, seq);
  }
  p.state = State::Answered;
  if (tx_complete(p)) finalize(p);
}

bool Sender::tx_complete(const Probe& p) const noexcept {
  if (transport_->timestamping().software && p.t1_kernel < 0) return false;
  return !(hw_tx_seen_ && p.t1_hw < 0);
}

void Sender::finalize(Probe& p) noexcept {
  if (p.state == State::InFlight || p.state == State::Answered) --in_flight_;
  if (p.t1_kernel < 0 && transport_->timestamping().software && tx_pending_) --tx_pending_;
  p.state = State::Done;
  if (!p.measured) return;
  ++counters_.received;
  auto rec = [this](Metric m, int64_t v) { histograms_[index(m)].record(v); };

  int64_t best = p.t4_user - p.t1_user;
  rec(Metric::RttUser, best);
  if (p.t1_kernel >= 0 && p.t4_kernel >= 0) {
    best = p.t4_kernel - p.t1_kernel;
    rec(Metric::RttKernel, best);
  }
  if (p.t1_hw >= 0 && p.t4_hw >= 0) {
    best = p.t4_hw - p.t1_hw;
    rec(Metric::RttHw, best);
  }
  if (p.t2 >= 0 && p.t3 >= 0) {
    rec(Metric::Residence, p.t3 - p.t2);
    rec(Metric::RttNet, best - (p.t3 - p.t2));
  }
  // One-way delays stay in the CLOCK_REALTIME domain the reflector stamps in.
  if (p.t2 >= 0) rec(Metric::OwdFwd, p.t2 - (p.t1_kernel >= 0 ? p.t1_kernel : p.t1_user));
  if (p.t3 >= 0) rec(Metric::OwdRev, (p.t4_kernel >= 0 ? p.t4_kernel : p.t4_user) - p.t3);
  if (p.t1_kernel >= 0) rec(Metric::StackTx, p.t1_kernel - p.t1_user);
  if (p.t4_kernel >= 0) rec(Metric::StackRx, p.t4_user - p.t4_kernel);
}

void Sender::expire(int64_t now) noexcept {
  while (oldest_ < next_seq_) {
    Probe& p = slot(oldest_);
    if (p.seq == oldest_ && (p.state == State::InFlight || p.state == State::Answered)) {
      if (p.deadline > now) return;
      if (p.state == State::Answered) {
        // The reply came; only the TX stamp did not. Keep the sample without it.
        if (p.measured) ++counters_.tx_stamps_missing;
        finalize(p);
      } else {
        p.state = State::Expired;
        --in_flight_;
        if (tx_pending_ && transport_->timestamping().software && p.t1_kernel < 0) --tx_pending_;
        if (p.measured) ++counters_.lost;
      }
    }
    ++oldest_;
  }
}

int64_t Sender::next_event(int64_t now) const noexcept {
  int64_t next = now + kMaxBlockNs;
  if (config_.mode == SenderMode::Rate && next_seq_ < total_) next = std::min(next, next_send_ns_);
  if (oldest_ < next_seq_) next = std::min(next, probes_[oldest_ & mask_].deadline);
  return next;
}

void Sender::publish(int64_t now, ProgressSink<SenderProgress>* sink) noexcept {
  progress_.elapsed_ns = now - started_ns_;
  progress_.counters = counters_;
  progress_.counters.in_flight = in_flight_;
  for (size_t i = 0; i < kMetricCount; ++i) fill_progress(histograms_[i], progress_.metrics[i]);
  sink->publish(progress_);
}

void Sender::run(const std::atomic<bool>& stop, ProgressSink<SenderProgress>* sink) {
  pinning_ = apply_pinning(config_.pinning);
  total_ = config_.count ? uint64_t(config_.warmup) + config_.count : UINT64_MAX;
  if (total_ > UINT32_MAX) total_ = UINT32_MAX;
  started_ns_ = realtime_ns();
  next_send_ns_ = started_ns_;
  send_until_ns_ = config_.duration_ns ? started_ns_ + config_.duration_ns : INT64_MAX;
  int64_t next_progress = started_ns_ + config_.progress_interval_ns;
  bool stamps = transport_->timestamping().software;

  for (;;) {
    if (stop.load(std::memory_order_relaxed)) {
      stopped_ = true;
      break;
    }
    int64_t now = realtime_ns();
    if (ready_to_send(now)) {
      send_probe();
    } else if (in_flight_ == 0 && (next_seq_ >= total_ || now >= send_until_ns_)) {
      break;
    }
    bool busy = false;
    // The error queue is read only while a stamp is owed (or always when
    // blocking, so a stale stamp cannot keep ppoll returning POLLERR).
    if (stamps && (tx_pending_ || !config_.busy_poll)) busy |= drain_tx_stamps();
    busy |= drain_replies();
    expire(now);
    if (sink && now >= next_progress) {
      publish(now, sink);
      next_progress = now + config_.progress_interval_ns;
    }
    if (!config_.busy_poll && !busy && !ready_to_send(realtime_ns())) {
      int64_t t = realtime_ns();
      transport_->wait(std::min(next_event(t), next_progress) - t);
    }
  }
  ended_ns_ = realtime_ns();
  counters_.in_flight = in_flight_;
}

std::string Sender::missing_reason(Metric m) const {
  if (histograms_[index(m)].count() > 0) return "";
  if (counters_.received == 0) return "no replies were received";
  const TimestampingGrant& ts = transport_->timestamping();
  auto kernel_reason = [&](bool tx, bool rx) -> std::string {
    if (!ts.software_requested) return "timestamping is off (ts: none)";
    if (ts.refused_errno) return "the kernel refused SO_TIMESTAMPING (" + errno_name(ts.refused_errno) + ")";
    if (!ts.software) return "the kernel did not grant software timestamping";
    if (tx && stamps_.tx_software == 0) return "no kernel TX timestamps arrived on the error queue";
    if (rx && stamps_.rx_software == 0) return "no kernel RX timestamps arrived with the replies";
    return "no probe had all the kernel timestamps this metric needs";
  };
  switch (m) {
    case Metric::RttUser:
      return "no replies were received";
    case Metric::RttKernel:
      return kernel_reason(true, true);
    case Metric::StackTx:
      return kernel_reason(true, false);
    case Metric::StackRx:
      return kernel_reason(false, true);
    case Metric::RttHw:
      if (!ts.hardware_requested) return "hardware timestamps were not requested (ts: software)";
      if (ts.refused_errno || !ts.hardware) return "the socket refused hardware timestamping flags";
      return "no NIC hardware timestamps arrived: the interface lacks them or hardware timestamping "
             "is not enabled on it (SIOCSHWTSTAMP; see ethtool -T)";
    case Metric::Residence:
    case Metric::RttNet:
    case Metric::OwdFwd:
    case Metric::OwdRev:
      return "the reflector left its receive/transmit timestamps (T2/T3) empty";
  }
  return "not measured";
}

}  // namespace rtt
