// What the raw transport asks the kernel over rtnetlink before it builds a
// frame: the route to a target (output interface, gateway, source address),
// an interface's index, flags, MAC and MTU, and a neighbour's MAC, resolved
// first when the table lacks it. Nothing here runs per packet.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "address.hpp"

namespace rtt {

using MacAddress = std::array<uint8_t, 6>;

std::string format_mac(const MacAddress& mac);
// "aa:bb:cc:dd:ee:ff", or nullopt.
std::optional<MacAddress> parse_mac(const std::string& text) noexcept;

struct Link {
  int index = 0;
  std::string name;
  unsigned flags = 0;  // IFF_*
  MacAddress mac{};
  unsigned mtu = 0;
  // Loopback and IFF_NOARP links have no neighbours: frames carry the zero MAC.
  bool resolves_neighbours() const noexcept;
};

// Throws SystemError ENODEV naming the interface and how to list them.
Link link_by_name(const std::string& name);
Link link_by_index(int index);

struct Route {
  int interface = 0;         // output interface index
  std::optional<Endpoint> gateway;  // the next hop when the target is off-link
};

// RTM_GETROUTE: how the kernel would send to target. Throws SystemError
// (ENETUNREACH, ...) naming the target.
Route route_to(const Endpoint& target);

// The index of the interface holding address, 0 when none does.
int interface_with_address(const Endpoint& address);

// The neighbour table's MAC for next_hop on link (RTM_GETNEIGH); when it has
// none in a usable state, sends one empty datagram to next_hop's discard
// port (9) so the kernel resolves it (ARP / neighbour discovery), and reads
// the table again every millisecond until timeout_ns. Throws SystemError
// EHOSTUNREACH naming the address and the --dst-mac way around.
MacAddress resolve_neighbour(const Link& link, const Endpoint& next_hop, int64_t timeout_ns);

}  // namespace rtt
