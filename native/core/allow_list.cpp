#include "allow_list.hpp"

#include <arpa/inet.h>

#include <cstring>

#include "errors.hpp"
#include "flow_table.hpp"

namespace rtt {
namespace {

bool matches(const uint8_t* address, const uint8_t* prefix, unsigned bits) noexcept {
  unsigned whole = bits / 8;
  if (std::memcmp(address, prefix, whole) != 0) return false;
  unsigned rest = bits % 8;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (address[whole] & mask) == (prefix[whole] & mask);
}

}  // namespace

AllowList::AllowList(const std::vector<std::string>& cidrs) {
  if (cidrs.size() > kMaxAllowPrefixes) {
    throw ConfigError("allow-list has " + std::to_string(cidrs.size()) + " entries; at most " +
                      std::to_string(kMaxAllowPrefixes) + " (use wider prefixes)");
  }
  for (const std::string& cidr : cidrs) {
    auto slash = cidr.find('/');
    std::string host = cidr.substr(0, slash);
    Prefix p{};
    unsigned max_bits;
    in_addr v4;
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
      p.address[10] = p.address[11] = 0xff;
      std::memcpy(p.address + 12, &v4, 4);
      max_bits = 32;
    } else if (inet_pton(AF_INET6, host.c_str(), p.address) == 1) {
      max_bits = 128;
    } else {
      throw ConfigError("allow-list entry '" + cidr + "' is not an address or CIDR prefix (e.g. 198.18.0.0/15 or 2001:2::/48)");
    }
    unsigned bits = max_bits;
    if (slash != std::string::npos) {
      std::string len = cidr.substr(slash + 1);
      if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos ||
          std::stoul(len) > max_bits) {
        throw ConfigError("allow-list entry '" + cidr + "' has a prefix length outside 0.." + std::to_string(max_bits));
      }
      bits = unsigned(std::stoul(len));
    }
    p.bits = bits + (max_bits == 32 ? 96 : 0);
    prefixes_.push_back(p);
  }
}

bool AllowList::matches_any(const Endpoint& peer) const noexcept {
  uint8_t address[16];
  mapped_address(peer, address);
  for (const Prefix& p : prefixes_) {
    if (matches(address, p.address, p.bits)) return true;
  }
  return false;
}

}  // namespace rtt
