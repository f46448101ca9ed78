// One reflector being probed: its socket, the probes in flight, the counters
// and a histogram per metric. A Sender drives one or more streams from one
// thread; nothing here blocks, allocates or locks once constructed.
#pragma once

#include <poll.h>

#include <array>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "auth.hpp"
#include "capture.hpp"
#include "choices.hpp"
#include "counters.hpp"
#include "histogram.hpp"
#include "metrics.hpp"
#include "open_transport.hpp"
#include "tcp_transport.hpp"
#include "transport.hpp"
#include "user_clock.hpp"
#include "wire.hpp"

namespace rtt {

// Connect: a TCP connection per probe (netperf TCP_CRR).
enum class SenderMode : uint8_t { PingPong, Rate, Connect };
inline constexpr Choice<SenderMode> kSenderModes[] = {
    {"pingpong", SenderMode::PingPong},
    {"rate", SenderMode::Rate},
    {"connect", SenderMode::Connect},
};

struct StreamConfig {
  Endpoint target;
  Endpoint bind;                  // local address; family must match target
  SenderMode mode = SenderMode::PingPong;
  Protocol protocol = Protocol::Udp;
  uint64_t count = 0;             // measured probes; 0: until duration_ns
  int64_t duration_ns = 0;        // 0: until count
  uint32_t warmup = 0;            // probes sent first and left out of results
  double rate_pps = 1000;         // rate mode only
  // Rate mode: each interval is drawn uniformly from 1/rate x [1 - jitter,
  // 1 + jitter] and the first send from [0, 1/rate), so streams started
  // together spread out instead of sending in step; 0: a fixed interval.
  double jitter = 0;
  uint64_t seed = 0;              // of the jitter's PRNG: one sequence per stream, reproducible
  size_t size = wire::kPacketSize;
  int64_t timeout_ns = 1000000000;
  int socket_busy_poll_us = 0;    // SO_BUSY_POLL (NIC queue polling), 0: off
  TimestampSource timestamps = TimestampSource::Auto;
  wire::TimestampFormat format = wire::TimestampFormat::Ntp;
  uint16_t ssid = 0;
  std::vector<uint8_t> key;       // authenticated mode (112-byte packets, HMAC) when set
  // End at the first ICMP error (port, host or network unreachable) instead
  // of waiting out every probe's timeout against a target that refuses them.
  bool stop_on_unreachable = false;
  // Upper bounds (ns, ascending) of coarse buckets each metric's samples are
  // also counted in, as Prometheus histograms want them; empty: one bucket.
  std::vector<int64_t> bucket_bounds_ns;
  // A full HDR histogram per metric. A mesh keeps only the buckets: the
  // histograms' pages, touched wherever samples fall, cost ~0.5 MiB a target.
  bool keep_histograms = true;
  size_t receive_capacity = 65536;  // bytes read of each reply datagram
  PathOptions path;               // transport, DSCP, TTL
};

struct StampCounters {
  uint64_t tx_software = 0, tx_hardware = 0, rx_software = 0, rx_hardware = 0;
};

class ProbeStream {
 public:
  // Opens and configures the socket; throws SystemError / ConfigError. The
  // clock is the sending thread's, the capture (none: nullptr) the sender's;
  // both outlive the stream.
  ProbeStream(const StreamConfig& config, UserClock& clock, Capture* capture);
  ~ProbeStream();

  // On the session thread, before start(): a TCP stream connects (and in
  // connect mode lets go again), so a target that refuses fails the session
  // before its first probe. Throws SystemError.
  void open();
  void start(int64_t now) noexcept;
  // Sends what is due, reads stamps and replies, expires timed-out probes.
  // True when it did any work (so a blocking loop should not sleep yet).
  bool step(int64_t now, bool blocking) noexcept;
  // Nothing left to send and nothing in flight, or the target refused (stop_on_unreachable).
  bool done(int64_t now) const noexcept;
  // When this stream next needs the loop, for a blocking wait.
  int64_t next_event(int64_t now) const noexcept;

  // The socket and what to wait for on it; in connect mode a new one per probe.
  int fd() const noexcept { return transport_->fd(); }
  short poll_events() const noexcept { return connecting_ ? POLLOUT : POLLIN; }
  // Releases the socket once the loop has ended; see Transport::close.
  void close() noexcept { transport_->close(); }
  // After the loop, on its thread: the capture rows of the probes not yet
  // captured (each row is written when its slot is reused, so a late reply
  // can still mark it).
  void flush_capture() noexcept;
  const StreamConfig& config() const noexcept { return config_; }
  SenderCounters counters() const noexcept;
  const StampCounters& stamps() const noexcept { return stamps_; }
  const Histogram& histogram(Metric m) const noexcept { return histograms_[index(m)]; }
  // Metric m's samples per coarse bucket (not cumulative): bucket_bounds_ns.size() + 1 counts, the last above every bound.
  const uint64_t* bucket_counts(Metric m) const noexcept { return buckets_.data() + index(m) * (config_.bucket_bounds_ns.size() + 1); }
  // The sum of metric m's samples (ns), as counted in the buckets.
  double bucket_sum(Metric m) const noexcept { return bucket_sums_[index(m)]; }
  // T4 (user clock) of the last reply accepted as a sample's; -1: none yet.
  int64_t last_reply_ns() const noexcept { return last_reply_ns_; }
  const TimestampingGrant& timestamping() const noexcept { return transport_->timestamping(); }
  const BusyPollGrant& busy_poll() const noexcept { return transport_->busy_poll(); }
  Endpoint local() const { return transport_->local(); }
  int last_send_errno() const noexcept { return last_send_errno_; }
  // From the first measured probe's send to the last one's: the achieved rate's denominator.
  int64_t send_span_ns() const noexcept { return last_send_ns_ - first_send_ns_; }
  // Why a metric has no samples; empty when it has some or it does not apply.
  std::string missing_reason(Metric m) const;

 private:
  std::string no_replies_reason() const;

  // Late: expired, and then its reply came (still counted lost).
  enum class State : uint8_t { Free, InFlight, Answered, Done, Expired, Late };
  struct Probe {
    uint32_t seq = 0;
    uint32_t tx_key = 0;
    State state = State::Free;
    bool measured = false;
    int64_t deadline = 0;
    int64_t send_error = 0;  // rate mode: T1u - the scheduled send time
    uint64_t t1_wire = 0;    // T1 as sent, which a genuine reply echoes
    ProbeTimes t;
  };

  Probe& slot(uint32_t seq) noexcept { return probes_[seq & mask_]; }
  bool ready_to_send(int64_t now) const noexcept;
  // The target refused a probe and the session ends at the first refusal:
  // nothing more is sent, and nothing in flight will be answered.
  // A TCP peer that closed a ping-pong session's connection ends it too.
  bool refused() const noexcept {
    return disconnected_ ||
           (config_.stop_on_unreachable && (counters_.icmp_errors > 0 || last_connect_errno_ == ECONNREFUSED));
  }
  // The next sequence number's slot, reset for a new probe.
  Probe& take_slot() noexcept;
  void send_probe() noexcept;
  // One sample of metric m: into its histogram (when kept) and its bucket.
  void record(Metric m, int64_t value) noexcept;
  // The jitter's next draw from [0, 1).
  double uniform() noexcept;
  bool drain_tx_stamps(bool all) noexcept;
  // Connect mode: opens the next probe's connection, then sends it once established.
  bool step_connect(int64_t now) noexcept;
  void connection_lost(int err) noexcept;
  // Kernel TX stamps (sent, and on TCP acknowledged) the probe still waits for.
  uint32_t stamps_owed(const Probe& p) const noexcept;
  // A reply that is its request unchanged (an echo service): rewritten into r
  // as a reply without reflector stamps.
  bool echoed(const Datagram& d, wire::ReflectorPacket& r) const noexcept;
  bool drain_replies() noexcept;
  void on_reply(const Datagram& d, int64_t t4_user) noexcept;
  bool tx_complete(const Probe& p) const noexcept;
  void finalize(Probe& p) noexcept;
  void stop_expecting_tx_stamps() noexcept;
  // Finalizes answered probes whose stamps are in, expires timed-out ones, oldest first.
  void settle(int64_t now) noexcept;
  // Pushes the capture row of probe seq, a measured one, if it still holds its slot.
  void capture_row(uint32_t seq, bool final) noexcept;
  // The rows of every probe not yet captured before sequence number end, oldest first.
  void capture_before(uint32_t end, bool final) noexcept;

  StreamConfig config_;
  UserClock& clock_;
  Capture* capture_;
  std::unique_ptr<Transport> transport_;
  TcpTransport* tcp_ = nullptr;  // transport_, when the protocol is TCP
  std::unique_ptr<PacketAuth> auth_;
  wire::Layout layout_ = wire::Layout::Unauthenticated;
  std::array<Histogram, kMetricCount> histograms_;
  std::vector<Probe> probes_;
  std::vector<uint32_t> key_to_seq_;
  uint32_t mask_ = 0;
  std::vector<uint64_t> buckets_;
  std::array<double, kMetricCount> bucket_sums_{};
  std::vector<uint8_t> packet_;
  std::vector<uint8_t> receive_buffer_;
  Datagram datagram_;

  uint64_t total_ = 0;        // probes to send including warm-up
  uint32_t next_seq_ = 0;
  uint32_t next_tx_key_ = 0;
  uint32_t oldest_ = 0;       // oldest probe not yet answered or expired
  uint32_t captured_ = 0;     // every probe before this one has its capture row
  uint32_t in_flight_ = 0;       // sent, not yet finalized or expired
  uint32_t awaiting_reply_ = 0;  // sent, no reply yet
  uint32_t tx_pending_ = 0;   // sent probes whose TX stamp has not arrived
  int64_t highest_answered_ = -1;
  int64_t interval_ns_ = 0;
  int64_t next_send_ns_ = 0;
  int64_t send_until_ns_ = 0;
  int64_t first_send_ns_ = 0;
  int64_t last_send_ns_ = 0;
  int64_t last_reply_ns_ = -1;
  uint64_t rng_ = 0;
  bool hw_tx_seen_ = false;
  bool tx_software_expected_ = false;  // granted, and not yet found missing on this path
  bool ack_expected_ = false;          // TCP: the peer's ACK of each request is stamped too
  bool connecting_ = false;            // connect mode: the next probe's connection is opening
  bool disconnected_ = false;          // ping-pong TCP: the peer closed; nothing more is sent
  int64_t connect_start_ = -1;
  int64_t connected_at_ = -1;
  int64_t connect_deadline_ = 0;
  int last_connect_errno_ = 0;
  uint32_t stampless_ = 0;            // answered probes finalized without a TX stamp

  SenderCounters counters_;
  StampCounters stamps_;
  int last_send_errno_ = 0;
  int last_icmp_errno_ = 0;  // names the ICMP errors in the reason replies are missing
};

}  // namespace rtt
