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

void write_sender(uint8_t* buf, const SenderPacket& p) noexcept {
  put32(buf, p.seq);
  put64(buf + 4, p.timestamp);
  put16(buf + 12, p.error_estimate);
  put16(buf + 14, p.ssid);
  std::memset(buf + 16, 0, kPacketSize - 16);
}

void update_sender(uint8_t* buf, uint32_t seq, uint64_t timestamp) noexcept {
  put32(buf, seq);
  put64(buf + 4, timestamp);
}

void write_reflector(uint8_t* buf, const ReflectorPacket& p) noexcept {
  put32(buf, p.seq);
  put64(buf + 4, p.timestamp);
  put16(buf + 12, p.error_estimate);
  put16(buf + 14, p.ssid);
  put64(buf + 16, p.receive_timestamp);
  put32(buf + 24, p.sender_seq);
  put64(buf + 28, p.sender_timestamp);
  put16(buf + 36, p.sender_error_estimate);
  put16(buf + 38, 0);
  buf[40] = p.sender_ttl;
  buf[41] = buf[42] = buf[43] = 0;
}

bool read_sender(const uint8_t* buf, size_t len, SenderPacket& out) noexcept {
  if (len < kPacketSize) return false;
  out.seq = get32(buf);
  out.timestamp = get64(buf + 4);
  out.error_estimate = get16(buf + 12);
  out.ssid = get16(buf + 14);
  return true;
}

bool read_reflector(const uint8_t* buf, size_t len, ReflectorPacket& out) noexcept {
  if (len < kPacketSize) return false;
  out.seq = get32(buf);
  out.timestamp = get64(buf + 4);
  out.error_estimate = get16(buf + 12);
  out.ssid = get16(buf + 14);
  out.receive_timestamp = get64(buf + 16);
  out.sender_seq = get32(buf + 24);
  out.sender_timestamp = get64(buf + 28);
  out.sender_error_estimate = get16(buf + 36);
  out.sender_ttl = buf[40];
  return true;
}

}  // namespace rtt::wire
