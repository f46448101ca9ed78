// STAMP (RFC 8762) packet layouts, big-endian on the wire: unauthenticated
// (44 bytes, RFC 8762 4.2.1 / 4.3.1) and authenticated (112 bytes, 4.2.2 /
// 4.3.2, HMAC in the last 16), with the SSID of RFC 8972. The codec works on
// caller-owned buffers and never allocates, so the loops can build and read
// packets in place.
#pragma once

#include <cstddef>
#include <cstdint>

#include "choices.hpp"

namespace rtt::wire {

constexpr size_t kPacketSize = 44;       // unauthenticated sender and reflector packets
constexpr size_t kAuthPacketSize = 112;  // authenticated sender and reflector packets
constexpr size_t kHmacOffset = 96;       // the HMAC covers every byte before it
constexpr size_t kHmacSize = 16;         // HMAC-SHA-256 truncated to 128 bits
// The reply fields a sender reads end with the sender timestamp (offset 28..35);
// TWAMP-Light reflectors may answer with fewer than STAMP's 44 bytes.
constexpr size_t kReplyMinSize = 36;
constexpr size_t kTwampLightRequestMinSize = 14;  // RFC 5357 4.1.2: seq, timestamp, error estimate
constexpr size_t kTwampLightReplySize = 41;       // RFC 5357 4.2.1 up to the sender TTL
constexpr uint16_t kDefaultPort = 862;
// The largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP): the largest packet a sender may ask for.
constexpr size_t kMaxPacketSize = 65507;

enum class Layout : uint8_t { Unauthenticated, Authenticated };
inline constexpr Choice<Layout> kLayouts[] = {
    {"unauthenticated", Layout::Unauthenticated},
    {"authenticated", Layout::Authenticated},
};

constexpr size_t packet_size(Layout layout) noexcept {
  return layout == Layout::Authenticated ? kAuthPacketSize : kPacketSize;
}

enum class TimestampFormat : uint8_t { Ntp = 0, Ptp = 1 };
inline constexpr Choice<TimestampFormat> kTimestampFormats[] = {
    {"ntp", TimestampFormat::Ntp},
    {"ptp", TimestampFormat::Ptp},
};

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

// Write packet_size(layout) bytes with every MBZ field zeroed; bytes past it
// (padding) and the HMAC field are left alone.
void write_sender(uint8_t* buf, const SenderPacket& p, Layout layout = Layout::Unauthenticated) noexcept;
void write_reflector(uint8_t* buf, const ReflectorPacket& p, Layout layout = Layout::Unauthenticated) noexcept;

// False when len is too short for the layout. A sender packet needs all of
// packet_size(layout); an unauthenticated reply needs kReplyMinSize (the TTL
// reads as 0 when the reply ends before it), an authenticated one all 112.
bool read_sender(const uint8_t* buf, size_t len, SenderPacket& out, Layout layout = Layout::Unauthenticated) noexcept;
bool read_reflector(const uint8_t* buf, size_t len, ReflectorPacket& out,
                    Layout layout = Layout::Unauthenticated) noexcept;

// A TWAMP-Light test packet (RFC 5357 4.1.2): sequence number, timestamp and
// error estimate, then padding; it has no SSID (read as 0).
bool read_twamp_light_sender(const uint8_t* buf, size_t len, SenderPacket& out) noexcept;

// Only the fields that change per probe, for a packet built once.
void update_sender(uint8_t* buf, uint32_t seq, uint64_t timestamp, Layout layout = Layout::Unauthenticated) noexcept;

// True when the packet is a reflector's reply rather than a sender's request:
// the receive timestamp (T2) a reply always carries sits where a request has
// MBZ zeros. A reflector that answered replies could be made to ping-pong
// with another reflector (or itself) forever.
bool is_reflected(const uint8_t* buf, size_t len, Layout layout) noexcept;

}  // namespace rtt::wire
