// The named choices of an option (mode, timestamp source and format, clock,
// layout): each enum's table is written once, next to the enum, in the names
// the JSON, TypeScript and CLI use; parsers, messages and the addon's
// `choices` export derive from it.
#pragma once

#include <cstddef>
#include <string_view>

namespace rtt {

template <class E>
struct Choice {
  const char* name;
  E value;
};

// The choice called name, or nullptr.
template <class E, size_t N>
constexpr const Choice<E>* find_choice(const Choice<E> (&table)[N], std::string_view name) noexcept {
  for (const Choice<E>& c : table) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

template <class E, size_t N>
constexpr const char* choice_name(const Choice<E> (&table)[N], E value) noexcept {
  for (const Choice<E>& c : table) {
    if (c.value == value) return c.name;
  }
  return "";
}

}  // namespace rtt
