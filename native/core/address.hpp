// Numeric IPv4/IPv6 socket addresses. Name resolution happens in TypeScript
// before a session starts, so the core never blocks on DNS.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace rtt {

struct Endpoint {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const noexcept { return storage.ss_family; }
  const sockaddr* sa() const noexcept { return reinterpret_cast<const sockaddr*>(&storage); }
  sockaddr* sa() noexcept { return reinterpret_cast<sockaddr*>(&storage); }
  uint16_t port() const noexcept;
  std::string host() const;  // numeric, without brackets
};

// "198.18.0.1:862", "[2001:2::1]:862": for messages.
std::string describe(const Endpoint& e);
// What to do about a bind that failed with err, as a parenthesized hint ("" when there is none).
std::string bind_hint(int err);

// Throws ConfigError naming the address when it is not a numeric IPv4/IPv6 literal.
Endpoint parse_endpoint(const std::string& host, uint16_t port);

}  // namespace rtt
