#include "address.hpp"

#include <arpa/inet.h>
#include <net/if.h>

#include <cerrno>

#include "errors.hpp"

namespace rtt {

uint16_t Endpoint::port() const noexcept {
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_port);
  return ntohs(reinterpret_cast<const sockaddr_in*>(&storage)->sin_port);
}

std::string Endpoint::host() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET6) {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage)->sin6_addr, buf, sizeof buf);
  } else {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage)->sin_addr, buf, sizeof buf);
  }
  return buf;
}

std::string describe(const Endpoint& e) {
  return e.family() == AF_INET6 ? "[" + e.host() + "]:" + std::to_string(e.port())
                                : e.host() + ":" + std::to_string(e.port());
}

std::string bind_hint(int err) {
  switch (err) {
    case EACCES:
      return " (ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port >= 1024)";
    case EADDRINUSE:
      return " (another process uses this port; choose another port or 0 for any)";
    case EADDRNOTAVAIL:
      return " (no interface on this host has that address)";
    case EAFNOSUPPORT:
      return " (IPv6 is disabled on this host; use an IPv4 address such as 0.0.0.0)";
    default:
      return "";
  }
}

Endpoint parse_endpoint(const std::string& host, uint16_t port) {
  Endpoint e;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&e.storage);
  if (inet_pton(AF_INET, host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    e.length = sizeof(sockaddr_in);
    return e;
  }
  // Allow a zone suffix for link-local IPv6 ("fe80::1%eth0").
  std::string addr = host;
  uint32_t scope = 0;
  if (auto pct = host.find('%'); pct != std::string::npos) {
    addr = host.substr(0, pct);
    scope = if_nametoindex(host.substr(pct + 1).c_str());
    if (scope == 0) {
      throw ConfigError("unknown interface '" + host.substr(pct + 1) + "' in the IPv6 zone of address '" + host +
                        "': name an interface of this host (see `ip link`)");
    }
  }
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.storage);
  if (inet_pton(AF_INET6, addr.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    v6->sin6_scope_id = scope;
    e.length = sizeof(sockaddr_in6);
    return e;
  }
  throw ConfigError("'" + host + "' is not a numeric IPv4 or IPv6 address");
}

}  // namespace rtt
