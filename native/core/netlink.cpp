#include "netlink.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "clock.hpp"
#include "errors.hpp"

namespace rtt {
namespace {

constexpr uint16_t kDiscardPort = 9;
constexpr int64_t kNeighbourPollNs = 1000000;

const void* address_bytes(const Endpoint& e) noexcept {
  if (e.family() == AF_INET6) return &reinterpret_cast<const sockaddr_in6*>(&e.storage)->sin6_addr;
  return &reinterpret_cast<const sockaddr_in*>(&e.storage)->sin_addr;
}

size_t address_size(int family) noexcept { return family == AF_INET6 ? sizeof(in6_addr) : sizeof(in_addr); }

Endpoint endpoint_from(int family, const void* bytes) {
  Endpoint e;
  e.storage.ss_family = sa_family_t(family);
  e.length = family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
  std::memcpy(const_cast<void*>(address_bytes(e)), bytes, address_size(family));
  return e;
}

// One request and its reply on a NETLINK_ROUTE socket of its own.
class Netlink {
 public:
  Netlink() {
    fd_ = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd_ < 0) throw SystemError(errno, "cannot open a netlink socket");
  }
  ~Netlink() { ::close(fd_); }
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  // Sends the request and returns its one reply, or -errno.
  int get(const nlmsghdr*& reply) { return exchange(0, &reply); }
  // Sends the request as a change (flags: NLM_F_CREATE, ...) and returns 0 once acknowledged, or -errno.
  int change(uint16_t flags) { return exchange(uint16_t(NLM_F_ACK | flags), nullptr); }

  template <class Header>
  Header* start(uint16_t type) {
    std::memset(request_, 0, sizeof request_);
    auto* h = request();
    h->nlmsg_len = NLMSG_LENGTH(sizeof(Header));
    h->nlmsg_type = type;
    return static_cast<Header*>(NLMSG_DATA(h));
  }

  void attribute(uint16_t type, const void* data, size_t length) {
    auto* h = request();
    auto* a = reinterpret_cast<rtattr*>(reinterpret_cast<uint8_t*>(h) + NLMSG_ALIGN(h->nlmsg_len));
    a->rta_type = type;
    a->rta_len = uint16_t(RTA_LENGTH(length));
    std::memcpy(RTA_DATA(a), data, length);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
  }

 private:
  nlmsghdr* request() noexcept { return reinterpret_cast<nlmsghdr*>(request_); }

  int exchange(uint16_t flags, const nlmsghdr** reply) {
    auto* req = request();
    req->nlmsg_flags = uint16_t(NLM_F_REQUEST | flags);
    req->nlmsg_seq = ++seq_;
    if (send(fd_, req, req->nlmsg_len, 0) < 0) return -errno;
    for (;;) {
      ssize_t n = recv(fd_, reply_, sizeof reply_, 0);
      if (n < 0) return -errno;
      for (auto* h = reinterpret_cast<const nlmsghdr*>(reply_); NLMSG_OK(h, size_t(n)); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_seq != seq_) continue;
        if (h->nlmsg_type == NLMSG_ERROR) {
          int err = static_cast<const nlmsgerr*>(NLMSG_DATA(h))->error;
          return err == 0 && reply ? -ENOENT : err;  // an acknowledgement where a reply was wanted
        }
        if (reply) {
          *reply = h;
          return 0;
        }
      }
    }
  }

  int fd_ = -1;
  uint32_t seq_ = 0;
  alignas(nlmsghdr) uint8_t request_[512];
  alignas(nlmsghdr) uint8_t reply_[16384];
};

// Calls visit(rtattr*) for each attribute after a reply's fixed header.
template <class Header, class Visit>
void for_each_attribute(const nlmsghdr* h, Visit visit) {
  auto* a = reinterpret_cast<const rtattr*>(reinterpret_cast<const uint8_t*>(NLMSG_DATA(h)) + NLMSG_ALIGN(sizeof(Header)));
  int length = int(h->nlmsg_len) - int(NLMSG_LENGTH(sizeof(Header)));
  for (; RTA_OK(a, length); a = RTA_NEXT(a, length)) visit(a);
}

Link read_link(const nlmsghdr* h) {
  Link link;
  auto* info = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  link.index = info->ifi_index;
  link.flags = info->ifi_flags;
  for_each_attribute<ifinfomsg>(h, [&link](const rtattr* a) {
    if (a->rta_type == IFLA_IFNAME) link.name = static_cast<const char*>(RTA_DATA(a));
    if (a->rta_type == IFLA_MTU && RTA_PAYLOAD(a) >= sizeof(unsigned)) std::memcpy(&link.mtu, RTA_DATA(a), sizeof link.mtu);
    if (a->rta_type == IFLA_ADDRESS && RTA_PAYLOAD(a) == link.mac.size()) std::memcpy(link.mac.data(), RTA_DATA(a), 6);
  });
  return link;
}

bool same_address(const sockaddr* a, const Endpoint& b) noexcept {
  if (!a || a->sa_family != b.family()) return false;
  Endpoint e;
  std::memcpy(&e.storage, a, a->sa_family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
  return std::memcmp(address_bytes(e), address_bytes(b), address_size(b.family())) == 0;
}

int64_t monotonic_ns() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return timespec_ns(ts);
}

// The table's MAC for address on link, when in a state that may be used.
std::optional<MacAddress> lookup_neighbour(Netlink& nl, const Link& link, const Endpoint& address) {
  auto* nd = nl.start<ndmsg>(RTM_GETNEIGH);
  nd->ndm_family = uint8_t(address.family());
  nd->ndm_ifindex = link.index;
  nl.attribute(NDA_DST, address_bytes(address), address_size(address.family()));
  const nlmsghdr* reply = nullptr;
  if (nl.get(reply) != 0) return std::nullopt;
  constexpr unsigned kUsable = NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | NUD_PERMANENT | NUD_NOARP;
  if (!(static_cast<const ndmsg*>(NLMSG_DATA(reply))->ndm_state & kUsable)) return std::nullopt;
  std::optional<MacAddress> mac;
  for_each_attribute<ndmsg>(reply, [&mac](const rtattr* a) {
    if (a->rta_type == NDA_LLADDR && RTA_PAYLOAD(a) == 6) {
      mac.emplace();
      std::memcpy(mac->data(), RTA_DATA(a), 6);
    }
  });
  return mac;
}

// Asks the kernel to resolve next_hop on link (RTM_NEWNEIGH with NTF_USE, as
// `ip neigh add ... use` does): it sends the ARP request or neighbour
// solicitation itself, and nothing reaches the neighbour's UDP stack. That
// needs CAP_NET_ADMIN; without it, an empty datagram to next_hop's discard
// port makes the kernel resolve it to send the datagram (the neighbour may
// answer that one with ICMP port unreachable).
void provoke_resolution(Netlink& nl, const Link& link, const Endpoint& next_hop) {
  auto* nd = nl.start<ndmsg>(RTM_NEWNEIGH);
  nd->ndm_family = uint8_t(next_hop.family());
  nd->ndm_ifindex = link.index;
  nd->ndm_state = NUD_NONE;
  nd->ndm_flags = NTF_USE;
  nl.attribute(NDA_DST, address_bytes(next_hop), address_size(next_hop.family()));
  if (nl.change(NLM_F_CREATE | NLM_F_REPLACE) == 0) return;
  int fd = socket(next_hop.family(), SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return;
  Endpoint to = next_hop;
  if (to.family() == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&to.storage);
    v6->sin6_port = htons(kDiscardPort);
    if (IN6_IS_ADDR_LINKLOCAL(&v6->sin6_addr)) v6->sin6_scope_id = uint32_t(link.index);
  } else {
    reinterpret_cast<sockaddr_in*>(&to.storage)->sin_port = htons(kDiscardPort);
  }
  sendto(fd, "", 0, 0, to.sa(), to.length);
  ::close(fd);
}

}  // namespace

std::string format_mac(const MacAddress& m) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
  return buf;
}

std::optional<MacAddress> parse_mac(const std::string& text) noexcept {
  MacAddress m;
  unsigned b[6];
  char end;
  if (text.size() != 17 ||
      std::sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6) {
    return std::nullopt;
  }
  for (int i = 0; i < 6; ++i) m[size_t(i)] = uint8_t(b[i]);
  return m;
}

bool Link::resolves_neighbours() const noexcept { return !(flags & (IFF_LOOPBACK | IFF_NOARP)); }

Link link_by_name(const std::string& name) {
  Netlink nl;
  nl.start<ifinfomsg>(RTM_GETLINK);
  nl.attribute(IFLA_IFNAME, name.c_str(), name.size() + 1);
  const nlmsghdr* reply = nullptr;
  if (int err = nl.get(reply); err != 0) {
    throw SystemError(-err, "no interface named '" + name + "' (list them with `ip link`)");
  }
  return read_link(reply);
}

Link link_by_index(int index) {
  Netlink nl;
  nl.start<ifinfomsg>(RTM_GETLINK)->ifi_index = index;
  const nlmsghdr* reply = nullptr;
  if (int err = nl.get(reply); err != 0) throw SystemError(-err, "no interface with index " + std::to_string(index));
  return read_link(reply);
}

Route route_to(const Endpoint& target) {
  Netlink nl;
  auto* rt = nl.start<rtmsg>(RTM_GETROUTE);
  rt->rtm_family = uint8_t(target.family());
  rt->rtm_dst_len = uint8_t(address_size(target.family()) * 8);
  nl.attribute(RTA_DST, address_bytes(target), address_size(target.family()));
  if (target.family() == AF_INET6) {
    int scope = int(reinterpret_cast<const sockaddr_in6*>(&target.storage)->sin6_scope_id);
    if (scope) nl.attribute(RTA_OIF, &scope, sizeof scope);
  }
  const nlmsghdr* reply = nullptr;
  if (int err = nl.get(reply); err != 0) throw SystemError(-err, "no route to " + target.host());
  Route route;
  for_each_attribute<rtmsg>(reply, [&](const rtattr* a) {
    if (a->rta_type == RTA_OIF && RTA_PAYLOAD(a) >= sizeof(int)) std::memcpy(&route.interface, RTA_DATA(a), sizeof(int));
    if (a->rta_type == RTA_GATEWAY && RTA_PAYLOAD(a) == address_size(target.family())) {
      route.gateway = endpoint_from(target.family(), RTA_DATA(a));
    }
  });
  if (route.interface == 0) throw SystemError(ENETUNREACH, "the route to " + target.host() + " names no interface");
  return route;
}

int interface_with_address(const Endpoint& address) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return 0;
  int index = 0;
  for (ifaddrs* i = list; i && !index; i = i->ifa_next) {
    if (same_address(i->ifa_addr, address)) index = int(if_nametoindex(i->ifa_name));
  }
  freeifaddrs(list);
  return index;
}

MacAddress resolve_neighbour(const Link& link, const Endpoint& next_hop, int64_t timeout_ns) {
  if (!link.resolves_neighbours()) return MacAddress{};
  Netlink nl;
  if (auto mac = lookup_neighbour(nl, link, next_hop)) return *mac;
  provoke_resolution(nl, link, next_hop);
  int64_t until = monotonic_ns() + timeout_ns;
  do {
    timespec pause{0, kNeighbourPollNs};
    nanosleep(&pause, nullptr);
    if (auto mac = lookup_neighbour(nl, link, next_hop)) return *mac;
  } while (monotonic_ns() < until);
  throw SystemError(EHOSTUNREACH, "the neighbour " + next_hop.host() + " on " + link.name +
                                      " did not answer address resolution; check that it is up, or give its MAC "
                                      "with --dst-mac (library: dstMac)");
}

}  // namespace rtt
