// What an interface can do for latency measurement, read from the kernel:
// ETHTOOL_GET_TS_INFO (the driver's timestamping capabilities),
// SIOCGHWTSTAMP (the NIC's current hardware-timestamping config) and the
// ethtool settings that add latency (driver, link, coalescing, rings, GRO,
// LRO). The ioctls are here; timestamping decoding is in hwtstamp.cpp.
// Setup only, never per packet.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "hwtstamp.hpp"

namespace rtt {

// 0 or the errno of ETHTOOL_GET_TS_INFO on interface, through socket fd.
int read_ts_info(int fd, const std::string& interface, ethtool_ts_info& out) noexcept;

// SIOCGHWTSTAMP / SIOCSHWTSTAMP on a named interface through socket fd.
// SIOCSHWTSTAMP needs CAP_NET_ADMIN (EPERM without it, checked before the driver).
class InterfaceHwtstamp final : public HwtstampDevice {
 public:
  InterfaceHwtstamp(int fd, std::string interface) : fd_(fd), interface_(std::move(interface)) {}
  int get(hwtstamp_config& config) noexcept override;
  int set(hwtstamp_config& config) noexcept override;

 private:
  int ioctl_config(unsigned long request, hwtstamp_config& config) noexcept;
  int fd_;
  std::string interface_;
};

// ETHTOOL_GDRVINFO; empty strings where the driver leaves a field out.
struct DriverInfo {
  std::string driver, firmware, bus;
};
// ETHTOOL_GSET: speed in Mb/s (-1: unknown, as with no link), duplex "full",
// "half" or "unknown".
struct LinkInfo {
  long speed_mbps = -1;
  std::string duplex;
};
// ETHTOOL_GCOALESCE: how long the NIC holds an interrupt back, in µs.
struct CoalesceInfo {
  unsigned rx_usecs = 0, tx_usecs = 0;
  bool adaptive_rx = false, adaptive_tx = false;
};
// ETHTOOL_GRINGPARAM: descriptors per ring, current and the most the NIC takes.
struct RingInfo {
  unsigned rx = 0, rx_max = 0, tx = 0, tx_max = 0;
};

// One ethtool reading: the value, or the errno that refused it.
template <typename T>
struct Reading {
  std::optional<T> value;
  int error = 0;
};

struct EthtoolSettings {
  Reading<DriverInfo> driver;
  Reading<LinkInfo> link;
  Reading<CoalesceInfo> coalesce;
  Reading<RingInfo> rings;
  Reading<bool> gro;  // ETHTOOL_GGRO
  Reading<bool> lro;  // ETHTOOL_GFLAGS & ETH_FLAG_LRO
};

// The settings of interface through socket fd; each refusal is kept as its errno.
EthtoolSettings read_ethtool_settings(int fd, const std::string& interface);

struct InterfaceCaps {
  std::string interface;
  int ts_info_errno = 0;  // ETHTOOL_GET_TS_INFO refused; ts_info is then empty
  TsInfo ts_info;
  std::optional<hwtstamp_config> hwtstamp;  // current config; empty when the driver will not report it
  int hwtstamp_errno = 0;                   // why (EOPNOTSUPP: no hardware timestamping, or no SIOCGHWTSTAMP)
  EthtoolSettings ethtool;
};

// Throws SystemError: ENODEV when this network namespace has no such interface.
InterfaceCaps interface_caps(const std::string& interface);

// Every interface of this network namespace, in index order (lo first).
std::vector<std::string> interface_names();

}  // namespace rtt
