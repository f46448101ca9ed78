// A TUN device for the lab's user-space tunnel (flannel's UDP backend): the
// one ioctl Node cannot make. The forwarder reads and writes the returned
// descriptor itself. Setup only, never per packet.
#pragma once

#include <string>

namespace rtt {

// Opens /dev/net/tun and creates (or attaches to) the TUN device `name` in
// the calling thread's network namespace: IFF_TUN, no packet-info header, so
// each read and write is one bare IP packet. The device goes when the
// descriptor closes. Throws SystemError (ENOENT: no /dev/net/tun, EPERM:
// needs CAP_NET_ADMIN, EBUSY: attached elsewhere) or ConfigError for a bad name.
int open_tun(const std::string& name);

}  // namespace rtt
