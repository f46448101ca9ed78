#include "raw_transport.hpp"

#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "errors.hpp"
#include "sockets.hpp"

namespace rtt {
namespace {

constexpr uint16_t kVlanType = 0x8100;
constexpr uint16_t kIpv4Type = 0x0800;
constexpr uint16_t kIpv6Type = 0x86dd;
constexpr size_t kEthernetHeader = 14;
constexpr size_t kVlanTag = 4;
constexpr size_t kUdpHeader = 8;
constexpr uint32_t kWholeFrame = 0x40000;  // a filter's "accept": keep up to this many bytes
constexpr size_t kReceiveFrameBytes = 65536 + 128;
constexpr int64_t kResolveTimeoutNs = 3000000000;  // the kernel's three ARP / ND probes, one a second

void put16(uint8_t* p, uint16_t v) noexcept {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
uint16_t get16(const uint8_t* p) noexcept { return uint16_t(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) noexcept { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

// The Internet checksum's one's-complement sum of big-endian 16-bit words.
uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum) noexcept {
  for (; n > 1; n -= 2, p += 2) sum += uint32_t(p[0] << 8 | p[1]);
  if (n) sum += uint32_t(p[0] << 8);
  return sum;
}
uint16_t fold(uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return uint16_t(~sum);
}

size_t ip_header_size(int family) noexcept { return family == AF_INET6 ? 40 : 20; }
size_t ip_address_size(int family) noexcept { return family == AF_INET6 ? 16 : 4; }

const uint8_t* ip_bytes(const Endpoint& e) noexcept {
  if (e.family() == AF_INET6) return reinterpret_cast<const sockaddr_in6*>(&e.storage)->sin6_addr.s6_addr;
  return reinterpret_cast<const uint8_t*>(&reinterpret_cast<const sockaddr_in*>(&e.storage)->sin_addr);
}

bool is_wildcard(const Endpoint& e) noexcept {
  const uint8_t* b = ip_bytes(e);
  return std::all_of(b, b + ip_address_size(e.family()), [](uint8_t x) { return x == 0; });
}

void set_endpoint(Endpoint& e, int family, const uint8_t* address, uint16_t port) noexcept {
  e.storage.ss_family = sa_family_t(family);
  if (family == AF_INET6) {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&e.storage);
    std::memcpy(v6->sin6_addr.s6_addr, address, 16);
    v6->sin6_port = htons(port);
    v6->sin6_flowinfo = 0;
    v6->sin6_scope_id = 0;
    e.length = sizeof(sockaddr_in6);
  } else {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&e.storage);
    std::memcpy(&v4->sin_addr, address, 4);
    v4->sin_port = htons(port);
    e.length = sizeof(sockaddr_in);
  }
}

// What the kernel's own stack would write: the sysctl default TTL / hop limit.
uint8_t default_ttl(int family, const std::string& interface) {
  std::ifstream in(family == AF_INET6 ? "/proc/sys/net/ipv6/conf/" + interface + "/hop_limit"
                                      : std::string("/proc/sys/net/ipv4/ip_default_ttl"));
  int ttl = 64;
  in >> ttl;
  return uint8_t(std::clamp(ttl, 1, 255));
}

// A classic BPF program with forward jumps to labels (resolved by finish()).
class FilterAssembler {
 public:
  static constexpr int kNext = -1;
  int label() {
    labels_.push_back(-1);
    return int(labels_.size() - 1);
  }
  void place(int label) { labels_[size_t(label)] = int(code_.size()); }
  void load(uint16_t code, uint32_t k) { code_.push_back(BPF_STMT(code, k)); jumps_.push_back({kNext, kNext}); }
  // Falls through when A op k holds; to `otherwise` when not.
  void require(uint16_t op, uint32_t k, int otherwise) {
    code_.push_back(BPF_JUMP(BPF_JMP | op | BPF_K, k, 0, 0));
    jumps_.push_back({kNext, otherwise});
  }
  // Falls through when no bit of k is set in A; to `otherwise` when one is.
  void require_clear(uint32_t k, int otherwise) {
    code_.push_back(BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, k, 0, 0));
    jumps_.push_back({otherwise, kNext});
  }
  std::vector<sock_filter> finish() {
    for (size_t i = 0; i < code_.size(); ++i) {
      auto [jt, jf] = jumps_[i];
      if (jt != kNext) code_[i].jt = uint8_t(labels_[size_t(jt)] - int(i) - 1);
      if (jf != kNext) code_[i].jf = uint8_t(labels_[size_t(jf)] - int(i) - 1);
    }
    return code_;
  }

 private:
  std::vector<sock_filter> code_;
  std::vector<std::pair<int, int>> jumps_;
  std::vector<int> labels_;
};

constexpr uint32_t ancillary(uint32_t field) { return uint32_t(SKF_AD_OFF) + field; }

// One family's checks after the link layer's: falls to `next` on another
// ethertype, to `drop` on anything else that is not the flow, and accepts.
void family_checks(FilterAssembler& a, int family, const Endpoint& local, const Endpoint* remote, int next, int drop) {
  bool v6 = family == AF_INET6;
  a.load(BPF_LD | BPF_H | BPF_ABS, 12);
  a.require(BPF_JEQ, v6 ? kIpv6Type : kIpv4Type, next);
  size_t ip = kEthernetHeader;
  a.load(BPF_LD | BPF_B | BPF_ABS, uint32_t(ip + (v6 ? 6 : 9)));
  a.require(BPF_JEQ, IPPROTO_UDP, drop);
  size_t source = ip + (v6 ? 8 : 12);
  size_t destination = source + ip_address_size(family);
  if (!v6) {
    a.load(BPF_LD | BPF_H | BPF_ABS, uint32_t(ip + 6));
    a.require_clear(0x3fff, drop);  // MF or a fragment offset: a fragment
  }
  auto match_address = [&](size_t offset, const Endpoint& e) {
    const uint8_t* b = ip_bytes(e);
    for (size_t i = 0; i < ip_address_size(family); i += 4) {
      a.load(BPF_LD | BPF_W | BPF_ABS, uint32_t(offset + i));
      a.require(BPF_JEQ, get32(b + i), drop);
    }
  };
  if (remote) match_address(source, *remote);
  if (local.family() == family && !is_wildcard(local)) match_address(destination, local);
  if (v6) {
    a.load(BPF_LDX | BPF_W | BPF_IMM, 40);
  } else {
    a.load(BPF_LDX | BPF_B | BPF_MSH, uint32_t(ip));
  }
  if (remote) {
    a.load(BPF_LD | BPF_H | BPF_IND, uint32_t(ip));
    a.require(BPF_JEQ, remote->port(), drop);
  }
  a.load(BPF_LD | BPF_H | BPF_IND, uint32_t(ip + 2));
  a.require(BPF_JEQ, local.port(), drop);
  a.load(BPF_RET | BPF_K, kWholeFrame);
}

}  // namespace

size_t frame_header_size(int family, uint16_t vlan) noexcept {
  return kEthernetHeader + (vlan ? kVlanTag : 0) + ip_header_size(family) + kUdpHeader;
}

size_t write_frame_headers(uint8_t* frame, const FrameAddress& a, size_t payload_length) noexcept {
  uint8_t* p = frame;
  std::memcpy(p, a.dst_mac.data(), 6);
  std::memcpy(p + 6, a.src_mac.data(), 6);
  p += 12;
  if (a.vlan) {
    put16(p, kVlanType);
    put16(p + 2, a.vlan);
    p += kVlanTag;
  }
  bool v6 = a.family == AF_INET6;
  put16(p, v6 ? kIpv6Type : kIpv4Type);
  p += 2;
  size_t address_size = ip_address_size(a.family);
  size_t udp_length = kUdpHeader + payload_length;
  uint32_t pseudo = sum16(a.src_ip, address_size, sum16(a.dst_ip, address_size, IPPROTO_UDP + uint32_t(udp_length)));
  if (v6) {
    p[0] = uint8_t(0x60 | a.tos >> 4);
    p[1] = uint8_t(a.tos << 4);
    p[2] = p[3] = 0;
    put16(p + 4, uint16_t(udp_length));
    p[6] = IPPROTO_UDP;
    p[7] = a.ttl;
    std::memcpy(p + 8, a.src_ip, 16);
    std::memcpy(p + 24, a.dst_ip, 16);
  } else {
    p[0] = 0x45;
    p[1] = a.tos;
    put16(p + 2, uint16_t(20 + udp_length));
    put16(p + 4, 0);       // identification: unused, as the packet may not be fragmented
    put16(p + 6, 0x4000);  // DF
    p[8] = a.ttl;
    p[9] = IPPROTO_UDP;
    put16(p + 10, 0);
    std::memcpy(p + 12, a.src_ip, 4);
    std::memcpy(p + 16, a.dst_ip, 4);
    put16(p + 10, fold(sum16(p, 20, 0)));
  }
  uint8_t* udp = p + ip_header_size(a.family);
  put16(udp, a.src_port);
  put16(udp + 2, a.dst_port);
  put16(udp + 4, uint16_t(udp_length));
  put16(udp + 6, 0);
  uint16_t checksum = fold(sum16(udp, udp_length, pseudo));
  put16(udp + 6, checksum ? checksum : 0xffff);  // 0 would mean "no checksum"
  return size_t(udp - frame) + udp_length;
}

std::vector<sock_filter> flow_filter(const Endpoint& local, const Endpoint* remote, uint16_t vlan) {
  FilterAssembler a;
  int drop = a.label();
  a.load(BPF_LD | BPF_W | BPF_ABS, ancillary(SKF_AD_PKTTYPE));
  a.require(BPF_JEQ, PACKET_HOST, drop);
  // The kernel keeps a received tag out of the frame's data: the filter reads it as ancillary data.
  a.load(BPF_LD | BPF_W | BPF_ABS, ancillary(SKF_AD_VLAN_TAG_PRESENT));
  a.require(BPF_JEQ, vlan ? 1 : 0, drop);
  if (vlan) {
    a.load(BPF_LD | BPF_W | BPF_ABS, ancillary(SKF_AD_VLAN_TAG));
    a.load(BPF_ALU | BPF_AND | BPF_K, 0x0fff);
    a.require(BPF_JEQ, vlan, drop);
  }
  int family = remote ? remote->family() : local.family();
  // An IPv6 wildcard reflector also answers IPv4, as its UDP socket does.
  if (family == AF_INET6 && !remote && is_wildcard(local)) {
    int next = a.label();
    family_checks(a, AF_INET, local, nullptr, next, drop);
    a.place(next);
  }
  family_checks(a, family, local, remote, drop, drop);
  a.place(drop);
  a.load(BPF_RET | BPF_K, 0);
  return a.finish();
}

RawTransport::RawTransport(const UdpOptions& ip, const RawLinkOptions& link) {
  // Protocol 0: the socket hears nothing until bound, after its filter is attached.
  fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) {
    int err = errno;
    if (err == EPERM || err == EACCES) {
      throw SystemError(err, "the raw transport needs CAP_NET_RAW to open an AF_PACKET socket: run as root, or "
                             "grant it to node with `sudo setcap cap_net_raw+ep $(readlink -f $(which node))`");
    }
    throw SystemError(err, "cannot open an AF_PACKET socket");
  }
  try {
    hold_port(ip);
    bool sender = ip.connect != nullptr;
    answers_ = !sender;
    if (!link.interface.empty()) {
      link_ = link_by_name(link.interface);
    } else if (sender) {
      link_ = link_by_index(route_to(*ip.connect).interface);
    } else if (is_wildcard(local_)) {
      throw ConfigError("a raw reflector bound to a wildcard address needs an interface: give --interface "
                        "(library: interface) or bind to one of the interface's addresses");
    } else {
      link_ = link_by_index(interface_with_address(local_));
    }
    tx_address_.src_mac = link_.mac;
    tx_address_.vlan = link.vlan;
    tx_address_.tos = uint8_t(ip.dscp << 2);
    tx_address_.family = local_.family();
    tx_address_.ttl = ip.ttl ? uint8_t(ip.ttl) : default_ttl(local_.family(), link_.name);
    if (sender) {
      const Endpoint& target = *ip.connect;
      std::memcpy(tx_address_.src_ip, ip_bytes(local_), ip_address_size(target.family()));
      std::memcpy(tx_address_.dst_ip, ip_bytes(target), ip_address_size(target.family()));
      tx_address_.src_port = local_.port();
      tx_address_.dst_port = target.port();
      if (link.dst_mac) {
        tx_address_.dst_mac = *link.dst_mac;
      } else {
        Route route = route_to(target);
        bool via_gateway = route.gateway && route.interface == link_.index;
        tx_address_.dst_mac = resolve_neighbour(link_, via_gateway ? *route.gateway : target, kResolveTimeoutNs);
      }
    }
    open_packet_socket(flow_filter(local_, ip.connect, link.vlan), link_.index);
  } catch (...) {
    close();
    throw;
  }
  busy_poll_ = request_busy_poll(fd_, ip.busy_poll_us);
  timestamping_ = enable_timestamping(fd_, ip.timestamps, ip.tx_timestamps, interface_support(fd_, link_.name));
  user_clock_ = ip.user_clock;
  tx_frame_.assign(frame_header_size(AF_INET6, link.vlan) + kReceiveFrameBytes, 0);
  rx_frame_.assign(kReceiveFrameBytes, 0);
}

RawTransport::~RawTransport() { close(); }

void RawTransport::hold_port(const UdpOptions& ip) {
  // Only the port and address matter: the socket is never read.
  UdpOptions hold = ip;
  hold.timestamps = TimestampSource::None;
  hold.tx_timestamps = false;
  hold.receive_ttl = false;
  hold.busy_poll_us = 0;
  hold.user_clock = nullptr;
  UdpTransport held(hold);
  local_ = held.local();
  held_fd_ = dup(held.fd());
  if (held_fd_ < 0) throw SystemError(errno, "cannot keep the UDP port");
  // It drops whatever arrives, so its buffer never fills and nothing is answered twice.
  sock_filter drop_all = BPF_STMT(BPF_RET | BPF_K, 0);
  sock_fprog program{1, &drop_all};
  if (setsockopt(held_fd_, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0) {
    throw SystemError(errno, "cannot filter the held UDP port");
  }
}

void RawTransport::open_packet_socket(const std::vector<sock_filter>& filter, int interface) {
  sock_fprog program{uint16_t(filter.size()), const_cast<sock_filter*>(filter.data())};
  if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &program, sizeof program) != 0) {
    throw SystemError(errno, "cannot attach the flow filter to the AF_PACKET socket");
  }
  int on = 1;
  // Frames go straight to the driver: no qdisc, as the "raw" promises.
  if (setsockopt(fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &on, sizeof on) != 0) {
    throw SystemError(errno, "cannot set PACKET_QDISC_BYPASS");
  }
  // Saves a clone of every frame the host sends on the interface; the filter
  // drops them anyway (PACKET_HOST), so a kernel without it loses nothing.
  setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &on, sizeof on);
  enlarge_buffers(fd_);
  sockaddr_ll address{};
  address.sll_family = AF_PACKET;
  address.sll_protocol = htons(ETH_P_ALL);
  address.sll_ifindex = interface;
  if (bind(fd_, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    throw SystemError(errno, "cannot bind the AF_PACKET socket to " + link_.name);
  }
}

void RawTransport::close() noexcept {
  if (fd_ >= 0) ::close(fd_);
  if (held_fd_ >= 0) ::close(held_fd_);
  fd_ = held_fd_ = -1;
}

ssize_t RawTransport::receive(Datagram& d) noexcept {
  ssize_t n = receive_stamped(fd_, rx_frame_.data(), rx_frame_.size(), false, control_, sizeof control_, user_clock_, d);
  if (n < 0) return n;
  // The filter passed only whole UDP datagrams of the flow, untagged in the data.
  const uint8_t* f = rx_frame_.data();
  const uint8_t* end = f + n;
  const uint8_t* ip = f + kEthernetHeader;
  int family = get16(f + 12) == kIpv6Type ? AF_INET6 : AF_INET;
  bool v6 = family == AF_INET6;
  const uint8_t* source = ip + (v6 ? 8 : 12);
  const uint8_t* destination = source + ip_address_size(family);
  const uint8_t* udp = ip + (v6 ? 40 : size_t(ip[0] & 0x0f) * 4);
  d.length = 0;  // a truncated frame reads as an empty datagram: malformed
  if (udp + kUdpHeader > end) return 0;
  d.stamps.ttl = v6 ? ip[7] : ip[8];
  size_t udp_length = get16(udp + 4);
  set_endpoint(d.peer, family, source, get16(udp));
  if (udp_length < kUdpHeader || udp + udp_length > end) return 0;
  d.length = std::min(udp_length - kUdpHeader, d.capacity);
  std::memcpy(d.data, udp + kUdpHeader, d.length);
  if (!answers_) return ssize_t(d.length);
  // A reflector answers along this frame (see send).
  tx_address_.family = family;
  std::memcpy(tx_address_.dst_mac.data(), f + 6, 6);
  std::memcpy(tx_address_.src_ip, destination, ip_address_size(family));
  std::memcpy(tx_address_.dst_ip, source, ip_address_size(family));
  tx_address_.src_port = get16(udp + 2);
  tx_address_.dst_port = get16(udp);
  return ssize_t(d.length);
}

ssize_t RawTransport::send(const uint8_t* data, size_t length, const Endpoint*) noexcept {
  if (length + ip_header_size(tx_address_.family) + kUdpHeader > link_.mtu) {
    errno = EMSGSIZE;
    return -1;
  }
  std::memcpy(tx_frame_.data() + frame_header_size(tx_address_.family, tx_address_.vlan), data, length);
  size_t n = write_frame_headers(tx_frame_.data(), tx_address_, length);
  return send_to(fd_, tx_frame_.data(), n, nullptr, 0) < 0 ? -1 : ssize_t(length);
}

bool RawTransport::read_tx_stamp(TxStamp& out) noexcept {
  return rtt::read_tx_stamp(fd_, error_control_, sizeof error_control_, out);
}

}  // namespace rtt
