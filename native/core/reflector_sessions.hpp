// Stateful STAMP reflection (RFC 8762 4.3): one session per sender address,
// port and SSID, each with its own reflector sequence number (so the sender
// can tell forward from reverse loss) and a window of the sender sequence
// numbers already answered (so a replayed or duplicated request is counted,
// not answered again). The table is bounded by max_sessions and sessions
// idle longer than the timeout are dropped.
#pragma once

#include <cstdint>

#include "flow_table.hpp"

namespace rtt {

constexpr size_t kMaxSessionsLimit = 65536;
constexpr uint32_t kReplayWindow = 1024;  // sender sequence numbers remembered behind the newest

struct ReflectorSession {
  int64_t last_seen = 0;
  uint32_t next_seq = 0;  // the reflector's own sequence number for the next reply
  uint32_t newest = 0;    // highest sender sequence number answered
  bool started = false;
  uint64_t window[kReplayWindow / 64] = {};  // bit i: newest - i was answered

  // True when seq was answered already, or is too far behind to tell.
  bool seen(uint32_t seq) const noexcept;
  void record(uint32_t seq) noexcept;
};

class ReflectorSessions {
 public:
  ReflectorSessions(size_t max_sessions, int64_t idle_timeout_ns, uint64_t seed);

  // The session of key, started afresh when new or idle past the timeout;
  // nullptr when max_sessions other sessions are live.
  ReflectorSession* find(const FlowKey& key, int64_t now) noexcept;
  void expire(int64_t now) noexcept;  // on a timer, never per packet
  size_t active() const noexcept { return table_.size(); }

 private:
  FlowTable<ReflectorSession> table_;
  int64_t idle_timeout_ns_;
};

}  // namespace rtt
