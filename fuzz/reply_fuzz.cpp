// libFuzzer target: the sender's reply parser (read_reply) in both layouts
// and the request-side decoders, on arbitrary bytes. With the first byte's
// bit 0x01 the input is signed with the fuzz key first, so authenticated
// replies also reach the field decoding behind the HMAC check.
#include <cstring>
#include <vector>

#include "auth.hpp"
#include "wire.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint8_t flags = data[0];
  ++data;
  --size;
  static rtt::PacketAuth auth(std::vector<uint8_t>(32, 0xa5));
  // Exactly size bytes on the heap, so ASan sees any read past the datagram.
  std::vector<uint8_t> buf(data, data + size);
  if ((flags & 0x01) && size >= rtt::wire::kAuthPacketSize) auth.sign(buf.data());

  rtt::wire::ReflectorPacket r;
  rtt::ReplyCheck plain = rtt::read_reply(buf.data(), size, nullptr, r);
  if ((plain == rtt::ReplyCheck::Valid) != (size >= rtt::wire::kReplyMinSize)) __builtin_trap();
  rtt::ReplyCheck authenticated = rtt::read_reply(buf.data(), size, &auth, r);
  if (authenticated == rtt::ReplyCheck::Valid && size < rtt::wire::kAuthPacketSize) __builtin_trap();

  rtt::wire::SenderPacket s;
  rtt::wire::read_sender(buf.data(), size, s, rtt::wire::Layout::Unauthenticated);
  rtt::wire::read_sender(buf.data(), size, s, rtt::wire::Layout::Authenticated);
  rtt::wire::read_twamp_light_sender(buf.data(), size, s);
  rtt::wire::is_reflected(buf.data(), size, rtt::wire::Layout::Unauthenticated);
  rtt::wire::is_reflected(buf.data(), size, rtt::wire::Layout::Authenticated);
  if (size >= 8) {
    uint64_t t;
    std::memcpy(&t, buf.data(), 8);
    rtt::wire::decode_timestamp(t, rtt::wire::TimestampFormat::Ntp);
    rtt::wire::decode_timestamp(t, rtt::wire::TimestampFormat::Ptp);
    rtt::wire::decode_error_estimate(uint16_t(t));
  }
  return 0;
}
