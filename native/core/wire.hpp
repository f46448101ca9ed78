// STAMP (RFC 8762) unauthenticated packet layouts, big-endian on the wire.
// The codec works on caller-owned buffers and never allocates, so the loops
// can build and read packets in place.
#pragma once

#include <cstddef>
#include <cstdint>

namespace rtt::wire {

constexpr size_t kPacketSize = 44;  // unauthenticated sender and reflector packets
constexpr uint16_t kDefaultPort = 862;

enum class TimestampFormat : uint8_t { Ntp = 0, Ptp = 1 };

// NTP 64-bit (seconds since 1900, 32-bit fraction) or PTPv2 truncated
// (32-bit seconds, 32-bit nanoseconds), from and to nanoseconds since the Unix epoch.
uint64_t encode_timestamp(int64_t unix_ns, TimestampFormat format) noexcept;
int64_t decode_timestamp(uint64_t wire, TimestampFormat format) noexcept;

// Error estimate (RFC 4656 4.1.2): S(1) Z(1) Scale(6) Multiplier(8);
// error = Multiplier * 2^(Scale - 32) seconds.
struct ErrorEstimate {
  bool synchronized = false;
  TimestampFormat format = TimestampFormat::Ntp;
  uint8_t scale = 0;       // 6 bits
  uint8_t multiplier = 1;  // must not be zero
};
uint16_t encode_error_estimate(const ErrorEstimate& e) noexcept;
ErrorEstimate decode_error_estimate(uint16_t wire) noexcept;

struct SenderPacket {
  uint32_t seq = 0;
  uint64_t timestamp = 0;  // wire form, see encode_timestamp
  uint16_t error_estimate = 0;
  uint16_t ssid = 0;
};

struct ReflectorPacket {
  uint32_t seq = 0;
  uint64_t timestamp = 0;  // T3
  uint16_t error_estimate = 0;
  uint16_t ssid = 0;
  uint64_t receive_timestamp = 0;  // T2
  uint32_t sender_seq = 0;
  uint64_t sender_timestamp = 0;  // T1
  uint16_t sender_error_estimate = 0;
  uint8_t sender_ttl = 0;
};

// Writes the 44-byte header (MBZ fields zeroed); bytes past 44 are left alone.
void write_sender(uint8_t* buf, const SenderPacket& p) noexcept;
void write_reflector(uint8_t* buf, const ReflectorPacket& p) noexcept;

// False when len is too short to hold the layout.
bool read_sender(const uint8_t* buf, size_t len, SenderPacket& out) noexcept;
bool read_reflector(const uint8_t* buf, size_t len, ReflectorPacket& out) noexcept;

// Only the fields that change per probe, for a packet built once.
void update_sender(uint8_t* buf, uint32_t seq, uint64_t timestamp) noexcept;

}  // namespace rtt::wire
