// The reflector's source allow-list: CIDR prefixes, IPv4 and IPv6. IPv4
// prefixes also match v4-mapped peers of a dual-stack (wildcard IPv6) socket.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "address.hpp"

namespace rtt {

constexpr size_t kMaxAllowPrefixes = 256;  // checked per packet, so kept short

class AllowList {
 public:
  // Each entry "198.18.0.0/15", "2001:2::/48" or a single address; throws
  // ConfigError naming an entry that is not one, or when there are too many.
  explicit AllowList(const std::vector<std::string>& cidrs);

  // True when the list is empty (every source allowed) or a prefix matches.
  // Inline so a reflector without a list pays one test per request.
  bool allows(const Endpoint& peer) const noexcept { return prefixes_.empty() || matches_any(peer); }

 private:
  bool matches_any(const Endpoint& peer) const noexcept;

  struct Prefix {
    uint8_t address[16];  // IPv4 v4-mapped
    unsigned bits;        // of the 128-bit form
  };
  std::vector<Prefix> prefixes_;
};

}  // namespace rtt
