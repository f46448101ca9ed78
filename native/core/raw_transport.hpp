// The raw transport: STAMP in Ethernet (+ 802.1Q) + IPv4/IPv6 + UDP frames
// built in user space and sent on an AF_PACKET socket past the qdisc;
// received through a classic BPF filter that passes only this session's flow,
// stamped with SO_TIMESTAMPING like UDP. A plain UDP socket holds the port
// (and drops all it gets) so the kernel's own stack neither answers the
// probes with ICMP port unreachable nor lets another process take the port.
#pragma once

#include <linux/filter.h>

#include <optional>
#include <string>
#include <vector>

#include "netlink.hpp"
#include "udp_transport.hpp"

namespace rtt {

struct RawLinkOptions {
  // Empty: the sender takes the interface of its route to the target, the
  // reflector that of its bind address (required with a wildcard bind).
  std::string interface;
  uint16_t vlan = 0;  // 802.1Q VLAN ID 1..4094; 0: untagged
  std::optional<MacAddress> dst_mac;  // the sender's destination MAC instead of the neighbour table's
  size_t payload = 0;  // the sender's probe size, checked against the MTU (frames are not fragmented)
};

// How a frame is addressed: what a sender writes on every probe, what a
// reflector swaps from each request into its reply.
struct FrameAddress {
  MacAddress dst_mac{};
  MacAddress src_mac{};
  uint16_t vlan = 0;
  int family = AF_INET;
  uint8_t src_ip[16] = {};
  uint8_t dst_ip[16] = {};
  uint16_t src_port = 0;  // host order
  uint16_t dst_port = 0;
  uint8_t tos = 0;
  uint8_t ttl = 64;
};

// Ethernet (+ tag) + IP + UDP header bytes for a family and tag.
size_t frame_header_size(int family, uint16_t vlan) noexcept;
// Writes the headers in front of the payload already at frame +
// frame_header_size(...), checksums included; returns the frame's length.
size_t write_frame_headers(uint8_t* frame, const FrameAddress& a, size_t payload_length) noexcept;

// The classic BPF program that passes the frames a raw end wants: arriving
// for this host (PACKET_HOST, so never the copies of outgoing frames that
// loopback shows too), tagged with vlan or untagged when 0, IPv4 or IPv6
// (both for an IPv6 wildcard), unfragmented UDP to local (any address of
// the family where local is a wildcard; its port always) and, when remote
// is given, from remote's address and port.
std::vector<sock_filter> flow_filter(const Endpoint& local, const Endpoint* remote, uint16_t vlan);

class RawTransport final : public Transport {
 public:
  // ip.connect set: a sender to it; otherwise a reflector on ip.bind.
  // Throws SystemError (EPERM naming CAP_NET_RAW, ENODEV, EHOSTUNREACH, ...)
  // or ConfigError.
  RawTransport(const UdpOptions& ip, const RawLinkOptions& link);
  ~RawTransport() override;
  RawTransport(const RawTransport&) = delete;
  RawTransport& operator=(const RawTransport&) = delete;

  ssize_t receive(Datagram& d) noexcept override;
  // A reflector's reply to the datagram just received goes back along that
  // frame: to its source MAC, from the address it was sent to.
  ssize_t send(const uint8_t* data, size_t length, const Endpoint* peer) noexcept override;
  bool read_tx_stamp(TxStamp& out) noexcept override;
  int fd() const noexcept override { return fd_; }
  const TimestampingGrant& timestamping() const noexcept override { return timestamping_; }
  const BusyPollGrant& busy_poll() const noexcept override { return busy_poll_; }
  Endpoint local() const override { return local_; }
  void close() noexcept override;

 private:
  void hold_port(const UdpOptions& ip);
  void open_packet_socket(const std::vector<sock_filter>& filter, int interface);

  int fd_ = -1;
  int held_fd_ = -1;
  Endpoint local_;
  Link link_;
  bool answers_ = false;  // a reflector: each request readdresses tx_address_
  bool control_expected_ = true;  // RX stamps arrive as control messages (the TTL is read from the frame)
  FrameAddress tx_address_;  // the sender's, fixed; the reflector's, from the last request
  UserClock* user_clock_ = nullptr;
  TimestampingGrant timestamping_;
  BusyPollGrant busy_poll_;
  std::vector<uint8_t> tx_frame_;
  std::vector<uint8_t> rx_frame_;
  alignas(cmsghdr) uint8_t control_[kControlBufferSize];
  alignas(cmsghdr) uint8_t error_control_[kControlBufferSize];
};

}  // namespace rtt
