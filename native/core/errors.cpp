#include "errors.hpp"

#include <cstring>

namespace rtt {

std::string errno_name(int err) {
  const char* name = strerrorname_np(err);
  return name ? std::string(name) : "E" + std::to_string(err);
}

SystemError::SystemError(int err, const std::string& message)
    : std::runtime_error(message + ": " + std::strerror(err) + " (" + errno_name(err) + ")"),
      err_(err),
      code_(errno_name(err)) {}

}  // namespace rtt
