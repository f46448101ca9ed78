#include "reflector_sessions.hpp"

namespace rtt {
namespace {

constexpr uint32_t kWords = kReplayWindow / 64;

// Serial-number distance (RFC 1982), so the window survives the 32-bit wrap.
int64_t ahead(uint32_t seq, uint32_t newest) noexcept { return int32_t(seq - newest); }

}  // namespace

bool ReflectorSession::seen(uint32_t seq) const noexcept {
  if (!started) return false;
  int64_t d = ahead(seq, newest);
  if (d > 0) return false;
  if (-d >= kReplayWindow) return true;
  uint32_t bit = uint32_t(-d);
  return window[bit / 64] >> (bit % 64) & 1;
}

void ReflectorSession::record(uint32_t seq) noexcept {
  int64_t d = ahead(seq, newest);
  if (!started || d >= int64_t(kReplayWindow)) {
    for (uint64_t& w : window) w = 0;
  } else if (d > 0) {
    // Slide the window by d bits: bit i moves to bit i + d.
    uint32_t words = uint32_t(d) / 64, bits = uint32_t(d) % 64;
    for (uint32_t i = kWords; i-- > 0;) {
      uint64_t v = i >= words ? window[i - words] << bits : 0;
      if (bits && i >= words + 1) v |= window[i - words - 1] >> (64 - bits);
      window[i] = v;
    }
  }
  if (!started || d > 0) {
    newest = seq;
    started = true;
    window[0] |= 1;
    return;
  }
  uint32_t bit = uint32_t(-d);
  if (bit < kReplayWindow) window[bit / 64] |= uint64_t(1) << (bit % 64);
}

ReflectorSessions::ReflectorSessions(size_t max_sessions, int64_t idle_timeout_ns, uint64_t seed)
    : table_(max_sessions, seed), idle_timeout_ns_(idle_timeout_ns) {}

ReflectorSession* ReflectorSessions::find(const FlowKey& key, int64_t now) noexcept {
  bool inserted;
  ReflectorSession* s = table_.find_or_insert(key, inserted);
  if (!s) return nullptr;
  if (!inserted && now - s->last_seen > idle_timeout_ns_) *s = ReflectorSession{};
  s->last_seen = now;
  return s;
}

void ReflectorSessions::expire(int64_t now) noexcept {
  int64_t timeout = idle_timeout_ns_;
  table_.sweep([now, timeout](const ReflectorSession& s) { return now - s.last_seen > timeout; });
}

}  // namespace rtt
