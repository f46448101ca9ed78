#include "hwtstamp.hpp"

#include <cerrno>

namespace rtt {
namespace {

// By bit number; the kernel ABI fixes them, and headers older than the
// running kernel lack the newest, so they are spelled out here.
constexpr const char* kSoTimestampingNames[] = {
    "tx-hardware", "tx-software", "rx-hardware", "rx-software", "software",     "sys-hardware", "raw-hardware",
    "opt-id",      "tx-sched",    "tx-ack",      "opt-cmsg",    "opt-tsonly",   "opt-stats",    "opt-pktinfo",
    "opt-tx-swhw", "bind-phc",    "opt-id-tcp",  "opt-rx-filter", "tx-completion",
};

// By HWTSTAMP_TX_* value.
constexpr const char* kTxTypeNames[] = {"off", "on", "onestep-sync", "onestep-p2p"};

// By HWTSTAMP_FILTER_* value.
constexpr const char* kRxFilterNames[] = {
    "none",           "all",           "some",           "ptpv1-l4-event",     "ptpv1-l4-sync",
    "ptpv1-l4-delay-req", "ptpv2-l4-event", "ptpv2-l4-sync", "ptpv2-l4-delay-req", "ptpv2-l2-event",
    "ptpv2-l2-sync",  "ptpv2-l2-delay-req", "ptpv2-event", "ptpv2-sync",         "ptpv2-delay-req",
    "ntp-all",
};

template <size_t N>
std::string lookup(const char* const (&names)[N], int value, const char* unknown) {
  if (value >= 0 && size_t(value) < N) return names[value];
  return unknown + std::to_string(value);
}

template <size_t N>
std::vector<std::string> bit_names(const char* const (&names)[N], unsigned mask, const char* unknown) {
  std::vector<std::string> out;
  for (int bit = 0; bit < 32; ++bit) {
    if (mask & (1u << bit)) out.push_back(lookup(names, bit, unknown));
  }
  return out;
}

bool same(const hwtstamp_config& a, const hwtstamp_config& b) noexcept {
  return a.flags == b.flags && a.tx_type == b.tx_type && a.rx_filter == b.rx_filter;
}

}  // namespace

std::vector<std::string> so_timestamping_names(unsigned flags) {
  return bit_names(kSoTimestampingNames, flags, "bit-");
}

std::string tx_type_name(int tx_type) { return lookup(kTxTypeNames, tx_type, "tx-type-"); }

std::string rx_filter_name(int rx_filter) { return lookup(kRxFilterNames, rx_filter, "rx-filter-"); }

bool hardware_capable(unsigned so) noexcept {
  constexpr unsigned kNeeded = SOF_TIMESTAMPING_TX_HARDWARE | SOF_TIMESTAMPING_RX_HARDWARE | SOF_TIMESTAMPING_RAW_HARDWARE;
  return (so & kNeeded) == kNeeded;
}

TsInfo decode_ts_info(const ethtool_ts_info& info) {
  TsInfo t;
  t.so_timestamping = so_timestamping_names(info.so_timestamping);
  t.phc_index = info.phc_index >= 0 ? info.phc_index : -1;
  t.tx_types = bit_names(kTxTypeNames, info.tx_types, "tx-type-");
  t.rx_filters = bit_names(kRxFilterNames, info.rx_filters, "rx-filter-");
  t.hardware_capable = hardware_capable(info.so_timestamping);
  return t;
}

bool hwtstamp_tx_on(int tx_type) noexcept {
  return tx_type == HWTSTAMP_TX_ON || tx_type == HWTSTAMP_TX_ONESTEP_SYNC || tx_type == HWTSTAMP_TX_ONESTEP_P2P;
}

bool hwtstamp_rx_all(int rx_filter) noexcept { return rx_filter == HWTSTAMP_FILTER_ALL; }

HwtstampSetup configure_hwtstamp(HwtstampDevice& device) noexcept {
  HwtstampSetup s;
  s.attempted = true;
  hwtstamp_config now{};
  s.previous_errno = device.get(now);
  if (s.previous_errno == 0) {
    s.previous = now;
    s.granted = now;
    if (hwtstamp_tx_on(now.tx_type) && hwtstamp_rx_all(now.rx_filter)) {
      s.tx = s.rx = true;
      return s;
    }
  }
  // Keep what others configured where it already serves: the flags (a bond
  // needs HWTSTAMP_FLAG_BONDED_PHC_INDEX) and a one-step TX mode.
  hwtstamp_config want{};
  want.flags = s.previous ? s.previous->flags : 0;
  want.tx_type = s.previous && hwtstamp_tx_on(s.previous->tx_type) ? s.previous->tx_type : HWTSTAMP_TX_ON;
  want.rx_filter = HWTSTAMP_FILTER_ALL;
  hwtstamp_config asked = want;
  int err = device.set(asked);
  if (err == ERANGE) {
    want.rx_filter = HWTSTAMP_FILTER_NTP_ALL;
    asked = want;
    err = device.set(asked);
  }
  if (err != 0) {
    s.refused_errno = err;
  } else {
    // What the driver wrote back; reading again is authoritative where it can be read.
    hwtstamp_config after{};
    s.granted = device.get(after) == 0 ? after : asked;
    s.changed = !s.previous || !same(*s.previous, *s.granted);
  }
  if (s.granted) {
    s.tx = hwtstamp_tx_on(s.granted->tx_type);
    s.rx = hwtstamp_rx_all(s.granted->rx_filter);
  }
  return s;
}

}  // namespace rtt
