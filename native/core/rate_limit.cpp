#include "rate_limit.hpp"

#include <algorithm>
#include <cmath>

namespace rtt {
namespace {
constexpr double kBurstSeconds = 0.1;
constexpr int64_t kMaxIntervalNs = int64_t(1) << 60;  // 36 years
constexpr double kMaxBurst = 1e9;
}  // namespace

RateLimiter::Limit RateLimiter::limit(double pps) noexcept {
  if (!(pps > 0)) return {};
  Limit l;
  // Saturated: a tiny rate must mean "almost never", not overflow into
  // "unlimited". kMaxIntervalNs added to any CLOCK_REALTIME reading still fits.
  double interval = 1e9 / pps;
  l.interval = interval >= double(kMaxIntervalNs) ? kMaxIntervalNs : std::max<int64_t>(1, std::llround(interval));
  double burst = std::clamp(std::floor(pps * kBurstSeconds), 1.0, kMaxBurst);
  l.tolerance = int64_t(burst - 1) * l.interval;
  return l;
}

RateLimiter::RateLimiter(double per_source_pps, double global_pps, uint64_t seed)
    : per_source_(limit(per_source_pps)),
      global_(limit(global_pps)),
      sources_(per_source_.interval ? kMaxRateLimitedSources : 0, seed) {}

bool RateLimiter::conforms(const Bucket& b, const Limit& l, int64_t now) noexcept {
  return l.interval == 0 || std::max(b.tat, now) - now <= l.tolerance;
}

void RateLimiter::take(Bucket& b, const Limit& l, int64_t now) noexcept {
  if (l.interval) b.tat = std::max(b.tat, now) + l.interval;
}

RateLimiter::Verdict RateLimiter::admit(const Endpoint& source, int64_t now) noexcept {
  Bucket* own = nullptr;
  if (per_source_.interval) {
    bool inserted;
    own = sources_.find_or_insert(flow_key(source, false, 0), inserted);
    if (!own) own = &overflow_;
    if (!conforms(*own, per_source_, now)) return Verdict::SourceLimited;
  }
  if (!conforms(total_, global_, now)) return Verdict::GlobalLimited;
  if (own) take(*own, per_source_, now);
  take(total_, global_, now);
  return Verdict::Pass;
}

void RateLimiter::sweep(int64_t now) noexcept {
  if (per_source_.interval) sources_.sweep([now](const Bucket& b) { return b.tat <= now; });
}

}  // namespace rtt
