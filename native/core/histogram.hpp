// Log-linear latency histogram with the HdrHistogram bucket layout
// (lowest trackable 1 ns, 3 significant digits, highest 2^36 - 1 ns ~ 68.7 s),
// so exported counts line up with the HdrHistogram ecosystem. The counts array
// is allocated once, from pages the kernel zeroes on first touch, so a
// histogram costs memory only where it has counts (a monitor holds ten per
// target); record() is O(1) and never allocates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace rtt {

class Histogram {
 public:
  static constexpr int kSubBucketHalfCountMagnitude = 10;  // 2048 sub-buckets: 3 digits
  static constexpr int64_t kSubBucketCount = int64_t(1) << (kSubBucketHalfCountMagnitude + 1);
  static constexpr int64_t kSubBucketHalfCount = kSubBucketCount / 2;
  static constexpr int kBucketCount = 26;
  static constexpr int64_t kHighestTrackable = (kSubBucketCount << (kBucketCount - 1)) - 1;
  static constexpr size_t kCountsLength = size_t(kBucketCount + 1) * kSubBucketHalfCount;

  Histogram();

  // Negative values are counted as underflow and not recorded; values above
  // the highest trackable value are clamped and counted as overflow.
  void record(int64_t value) noexcept {
    if (value < 0) {
      ++underflow_;
      return;
    }
    if (value > kHighestTrackable) {
      ++overflow_;
      value = kHighestTrackable;
    }
    ++counts_[index_of(value)];
    ++total_;
    if (value < min_) min_ = value;
    if (value > max_) max_ = value;
    sum_ += double(value);
    sum_squares_ += double(value) * double(value);
  }

  void reset() noexcept;

  uint64_t count() const noexcept { return total_; }
  int64_t min() const noexcept { return total_ ? min_ : 0; }
  int64_t max() const noexcept { return max_; }
  double mean() const noexcept;
  double stddev() const noexcept;
  uint64_t underflow() const noexcept { return underflow_; }
  uint64_t overflow() const noexcept { return overflow_; }
  double sum() const noexcept { return sum_; }

  // Nearest-rank percentile (0 < p <= 100): the highest value equivalent to
  // the sample of rank ceil(p/100 * count), clamped to [min, max].
  int64_t value_at_percentile(double p) const noexcept;
  // Several percentiles (ascending) in one pass over the counts.
  void values_at_percentiles(const double* ps, int64_t* out, size_t n) const noexcept;

  const uint64_t* counts() const noexcept { return counts_.get(); }

  static size_t index_of(int64_t value) noexcept {
    int bucket = 64 - __builtin_clzll(uint64_t(value) | (kSubBucketCount - 1)) -
                 (kSubBucketHalfCountMagnitude + 1);
    int64_t sub = value >> bucket;
    return size_t((int64_t(bucket) + 1) << kSubBucketHalfCountMagnitude) +
           size_t(sub - kSubBucketHalfCount);
  }
  static int64_t lowest_equivalent(size_t index) noexcept;
  static int64_t highest_equivalent(size_t index) noexcept;

 private:
  struct Unmap {
    void operator()(uint64_t* p) const noexcept;
  };
  std::unique_ptr<uint64_t[], Unmap> counts_;
  uint64_t total_ = 0;
  int64_t min_ = INT64_MAX;
  int64_t max_ = 0;
  double sum_ = 0;
  double sum_squares_ = 0;
  uint64_t underflow_ = 0;
  uint64_t overflow_ = 0;
};

}  // namespace rtt
