// STAMP packets on a TCP byte stream, framed as RFC 4571 frames RTP: each
// packet is preceded by its length, 16 bits big-endian. The reflector then
// finds where a request ends without being told the sender's size out of
// band (TWAMP-Control's job, on 862/TCP), one reflector serves senders of any
// size, and the packet itself is exactly the UDP payload, so the same wire
// code reads and writes it. See docs/tcp.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace rtt::tcp {

constexpr size_t kLengthBytes = 2;
constexpr size_t kMaxFrame = kLengthBytes + 65535;

inline void write_length(uint8_t* p, size_t length) noexcept {
  p[0] = uint8_t(length >> 8);
  p[1] = uint8_t(length);
}

// Reassembles frames from whatever each read returns, in one buffer that
// holds the largest frame: allocated once, never per packet.
class FrameReader {
 public:
  FrameReader() : buffer_(new uint8_t[kMaxFrame]) {}

  // Where the next read goes, and how much it may take.
  uint8_t* space() noexcept { return buffer_.get() + have_; }
  size_t room() const noexcept { return kMaxFrame - have_; }
  void added(size_t n) noexcept { have_ += n; }

  // The packet of the first whole frame and its length; nullptr while it is partial.
  uint8_t* frame(size_t& length) noexcept {
    if (have_ < kLengthBytes) return nullptr;
    length = size_t(buffer_[0]) << 8 | buffer_[1];
    return have_ >= kLengthBytes + length ? buffer_.get() + kLengthBytes : nullptr;
  }
  // Drops the first frame (whole, see frame()), keeping the bytes of the next.
  void consume(size_t length) noexcept {
    size_t used = kLengthBytes + length;
    have_ -= used;
    if (have_) std::memmove(buffer_.get(), buffer_.get() + used, have_);
  }
  bool partial() const noexcept { return have_ > 0; }
  void clear() noexcept { have_ = 0; }

 private:
  std::unique_ptr<uint8_t[]> buffer_;
  size_t have_ = 0;
};

}  // namespace rtt::tcp
