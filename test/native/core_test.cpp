// native/core on its own, without Node: compiled and run by test/core.test.ts.
// Control-message parsing is fed synthetic messages, including the NIC
// hardware stamps this host cannot produce.
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

#include "histogram.hpp"
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
  histogram_layout_matches_hdrhistogram();
  std::printf(failures ? "%d check(s) failed\n" : "all checks passed\n", failures);
  return failures ? 1 : 0;
}
