// The transport a session runs on, chosen once when it starts: nothing per
// packet asks which it is.
#pragma once

#include <memory>

#include "choices.hpp"
#include "raw_transport.hpp"
#include "udp_transport.hpp"

namespace rtt {

enum class TransportKind : uint8_t { Udp, Raw };
inline constexpr Choice<TransportKind> kTransports[] = {
    {"udp", TransportKind::Udp},
    {"raw", TransportKind::Raw},
};

struct PathOptions {
  TransportKind transport = TransportKind::Udp;
  RawLinkOptions link;  // raw only
  int dscp = 0;
  int ttl = 0;          // 0: the system default
};

// ip's dscp and ttl are taken from path.
std::unique_ptr<Transport> open_transport(UdpOptions ip, const PathOptions& path);

}  // namespace rtt
