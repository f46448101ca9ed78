#include "open_transport.hpp"

namespace rtt {

std::unique_ptr<Transport> open_transport(UdpOptions ip, const PathOptions& path) {
  ip.dscp = path.dscp;
  ip.ttl = path.ttl;
  if (path.transport == TransportKind::Raw) return std::make_unique<RawTransport>(ip, path.link);
  return std::make_unique<UdpTransport>(ip);
}

}  // namespace rtt
