#include "caps.hpp"

#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>

#include "errors.hpp"

namespace rtt {
namespace {

// Fills ifr for interface; false when the name cannot be an interface's.
bool interface_request(const std::string& interface, void* data, ifreq& ifr) noexcept {
  if (interface.empty() || interface.size() >= IFNAMSIZ) return false;
  ifr = ifreq{};
  std::memcpy(ifr.ifr_name, interface.data(), interface.size());
  ifr.ifr_data = static_cast<char*>(data);
  return true;
}

// A socket only to carry device ioctls (any family reaches dev_ioctl).
class IoctlSocket {
 public:
  IoctlSocket() {
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) fd_ = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) throw SystemError(errno, "cannot open a socket for interface ioctls");
  }
  ~IoctlSocket() { close(fd_); }
  IoctlSocket(const IoctlSocket&) = delete;
  IoctlSocket& operator=(const IoctlSocket&) = delete;
  int fd() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace

int read_ts_info(int fd, const std::string& interface, ethtool_ts_info& out) noexcept {
  out = ethtool_ts_info{};
  out.cmd = ETHTOOL_GET_TS_INFO;
  ifreq ifr;
  if (!interface_request(interface, &out, ifr)) return ENODEV;
  return ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? 0 : errno;
}

int InterfaceHwtstamp::ioctl_config(unsigned long request, hwtstamp_config& config) noexcept {
  ifreq ifr;
  if (!interface_request(interface_, &config, ifr)) return ENODEV;
  return ioctl(fd_, request, &ifr) == 0 ? 0 : errno;
}

int InterfaceHwtstamp::get(hwtstamp_config& config) noexcept {
  config = hwtstamp_config{};
  return ioctl_config(SIOCGHWTSTAMP, config);
}

int InterfaceHwtstamp::set(hwtstamp_config& config) noexcept { return ioctl_config(SIOCSHWTSTAMP, config); }

namespace {

int ethtool_ioctl(int fd, const std::string& interface, void* data) noexcept {
  ifreq ifr;
  if (!interface_request(interface, data, ifr)) return ENODEV;
  return ioctl(fd, SIOCETHTOOL, &ifr) == 0 ? 0 : errno;
}

// Issues the ethtool command cmd with a struct S and keeps decode(S) or the errno.
template <typename S, typename T, typename Decode>
Reading<T> ethtool_get(int fd, const std::string& interface, uint32_t cmd, Decode decode) {
  S request{};
  request.cmd = cmd;
  Reading<T> r;
  r.error = ethtool_ioctl(fd, interface, &request);
  if (r.error == 0) r.value = decode(request);
  return r;
}

std::string fixed_string(const char* field, size_t size) { return std::string(field, strnlen(field, size)); }

std::string duplex_name(uint8_t duplex) {
  if (duplex == DUPLEX_FULL) return "full";
  if (duplex == DUPLEX_HALF) return "half";
  return "unknown";
}

}  // namespace

EthtoolSettings read_ethtool_settings(int fd, const std::string& interface) {
  EthtoolSettings e;
  e.driver = ethtool_get<ethtool_drvinfo, DriverInfo>(fd, interface, ETHTOOL_GDRVINFO, [](const ethtool_drvinfo& d) {
    return DriverInfo{fixed_string(d.driver, sizeof d.driver), fixed_string(d.fw_version, sizeof d.fw_version),
                      fixed_string(d.bus_info, sizeof d.bus_info)};
  });
  e.link = ethtool_get<ethtool_cmd, LinkInfo>(fd, interface, ETHTOOL_GSET, [](const ethtool_cmd& c) {
    uint32_t speed = ethtool_cmd_speed(&c);
    return LinkInfo{speed == static_cast<uint32_t>(SPEED_UNKNOWN) ? -1L : static_cast<long>(speed), duplex_name(c.duplex)};
  });
  e.coalesce = ethtool_get<ethtool_coalesce, CoalesceInfo>(fd, interface, ETHTOOL_GCOALESCE, [](const ethtool_coalesce& c) {
    return CoalesceInfo{c.rx_coalesce_usecs, c.tx_coalesce_usecs, c.use_adaptive_rx_coalesce != 0, c.use_adaptive_tx_coalesce != 0};
  });
  e.rings = ethtool_get<ethtool_ringparam, RingInfo>(fd, interface, ETHTOOL_GRINGPARAM, [](const ethtool_ringparam& r) {
    return RingInfo{r.rx_pending, r.rx_max_pending, r.tx_pending, r.tx_max_pending};
  });
  e.gro = ethtool_get<ethtool_value, bool>(fd, interface, ETHTOOL_GGRO, [](const ethtool_value& v) { return v.data != 0; });
  e.lro = ethtool_get<ethtool_value, bool>(fd, interface, ETHTOOL_GFLAGS, [](const ethtool_value& v) { return (v.data & ETH_FLAG_LRO) != 0; });
  return e;
}

InterfaceCaps interface_caps(const std::string& interface) {
  if (interface.size() >= IFNAMSIZ || if_nametoindex(interface.c_str()) == 0) {
    throw SystemError(ENODEV, "no interface named " + interface + " (ip link lists them)");
  }
  IoctlSocket s;
  InterfaceCaps c;
  c.interface = interface;
  ethtool_ts_info info;
  c.ts_info_errno = read_ts_info(s.fd(), interface, info);
  if (c.ts_info_errno == 0) c.ts_info = decode_ts_info(info);
  InterfaceHwtstamp device(s.fd(), interface);
  hwtstamp_config config;
  c.hwtstamp_errno = device.get(config);
  if (c.hwtstamp_errno == 0) c.hwtstamp = config;
  c.ethtool = read_ethtool_settings(s.fd(), interface);
  return c;
}

std::vector<std::string> interface_names() {
  struct if_nameindex* list = if_nameindex();
  if (!list) throw SystemError(errno, "cannot list network interfaces");
  std::vector<std::pair<unsigned, std::string>> found;
  for (struct if_nameindex* i = list; i->if_index != 0; ++i) found.emplace_back(i->if_index, i->if_name);
  if_freenameindex(list);
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (auto& f : found) names.push_back(std::move(f.second));
  return names;
}

}  // namespace rtt
