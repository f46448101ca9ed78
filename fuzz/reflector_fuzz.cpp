// libFuzzer target: the reflector's whole per-request path (Responder::answer)
// on arbitrary bytes. The first byte picks the configuration (authenticated,
// stateful, TWAMP-Light, allow-list, rate limits, peer family and port); with
// bit 0x80 the input is signed with the fuzz key first, so the fuzzer also
// reaches the code behind a valid HMAC.
#include <arpa/inet.h>

#include <cstring>
#include <memory>
#include <vector>

#include "reflector.hpp"

namespace {

const std::vector<uint8_t> kKey(32, 0x5a);

rtt::ReflectorConfig config_for(uint8_t flags) {
  rtt::ReflectorConfig c;
  if (flags & 0x01) c.key = kKey;
  c.stateful = flags & 0x02;
  c.max_sessions = 4;
  c.session_timeout_ns = 1000;
  c.twamp_light = (flags & 0x04) && !(flags & 0x01);
  if (flags & 0x08) c.allow = {"198.18.0.0/15", "2001:2::/48", "127.0.0.1"};
  if (flags & 0x10) {
    c.rate_limit_pps = 10;
    c.global_rate_limit_pps = 1000;
  }
  return c;
}

rtt::Endpoint peer_for(uint8_t flags, const uint8_t* data, size_t size) {
  uint16_t port = size >= 2 ? uint16_t(data[0] << 8 | data[1]) : 0;
  return rtt::parse_endpoint((flags & 0x20) ? "2001:2::7" : "198.18.0.7", port);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t flags = data[0];
  ++data;
  --size;
  static rtt::UserClock clock(rtt::ClockSource::Auto);
  static std::unique_ptr<rtt::Responder> responders[64];
  auto& responder = responders[flags & 0x3f];
  if (!responder) responder = std::make_unique<rtt::Responder>(config_for(flags), 42, clock);
  rtt::Endpoint peer = peer_for(flags, data, size);

  std::vector<uint8_t> buf(std::max<size_t>(size, rtt::wire::kAuthPacketSize));
  std::memcpy(buf.data(), data, size);
  if ((flags & 0x80) && (flags & 0x01) && size >= rtt::wire::kAuthPacketSize) {
    static rtt::PacketAuth signer(kKey);
    signer.sign(buf.data());
  }
  rtt::RxStamps stamps;
  stamps.software = size & 1 ? -1 : 1700000000000000000;
  stamps.ttl = 64;
  static int64_t now = 1700000000000000000;
  now += 1000000;
  size_t reply = responder->answer(buf.data(), size, buf.size(), peer, stamps, now);
  // No amplification: never more than the request, except TWAMP-Light's 41 bytes.
  bool twamp = (flags & 0x04) && !(flags & 0x01);
  if (reply > size && !(twamp && reply == rtt::wire::kTwampLightReplySize)) __builtin_trap();
  if (reply > 0 && (flags & 0x01)) {
    static rtt::PacketAuth verifier(kKey);
    if (!verifier.verify(buf.data())) __builtin_trap();  // every authenticated reply is signed
  }
  if ((flags & 0x3f) == 0 && now % 64 == 0) responder->sweep(now);
  return 0;
}
