#include "reflector_sessions.hpp"

namespace rtt {
namespace {

constexpr uint32_t kWords = kReplayWindow / 64;

// Serial-number distance (RFC 1982), so the window survives the 32-bit wrap.
int64_t ahead(uint32_t seq, uint32_t newest) noexcept { return int32_t(seq - newest); }

}  // namespace

ReflectorSession::Verdict ReflectorSession::check(uint32_t seq, bool authenticated) noexcept {
  if (!started) return Verdict::Fresh;
  int64_t d = ahead(seq, newest);
  if (d > -int64_t(kReplayWindow) && d < int64_t(kReplayWindow)) return seen(seq) ? Verdict::Replayed : Verdict::Fresh;
  if (authenticated) return d > 0 ? Verdict::Fresh : Verdict::OutOfWindow;
  if (jump_pending && ahead(seq, jump) > 0 && ahead(seq, jump) < int64_t(kReplayWindow)) return Verdict::Fresh;
  jump = seq;
  jump_pending = true;
  return Verdict::OutOfWindow;
}

bool ReflectorSession::seen(uint32_t seq) const noexcept {
  if (!started) return false;
  int64_t d = ahead(seq, newest);
  if (d > 0) return false;
  if (-d >= kReplayWindow) return true;
  uint32_t bit = uint32_t(-d);
  return window[bit / 64] >> (bit % 64) & 1;
}

void ReflectorSession::record(uint32_t seq, int64_t now) noexcept {
  last_seen = now;
  proven = started;
  jump_pending = false;
  int64_t d = ahead(seq, newest);
  bool confirmed_jump_back = d <= -int64_t(kReplayWindow);
  if (!started || d >= int64_t(kReplayWindow) || confirmed_jump_back) {
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
  if (!started || d > 0 || confirmed_jump_back) {
    newest = seq;
    started = true;
    window[0] |= 1;
    return;
  }
  uint32_t bit = uint32_t(-d);
  if (bit < kReplayWindow) window[bit / 64] |= uint64_t(1) << (bit % 64);
}

ReflectorSessions::ReflectorSessions(size_t max_sessions, int64_t idle_timeout_ns, uint64_t seed)
    : table_(max_sessions, seed), idle_timeout_ns_(idle_timeout_ns), started_(max_sessions) {}

ReflectorSession* ReflectorSessions::find(const FlowKey& key, int64_t now) noexcept {
  bool inserted;
  ReflectorSession* s = table_.find_or_insert(key, inserted);
  if (!s && evict_unproven()) s = table_.find_or_insert(key, inserted);
  if (!s) return nullptr;
  if (inserted || now - s->last_seen > idle_timeout_ns_) {
    *s = ReflectorSession{};
    s->last_seen = now;
    enqueue(key);
  }
  return s;
}

void ReflectorSessions::enqueue(const FlowKey& key) noexcept {
  // Full: the oldest entry gives up its place (its session may still expire).
  if (queued_ == started_.size()) {
    head_ = (head_ + 1) % started_.size();
    --queued_;
  }
  started_[(head_ + queued_++) % started_.size()] = key;
}

bool ReflectorSessions::evict_unproven() noexcept {
  while (queued_ > 0) {
    FlowKey key = started_[head_];
    head_ = (head_ + 1) % started_.size();
    --queued_;
    const ReflectorSession* s = table_.find(key);
    if (s && !s->proven) {
      table_.erase(key);
      ++evicted_;
      return true;
    }
  }
  return false;
}

void ReflectorSessions::expire(int64_t now) noexcept {
  int64_t timeout = idle_timeout_ns_;
  table_.sweep([now, timeout](const ReflectorSession& s) { return now - s.last_seen > timeout; });
  // Keep the candidates that are still candidates, in order.
  size_t kept = 0;
  for (size_t i = 0; i < queued_; ++i) {
    const FlowKey& key = started_[(head_ + i) % started_.size()];
    const ReflectorSession* s = table_.find(key);
    if (s && !s->proven) started_[(head_ + kept++) % started_.size()] = key;
  }
  queued_ = kept;
}

}  // namespace rtt
