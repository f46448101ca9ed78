#include "wire.hpp"

#include <cstring>

namespace rtt::wire {
namespace {

constexpr int64_t kNsPerSec = 1000000000;
constexpr int64_t kNtpUnixOffset = 2208988800;  // seconds from 1900 to 1970

void put16(uint8_t* p, uint16_t v) noexcept {
  p[0] = uint8_t(v >> 8);
  p[1] = uint8_t(v);
}
void put32(uint8_t* p, uint32_t v) noexcept {
  p[0] = uint8_t(v >> 24);
  p[1] = uint8_t(v >> 16);
  p[2] = uint8_t(v >> 8);
  p[3] = uint8_t(v);
}
void put64(uint8_t* p, uint64_t v) noexcept {
  put32(p, uint32_t(v >> 32));
  put32(p + 4, uint32_t(v));
}
uint16_t get16(const uint8_t* p) noexcept { return uint16_t(p[0] << 8 | p[1]); }
uint32_t get32(const uint8_t* p) noexcept {
  return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
uint64_t get64(const uint8_t* p) noexcept { return uint64_t(get32(p)) << 32 | get32(p + 4); }

}  // namespace

uint64_t encode_timestamp(int64_t unix_ns, TimestampFormat format) noexcept {
  int64_t sec = unix_ns / kNsPerSec;
  int64_t ns = unix_ns % kNsPerSec;
  if (ns < 0) {
    ns += kNsPerSec;
    sec -= 1;
  }
  if (format == TimestampFormat::Ptp) return uint64_t(uint32_t(sec)) << 32 | uint32_t(ns);
  // Round to the nearest 2^-32 s so decode(encode(t)) == t.
  uint64_t frac = ((uint64_t(ns) << 32) + kNsPerSec / 2) / kNsPerSec;
  return uint64_t(uint32_t(sec + kNtpUnixOffset)) << 32 | frac;
}

int64_t decode_timestamp(uint64_t wire, TimestampFormat format) noexcept {
  uint32_t sec = uint32_t(wire >> 32);
  uint32_t low = uint32_t(wire);
  if (format == TimestampFormat::Ptp) return int64_t(sec) * kNsPerSec + low;
  // NTP era 0 ends in 2036; seconds below 2^31 are read as era 1 (2036-2104).
  int64_t unix_sec = int64_t(sec) - kNtpUnixOffset;
  if (sec < 0x80000000u) unix_sec += int64_t(1) << 32;
  int64_t ns = int64_t((uint64_t(low) * kNsPerSec + (uint64_t(1) << 31)) >> 32);
  return unix_sec * kNsPerSec + ns;
}

uint16_t encode_error_estimate(const ErrorEstimate& e) noexcept {
  return uint16_t((e.synchronized ? 0x8000 : 0) | (e.format == TimestampFormat::Ptp ? 0x4000 : 0) |
                  (e.scale & 0x3f) << 8 | e.multiplier);
}

ErrorEstimate decode_error_estimate(uint16_t wire) noexcept {
  ErrorEstimate e;
  e.synchronized = wire & 0x8000;
  e.format = (wire & 0x4000) ? TimestampFormat::Ptp : TimestampFormat::Ntp;
  e.scale = uint8_t((wire >> 8) & 0x3f);
  e.multiplier = uint8_t(wire);
  return e;
}

namespace {

// Field offsets of the two layouts (RFC 8762 section 4, SSID from RFC 8972).
struct Offsets {
  size_t timestamp, error_estimate, ssid;                     // both directions
  size_t receive_timestamp, sender_seq, sender_timestamp;     // reflector only
  size_t sender_error_estimate, sender_ttl;
};
constexpr Offsets kUnauth{4, 12, 14, 16, 24, 28, 36, 40};
constexpr Offsets kAuth{16, 24, 26, 32, 48, 64, 72, 80};

constexpr const Offsets& offsets(Layout layout) noexcept {
  return layout == Layout::Authenticated ? kAuth : kUnauth;
}

// The bytes a layout covers before its HMAC (unauthenticated: all 44).
constexpr size_t body_size(Layout layout) noexcept {
  return layout == Layout::Authenticated ? kHmacOffset : kPacketSize;
}

}  // namespace

void write_sender(uint8_t* buf, const SenderPacket& p, Layout layout) noexcept {
  const Offsets& o = offsets(layout);
  std::memset(buf, 0, body_size(layout));
  put32(buf, p.seq);
  put64(buf + o.timestamp, p.timestamp);
  put16(buf + o.error_estimate, p.error_estimate);
  put16(buf + o.ssid, p.ssid);
}

void update_sender(uint8_t* buf, uint32_t seq, uint64_t timestamp, Layout layout) noexcept {
  put32(buf, seq);
  put64(buf + offsets(layout).timestamp, timestamp);
}

void write_reflector(uint8_t* buf, const ReflectorPacket& p, Layout layout) noexcept {
  const Offsets& o = offsets(layout);
  // Constant sizes, so the compiler stores them inline: a variable-length
  // memset became `rep stos`, whose start-up is most of this function's cost.
  if (layout == Layout::Authenticated) {
    std::memset(buf, 0, body_size(Layout::Authenticated));
  } else {
    std::memset(buf, 0, body_size(Layout::Unauthenticated));
  }
  put32(buf, p.seq);
  put64(buf + o.timestamp, p.timestamp);
  put16(buf + o.error_estimate, p.error_estimate);
  put16(buf + o.ssid, p.ssid);
  put64(buf + o.receive_timestamp, p.receive_timestamp);
  put32(buf + o.sender_seq, p.sender_seq);
  put64(buf + o.sender_timestamp, p.sender_timestamp);
  put16(buf + o.sender_error_estimate, p.sender_error_estimate);
  buf[o.sender_ttl] = p.sender_ttl;
}

bool read_sender(const uint8_t* buf, size_t len, SenderPacket& out, Layout layout) noexcept {
  if (len < packet_size(layout)) return false;
  const Offsets& o = offsets(layout);
  out.seq = get32(buf);
  out.timestamp = get64(buf + o.timestamp);
  out.error_estimate = get16(buf + o.error_estimate);
  out.ssid = get16(buf + o.ssid);
  return true;
}

bool read_twamp_light_sender(const uint8_t* buf, size_t len, SenderPacket& out) noexcept {
  if (len < kTwampLightRequestMinSize) return false;
  out.seq = get32(buf);
  out.timestamp = get64(buf + 4);
  out.error_estimate = get16(buf + 12);
  out.ssid = 0;
  return true;
}

bool read_reflector(const uint8_t* buf, size_t len, ReflectorPacket& out, Layout layout) noexcept {
  if (len < (layout == Layout::Authenticated ? kAuthPacketSize : kReplyMinSize)) return false;
  const Offsets& o = offsets(layout);
  out.seq = get32(buf);
  out.timestamp = get64(buf + o.timestamp);
  out.error_estimate = get16(buf + o.error_estimate);
  out.ssid = get16(buf + o.ssid);
  out.receive_timestamp = get64(buf + o.receive_timestamp);
  out.sender_seq = get32(buf + o.sender_seq);
  out.sender_timestamp = get64(buf + o.sender_timestamp);
  out.sender_error_estimate = len >= o.sender_error_estimate + 2 ? get16(buf + o.sender_error_estimate) : 0;
  out.sender_ttl = len > o.sender_ttl ? buf[o.sender_ttl] : 0;
  return true;
}

bool is_reflected(const uint8_t* buf, size_t len, Layout layout) noexcept {
  size_t at = offsets(layout).receive_timestamp;
  if (len < at + 8) return false;
  uint64_t receive_timestamp;
  std::memcpy(&receive_timestamp, buf + at, sizeof receive_timestamp);
  return receive_timestamp != 0;
}

}  // namespace rtt::wire
