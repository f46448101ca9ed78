// STAMP authenticated mode (RFC 8762 4.4): HMAC-SHA-256 over every byte before
// the HMAC field, truncated to 16 bytes, with a key shared by sender and
// reflector. The HMAC comes from OpenSSL (in the addon: the copy Node ships);
// the keyed context is prepared once per session so a packet costs no fetch,
// lock or key setup. (OpenSSL 3.0 still duplicates the SHA-256 state inside
// each HMAC: two small thread-cached mallocs per packet, ~0.3 us in all.)
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "wire.hpp"

typedef struct evp_mac_ctx_st EVP_MAC_CTX;

namespace rtt {

constexpr size_t kMinKeySize = 16;    // 128 bits: no weaker than the truncated HMAC
constexpr size_t kMaxKeySize = 4096;

class PacketAuth {
 public:
  // Throws ConfigError for a key outside kMinKeySize..kMaxKeySize bytes,
  // std::runtime_error when OpenSSL lacks HMAC-SHA-256.
  explicit PacketAuth(const std::vector<uint8_t>& key);
  ~PacketAuth();
  PacketAuth(const PacketAuth&) = delete;
  PacketAuth& operator=(const PacketAuth&) = delete;

  // Writes the HMAC of packet[0, 96) into packet[96, 112).
  void sign(uint8_t* packet) noexcept;
  // True when packet[96, 112) is the HMAC of packet[0, 96); compared in constant time.
  bool verify(const uint8_t* packet) noexcept;

 private:
  bool digest(const uint8_t* packet, uint8_t (&out)[32]) noexcept;
  EVP_MAC_CTX* ctx_ = nullptr;
};

enum class ReplyCheck : uint8_t { Valid, Malformed, AuthFailure };

// The sender's first look at a reply: long enough for the fields it reads in
// its layout and, with a key (auth != nullptr), carrying a valid HMAC.
ReplyCheck read_reply(const uint8_t* buf, size_t len, PacketAuth* auth, wire::ReflectorPacket& out) noexcept;

}  // namespace rtt
