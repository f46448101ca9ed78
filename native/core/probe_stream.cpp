#include "probe_stream.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstring>

#include "clock.hpp"
#include "errors.hpp"

namespace rtt {
namespace {

constexpr int kReplyBatch = 64;
// How long after its reply a probe may wait for its TX stamp. Software stamps
// are queued before the datagram leaves, so only hardware stamps need this.
constexpr int64_t kTxStampGraceNs = 2000000;
// Answered probes without a software TX stamp, none ever seen, after which
// the path is taken not to stamp transmits (macvlan between namespaces).
constexpr uint32_t kStamplessProbes = 32;
constexpr uint64_t kMaxInFlight = uint64_t(1) << 20;  // TypeScript rejects more than 1e6 first

uint32_t ring_size(const StreamConfig& c) {
  // Enough slots for every probe that can be in flight within one timeout.
  double in_flight = c.mode == SenderMode::Rate ? c.rate_pps / (1 - c.jitter) * double(c.timeout_ns) / 1e9 : 1;
  uint64_t want = uint64_t(std::ceil(in_flight)) + 64;
  if (want > kMaxInFlight) throw ConfigError("rate x timeout allows too many probes in flight; lower the rate or the timeout");
  uint64_t size = 64;
  while (size < want) size <<= 1;
  return uint32_t(size);
}

// Why NIC stamps did not come although the socket asked for them.
std::string hardware_reason(const TimestampingGrant& ts) {
  const HwtstampSetup& hw = ts.hwtstamp;
  std::string where = "interface " + ts.interface;
  if (!hw.attempted) return "the socket's interface is not known, so no NIC was configured for hardware timestamping";
  if (hw.refused_errno) {
    return where + " refused hardware timestamping (SIOCSHWTSTAMP: " + errno_name(hw.refused_errno) +
           "; see rtt-probe caps)";
  }
  std::string config = hw.granted ? " (tx-type " + tx_type_name(hw.granted->tx_type) + ", rx-filter " +
                                        rx_filter_name(hw.granted->rx_filter) + ")"
                                  : "";
  if (!hw.tx || !hw.rx) return where + " does not stamp every packet in hardware" + config;
  return "no NIC hardware timestamps arrived although " + where + " is configured for them" + config;
}

}  // namespace

ProbeStream::ProbeStream(const StreamConfig& config, UserClock& clock, Capture* capture)
    : config_(config), clock_(clock), capture_(capture) {
  if (!config_.key.empty()) {
    auth_ = std::make_unique<PacketAuth>(config_.key);
    layout_ = wire::Layout::Authenticated;
  }
  if (config_.size < wire::packet_size(layout_) || config_.size > wire::kMaxPacketSize) {
    throw ConfigError("size must be between " + std::to_string(wire::packet_size(layout_)) + " and " +
                      std::to_string(wire::kMaxPacketSize) + " bytes");
  }
  if (!(config_.jitter >= 0 && config_.jitter <= 0.5)) throw ConfigError("jitter must be between 0 and 0.5");
  if (!std::is_sorted(config_.bucket_bounds_ns.begin(), config_.bucket_bounds_ns.end())) {
    throw ConfigError("bucket bounds must be in ascending order");
  }
  if (config_.bind.family() != config_.target.family()) {
    throw ConfigError("bind address and target must both be IPv4 or both IPv6");
  }
  if (config_.protocol == Protocol::Tcp) {
    if (config_.mode == SenderMode::Rate) {
      throw ConfigError("rate mode is for UDP; TCP takes pingpong (request/response) or connect mode");
    }
    if (config_.path.transport != TransportKind::Udp) throw ConfigError("the raw transport carries UDP only: TCP runs on sockets");
    TcpOptions o;
    o.bind = config_.bind;
    o.target = config_.target;
    o.timestamps = config_.timestamps;
    o.busy_poll_us = config_.socket_busy_poll_us;
    o.user_clock = &clock_;
    o.packet_size = config_.size;
    o.dscp = config_.path.dscp;
    o.ttl = config_.path.ttl;
    auto tcp = std::make_unique<TcpTransport>(o);
    tcp_ = tcp.get();
    transport_ = std::move(tcp);
  } else {
    if (config_.mode == SenderMode::Connect) throw ConfigError("connect mode opens a TCP connection per probe: it needs protocol tcp");
    UdpOptions o;
    o.bind = config_.bind;
    o.connect = &config_.target;
    o.timestamps = config_.timestamps;
    o.busy_poll_us = config_.socket_busy_poll_us;
    o.receive_ttl = false;
    o.user_clock = &clock_;
    transport_ = open_transport(o, config_.path);
    tx_software_expected_ = transport_->timestamping().software;
  }

  uint32_t n = ring_size(config_);
  probes_.resize(n);
  key_to_seq_.resize(n);
  mask_ = n - 1;
  packet_.assign(config_.size, 0);
  wire::SenderPacket header;
  header.error_estimate = wire::encode_error_estimate(local_error_estimate(config_.format));
  header.ssid = config_.ssid;
  wire::write_sender(packet_.data(), header, layout_);
  buckets_.assign(kMetricCount * (config_.bucket_bounds_ns.size() + 1), 0);
  rng_ = config_.seed;
  receive_buffer_.resize(config_.receive_capacity);
  datagram_.data = receive_buffer_.data();
  datagram_.capacity = receive_buffer_.size();
  if (config_.mode == SenderMode::Rate) interval_ns_ = int64_t(std::llround(1e9 / config_.rate_pps));
}

ProbeStream::~ProbeStream() = default;

void ProbeStream::open() {
  if (!tcp_) return;
  tcp_->connect_waiting(config_.timeout_ns);
  tx_software_expected_ = ack_expected_ = transport_->timestamping().software;
  if (config_.mode == SenderMode::Connect) tcp_->drop();
}

bool ProbeStream::ready_to_send(int64_t now) const noexcept {
  if (next_seq_ >= total_ || now >= send_until_ns_ || refused()) return false;
  State s = probes_[next_seq_ & mask_].state;
  if (s == State::InFlight || s == State::Answered) return false;
  // Ping-pong sends as soon as no probe awaits its reply: one that is only
  // owed its TX stamp is settled while the next probe is on the wire.
  if (config_.mode == SenderMode::PingPong) return awaiting_reply_ == 0;
  // Connect mode: a probe per connection, once the connection is established.
  if (config_.mode == SenderMode::Connect) return in_flight_ == 0 && tcp_->open() && !connecting_;
  return now >= next_send_ns_;
}

ProbeStream::Probe& ProbeStream::take_slot() noexcept {
  uint32_t seq = next_seq_++;
  // The probe that held this slot is settled (ready_to_send): its row goes
  // now, unless it went while the previous probe was on the wire.
  if (capture_ && seq > mask_) capture_before(seq - mask_, false);
  Probe& p = slot(seq);
  p = Probe{};
  p.seq = seq;
  p.measured = seq >= config_.warmup;
  if (p.measured) ++counters_.sent;
  return p;
}

void ProbeStream::send_probe() noexcept {
  Probe& p = take_slot();
  uint32_t seq = p.seq;
  if (config_.mode == SenderMode::Connect) {
    p.t.connect_start = connect_start_;
    p.t.connected = connected_at_;
  }
  int64_t scheduled = next_send_ns_;
  next_send_ns_ += config_.jitter > 0 ? int64_t(double(interval_ns_) * (1 + config_.jitter * (2 * uniform() - 1))) : interval_ns_;

  p.t.t1_user = clock_.now();
  if (seq == config_.warmup) first_send_ns_ = p.t.t1_user;
  if (p.measured) last_send_ns_ = p.t.t1_user;
  p.send_error = p.t.t1_user - scheduled;
  if (config_.mode == SenderMode::Rate && p.measured) record(Metric::SendError, p.send_error);
  p.t1_wire = wire::encode_timestamp(p.t.t1_user, config_.format);
  wire::update_sender(packet_.data(), seq, p.t1_wire, layout_);
  if (auth_) auth_->sign(packet_.data());
  if (transport_->send(packet_.data(), packet_.size(), nullptr) < 0) {
    // A probe that never left is lost, so count- and time-bounded runs still end.
    last_send_errno_ = errno;
    ++counters_.send_errors;
    if (errno == ECONNREFUSED) {
      ++counters_.icmp_errors;
      last_icmp_errno_ = errno;
    }
    p.state = State::Expired;
    if (p.measured) ++counters_.lost;
    return;
  }
  p.state = State::InFlight;
  p.deadline = p.t.t1_user + config_.timeout_ns;
  ++in_flight_;
  ++awaiting_reply_;
  if (transport_->timestamping().software) {
    p.tx_key = next_tx_key_++;
    key_to_seq_[p.tx_key & mask_] = seq;
    tx_pending_ += stamps_owed(p);
  }
  // While this probe is on the wire: the row of the probe whose slot the next send takes.
  if (capture_ && seq >= mask_) {
    State next = slot(seq + 1).state;
    if (next != State::InFlight && next != State::Answered) capture_before(seq + 1 - mask_, false);
  }
}

double ProbeStream::uniform() noexcept {
  uint64_t z = (rng_ += 0x9e3779b97f4a7c15ull);  // splitmix64
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return double(z >> 11) * 0x1.0p-53;
}

bool ProbeStream::drain_tx_stamps(bool all) noexcept {
  bool any = false;
  TxStamp ts;
  // Stop once no stamp is owed: another read would only return EAGAIN.
  while ((all || tx_pending_ > 0) && transport_->read_tx_stamp(ts)) {
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
    if (ts.software >= 0 && ts.software < p.t.t1_user) continue;
    if (ts.kind == TxStampKind::Acked) {
      if (ts.software >= 0 && p.t.acked < 0) {
        p.t.acked = ts.software;
        if (ack_expected_ && tx_pending_) --tx_pending_;
      }
      continue;
    }
    if (ts.software >= 0 && p.t.t1_kernel < 0) {
      p.t.t1_kernel = ts.software;
      if (tx_pending_) --tx_pending_;
    }
    if (ts.hardware >= 0) p.t.t1_hw = ts.hardware;
  }
  return any;
}

bool ProbeStream::step_connect(int64_t now) noexcept {
  auto failed = [this](int err) {
    // A probe that never had a connection is lost, so bounded runs still end.
    ++counters_.connect_errors;
    last_connect_errno_ = err;
    connecting_ = false;
    Probe& p = take_slot();
    p.t.connect_start = connect_start_;
    p.state = State::Expired;
    if (p.measured) ++counters_.lost;
    return true;
  };
  if (connecting_) {
    int state = tcp_->finish_connect();
    if (state < 0) return failed(errno);
    if (state == 0) {
      if (now < connect_deadline_) return false;
      tcp_->drop();
      return failed(ETIMEDOUT);
    }
    connected_at_ = clock_.now();
    connecting_ = false;
    return true;
  }
  if (tcp_->open() || in_flight_ > 0 || next_seq_ >= total_ || now >= send_until_ns_ || refused()) return false;
  connect_start_ = clock_.now();
  if (!tcp_->begin_connect()) return failed(errno);
  connecting_ = true;
  connect_deadline_ = connect_start_ + config_.timeout_ns;
  return true;
}

void ProbeStream::connection_lost(int err) noexcept {
  ++counters_.disconnects;
  last_connect_errno_ = err;
  tcp_->drop();
  // Ping-pong has one connection: the session ends with what it measured.
  if (config_.mode == SenderMode::PingPong) disconnected_ = true;
}

bool ProbeStream::echoed(const Datagram& d, wire::ReflectorPacket& r) const noexcept {
  // Everything after the sequence number and T1 is the same in every request.
  constexpr size_t kVaries = 12;
  if (auth_ || d.length != packet_.size() ||
      std::memcmp(d.data + kVaries, packet_.data() + kVaries, packet_.size() - kVaries) != 0) {
    return false;
  }
  wire::SenderPacket request;
  if (!wire::read_sender(d.data, d.length, request, layout_)) return false;
  r = wire::ReflectorPacket{};
  r.sender_seq = request.seq;
  r.sender_timestamp = request.timestamp;
  r.error_estimate = request.error_estimate;
  return true;
}

bool ProbeStream::drain_replies() noexcept {
  // Ping-pong and connect mode expect one reply: reading on to EAGAIN would
  // delay the next probe by a syscall.
  int batch = config_.mode == SenderMode::Rate ? kReplyBatch : 1;
  // A connection still opening has nothing to read; its failure is step_connect's.
  if (connecting_) return false;
  for (int i = 0; i < batch; ++i) {
    if (transport_->receive(datagram_) < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return i > 0;
      if (tcp_) {
        // ENOTCONN: connect mode between connections, nothing to read.
        if (errno != ENOTCONN) connection_lost(errno);
        return i > 0;
      }
      // A connected UDP socket reports each ICMP error (port unreachable:
      // ECONNREFUSED) on the next receive.
      ++counters_.icmp_errors;
      last_icmp_errno_ = errno;
      continue;
    }
    on_reply(datagram_, datagram_.user_ns);
  }
  return true;
}

void ProbeStream::on_reply(const Datagram& d, int64_t t4_user) noexcept {
  wire::ReflectorPacket r;
  switch (read_reply(d.data, d.length, auth_.get(), r)) {
    case ReplyCheck::Malformed:
      ++counters_.malformed;
      return;
    case ReplyCheck::AuthFailure:
      ++counters_.auth_failures;
      return;
    case ReplyCheck::Valid:
      if (echoed(d, r)) ++counters_.echoes;
      break;
  }
  uint32_t seq = r.sender_seq;
  if (seq >= next_seq_) {
    ++counters_.unexpected;
    return;
  }
  Probe& p = slot(seq);
  if (p.seq != seq || p.state == State::Expired || p.state == State::Late) {
    if (seq >= config_.warmup) ++counters_.late;
    // Still in its slot: its capture row says late, with the reply's T4.
    if (p.seq == seq && p.state == State::Expired && r.sender_timestamp == p.t1_wire) {
      p.state = State::Late;
      p.t.t4_user = t4_user;
      p.t.t4_kernel = d.stamps.software;
      p.t.t4_hw = d.stamps.hardware;
    }
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
  // Each timestamp is read in the format its writer declares (Z bit).
  auto reflector_format = wire::decode_error_estimate(r.error_estimate).format;
  int64_t t2 = r.receive_timestamp ? wire::decode_timestamp(r.receive_timestamp, reflector_format) : -1;
  int64_t t3 = r.timestamp ? wire::decode_timestamp(r.timestamp, reflector_format) : -1;
  // A reply must echo the T1 this probe carried, and no reflector holds a
  // packet for longer than its whole round trip.
  if (r.sender_timestamp != p.t1_wire ||
      (t2 >= 0 && t3 >= 0 && (t3 < t2 || t3 - t2 > t4_user - p.t.t1_user))) {
    if (p.measured) ++counters_.corrupted;
    return;
  }
  if (d.stamps.software >= 0) ++stamps_.rx_software;
  if (d.stamps.hardware >= 0) ++stamps_.rx_hardware;
  p.t.t2 = t2;
  p.t.t3 = t3;
  p.t.t4_user = t4_user;
  p.t.t4_kernel = d.stamps.software;
  p.t.t4_hw = d.stamps.hardware;
  if (p.measured) {
    if (int64_t(seq) < highest_answered_) ++counters_.reordered;
    highest_answered_ = std::max<int64_t>(highest_answered_, seq);
  }
  p.state = State::Answered;
  --awaiting_reply_;
  last_reply_ns_ = t4_user;
}

void ProbeStream::stop_expecting_tx_stamps() noexcept {
  tx_software_expected_ = ack_expected_ = false;
  tx_pending_ = 0;
}

uint32_t ProbeStream::stamps_owed(const Probe& p) const noexcept {
  return uint32_t(tx_software_expected_ && p.t.t1_kernel < 0) + uint32_t(ack_expected_ && p.t.acked < 0);
}

bool ProbeStream::tx_complete(const Probe& p) const noexcept {
  if (stamps_owed(p) > 0) return false;
  return !(hw_tx_seen_ && p.t.t1_hw < 0);
}

void ProbeStream::finalize(Probe& p) noexcept {
  --in_flight_;
  tx_pending_ -= std::min(tx_pending_, stamps_owed(p));
  p.state = State::Done;
  // Connect mode: the transaction ends with its stamps in; the next opens a new connection.
  if (config_.mode == SenderMode::Connect) tcp_->drop();
  if (!p.measured) return;
  ++counters_.received;
  MetricValues v = metric_values(p.t);
  for (size_t m = 0; m < kMetricCount; ++m) {
    if (v.present & (1u << m)) record(Metric(m), v.value[m]);
  }
}

void ProbeStream::record(Metric m, int64_t value) noexcept {
  if (config_.keep_histograms) histograms_[index(m)].record(value);
  if (value < 0) return;  // as the histogram, which counts negatives as underflow
  const std::vector<int64_t>& bounds = config_.bucket_bounds_ns;
  size_t b = size_t(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
  ++buckets_[index(m) * (bounds.size() + 1) + b];
  bucket_sums_[index(m)] += double(value);
}

void ProbeStream::settle(int64_t now) noexcept {
  while (oldest_ < next_seq_) {
    Probe& p = slot(oldest_);
    if (p.seq == oldest_ && p.state == State::Answered && tx_complete(p)) {
      finalize(p);
    } else if (p.seq == oldest_ && p.state == State::Answered) {
      if (std::min(p.deadline, p.t.t4_user + kTxStampGraceNs) > now) return;
      // The reply came; only the TX stamp did not. Keep the sample without it.
      if (p.measured) ++counters_.tx_stamps_missing;
      if (p.t.t1_kernel < 0 && stamps_.tx_software == 0 && ++stampless_ >= kStamplessProbes) stop_expecting_tx_stamps();
      finalize(p);
    } else if (p.seq == oldest_ && p.state == State::InFlight) {
      // A target that refused (stop_on_unreachable) answers nothing in
      // flight, nor does a TCP connection that is gone.
      if (p.deadline > now && !refused() && !(tcp_ && !tcp_->open())) return;
      p.state = State::Expired;
      --in_flight_;
      --awaiting_reply_;
      tx_pending_ -= std::min(tx_pending_, stamps_owed(p));
      if (p.measured) ++counters_.lost;
      if (config_.mode == SenderMode::Connect) tcp_->drop();
    }
    ++oldest_;
  }
}

void ProbeStream::start(int64_t now) noexcept {
  total_ = config_.count ? uint64_t(config_.warmup) + config_.count : UINT64_MAX;
  if (total_ > UINT32_MAX) total_ = UINT32_MAX;
  next_send_ns_ = config_.jitter > 0 ? now + int64_t(double(interval_ns_) * uniform()) : now;
  send_until_ns_ = config_.duration_ns ? now + config_.duration_ns : INT64_MAX;
}

bool ProbeStream::step(int64_t now, bool blocking) noexcept {
  // Ping-pong reads first, so a probe follows its predecessor's reply at
  // once; rate mode sends first, so a due probe does not wait behind a read.
  // Stamps and histograms are dealt with while the probe is on the wire.
  bool pingpong = config_.mode != SenderMode::Rate;
  bool busy = pingpong && drain_replies();
  if (config_.mode == SenderMode::Connect) busy |= step_connect(now);
  if (ready_to_send(now)) {
    send_probe();
    busy = true;
  }
  if (!pingpong) busy |= drain_replies();
  // The error queue is read only while a stamp is owed (or drained whenever
  // blocking, so a stale stamp cannot keep ppoll returning POLLERR).
  if (transport_->timestamping().software && (tx_pending_ || blocking)) busy |= drain_tx_stamps(blocking);
  settle(now);
  return busy;
}

bool ProbeStream::done(int64_t now) const noexcept {
  return in_flight_ == 0 && (next_seq_ >= total_ || now >= send_until_ns_ || refused());
}

int64_t ProbeStream::next_event(int64_t now) const noexcept {
  if (ready_to_send(now)) return now;
  int64_t next = INT64_MAX;
  if (config_.mode == SenderMode::Rate && next_seq_ < total_ && now < send_until_ns_) next = next_send_ns_;
  if (config_.mode == SenderMode::Connect) {
    if (connecting_) next = std::min(next, connect_deadline_);
    if (!connecting_ && !tcp_->open() && in_flight_ == 0 && next_seq_ < total_ && now < send_until_ns_ && !refused()) {
      return now;
    }
  }
  if (oldest_ < next_seq_) next = std::min(next, probes_[oldest_ & mask_].deadline);
  return next;
}

SenderCounters ProbeStream::counters() const noexcept {
  SenderCounters c = counters_;
  c.in_flight = in_flight_;
  if (capture_) c.capture_dropped += capture_->unwritten();
  return c;
}

void ProbeStream::capture_row(uint32_t seq, bool final) noexcept {
  const Probe& p = slot(seq);
  if (p.seq != seq || !p.measured || p.state == State::Free) return;
  ProbeRecord r;
  r.times = p.t;
  r.seq = seq;
  r.send_error = p.send_error;
  r.has_send_error = config_.mode == SenderMode::Rate;
  switch (p.state) {
    case State::Done:
      r.status = ProbeStatus::Answered;
      break;
    case State::Late:
      r.status = ProbeStatus::Late;
      break;
    case State::InFlight:
    case State::Answered:  // replied, but stopped before its TX stamp settled it
      r.status = ProbeStatus::InFlight;
      break;
    default:
      r.status = ProbeStatus::Lost;
  }
  if (!(final ? capture_->push_final(r) : capture_->push(r))) ++counters_.capture_dropped;
}

void ProbeStream::capture_before(uint32_t end, bool final) noexcept {
  for (; captured_ < end; ++captured_) capture_row(captured_, final);
}

void ProbeStream::flush_capture() noexcept {
  if (capture_) capture_before(next_seq_, true);
}

std::string ProbeStream::no_replies_reason() const {
  std::string why = "no replies were received";
  if (counters_.late > 0) {
    why += " within the timeout; " + std::to_string(counters_.late) + " came after it";
  }
  if (counters_.connect_errors > 0) {
    why += "; " + std::to_string(counters_.connect_errors) + " TCP connection" +
           (counters_.connect_errors == 1 ? "" : "s") + " could not be opened (last " + errno_name(last_connect_errno_) +
           (last_connect_errno_ == ECONNREFUSED ? ": nothing listens on the target's TCP port)" : ")");
  }
  if (counters_.disconnects > 0) {
    why += "; the peer closed or reset the connection (" + errno_name(last_connect_errno_) + ")";
  }
  if (counters_.icmp_errors == 0) return why;
  why += "; " + std::to_string(counters_.icmp_errors) + " ICMP error" + (counters_.icmp_errors == 1 ? "" : "s") +
         " came back (last " + errno_name(last_icmp_errno_);
  switch (last_icmp_errno_) {
    case ECONNREFUSED:
      why += ": port unreachable, so nothing listens on the target's port or a firewall rejects the probes)";
      break;
    case EHOSTUNREACH:
      why += ": host unreachable)";
      break;
    case ENETUNREACH:
      why += ": network unreachable)";
      break;
    default:
      why += ")";
  }
  if (config_.stop_on_unreachable) why += "; the session stopped at the first (stopOnUnreachable)";
  return why;
}

std::string ProbeStream::missing_reason(Metric m) const {
  if (histograms_[index(m)].count() > 0) return "";
  if (m == Metric::SendError) return config_.mode == SenderMode::Rate ? "no probe was sent" : "";
  if (m == Metric::Ack && !tcp_) return "";
  if ((m == Metric::Connect || m == Metric::Transaction) && config_.mode != SenderMode::Connect) return "";
  if (counters_.received == 0) return no_replies_reason();
  const TimestampingGrant& ts = transport_->timestamping();
  auto kernel_reason = [&](bool tx, bool rx) -> std::string {
    if (!ts.software_requested) return "timestamping is off (ts: none)";
    if (ts.refused_errno) return "the kernel refused SO_TIMESTAMPING (" + errno_name(ts.refused_errno) + ")";
    if (!ts.software) return "the kernel did not grant software timestamping";
    if (tx && stamps_.tx_software == 0) {
      return "no kernel TX timestamps arrived on the error queue (this path does not stamp transmits, "
             "as with macvlan between namespaces)";
    }
    if (rx && stamps_.rx_software == 0) return "no kernel RX timestamps arrived with the replies";
    return "no probe had all the kernel timestamps this metric needs";
  };
  switch (m) {
    case Metric::RttUser:
      return no_replies_reason();
    case Metric::RttKernel:
      return kernel_reason(true, true);
    case Metric::StackTx:
      return kernel_reason(true, false);
    case Metric::StackRx:
      return kernel_reason(false, true);
    case Metric::RttHw:
      if (config_.timestamps == TimestampSource::Auto && !ts.hardware_capable) {
        return "interface " + ts.interface + " has no hardware timestamping (see ethtool -T " + ts.interface + ")";
      }
      if (!ts.hardware_requested) return "hardware timestamps were not requested (ts: software)";
      // The NIC first: where it stamps nothing, auto leaves the socket's hardware flags off.
      if (ts.hwtstamp.attempted && !(ts.hwtstamp.tx && ts.hwtstamp.rx)) return hardware_reason(ts);
      if (ts.refused_errno || !ts.hardware) return "the socket refused hardware timestamping flags";
      return hardware_reason(ts);
    case Metric::Ack:
      if (stamps_.tx_software > 0) return "no ACK timestamps (SOF_TIMESTAMPING_TX_ACK) arrived on the error queue";
      return kernel_reason(true, false);
    case Metric::Connect:
    case Metric::Transaction:
      return no_replies_reason();
    case Metric::SendError:  // answered before the switch
      break;
    case Metric::Residence:
    case Metric::RttNet:
    case Metric::OwdFwd:
    case Metric::OwdRev:
      if (counters_.echoes > 0) {
        return "the peer is an echo service (it returned each request unchanged), so there are no reflector "
               "timestamps (T2/T3)";
      }
      return "the reflector left its receive/transmit timestamps (T2/T3) empty";
  }
  return "not measured";
}

}  // namespace rtt
