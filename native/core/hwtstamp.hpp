// Hardware timestamping of a network interface: what its driver can do
// (struct ethtool_ts_info) and how its NIC is configured (struct
// hwtstamp_config). Everything here is pure: the ioctls that fill these
// structs live in caps.cpp, so synthetic structs stand in for NICs this host
// lacks. Names are the kernel constants' own, lower case with hyphens:
// SOF_TIMESTAMPING_TX_SOFTWARE is "tx-software", HWTSTAMP_TX_ON "on",
// HWTSTAMP_FILTER_NTP_ALL "ntp-all" (as in ethtool's string sets).
#pragma once

#include <linux/ethtool.h>
#include <linux/net_tstamp.h>

#include <optional>
#include <string>
#include <vector>

namespace rtt {

// SOF_TIMESTAMPING_* bits set in flags, lowest first; a bit newer than this
// table is "bit-N".
std::vector<std::string> so_timestamping_names(unsigned flags);
// An HWTSTAMP_TX_* value ("off", "on", ...); unknown values as "tx-type-N".
std::string tx_type_name(int tx_type);
// An HWTSTAMP_FILTER_* value ("none", "all", "ntp-all", ...); unknown values as "rx-filter-N".
std::string rx_filter_name(int rx_filter);

// The driver stamps both directions in hardware and reports the raw NIC
// clock: what 'auto' needs before it asks a socket for hardware stamps.
bool hardware_capable(unsigned so_timestamping) noexcept;

// ethtool_ts_info (ETHTOOL_GET_TS_INFO), decoded.
struct TsInfo {
  std::vector<std::string> so_timestamping;
  int phc_index = -1;                   // the PTP hardware clock /dev/ptpN; -1: none
  std::vector<std::string> tx_types;    // tx_types has bit 1 << HWTSTAMP_TX_* per type
  std::vector<std::string> rx_filters;  // rx_filters has bit 1 << HWTSTAMP_FILTER_* per filter
  bool hardware_capable = false;
};
TsInfo decode_ts_info(const ethtool_ts_info& info);

// The SIOCGHWTSTAMP / SIOCSHWTSTAMP pair on one interface, behind an
// interface so that the setup policy can be driven by a synthetic NIC.
class HwtstampDevice {
 public:
  virtual ~HwtstampDevice() = default;
  // 0 or the ioctl's errno. set() leaves in config what the driver granted
  // (drivers may upgrade a filter, e.g. a PTP filter to "all").
  virtual int get(hwtstamp_config& config) noexcept = 0;
  virtual int set(hwtstamp_config& config) noexcept = 0;
};

// What enabling hardware timestamping on the socket's interface did.
struct HwtstampSetup {
  bool attempted = false;                    // hardware stamps requested on a known interface
  std::optional<hwtstamp_config> previous;   // before this session; empty when SIOCGHWTSTAMP failed
  int previous_errno = 0;                    // why it failed (EOPNOTSUPP: the driver will not say)
  bool changed = false;                      // SIOCSHWTSTAMP took effect; the NIC stays so configured
  int refused_errno = 0;                     // SIOCSHWTSTAMP's refusal: EPERM, EOPNOTSUPP, ERANGE...
  std::optional<hwtstamp_config> granted;    // in force after setup, when known
  bool tx = false;                           // hardware TX stamps can be expected
  bool rx = false;                           // hardware RX stamps of every packet can be expected
};

// TX stamps are generated (the one-step modes stamp as "on" does, and more).
bool hwtstamp_tx_on(int tx_type) noexcept;
// Every received packet is stamped. NTP_ALL stamps NTP (UDP port 123) only,
// unless the driver upgraded it to ALL, which reading back shows.
bool hwtstamp_rx_all(int rx_filter) noexcept;

// As ptp4l and chrony do: read the config; where it lacks TX stamps or an RX
// filter of every packet, ask for TX on (a one-step mode already set is kept)
// and filter "all", or "ntp-all" when the driver refuses "all" with ERANGE
// (it may grant more than asked), and keep what was granted. Nothing is
// restored afterwards: other users of the NIC (ptp4l, chrony) rely on it, and
// what is asked for only adds stamps to theirs.
HwtstampSetup configure_hwtstamp(HwtstampDevice& device) noexcept;

}  // namespace rtt
