// native/core on its own, without Node: compiled and run by test/core.test.ts.
// Control-message parsing is fed synthetic messages, including the NIC
// hardware stamps this host cannot produce and the malformed ones fuzzing
// found; the reflector's bounded state (replay window, flow table, rate
// limiter, allow-list) is driven with a synthetic clock.
#include <netinet/in.h>
#include <sys/socket.h>
#include <ctime>
// errqueue.h needs struct timespec declared first.
#include <linux/errqueue.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "allow_list.hpp"
#include "errors.hpp"
#include "flow_table.hpp"
#include "histogram.hpp"
#include "rate_limit.hpp"
#include "reflector_sessions.hpp"
#include "timestamping.hpp"

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

sock_extended_err stamp_error(uint32_t id, uint8_t origin = SO_EE_ORIGIN_TIMESTAMPING, uint32_t err = ENOMSG) {
  sock_extended_err e{};
  e.ee_errno = err;
  e.ee_origin = origin;
  e.ee_info = SCM_TSTAMP_SND;
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

void replay_window_answers_each_sequence_number_once() {
  rtt::ReflectorSession s;
  CHECK(!s.seen(10));
  s.record(10);
  CHECK(s.seen(10));
  CHECK(!s.seen(9) && !s.seen(11));
  s.record(12);  // 11 overtaken: still answerable
  CHECK(!s.seen(11) && s.seen(10) && s.seen(12));
  s.record(11);
  CHECK(s.seen(11));
  s.record(12 + rtt::kReplayWindow - 1);
  CHECK(s.seen(12) && !s.seen(13));  // the oldest number still inside the window
  CHECK(s.seen(11));                 // slid out of the window: too old to tell, so refused
  s.record(100000);                  // a jump past the window forgets it all
  CHECK(!s.seen(99999) && s.seen(100000));
}

void replay_window_survives_the_32_bit_wrap() {
  rtt::ReflectorSession s;
  s.record(0xfffffffe);
  s.record(0xffffffff);
  s.record(1);
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

}  // namespace

int main() {
  rx_software_and_hardware_stamps_and_ttl();
  rx_ipv6_hop_limit_and_software_only();
  rx_without_control_messages();
  rx_truncated_timestamp_is_ignored();
  tx_hardware_stamp_with_opt_id();
  tx_software_stamp_on_ipv6();
  icmp_errors_are_not_stamps();
  stamp_without_id_is_not_matched();
  cmsg_running_past_the_buffer_is_not_read();
  impossible_stamps_are_no_stamps();
  replay_window_answers_each_sequence_number_once();
  replay_window_survives_the_32_bit_wrap();
  flow_table_is_bounded_and_sweeps_stale_entries();
  rate_limiter_allows_the_rate_and_a_tenth_second_burst();
  allow_list_matches_prefixes_of_both_families();
  histogram_layout_matches_hdrhistogram();
  std::printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
  return failures ? 1 : 0;
}
