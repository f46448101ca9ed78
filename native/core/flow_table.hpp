// A fixed-capacity hash table keyed by a sender's address (and, for STAMP
// sessions, its port and SSID): the reflector's per-source and per-session
// state. Every slot is allocated up front, so lookups and inserts in the
// packet path never allocate, and the entry count never exceeds the bound a
// flood of spoofed sources could otherwise push it past. The hash is seeded
// per process so a sender cannot choose colliding keys.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "address.hpp"

namespace rtt {

// IPv4 addresses are stored v4-mapped, so one table serves both families
// (and a v4-mapped peer on a dual-stack socket is the same source as plain IPv4).
struct FlowKey {
  uint8_t address[16] = {};
  uint16_t port = 0;
  uint16_t ssid = 0;

  bool operator==(const FlowKey& o) const noexcept {
    return port == o.port && ssid == o.ssid && std::memcmp(address, o.address, sizeof address) == 0;
  }
};

// The peer's address as 16 bytes, IPv4 v4-mapped (::ffff:a.b.c.d).
void mapped_address(const Endpoint& e, uint8_t (&out)[16]) noexcept;
FlowKey flow_key(const Endpoint& e, bool with_port, uint16_t ssid) noexcept;
uint64_t hash_key(const FlowKey& k, uint64_t seed) noexcept;
// A seed no sender can predict (getrandom), for hash_key.
uint64_t random_seed() noexcept;

template <class Value>
class FlowTable {
 public:
  // Capacity is twice max_entries so probe chains stay short and always end.
  FlowTable(size_t max_entries, uint64_t seed) : max_(max_entries), seed_(seed) {
    size_t capacity = 16;
    while (capacity < 2 * max_entries) capacity <<= 1;
    slots_.resize(capacity);
    spare_.resize(capacity);
    mask_ = capacity - 1;
  }

  // The entry of key; a new one holding Value{} when key is absent and fewer
  // than max_entries are in use (inserted is then true); nullptr when full.
  Value* find_or_insert(const FlowKey& key, bool& inserted) noexcept {
    inserted = false;
    for (size_t i = hash_key(key, seed_) & mask_;; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.used && s.key == key) return &s.value;
      if (!s.used) {
        if (used_ >= max_) return nullptr;
        s.used = true;
        s.key = key;
        s.value = Value{};
        ++used_;
        inserted = true;
        return &s.value;
      }
    }
  }

  // The entry of key, or nullptr.
  Value* find(const FlowKey& key) noexcept {
    for (size_t i = hash_key(key, seed_) & mask_; slots_[i].used; i = (i + 1) & mask_) {
      if (slots_[i].key == key) return &slots_[i].value;
    }
    return nullptr;
  }

  // Removes key's entry, if any. Later entries of its probe chain move back
  // into the hole where their home slot allows (backward-shift deletion), so
  // lookups need no tombstones. Pointers to entries are invalid afterwards.
  void erase(const FlowKey& key) noexcept {
    size_t hole = hash_key(key, seed_) & mask_;
    for (;; hole = (hole + 1) & mask_) {
      if (!slots_[hole].used) return;
      if (slots_[hole].key == key) break;
    }
    for (size_t j = (hole + 1) & mask_; slots_[j].used; j = (j + 1) & mask_) {
      size_t home = hash_key(slots_[j].key, seed_) & mask_;
      // The entry at j may fill the hole unless its home lies in (hole, j].
      if (((j - home) & mask_) >= ((j - hole) & mask_)) {
        slots_[hole] = slots_[j];
        hole = j;
      }
    }
    slots_[hole].used = false;
    --used_;
  }

  // Drops the entries for which stale(value) is true and re-inserts the rest,
  // which keeps probe chains free of holes. O(capacity): call it on a timer,
  // never per packet.
  template <class Stale>
  void sweep(Stale stale) noexcept {
    slots_.swap(spare_);
    for (Slot& s : slots_) s.used = false;
    used_ = 0;
    for (Slot& old : spare_) {
      if (!old.used || stale(old.value)) continue;
      size_t i = hash_key(old.key, seed_) & mask_;
      while (slots_[i].used) i = (i + 1) & mask_;
      slots_[i] = old;
      ++used_;
    }
  }

  size_t size() const noexcept { return used_; }
  size_t max_entries() const noexcept { return max_; }

 private:
  struct Slot {
    FlowKey key;
    Value value{};
    bool used = false;
  };
  std::vector<Slot> slots_;
  std::vector<Slot> spare_;  // sweep() rebuilds into it, so it never allocates
  size_t mask_ = 0;
  size_t max_;
  size_t used_ = 0;
  uint64_t seed_;
};

}  // namespace rtt
