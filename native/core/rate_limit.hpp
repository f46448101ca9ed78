// Reply-rate limits of the reflector, per source address and in total, as a
// generic cell rate algorithm (one "theoretical arrival time" per bucket):
// each allows its rate on average and bursts of a tenth of a second's worth.
// Sources live in a bounded FlowTable; when it is full, new sources share one
// overflow bucket, so spoofing many addresses buys no more replies.
#pragma once

#include <cstdint>

#include "flow_table.hpp"

namespace rtt {

constexpr size_t kMaxRateLimitedSources = 16384;

class RateLimiter {
 public:
  // Rates in replies per second; 0 leaves that limit off.
  RateLimiter(double per_source_pps, double global_pps, uint64_t seed);

  enum class Verdict : uint8_t { Pass, SourceLimited, GlobalLimited };
  // Takes a reply's worth from both buckets when both have it, else neither.
  Verdict admit(const Endpoint& source, int64_t now) noexcept;
  // Forgets sources whose bucket is full again (no different from a new source).
  void sweep(int64_t now) noexcept;

 private:
  struct Bucket {
    int64_t tat = 0;  // when the bucket will be full again
  };
  struct Limit {
    int64_t interval = 0;   // ns per reply; 0: unlimited
    int64_t tolerance = 0;  // how far tat may run ahead of now (the burst)
  };
  static Limit limit(double pps) noexcept;
  static bool conforms(const Bucket& b, const Limit& l, int64_t now) noexcept;
  static void take(Bucket& b, const Limit& l, int64_t now) noexcept;

  Limit per_source_;
  Limit global_;
  FlowTable<Bucket> sources_;
  Bucket overflow_;
  Bucket total_;
};

}  // namespace rtt
