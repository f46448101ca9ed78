// native/core on its own, without Node: compiled and run by test/core.test.ts.
// Control-message parsing is fed synthetic messages, including the NIC
// hardware stamps this host cannot produce and the malformed ones fuzzing
// found; timestamping capabilities and the NIC setup are fed synthetic
// ethtool_ts_info / hwtstamp_config structs and a synthetic NIC; the reflector's bounded state (replay window, flow table, rate
// limiter, allow-list) is driven with a synthetic clock. A thread's private
// file table is checked from /proc. The TSC user clock is checked against
// CLOCK_REALTIME read beside it, and its host checks with synthetic inputs.
// A sender and a reflector on loopback hand progress only to a sink that wants it.
#include <dirent.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <ctime>
// errqueue.h needs struct timespec declared first.
#include <linux/errqueue.h>
#include <linux/if_packet.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "allow_list.hpp"
#include "auth.hpp"
#include "caps.hpp"
#include "errors.hpp"
#include "file_table.hpp"
#include "flow_table.hpp"
#include "histogram.hpp"
#include "hwtstamp.hpp"
#include "mesh.hpp"
#include "rate_limit.hpp"
#include "raw_transport.hpp"
#include "reflector.hpp"
#include "reflector_sessions.hpp"
#include "sender.hpp"
#include "spsc_ring.hpp"
#include "tcp_framing.hpp"
#include "timestamping.hpp"
#include "user_clock.hpp"

namespace {

int failures = 0;

#define CHECK(cond)                                                   \
  do {                                                                \
    if (!(cond)) {                                                    \
      std::printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);     \
      ++failures;                                                     \
    }                                                                 \
  } while (0)

// Builds a msghdr whose control buffer holds the given messages.
class Control {
 public:
  template <class T>
  Control& add(int level, int type, const T& value, size_t len = sizeof(T)) {
    size_t at = buffer_.size();
    buffer_.resize(at + CMSG_SPACE(len));
    auto* c = reinterpret_cast<cmsghdr*>(buffer_.data() + at);
    c->cmsg_level = level;
    c->cmsg_type = type;
    c->cmsg_len = CMSG_LEN(len);
    std::memcpy(CMSG_DATA(c), &value, std::min(len, sizeof(T)));
    return *this;
  }
  msghdr& msg() {
    msg_ = msghdr{};
    msg_.msg_control = buffer_.data();
    msg_.msg_controllen = buffer_.size();
    return msg_;
  }

 private:
  alignas(cmsghdr) std::vector<unsigned char> buffer_;
  msghdr msg_{};
};

scm_timestamping stamps(long sw_sec, long sw_ns, long hw_sec, long hw_ns) {
  scm_timestamping ts{};
  ts.ts[0] = {sw_sec, sw_ns};
  ts.ts[2] = {hw_sec, hw_ns};
  return ts;
}

sock_extended_err stamp_error(uint32_t id, uint8_t origin = SO_EE_ORIGIN_TIMESTAMPING, uint32_t err = ENOMSG,
                              uint32_t info = SCM_TSTAMP_SND) {
  sock_extended_err e{};
  e.ee_errno = err;
  e.ee_origin = origin;
  e.ee_info = info;
  e.ee_data = id;
  return e;
}

void rx_software_and_hardware_stamps_and_ttl() {
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(1, 500, 2, 700)).add(IPPROTO_IP, IP_TTL, 63);
  rtt::RxStamps rx;
  rtt::parse_rx_control(c.msg(), rx);
  CHECK(rx.software == 1000000500);
  CHECK(rx.hardware == 2000000700);
  CHECK(rx.ttl == 63);
}

void rx_ipv6_hop_limit_and_software_only() {
  Control c;
  c.add(IPPROTO_IPV6, IPV6_HOPLIMIT, 255).add(SOL_SOCKET, SO_TIMESTAMPING, stamps(3, 1, 0, 0));
  rtt::RxStamps rx;
  rtt::parse_rx_control(c.msg(), rx);
  CHECK(rx.software == 3000000001);
  CHECK(rx.hardware == -1);  // a zero stamp means "not taken"
  CHECK(rx.ttl == 255);
}

void rx_without_control_messages() {
  Control c;
  rtt::RxStamps rx;
  rx.software = 7;
  rtt::parse_rx_control(c.msg(), rx);
  CHECK(rx.software == -1 && rx.hardware == -1 && rx.ttl == -1);
}

void rx_truncated_timestamp_is_ignored() {
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(1, 1, 1, 1), sizeof(timespec));
  rtt::RxStamps rx;
  rtt::parse_rx_control(c.msg(), rx);
  CHECK(rx.software == -1);
}

void tx_hardware_stamp_with_opt_id() {
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(0, 0, 9, 9)).add(IPPROTO_IP, IP_RECVERR, stamp_error(41));
  rtt::TxStamp tx;
  CHECK(rtt::parse_tx_stamp(c.msg(), tx));
  CHECK(tx.id == 41);
  CHECK(tx.hardware == 9000000009);
  CHECK(tx.software == -1);
}

void tx_software_stamp_on_ipv6() {
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(5, 5, 0, 0)).add(IPPROTO_IPV6, IPV6_RECVERR, stamp_error(7));
  rtt::TxStamp tx;
  CHECK(rtt::parse_tx_stamp(c.msg(), tx));
  CHECK(tx.id == 7 && tx.software == 5000000005);
}

void tx_ack_stamp_is_told_from_the_send_stamp() {
  Control sent;
  sent.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(5, 5, 0, 0)).add(IPPROTO_IP, IP_RECVERR, stamp_error(45));
  rtt::TxStamp tx;
  CHECK(rtt::parse_tx_stamp(sent.msg(), tx) && tx.kind == rtt::TxStampKind::Sent);
  Control acked;
  acked.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(6, 6, 0, 0))
      .add(IPPROTO_IP, IP_RECVERR, stamp_error(45, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, SCM_TSTAMP_ACK));
  CHECK(rtt::parse_tx_stamp(acked.msg(), tx));
  CHECK(tx.kind == rtt::TxStampKind::Acked && tx.id == 45 && tx.software == 6000000006);
  // A scheduling stamp (never asked for) is neither.
  Control sched;
  sched.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(7, 7, 0, 0))
      .add(IPPROTO_IP, IP_RECVERR, stamp_error(45, SO_EE_ORIGIN_TIMESTAMPING, ENOMSG, SCM_TSTAMP_SCHED));
  CHECK(!rtt::parse_tx_stamp(sched.msg(), tx));
}

// TCP framing (tcp_framing.hpp): a frame split over reads is whole only with
// its last byte, and a read holding one frame and part of the next keeps the part.
void tcp_frames_reassemble_across_reads() {
  rtt::tcp::FrameReader reader;
  const uint8_t stream[] = {0, 3, 'a', 'b', 'c', 0, 2, 'x', 'y'};
  size_t length = 0;
  std::memcpy(reader.space(), stream, 4);
  reader.added(4);
  CHECK(reader.frame(length) == nullptr && reader.partial());
  std::memcpy(reader.space(), stream + 4, 3);
  reader.added(3);
  uint8_t* packet = reader.frame(length);
  CHECK(packet && length == 3 && std::memcmp(packet, "abc", 3) == 0);
  reader.consume(length);
  CHECK(reader.frame(length) == nullptr && reader.partial());
  std::memcpy(reader.space(), stream + 7, 2);
  reader.added(2);
  packet = reader.frame(length);
  CHECK(packet && length == 2 && std::memcmp(packet, "xy", 2) == 0);
  reader.consume(length);
  CHECK(!reader.partial() && reader.room() == rtt::tcp::kMaxFrame);
}

void icmp_errors_are_not_stamps() {
  Control c;
  c.add(IPPROTO_IP, IP_RECVERR, stamp_error(0, SO_EE_ORIGIN_ICMP, ECONNREFUSED));
  rtt::TxStamp tx;
  CHECK(!rtt::parse_tx_stamp(c.msg(), tx));
}

void stamp_without_id_is_not_matched() {
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(5, 5, 0, 0));
  rtt::TxStamp tx;
  CHECK(!rtt::parse_tx_stamp(c.msg(), tx));
}

// fuzz/regressions/control/ttl-cmsg-len-past-buffer: a cmsg_len larger than
// the control buffer once made the TTL copy read past its end.
void cmsg_running_past_the_buffer_is_not_read() {
  Control c;
  c.add(IPPROTO_IP, IP_TTL, 63);
  msghdr& m = c.msg();
  reinterpret_cast<cmsghdr*>(m.msg_control)->cmsg_len = size_t(1) << 44;
  rtt::RxStamps rx;
  rtt::parse_rx_control(m, rx);
  CHECK(rx.ttl == -1);
  rtt::TxStamp tx;
  CHECK(!rtt::parse_tx_stamp(m, tx));
}

// fuzz/regressions/control/stamp-seconds-overflow-ns: seconds beyond what
// int64 nanoseconds can hold overflowed the conversion.
void impossible_stamps_are_no_stamps() {
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(-4340410370284600381L, 5, 1, 1000000000));
  rtt::RxStamps rx;
  rtt::parse_rx_control(c.msg(), rx);
  CHECK(rx.software == -1 && rx.hardware == -1);
}

using Names = std::vector<std::string>;

// lo's ethtool settings, read alone: it has no driver info, link settings,
// coalescing or rings (EOPNOTSUPP, as ethtool -i/-c/-g say), but GRO and the
// LRO flag are generic features every interface answers; a name that cannot
// be an interface's is ENODEV before any ioctl.
void ethtool_settings_of_lo_keep_each_refusal() {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(fd >= 0);
  rtt::EthtoolSettings lo = rtt::read_ethtool_settings(fd, "lo");
  CHECK(!lo.driver.value && lo.driver.error == EOPNOTSUPP);
  CHECK(!lo.coalesce.value && lo.coalesce.error == EOPNOTSUPP);
  CHECK(!lo.rings.value && lo.rings.error == EOPNOTSUPP);
  CHECK(lo.gro.value.has_value() && lo.gro.error == 0);
  CHECK(lo.lro.value.has_value() && !*lo.lro.value);
  rtt::EthtoolSettings none = rtt::read_ethtool_settings(fd, std::string(IFNAMSIZ, 'x'));
  CHECK(none.gro.error == ENODEV && none.link.error == ENODEV);
  close(fd);
}

// What lo reports, and what an mlx5-like NIC with a PTP clock reports.
void ts_info_decodes_into_names() {
  ethtool_ts_info lo{};
  lo.so_timestamping = SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE;
  lo.phc_index = -1;
  rtt::TsInfo t = rtt::decode_ts_info(lo);
  CHECK((t.so_timestamping == Names{"tx-software", "rx-software", "software"}));
  CHECK(t.phc_index == -1 && t.tx_types.empty() && t.rx_filters.empty() && !t.hardware_capable);

  ethtool_ts_info nic{};
  nic.so_timestamping = lo.so_timestamping | SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE |
                        SOF_TIMESTAMPING_RAW_HARDWARE;
  nic.phc_index = 3;
  nic.tx_types = (1u << HWTSTAMP_TX_OFF) | (1u << HWTSTAMP_TX_ON) | (1u << HWTSTAMP_TX_ONESTEP_P2P);
  nic.rx_filters = (1u << HWTSTAMP_FILTER_NONE) | (1u << HWTSTAMP_FILTER_ALL) | (1u << HWTSTAMP_FILTER_PTP_V2_L4_EVENT) |
                   (1u << HWTSTAMP_FILTER_NTP_ALL);
  t = rtt::decode_ts_info(nic);
  CHECK((t.so_timestamping ==
         Names{"tx-hardware", "tx-software", "rx-hardware", "rx-software", "software", "raw-hardware"}));
  CHECK(t.phc_index == 3 && t.hardware_capable);
  CHECK((t.tx_types == Names{"off", "on", "onestep-p2p"}));
  CHECK((t.rx_filters == Names{"none", "all", "ptpv2-l4-event", "ntp-all"}));
}

void names_of_values_newer_than_the_tables() {
  CHECK((rtt::so_timestamping_names((1u << 18) | (1u << 30)) == Names{"tx-completion", "bit-30"}));
  CHECK(rtt::tx_type_name(HWTSTAMP_TX_ONESTEP_SYNC) == "onestep-sync" && rtt::tx_type_name(9) == "tx-type-9");
  CHECK(rtt::rx_filter_name(HWTSTAMP_FILTER_PTP_V1_L4_DELAY_REQ) == "ptpv1-l4-delay-req");
  CHECK(rtt::rx_filter_name(-1) == "rx-filter--1" && rtt::rx_filter_name(16) == "rx-filter-16");
  // Hardware RX stamps without the raw clock to report them are not enough.
  CHECK(!rtt::hardware_capable(SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE));
}

// A NIC behind SIOCGHWTSTAMP / SIOCSHWTSTAMP, as drivers behave.
class SyntheticNic : public rtt::HwtstampDevice {
 public:
  hwtstamp_config config{};          // what it is set to
  int get_errno = 0;                 // EOPNOTSUPP: a driver without SIOCGHWTSTAMP
  int set_errno = 0;                 // EPERM (no CAP_NET_ADMIN), EOPNOTSUPP (no hardware stamping)
  std::vector<int> refused_filters;  // answered with ERANGE
  int grants_filter = -1;            // the filter it grants instead of the one asked for (an upgrade)
  std::vector<hwtstamp_config> asked;

  int get(hwtstamp_config& c) noexcept override {
    if (get_errno) return get_errno;
    c = config;
    return 0;
  }
  int set(hwtstamp_config& c) noexcept override {
    asked.push_back(c);
    if (set_errno) return set_errno;
    if (std::find(refused_filters.begin(), refused_filters.end(), c.rx_filter) != refused_filters.end()) return ERANGE;
    if (grants_filter >= 0) c.rx_filter = grants_filter;
    config = c;
    return 0;
  }
};

hwtstamp_config hw_config(int tx_type, int rx_filter, int flags = 0) {
  hwtstamp_config c{};
  c.flags = flags;
  c.tx_type = tx_type;
  c.rx_filter = rx_filter;
  return c;
}

void nic_already_stamping_everything_is_left_alone() {
  SyntheticNic nic;
  nic.config = hw_config(HWTSTAMP_TX_ON, HWTSTAMP_FILTER_ALL);
  rtt::HwtstampSetup s = rtt::configure_hwtstamp(nic);
  CHECK(s.attempted && nic.asked.empty() && !s.changed);
  CHECK(s.previous && s.granted && s.granted->rx_filter == HWTSTAMP_FILTER_ALL);
  CHECK(s.tx && s.rx && s.refused_errno == 0);
}

void nic_off_is_set_to_tx_on_and_filter_all() {
  SyntheticNic nic;
  rtt::HwtstampSetup s = rtt::configure_hwtstamp(nic);
  CHECK(nic.asked.size() == 1 && nic.asked[0].tx_type == HWTSTAMP_TX_ON && nic.asked[0].rx_filter == HWTSTAMP_FILTER_ALL);
  CHECK(s.previous && s.previous->tx_type == HWTSTAMP_TX_OFF && s.previous->rx_filter == HWTSTAMP_FILTER_NONE);
  CHECK(s.changed && s.tx && s.rx);
  CHECK(nic.config.rx_filter == HWTSTAMP_FILTER_ALL);  // and stays so
}

void filter_all_refused_falls_back_to_ntp_all_and_reads_back_the_upgrade() {
  SyntheticNic nic;
  nic.refused_filters = {HWTSTAMP_FILTER_ALL};
  nic.grants_filter = HWTSTAMP_FILTER_ALL;  // asked for ntp-all, the driver stamps everything
  rtt::HwtstampSetup s = rtt::configure_hwtstamp(nic);
  CHECK(nic.asked.size() == 2 && nic.asked[1].rx_filter == HWTSTAMP_FILTER_NTP_ALL);
  CHECK(s.changed && s.refused_errno == 0 && s.granted->rx_filter == HWTSTAMP_FILTER_ALL && s.rx);
}

void ntp_all_granted_as_asked_stamps_no_probe() {
  SyntheticNic nic;
  nic.refused_filters = {HWTSTAMP_FILTER_ALL};
  rtt::HwtstampSetup s = rtt::configure_hwtstamp(nic);
  CHECK(s.changed && s.granted->rx_filter == HWTSTAMP_FILTER_NTP_ALL);
  CHECK(s.tx && !s.rx);  // NTP (UDP port 123) only: STAMP probes get no RX stamps
}

void no_filter_granted_is_refused_with_erange_and_nothing_changes() {
  SyntheticNic nic;
  nic.config = hw_config(HWTSTAMP_TX_ON, HWTSTAMP_FILTER_PTP_V2_EVENT);
  nic.refused_filters = {HWTSTAMP_FILTER_ALL, HWTSTAMP_FILTER_NTP_ALL};
  rtt::HwtstampSetup s = rtt::configure_hwtstamp(nic);
  CHECK(s.refused_errno == ERANGE && !s.changed);
  CHECK(s.granted && s.granted->rx_filter == HWTSTAMP_FILTER_PTP_V2_EVENT);  // still what ptp4l set
  CHECK(s.tx && !s.rx);
}

void refusals_are_recorded_by_errno() {
  SyntheticNic unprivileged;
  unprivileged.set_errno = EPERM;
  rtt::HwtstampSetup s = rtt::configure_hwtstamp(unprivileged);
  CHECK(s.refused_errno == EPERM && unprivileged.asked.size() == 1 && !s.changed && !s.tx && !s.rx);

  SyntheticNic loopback;  // lo, veth, dummy: neither ioctl is supported
  loopback.get_errno = EOPNOTSUPP;
  loopback.set_errno = EOPNOTSUPP;
  s = rtt::configure_hwtstamp(loopback);
  CHECK(!s.previous && s.previous_errno == EOPNOTSUPP && s.refused_errno == EOPNOTSUPP && !s.granted);
  CHECK(!s.tx && !s.rx && !s.changed);
}

void driver_without_siocghwtstamp_is_still_set() {
  SyntheticNic old;
  old.get_errno = EOPNOTSUPP;
  rtt::HwtstampSetup s = rtt::configure_hwtstamp(old);
  CHECK(!s.previous && s.previous_errno == EOPNOTSUPP);
  CHECK(s.changed && s.granted && s.granted->rx_filter == HWTSTAMP_FILTER_ALL && s.tx && s.rx);  // as written back
}

void one_step_mode_and_bond_flag_are_kept() {
  SyntheticNic nic;
  nic.config = hw_config(HWTSTAMP_TX_ONESTEP_SYNC, HWTSTAMP_FILTER_PTP_V2_L2_EVENT, HWTSTAMP_FLAG_BONDED_PHC_INDEX);
  rtt::HwtstampSetup s = rtt::configure_hwtstamp(nic);
  CHECK(nic.asked.size() == 1 && nic.asked[0].tx_type == HWTSTAMP_TX_ONESTEP_SYNC);
  CHECK(nic.asked[0].flags == HWTSTAMP_FLAG_BONDED_PHC_INDEX && nic.asked[0].rx_filter == HWTSTAMP_FILTER_ALL);
  CHECK(s.changed && s.tx && s.rx);
}

void replay_window_answers_each_sequence_number_once() {
  rtt::ReflectorSession s;
  CHECK(!s.seen(10));
  s.record(10, 0);
  CHECK(s.seen(10));
  CHECK(!s.seen(9) && !s.seen(11));
  s.record(12, 0);  // 11 overtaken: still answerable
  CHECK(!s.seen(11) && s.seen(10) && s.seen(12));
  s.record(11, 0);
  CHECK(s.seen(11));
  s.record(12 + rtt::kReplayWindow - 1, 0);
  CHECK(s.seen(12) && !s.seen(13));  // the oldest number still inside the window
  CHECK(s.seen(11));                 // slid out of the window: too old to tell, so refused
  s.record(100000, 0);                  // a jump past the window forgets it all
  CHECK(!s.seen(99999) && s.seen(100000));
}

void replay_window_survives_the_32_bit_wrap() {
  rtt::ReflectorSession s;
  s.record(0xfffffffe, 0);
  s.record(0xffffffff, 0);
  s.record(1, 0);
  CHECK(s.seen(0xfffffffe) && s.seen(0xffffffff) && s.seen(1));
  CHECK(!s.seen(0) && !s.seen(2));
}

void flow_table_is_bounded_and_sweeps_stale_entries() {
  rtt::FlowTable<int> table(3, 1);
  auto key = [](uint16_t port) {
    rtt::FlowKey k;
    k.address[15] = 1;
    k.port = port;
    return k;
  };
  bool inserted;
  for (uint16_t port = 1; port <= 3; ++port) *table.find_or_insert(key(port), inserted) = port;
  CHECK(table.size() == 3);
  CHECK(table.find_or_insert(key(4), inserted) == nullptr);  // full: a fourth flow is refused
  int* two = table.find_or_insert(key(2), inserted);
  CHECK(two && *two == 2 && !inserted);
  table.sweep([](int v) { return v != 2; });
  CHECK(table.size() == 1);
  CHECK(*table.find_or_insert(key(2), inserted) == 2 && !inserted);
  CHECK(table.find_or_insert(key(4), inserted) != nullptr && inserted);
}

void flow_table_erase_keeps_every_other_entry_reachable() {
  // Full tables make long probe chains; erasing from their middle must not
  // cut off the entries behind.
  rtt::FlowTable<int> table(64, 3);
  auto key = [](uint16_t port) {
    rtt::FlowKey k;
    k.port = port;
    return k;
  };
  bool inserted;
  for (uint16_t port = 0; port < 64; ++port) *table.find_or_insert(key(port), inserted) = port;
  for (uint16_t port = 0; port < 64; port += 3) table.erase(key(port));
  table.erase(key(1000));  // absent: nothing happens
  CHECK(table.size() == 64 - 22);
  int reachable = 0;
  for (uint16_t port = 0; port < 64; ++port) {
    int* v = table.find(key(port));
    reachable += port % 3 ? v && *v == port : !v;
  }
  CHECK(reachable == 64);
}

void rate_limiter_allows_the_rate_and_a_tenth_second_burst() {
  rtt::Endpoint a = rtt::parse_endpoint("198.18.0.1", 1000);
  rtt::Endpoint b = rtt::parse_endpoint("198.18.0.2", 1000);
  rtt::RateLimiter limiter(100, 150, 7);  // per source: 10 ms apart, bursts of 10
  int64_t now = 1000000000;
  int passed = 0;
  for (int i = 0; i < 50; ++i) passed += limiter.admit(a, now) == rtt::RateLimiter::Verdict::Pass;
  CHECK(passed == 10);
  CHECK(limiter.admit(a, now + 10000000) == rtt::RateLimiter::Verdict::Pass);  // 10 ms later: one more
  CHECK(limiter.admit(a, now + 10000000) == rtt::RateLimiter::Verdict::SourceLimited);
  // Source b has its own budget, but the global one is nearly spent: a burst of
  // 15, plus 1.5 refilled in 10 ms, less the 11 source a took, leaves 5.
  passed = 0;
  for (int i = 0; i < 10; ++i) passed += limiter.admit(b, now + 10000000) == rtt::RateLimiter::Verdict::Pass;
  CHECK(passed == 5);
  CHECK(limiter.admit(b, now + 10000000) == rtt::RateLimiter::Verdict::GlobalLimited);
}

// A Responder driven with synthetic peers and a synthetic clock: the
// reflector's real per-request path, without sockets, so a test can send
// what an attacker would (a spoofed address and port) at any time it likes.
class Requests {
 public:
  explicit Requests(rtt::ReflectorConfig config) : config_(std::move(config)), responder_(config_, 7, clock_) {
    if (!config_.key.empty()) auth_ = std::make_unique<rtt::PacketAuth>(config_.key);
  }
  // True when the request from host:port was answered.
  bool ask(const char* host, uint16_t port, uint32_t seq, int64_t now, uint16_t ssid = 7) {
    uint8_t buf[rtt::wire::kAuthPacketSize] = {};
    rtt::wire::SenderPacket p;
    p.seq = seq;
    p.timestamp = 1;
    p.error_estimate = 1;
    p.ssid = ssid;
    rtt::wire::Layout layout = auth_ ? rtt::wire::Layout::Authenticated : rtt::wire::Layout::Unauthenticated;
    rtt::wire::write_sender(buf, p, layout);
    if (auth_) auth_->sign(buf);
    rtt::RxStamps stamps;
    stamps.software = now;
    return responder_.answer(buf, rtt::wire::packet_size(layout), sizeof buf, rtt::parse_endpoint(host, port), stamps,
                             now) > 0;
  }
  // How many of the sequence numbers [from, to) are answered, one every interval.
  int answered(const char* host, uint16_t port, uint32_t from, uint32_t to, int64_t& now, int64_t interval = 1000) {
    int n = 0;
    for (uint32_t seq = from; seq != to; ++seq, now += interval) n += ask(host, port, seq, now);
    return n;
  }
  rtt::Responder& responder() { return responder_; }
  const rtt::ReflectorCounters& counters() const { return responder_.counters(); }

 private:
  rtt::ReflectorConfig config_;
  rtt::UserClock clock_{rtt::ClockSource::Realtime};
  rtt::Responder responder_;
  std::unique_ptr<rtt::PacketAuth> auth_;
};

rtt::ReflectorConfig stateful_config(size_t max_sessions = 1024) {
  rtt::ReflectorConfig c;
  c.stateful = true;
  c.max_sessions = max_sessions;
  return c;
}

void one_spoofed_jump_does_not_mute_an_unauthenticated_session() {
  Requests r(stateful_config());
  int64_t now = 1000000000;
  CHECK(r.answered("198.18.0.1", 5000, 0, 100, now) == 100);
  // The attacker knows the session's address, port and SSID, not its future.
  CHECK(!r.ask("198.18.0.1", 5000, 0x40000000, now));
  CHECK(r.answered("198.18.0.1", 5000, 100, 400, now) == 300);
  CHECK(r.counters().replayed == 0);
  CHECK(r.counters().out_of_window == 1);
}

void a_real_jump_is_followed_once_the_next_request_confirms_it() {
  Requests r(stateful_config());
  int64_t now = 1000000000;
  CHECK(r.answered("198.18.0.1", 5000, 0, 10, now) == 10);
  // A sender that lost more than a window's worth in a row: its first number
  // past the window is refused, the next one confirms the jump.
  CHECK(!r.ask("198.18.0.1", 5000, 5000, now));
  CHECK(r.answered("198.18.0.1", 5000, 5001, 5100, now) == 99);
  CHECK(!r.ask("198.18.0.1", 5000, 5050, now));  // answered after the jump: a replay
  CHECK(r.counters().replayed == 1 && r.counters().out_of_window == 1);
}

void an_authenticated_jump_moves_the_window_at_once() {
  rtt::ReflectorConfig c = stateful_config();
  c.key.assign(32, 0x5a);
  Requests r(c);
  int64_t now = 1000000000;
  CHECK(r.answered("198.18.0.1", 5000, 0, 10, now) == 10);
  CHECK(r.ask("198.18.0.1", 5000, 5000, now));  // signed: the sender's own number
  CHECK(!r.ask("198.18.0.1", 5000, 5, now));    // far behind now: too old to tell
  CHECK(r.counters().out_of_window == 1 && r.counters().replayed == 0);
}

void refused_requests_do_not_keep_a_session_alive() {
  rtt::ReflectorConfig c = stateful_config();
  c.session_timeout_ns = 1000000000;
  Requests r(c);
  int64_t now = 1000000000;
  CHECK(r.ask("198.18.0.1", 5000, 1, now));
  int64_t answered = now;
  // Replays of the answered request, every 100 ms: none answered, and none
  // may stop the session from going idle.
  for (int i = 0; i < 9; ++i) CHECK(!r.ask("198.18.0.1", 5000, 1, now += 100000000));
  CHECK(r.counters().replayed == 9);
  r.responder().sweep(answered + 1050000000);
  CHECK(r.counters().active_sessions == 0);
}

void replays_from_other_ports_cannot_lock_real_senders_out() {
  Requests r(stateful_config(8));
  int64_t now = 1000000000;
  CHECK(r.answered("198.18.0.1", 5000, 0, 10, now) == 10);
  // One captured request, replayed from a thousand ports (and addresses).
  for (uint16_t port = 20000; port < 21000; ++port) r.ask(port % 2 ? "198.18.0.2" : "198.18.0.3", port, 3, now += 1000);
  CHECK(r.counters().sessions_evicted > 0);
  // The proven session keeps its state and its answers; a new real sender gets in.
  CHECK(r.answered("198.18.0.1", 5000, 10, 20, now) == 10);
  CHECK(r.answered("198.18.0.4", 6000, 0, 10, now) == 10);
  CHECK(r.counters().active_sessions <= 8);
}

void tiny_rate_limits_still_limit() {
  rtt::Endpoint a = rtt::parse_endpoint("198.18.0.1", 1000);
  for (double pps : {1e-10, 1e-300, 0.001}) {
    rtt::RateLimiter per_source(pps, 0, 7), global(0, pps, 7);
    int passed[2] = {0, 0};
    for (int i = 0; i < 100; ++i) {
      int64_t now = 1000000000 + int64_t(i) * 1000000;
      passed[0] += per_source.admit(a, now) == rtt::RateLimiter::Verdict::Pass;
      passed[1] += global.admit(a, now) == rtt::RateLimiter::Verdict::Pass;
    }
    CHECK(passed[0] == 1 && passed[1] == 1);
  }
}

void allow_list_matches_prefixes_of_both_families() {
  rtt::AllowList list({"198.18.0.0/15", "2001:2::/48", "127.0.0.1"});
  CHECK(list.allows(rtt::parse_endpoint("198.19.255.255", 1)));
  CHECK(!list.allows(rtt::parse_endpoint("198.20.0.0", 1)));
  CHECK(list.allows(rtt::parse_endpoint("::ffff:198.18.0.9", 1)));  // v4-mapped on a dual-stack socket
  CHECK(list.allows(rtt::parse_endpoint("2001:2:0:ffff::1", 1)));
  CHECK(!list.allows(rtt::parse_endpoint("2001:3::1", 1)));
  CHECK(list.allows(rtt::parse_endpoint("127.0.0.1", 1)) && !list.allows(rtt::parse_endpoint("127.0.0.2", 1)));
  CHECK(rtt::AllowList({}).allows(rtt::parse_endpoint("203.0.113.1", 1)));
  for (const char* bad : {"198.18.0.0/33", "2001:2::/129", "host/8", "1.2.3.4/", "1.2.3.4/x"}) {
    bool threw = false;
    try {
      rtt::AllowList{{bad}};
    } catch (const rtt::ConfigError&) {
      threw = true;
    }
    CHECK(threw);
  }
}

void histogram_layout_matches_hdrhistogram() {
  using H = rtt::Histogram;
  CHECK(H::index_of(0) == 0 && H::index_of(2047) == 2047);
  CHECK(H::index_of(2048) == 2048 && H::index_of(2049) == 2048);  // 2 ns buckets from 2048
  CHECK(H::lowest_equivalent(H::index_of(4097)) == 4096 && H::highest_equivalent(H::index_of(4097)) == 4099);
  CHECK(H::highest_equivalent(H::index_of(H::kHighestTrackable)) == H::kHighestTrackable);
  CHECK(H::kHighestTrackable >= int64_t(60) * 1000000000);
  H h;
  h.record(-5);
  h.record(H::kHighestTrackable + 1);
  CHECK(h.underflow() == 1 && h.overflow() == 1 && h.count() == 1);
}

// --- the raw transport's frames and flow filter ---

// The one's-complement sum of a span that holds its own checksum: 0xffff when the checksum is right.
uint16_t folded_sum(const uint8_t* p, size_t n, uint32_t sum = 0) {
  for (; n > 1; n -= 2, p += 2) sum += uint32_t(p[0] << 8 | p[1]);
  if (n) sum += uint32_t(p[0] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(sum);
}

rtt::FrameAddress address_v4() {
  rtt::FrameAddress a;
  a.dst_mac = {0x02, 0, 0, 0, 0, 0x02};
  a.src_mac = {0x02, 0, 0, 0, 0, 0x01};
  a.family = AF_INET;
  const uint8_t src[4] = {198, 18, 0, 2};
  const uint8_t dst[4] = {198, 18, 0, 1};
  std::memcpy(a.src_ip, src, 4);
  std::memcpy(a.dst_ip, dst, 4);
  a.src_port = 40000;
  a.dst_port = 862;
  a.tos = 46 << 2;
  a.ttl = 7;
  return a;
}

// A frame as the transport sends it: headers written in front of a payload already in place.
std::vector<uint8_t> frame_of(const rtt::FrameAddress& a, size_t payload) {
  size_t header = rtt::frame_header_size(a.family, a.vlan);
  std::vector<uint8_t> f(header + payload);
  for (size_t i = 0; i < payload; ++i) f[header + i] = uint8_t(i * 7 + 1);
  CHECK(rtt::write_frame_headers(f.data(), a, payload) == f.size());
  return f;
}

uint32_t pseudo_header_sum(const uint8_t* src, const uint8_t* dst, size_t address_size, size_t udp_length) {
  uint32_t sum = IPPROTO_UDP + uint32_t(udp_length);
  for (size_t i = 0; i < address_size; i += 2) sum += uint32_t(src[i] << 8 | src[i + 1]) + uint32_t(dst[i] << 8 | dst[i + 1]);
  return sum;
}

void ipv4_frame_has_valid_checksums_and_the_asked_fields() {
  rtt::FrameAddress a = address_v4();
  for (size_t payload : {44, 45, 112}) {  // an odd length pads the UDP sum with a zero byte
    std::vector<uint8_t> f = frame_of(a, payload);
    const uint8_t* ip = f.data() + 14;
    CHECK(f[12] == 0x08 && f[13] == 0x00);
    CHECK(ip[0] == 0x45 && ip[1] == (46 << 2) && ip[8] == 7 && ip[9] == IPPROTO_UDP);
    CHECK((ip[2] << 8 | ip[3]) == int(20 + 8 + payload));
    CHECK(folded_sum(ip, 20) == 0xffff);
    const uint8_t* udp = ip + 20;
    CHECK((udp[0] << 8 | udp[1]) == 40000 && (udp[2] << 8 | udp[3]) == 862);
    CHECK(folded_sum(udp, 8 + payload, pseudo_header_sum(ip + 12, ip + 16, 4, 8 + payload)) == 0xffff);
  }
}

void ipv6_frame_with_a_vlan_tag_has_a_valid_udp_checksum() {
  rtt::FrameAddress a = address_v4();
  a.family = AF_INET6;
  a.vlan = 42;
  for (int i = 0; i < 16; ++i) {
    a.src_ip[i] = uint8_t(0x20 + i);
    a.dst_ip[i] = uint8_t(0x40 + i);
  }
  std::vector<uint8_t> f = frame_of(a, 44);
  CHECK(f[12] == 0x81 && f[13] == 0x00 && (f[14] << 8 | f[15]) == 42);
  CHECK(f[16] == 0x86 && f[17] == 0xdd);
  const uint8_t* ip = f.data() + 18;
  CHECK((ip[0] >> 4) == 6 && (((ip[0] & 0x0f) << 4) | (ip[1] >> 4)) == (46 << 2) && ip[6] == IPPROTO_UDP && ip[7] == 7);
  CHECK(folded_sum(ip + 40, 52, pseudo_header_sum(ip + 8, ip + 24, 16, 52)) == 0xffff);
}

void mac_addresses_parse_and_format() {
  auto m = rtt::parse_mac("02:ab:CD:00:ff:09");
  CHECK(m && rtt::format_mac(*m) == "02:ab:cd:00:ff:09");
  CHECK(!rtt::parse_mac("02:ab:cd:00:ff"));
  CHECK(!rtt::parse_mac("02:ab:cd:00:ff:09:10"));
  CHECK(!rtt::parse_mac("02-ab-cd-00-ff-09"));
}

void packet_socket_tx_stamps_are_read() {
  sock_extended_err e = stamp_error(9);
  Control c;
  c.add(SOL_SOCKET, SO_TIMESTAMPING, stamps(5, 6, 0, 0)).add(SOL_PACKET, PACKET_TX_TIMESTAMP, e);
  rtt::TxStamp out;
  CHECK(rtt::parse_tx_stamp(c.msg(), out));
  CHECK(out.id == 9 && out.software == 5000000006);
}

// What the kernel knows of a frame besides its bytes, as the filter's ancillary loads read it.
struct Arrival {
  uint32_t pkttype = PACKET_HOST;
  int vlan = -1;  // -1: untagged
};

// A classic BPF interpreter for the instructions flow_filter emits.
uint32_t run_filter(const std::vector<sock_filter>& code, const std::vector<uint8_t>& f, const Arrival& arrival) {
  uint32_t A = 0, X = 0;
  auto in_frame = [&](uint32_t at, uint32_t size) { return uint64_t(at) + size <= f.size(); };
  for (size_t pc = 0; pc < code.size(); ++pc) {
    const sock_filter& i = code[pc];
    uint32_t k = i.k;
    switch (i.code) {
      case BPF_LD | BPF_W | BPF_ABS:
        if (k >= uint32_t(SKF_AD_OFF)) {
          uint32_t field = k - uint32_t(SKF_AD_OFF);
          A = field == SKF_AD_PKTTYPE ? arrival.pkttype
              : field == SKF_AD_VLAN_TAG_PRESENT ? uint32_t(arrival.vlan >= 0)
                                                 : uint32_t(arrival.vlan);
          break;
        }
        if (!in_frame(k, 4)) return 0;
        A = uint32_t(f[k] << 24 | f[k + 1] << 16 | f[k + 2] << 8 | f[k + 3]);
        break;
      case BPF_LD | BPF_H | BPF_ABS:
      case BPF_LD | BPF_H | BPF_IND: {
        uint32_t at = k + (BPF_MODE(i.code) == BPF_IND ? X : 0);
        if (!in_frame(at, 2)) return 0;
        A = uint32_t(f[at] << 8 | f[at + 1]);
        break;
      }
      case BPF_LD | BPF_B | BPF_ABS:
        if (!in_frame(k, 1)) return 0;
        A = f[k];
        break;
      case BPF_LDX | BPF_B | BPF_MSH:
        if (!in_frame(k, 1)) return 0;
        X = uint32_t(f[k] & 0x0f) * 4;
        break;
      case BPF_LDX | BPF_W | BPF_IMM:
        X = k;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        A &= k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
        pc += A == k ? i.jt : i.jf;
        break;
      case BPF_JMP | BPF_JSET | BPF_K:
        pc += (A & k) ? i.jt : i.jf;
        break;
      case BPF_RET | BPF_K:
        return k;
      default:
        std::printf("FAIL: the interpreter lacks BPF code 0x%x\n", unsigned(i.code));
        ++failures;
        return 0;
    }
  }
  return 0;
}

// A frame as the filter sees it: the kernel has taken any tag out of the data.
std::vector<uint8_t> arriving(rtt::FrameAddress a) {
  a.vlan = 0;
  return frame_of(a, 44);
}

void flow_filter_passes_the_session_and_nothing_else() {
  rtt::Endpoint sender = rtt::parse_endpoint("198.18.0.2", 40000);
  rtt::Endpoint reflector = rtt::parse_endpoint("198.18.0.1", 862);
  // The sender's filter, for the reply: from the reflector's address and port to its own.
  rtt::FrameAddress reply = address_v4();
  std::swap(reply.src_ip, reply.dst_ip);
  reply.src_port = 862;
  reply.dst_port = 40000;
  auto sender_filter = rtt::flow_filter(sender, &reflector, 0);
  CHECK(run_filter(sender_filter, arriving(reply), {}) > 0);
  rtt::FrameAddress other = reply;
  other.src_port = 863;
  CHECK(run_filter(sender_filter, arriving(other), {}) == 0);
  other = reply;
  other.dst_port = 40001;
  CHECK(run_filter(sender_filter, arriving(other), {}) == 0);
  other = reply;
  other.src_ip[3] = 9;
  CHECK(run_filter(sender_filter, arriving(other), {}) == 0);
  other = reply;
  other.dst_ip[3] = 9;
  CHECK(run_filter(sender_filter, arriving(other), {}) == 0);
  // The copy of an outgoing frame (loopback shows each twice), a frame for another host, a tagged one.
  CHECK(run_filter(sender_filter, arriving(reply), {PACKET_OUTGOING, -1}) == 0);
  CHECK(run_filter(sender_filter, arriving(reply), {PACKET_OTHERHOST, -1}) == 0);
  CHECK(run_filter(sender_filter, arriving(reply), {PACKET_HOST, 42}) == 0);
  // Not UDP, or an IPv4 fragment.
  std::vector<uint8_t> tcp = arriving(reply);
  tcp[14 + 9] = IPPROTO_TCP;
  CHECK(run_filter(sender_filter, tcp, {}) == 0);
  std::vector<uint8_t> fragment = arriving(reply);
  fragment[14 + 6] |= 0x20;  // more fragments
  CHECK(run_filter(sender_filter, fragment, {}) == 0);
  // IPv4 options move the UDP header: the ports are still found.
  std::vector<uint8_t> with_options = arriving(reply);
  with_options[14] = 0x46;
  with_options.insert(with_options.begin() + 34, {1, 1, 1, 1});
  CHECK(run_filter(sender_filter, with_options, {}) > 0);

  // A reflector on a VLAN takes its port from any sender, tagged with its VLAN only.
  rtt::FrameAddress request = address_v4();
  auto tagged = rtt::flow_filter(reflector, nullptr, 42);
  CHECK(run_filter(tagged, arriving(request), {PACKET_HOST, 42}) > 0);
  CHECK(run_filter(tagged, arriving(request), {PACKET_HOST, 43}) == 0);
  CHECK(run_filter(tagged, arriving(request), {}) == 0);
  request.src_port = 1234;
  request.src_ip[3] = 77;
  CHECK(run_filter(tagged, arriving(request), {PACKET_HOST, 42}) > 0);
  request.dst_port = 863;
  CHECK(run_filter(tagged, arriving(request), {PACKET_HOST, 42}) == 0);

  // An IPv6 wildcard reflector takes both families on its port; an IPv4 one no IPv6.
  auto wildcard = rtt::flow_filter(rtt::parse_endpoint("::", 862), nullptr, 0);
  CHECK(run_filter(wildcard, arriving(address_v4()), {}) > 0);
  rtt::FrameAddress v6 = address_v4();
  v6.family = AF_INET6;
  CHECK(run_filter(wildcard, arriving(v6), {}) > 0);
  CHECK(run_filter(rtt::flow_filter(reflector, nullptr, 0), arriving(v6), {}) == 0);
  v6.dst_port = 863;
  CHECK(run_filter(wildcard, arriving(v6), {}) == 0);
}

}  // namespace

// The descriptors open in the calling thread's own table.
std::vector<int> thread_descriptors() {
  std::vector<int> fds;
  DIR* d = opendir("/proc/thread-self/fd");
  if (!d) return fds;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.' && std::atoi(e->d_name) != dirfd(d)) fds.push_back(std::atoi(e->d_name));
  }
  closedir(d);
  std::sort(fds.begin(), fds.end());
  return fds;
}

void private_file_table_holds_only_stdio_and_what_is_kept() {
  int socket_fd = socket(AF_INET, SOCK_DGRAM, 0);
  int pipe_fds[2];
  CHECK(socket_fd > 2 && pipe2(pipe_fds, O_NONBLOCK) == 0);
  std::atomic<int> step{0};
  std::vector<int> seen;
  int result = -1;
  bool pipe_visible = true;
  std::thread t([&] {
    result = rtt::make_file_table_private(&socket_fd, 1);
    seen = thread_descriptors();
    pipe_visible = fcntl(pipe_fds[0], F_GETFD) != -1;
    step = 1;
    while (step != 2) std::this_thread::yield();  // hold the private table while the process closes a file
  });
  while (step != 1) std::this_thread::yield();
  CHECK(result == 0);
  std::vector<int> want = {socket_fd};
  for (int fd : {0, 1, 2}) {
    if (fcntl(fd, F_GETFD) != -1) want.push_back(fd);
  }
  std::sort(want.begin(), want.end());
  CHECK(seen == want);
  CHECK(!pipe_visible);
  // The process's own table is untouched, and the write end it closes is
  // closed for real: the reader sees end of file, not a writer kept alive.
  CHECK(fcntl(pipe_fds[0], F_GETFD) != -1);
  close(pipe_fds[1]);
  char byte;
  CHECK(read(pipe_fds[0], &byte, 1) == 0);
  step = 2;
  t.join();
  close(pipe_fds[0]);
  close(socket_fd);
}

const std::string kInvariantFlags = "flags\t\t: fpu tsc msr constant_tsc rep_good nopl nonstop_tsc cpuid";

void tsc_clock_needs_the_kernel_on_tsc_and_an_invariant_counter() {
  CHECK(rtt::tsc_unusable_reason("tsc\n", kInvariantFlags).empty());
  std::string kvm = rtt::tsc_unusable_reason("kvm-clock\n", kInvariantFlags);
  CHECK(kvm.find("clocksource kvm-clock") != std::string::npos);
  CHECK(rtt::tsc_unusable_reason("", kInvariantFlags).find("(unknown)") != std::string::npos);
  std::string no_nonstop = rtt::tsc_unusable_reason("tsc\n", "flags\t\t: fpu tsc constant_tsc");
  CHECK(no_nonstop.find("nonstop_tsc") != std::string::npos);
  // A flag is a whole word: nonstop_tsc_s3 is not nonstop_tsc.
  CHECK(!rtt::tsc_unusable_reason("tsc\n", "flags\t\t: constant_tsc nonstop_tsc_s3").empty());
}

// Each read of the clock lies between two CLOCK_REALTIME reads taken around
// it, give or take the anchor's few nanoseconds, over 60 ms: through the
// vDSO-served calibration, the first rate from 10 ms and sixty re-anchors.
void user_clock_reads_clock_realtime(rtt::ClockSource source) {
  rtt::UserClock clock(source);
  constexpr int64_t kToleranceNs = 50;
  int64_t worst = 0;
  int64_t end = rtt::realtime_ns() + 60000000;
  for (int64_t before = rtt::realtime_ns(); before < end; before = rtt::realtime_ns()) {
    int64_t t = clock.now();
    int64_t after = rtt::realtime_ns();
    worst = std::max({worst, before - t, t - after});
    timespec pause{0, 20000};
    nanosleep(&pause, nullptr);
  }
  if (worst > kToleranceNs) std::printf("user clock (%s) left CLOCK_REALTIME by %lld ns\n", clock.granted() == rtt::ClockSource::Tsc ? "tsc" : "realtime", (long long)worst);
  CHECK(worst <= kToleranceNs);
  CHECK(clock.recalibrations() == 0);
}

void user_clock_takes_the_tsc_where_the_host_allows_it() {
  bool usable = rtt::host_tsc_unusable_reason().empty();
  CHECK((rtt::UserClock(rtt::ClockSource::Auto).granted() == rtt::ClockSource::Tsc) == usable);
  CHECK(rtt::UserClock(rtt::ClockSource::Realtime).granted() == rtt::ClockSource::Realtime);
  bool refused = false;
  try {
    CHECK(rtt::UserClock(rtt::ClockSource::Tsc).granted() == rtt::ClockSource::Tsc);
  } catch (const rtt::ConfigError& e) {
    refused = std::string(e.what()).find("use clock realtime") != std::string::npos;
  }
  CHECK(refused == !usable);
  user_clock_reads_clock_realtime(rtt::ClockSource::Auto);
  user_clock_reads_clock_realtime(rtt::ClockSource::Realtime);
}

// Counts what a session hands over; wants snapshots only while `want` is
// set, and bucket counts in them only while `counts` is. Of a sender's
// snapshots it counts those whose rtt.user counts add up to its count.
template <class Snapshot>
class CountingSink final : public rtt::ProgressSink<Snapshot> {
 public:
  std::atomic<bool> want{false};
  std::atomic<bool> counts{false};
  std::atomic<int> published{0};
  std::atomic<int> with_counts{0};
  bool wanted() const noexcept override { return want.load(); }
  bool counts_wanted() const noexcept override { return counts.load(); }
  void publish(const Snapshot& s) noexcept override {
    ++published;
    if constexpr (std::is_same_v<Snapshot, rtt::SenderProgress>) {
      const rtt::MetricProgress& user = s.streams[0].metrics[size_t(rtt::Metric::RttUser)];
      uint64_t sum = 0;
      for (uint64_t c : user.counts) sum += c;
      if (!user.counts.empty() && sum == user.count) ++with_counts;
    }
  }
};

void progress_goes_only_to_a_sink_that_wants_it() {
  rtt::ReflectorConfig rc;
  rc.bind = rtt::parse_endpoint("127.0.0.1", 0);
  rc.busy_poll = false;
  rc.progress_interval_ns = 10000000;
  rtt::Reflector reflector(rc);
  rtt::StreamConfig stream;
  stream.target = reflector.local();
  stream.bind = rtt::parse_endpoint("127.0.0.1", 0);
  stream.mode = rtt::SenderMode::Rate;
  stream.rate_pps = 2000;
  stream.duration_ns = 1000000000;  // ends well after the last phase starts, even on a loaded host
  rtt::SenderConfig sc;
  sc.streams.push_back(stream);
  sc.busy_poll = false;
  sc.progress_interval_ns = 10000000;
  rtt::Sender sender(sc);

  CountingSink<rtt::ReflectorProgress> reflector_sink;
  CountingSink<rtt::SenderProgress> sender_sink;
  std::atomic<bool> stop{false};
  std::thread reflector_thread([&] {
    reflector.setup();
    reflector.run(stop, &reflector_sink);
  });
  std::thread sender_thread([&] {
    sender.setup();
    sender.run(stop, &sender_sink);
  });
  // About 20 intervals unwatched, 10 watched without bucket counts, the rest with.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int unwatched = sender_sink.published.load();
  sender_sink.want = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  int watched = sender_sink.published.load();
  int counted_before_asked = sender_sink.with_counts.load();
  sender_sink.counts = true;
  sender_thread.join();
  stop = true;
  reflector_thread.join();
  CHECK(unwatched == 0);
  CHECK(watched >= 3);
  CHECK(counted_before_asked == 0);
  CHECK(sender_sink.with_counts.load() >= 3);
  CHECK(sender_sink.published.load() >= 5);
  CHECK(reflector_sink.published.load() == 0);
  CHECK(sender.streams()[0]->counters().received > 100);
}

void spsc_ring_holds_its_capacity_in_order() {
  rtt::SpscRing<int> ring(4);
  for (int i = 0; i < 4; ++i) CHECK(ring.push(i));
  CHECK(!ring.push(4));  // full
  int v = -1;
  for (int i = 0; i < 4; ++i) CHECK(ring.pop(v) && v == i);
  CHECK(!ring.pop(v));  // empty
  CHECK(ring.push(5) && ring.pop(v) && v == 5);  // the indices wrap
}

class LastSnapshot : public rtt::ProgressSink<rtt::MeshProgress> {
 public:
  bool wanted() const noexcept override { return false; }  // a mesh publishes on request, wanted or not
  void publish(const rtt::MeshProgress& p) noexcept override {
    std::lock_guard<std::mutex> lock(mutex);
    last = p;
    ++published;
  }
  std::mutex mutex;
  rtt::MeshProgress last;
  int published = 0;
};

// Two targets on one loop; one removed while it runs keeps the other going,
// and jittered intervals (+-50%) keep the mean rate.
void mesh_adds_and_removes_targets_while_it_runs() {
  rtt::ReflectorConfig rc;
  rc.bind = rtt::parse_endpoint("127.0.0.1", 0);
  rc.busy_poll = false;
  rtt::Reflector reflector(rc);
  rtt::MeshConfig mc;
  mc.bucket_bounds_ns = {10000, 1000000};
  rtt::Mesh mesh(mc);
  LastSnapshot sink;
  std::atomic<bool> stop{false};
  std::thread reflector_thread([&] {
    reflector.setup();
    reflector.run(stop, nullptr);
  });
  std::thread mesh_thread([&] {
    mesh.setup();
    mesh.run(stop, &sink);
  });
  rtt::StreamConfig stream;
  stream.target = reflector.local();
  stream.bind = rtt::parse_endpoint("127.0.0.1", 0);
  stream.rate_pps = 1000;
  stream.jitter = 0.5;
  uint64_t a = mesh.add(stream);
  uint64_t b = mesh.add(stream);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(mesh.remove(b));
  CHECK(!mesh.remove(b));  // already going
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  mesh.request_snapshot();
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  stop = true;
  mesh_thread.join();
  reflector_thread.join();
  mesh.close();
  std::lock_guard<std::mutex> lock(sink.mutex);
  CHECK(sink.published == 1);
  CHECK(sink.last.targets.size() == 1 && sink.last.targets[0].id == a);
  const rtt::SenderCounters& c = sink.last.targets[0].counters;
  CHECK(c.sent > 250 && c.sent < 550);  // 1000/s for about 0.4 s
  CHECK(c.received + 5 >= c.sent);
  uint64_t in_buckets = 0;
  for (size_t i = 0; i < 3; ++i) in_buckets += sink.last.buckets[size_t(rtt::Metric::RttUser) * 3 + i];
  CHECK(in_buckets == sink.last.targets[0].count[size_t(rtt::Metric::RttUser)] && in_buckets == c.received);
  CHECK(sink.last.targets[0].last_reply_ns > 0 && sink.last.targets[0].last_reply_ns <= sink.last.now_ns);
}

int main() {
  rx_software_and_hardware_stamps_and_ttl();
  rx_ipv6_hop_limit_and_software_only();
  rx_without_control_messages();
  rx_truncated_timestamp_is_ignored();
  tx_hardware_stamp_with_opt_id();
  tx_software_stamp_on_ipv6();
  icmp_errors_are_not_stamps();
  tx_ack_stamp_is_told_from_the_send_stamp();
  tcp_frames_reassemble_across_reads();
  stamp_without_id_is_not_matched();
  cmsg_running_past_the_buffer_is_not_read();
  impossible_stamps_are_no_stamps();
  ts_info_decodes_into_names();
  ethtool_settings_of_lo_keep_each_refusal();
  names_of_values_newer_than_the_tables();
  nic_already_stamping_everything_is_left_alone();
  nic_off_is_set_to_tx_on_and_filter_all();
  filter_all_refused_falls_back_to_ntp_all_and_reads_back_the_upgrade();
  ntp_all_granted_as_asked_stamps_no_probe();
  no_filter_granted_is_refused_with_erange_and_nothing_changes();
  refusals_are_recorded_by_errno();
  driver_without_siocghwtstamp_is_still_set();
  one_step_mode_and_bond_flag_are_kept();
  replay_window_answers_each_sequence_number_once();
  replay_window_survives_the_32_bit_wrap();
  flow_table_is_bounded_and_sweeps_stale_entries();
  flow_table_erase_keeps_every_other_entry_reachable();
  rate_limiter_allows_the_rate_and_a_tenth_second_burst();
  one_spoofed_jump_does_not_mute_an_unauthenticated_session();
  a_real_jump_is_followed_once_the_next_request_confirms_it();
  an_authenticated_jump_moves_the_window_at_once();
  refused_requests_do_not_keep_a_session_alive();
  replays_from_other_ports_cannot_lock_real_senders_out();
  tiny_rate_limits_still_limit();
  allow_list_matches_prefixes_of_both_families();
  histogram_layout_matches_hdrhistogram();
  private_file_table_holds_only_stdio_and_what_is_kept();
  tsc_clock_needs_the_kernel_on_tsc_and_an_invariant_counter();
  user_clock_takes_the_tsc_where_the_host_allows_it();
  progress_goes_only_to_a_sink_that_wants_it();
  spsc_ring_holds_its_capacity_in_order();
  mesh_adds_and_removes_targets_while_it_runs();
  ipv4_frame_has_valid_checksums_and_the_asked_fields();
  ipv6_frame_with_a_vlan_tag_has_a_valid_udp_checksum();
  mac_addresses_parse_and_format();
  packet_socket_tx_stamps_are_read();
  flow_filter_passes_the_session_and_nothing_else();
  std::printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
  return failures ? 1 : 0;
}
