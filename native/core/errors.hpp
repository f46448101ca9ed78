// Errors raised by the core. The addon turns SystemError into a JS Error whose
// `code` is the errno name, so callers can branch on EADDRINUSE, EPERM, ...
#pragma once

#include <stdexcept>
#include <string>

namespace rtt {

// errno name ("EADDRINUSE"), or "E<number>" for values glibc does not name.
std::string errno_name(int err);

class SystemError : public std::runtime_error {
 public:
  SystemError(int err, const std::string& message);
  int err() const noexcept { return err_; }
  const char* code() const noexcept { return code_.c_str(); }

 private:
  int err_;
  std::string code_;
};

// Invalid configuration that slipped past the TypeScript validation.
class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace rtt
