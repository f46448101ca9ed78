#include "histogram.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include <sys/mman.h>

namespace rtt {

namespace {

constexpr size_t kCountsBytes = Histogram::kCountsLength * sizeof(uint64_t);

// An anonymous mapping, not new[](): zeroing 221 KiB would make every page
// resident, and malloc would keep freed histograms' pages for the next one.
uint64_t* map_counts() {
  void* p = mmap(nullptr, kCountsBytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  return static_cast<uint64_t*>(p);
}

}  // namespace

void Histogram::Unmap::operator()(uint64_t* p) const noexcept { munmap(p, kCountsBytes); }

Histogram::Histogram() : counts_(map_counts()) {}

void Histogram::reset() noexcept {
  std::memset(counts_.get(), 0, kCountsLength * sizeof(uint64_t));
  total_ = underflow_ = overflow_ = 0;
  min_ = INT64_MAX;
  max_ = 0;
  sum_ = sum_squares_ = 0;
}

double Histogram::mean() const noexcept { return total_ ? sum_ / double(total_) : 0; }

double Histogram::stddev() const noexcept {
  if (total_ < 2) return 0;
  double m = mean();
  double var = sum_squares_ / double(total_) - m * m;
  return var > 0 ? std::sqrt(var) : 0;
}

int64_t Histogram::lowest_equivalent(size_t index) noexcept {
  int bucket = int(index >> kSubBucketHalfCountMagnitude) - 1;
  int64_t sub = int64_t(index & (kSubBucketHalfCount - 1)) + kSubBucketHalfCount;
  if (bucket < 0) {
    sub -= kSubBucketHalfCount;
    bucket = 0;
  }
  return sub << bucket;
}

int64_t Histogram::highest_equivalent(size_t index) noexcept {
  int bucket = std::max(0, int(index >> kSubBucketHalfCountMagnitude) - 1);
  return lowest_equivalent(index) + (int64_t(1) << bucket) - 1;
}

void Histogram::values_at_percentiles(const double* ps, int64_t* out, size_t n) const noexcept {
  size_t k = 0;
  if (total_ == 0) {
    for (; k < n; ++k) out[k] = 0;
    return;
  }
  auto rank_of = [this](double p) {
    double r = std::ceil(std::clamp(p, 0.0, 100.0) / 100.0 * double(total_));
    return std::max<uint64_t>(1, uint64_t(r));
  };
  // Only the buckets between min and max can hold counts: progress snapshots
  // are taken inside the loop, so the scan stays as short as the data.
  uint64_t seen = 0;
  for (size_t i = index_of(min_), last = index_of(max_); i <= last && k < n; ++i) {
    seen += counts_[i];
    while (k < n && seen >= rank_of(ps[k])) {
      out[k++] = std::clamp(highest_equivalent(i), min_, max_);
    }
  }
  for (; k < n; ++k) out[k] = max_;
}

int64_t Histogram::value_at_percentile(double p) const noexcept {
  int64_t v;
  values_at_percentiles(&p, &v, 1);
  return v;
}

}  // namespace rtt
