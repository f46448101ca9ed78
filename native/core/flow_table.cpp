#include "flow_table.hpp"

#include <sys/random.h>

#include <ctime>

namespace rtt {

void mapped_address(const Endpoint& e, uint8_t (&out)[16]) noexcept {
  if (e.family() == AF_INET6) {
    std::memcpy(out, &reinterpret_cast<const sockaddr_in6*>(&e.storage)->sin6_addr, 16);
    return;
  }
  std::memset(out, 0, 10);
  out[10] = out[11] = 0xff;
  std::memcpy(out + 12, &reinterpret_cast<const sockaddr_in*>(&e.storage)->sin_addr, 4);
}

FlowKey flow_key(const Endpoint& e, bool with_port, uint16_t ssid) noexcept {
  FlowKey k;
  mapped_address(e, k.address);
  k.port = with_port ? e.port() : 0;
  k.ssid = ssid;
  return k;
}

uint64_t hash_key(const FlowKey& k, uint64_t seed) noexcept {
  uint64_t words[3];
  std::memcpy(words, k.address, 16);
  words[2] = uint64_t(k.port) << 16 | k.ssid;
  uint64_t h = seed;
  for (uint64_t w : words) {
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
  }
  h *= 0xbf58476d1ce4e5b9ull;
  return h ^ (h >> 32);
}

uint64_t random_seed() noexcept {
  uint64_t seed = 0;
  if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != sizeof seed) {
    timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    seed = uint64_t(ts.tv_nsec) * 0x9e3779b97f4a7c15ull ^ uint64_t(ts.tv_sec);
  }
  return seed;
}

}  // namespace rtt
