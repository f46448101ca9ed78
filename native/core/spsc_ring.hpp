// A bounded single-producer single-consumer queue of trivially copyable
// items, lock-free: one thread pushes, one other pops. Storage is allocated
// once; push and pop never allocate, lock or make a system call.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>

namespace rtt {

template <class T>
class SpscRing {
 public:
  // capacity: a power of two.
  explicit SpscRing(size_t capacity) : items_(new T[capacity]), mask_(capacity - 1) {}

  // Producer: false when full.
  bool push(const T& item) noexcept {
    size_t tail = tail_.load(std::memory_order_relaxed);
    if (tail - head_.load(std::memory_order_acquire) > mask_) return false;
    items_[tail & mask_] = item;
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Consumer: false when empty.
  bool pop(T& item) noexcept {
    size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) return false;
    item = items_[head & mask_];
    head_.store(head + 1, std::memory_order_release);
    return true;
  }

  size_t capacity() const noexcept { return mask_ + 1; }

 private:
  std::unique_ptr<T[]> items_;
  size_t mask_;
  // Each index on its own cache line: the two threads write one each.
  alignas(64) std::atomic<size_t> head_{0};
  alignas(64) std::atomic<size_t> tail_{0};
};

}  // namespace rtt
