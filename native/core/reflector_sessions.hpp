// Stateful STAMP reflection (RFC 8762 4.3): one session per sender address,
// port and SSID, each with its own reflector sequence number (so the sender
// can tell forward from reverse loss) and a window of the sender sequence
// numbers already answered (so a replayed or duplicated request is counted,
// not answered again). The table is bounded by max_sessions and sessions
// idle longer than the timeout are dropped; only an answered request counts
// as activity.
//
// Without a key anyone can send a session's address, port and SSID, so a
// single request must not be able to take the session over: a sequence
// number a window or more away from the newest moves the window only once
// the next request confirms it (lies just past it). With a key the sender
// signed its number, and a jump ahead moves the window at once.
//
// When the table is full, a new session takes the place of the oldest one
// that never proved itself (one answered request only): a captured request
// replayed from many ports fills the table with such sessions, which then
// cannot lock out senders that keep probing.
#pragma once

#include <cstdint>
#include <vector>

#include "flow_table.hpp"

namespace rtt {

constexpr size_t kMaxSessionsLimit = 65536;
constexpr uint32_t kReplayWindow = 1024;  // sender sequence numbers remembered behind the newest

struct ReflectorSession {
  int64_t last_seen = 0;  // when a request was last answered (or the session started)
  uint32_t next_seq = 0;  // the reflector's own sequence number for the next reply
  uint32_t newest = 0;    // highest sender sequence number answered
  uint32_t jump = 0;      // a number outside the window, waiting for confirmation (unauthenticated)
  bool started = false;
  bool proven = false;    // answered more than one request: never evicted for a newcomer
  bool jump_pending = false;
  uint64_t window[kReplayWindow / 64] = {};  // bit i: newest - i was answered

  enum class Verdict : uint8_t { Fresh, Replayed, OutOfWindow };
  // Whether seq may be answered. authenticated: seq is the sender's own
  // (HMAC verified). An unconfirmed jump is remembered, nothing else changes.
  Verdict check(uint32_t seq, bool authenticated) noexcept;
  // True when seq was answered already, or is too far behind to tell.
  bool seen(uint32_t seq) const noexcept;
  // seq was answered at now.
  void record(uint32_t seq, int64_t now) noexcept;
};

class ReflectorSessions {
 public:
  ReflectorSessions(size_t max_sessions, int64_t idle_timeout_ns, uint64_t seed);

  // The session of key, started afresh when new or idle past the timeout;
  // nullptr when max_sessions other sessions are live and all proved themselves.
  ReflectorSession* find(const FlowKey& key, int64_t now) noexcept;
  void expire(int64_t now) noexcept;  // on a timer, never per packet
  size_t active() const noexcept { return table_.size(); }
  uint64_t evicted() const noexcept { return evicted_; }  // unproven sessions dropped for newcomers

 private:
  void enqueue(const FlowKey& key) noexcept;
  bool evict_unproven() noexcept;

  FlowTable<ReflectorSession> table_;
  int64_t idle_timeout_ns_;
  // Sessions in the order they started, oldest first: eviction candidates.
  // A ring allocated up front; entries whose session proved itself or is
  // gone are skipped when reached and dropped by expire().
  std::vector<FlowKey> started_;
  size_t head_ = 0;
  size_t queued_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace rtt
