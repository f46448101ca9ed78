// What an interface can do for latency measurement, read from the kernel:
// ETHTOOL_GET_TS_INFO (the driver's timestamping capabilities) and
// SIOCGHWTSTAMP (the NIC's current hardware-timestamping config). The ioctls
// are here; decoding is in hwtstamp.cpp. Setup only, never per packet.
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

struct InterfaceCaps {
  std::string interface;
  int ts_info_errno = 0;  // ETHTOOL_GET_TS_INFO refused; ts_info is then empty
  TsInfo ts_info;
  std::optional<hwtstamp_config> hwtstamp;  // current config; empty when the driver will not report it
  int hwtstamp_errno = 0;                   // why (EOPNOTSUPP: no hardware timestamping, or no SIOCGHWTSTAMP)
};

// Throws SystemError: ENODEV when this network namespace has no such interface.
InterfaceCaps interface_caps(const std::string& interface);

// Every interface of this network namespace, in index order (lo first).
std::vector<std::string> interface_names();

}  // namespace rtt
