#include "auth.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <algorithm>
#include <stdexcept>

#include "errors.hpp"

namespace rtt {

PacketAuth::PacketAuth(const std::vector<uint8_t>& key) {
  if (key.size() < kMinKeySize || key.size() > kMaxKeySize) {
    throw ConfigError("the authentication key must be " + std::to_string(kMinKeySize) + " to " +
                      std::to_string(kMaxKeySize) + " bytes");
  }
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (mac) ctx_ = EVP_MAC_CTX_new(mac);
  EVP_MAC_free(mac);  // the context keeps its own reference
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0), OSSL_PARAM_construct_end()};
  if (!ctx_ || EVP_MAC_init(ctx_, key.data(), key.size(), params) != 1) {
    EVP_MAC_CTX_free(ctx_);
    throw std::runtime_error("OpenSSL has no HMAC-SHA-256 (needed for authenticated STAMP)");
  }
}

PacketAuth::~PacketAuth() { EVP_MAC_CTX_free(ctx_); }

bool PacketAuth::digest(const uint8_t* packet, uint8_t (&out)[32]) noexcept {
  // Re-initialising without a key restarts from the key set in the constructor.
  size_t len = 0;
  return EVP_MAC_init(ctx_, nullptr, 0, nullptr) == 1 && EVP_MAC_update(ctx_, packet, wire::kHmacOffset) == 1 &&
         EVP_MAC_final(ctx_, out, &len, sizeof out) == 1 && len == sizeof out;
}

void PacketAuth::sign(uint8_t* packet) noexcept {
  uint8_t mac[32];
  if (!digest(packet, mac)) {
    // Never send a packet signed with stale bytes: an all-zero HMAC fails verification.
    std::fill(packet + wire::kHmacOffset, packet + wire::kAuthPacketSize, 0);
    return;
  }
  std::copy(mac, mac + wire::kHmacSize, packet + wire::kHmacOffset);
}

bool PacketAuth::verify(const uint8_t* packet) noexcept {
  uint8_t mac[32];
  return digest(packet, mac) && CRYPTO_memcmp(mac, packet + wire::kHmacOffset, wire::kHmacSize) == 0;
}

ReplyCheck read_reply(const uint8_t* buf, size_t len, PacketAuth* auth, wire::ReflectorPacket& out) noexcept {
  wire::Layout layout = auth ? wire::Layout::Authenticated : wire::Layout::Unauthenticated;
  if (!wire::read_reflector(buf, len, out, layout)) return ReplyCheck::Malformed;
  if (auth && !auth->verify(buf)) return ReplyCheck::AuthFailure;
  return ReplyCheck::Valid;
}

}  // namespace rtt
