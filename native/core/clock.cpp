#include "clock.hpp"

#include <sys/timex.h>

namespace rtt {

wire::ErrorEstimate local_error_estimate(wire::TimestampFormat format) noexcept {
  wire::ErrorEstimate e;
  e.format = format;
  timex tx{};
  int state = adjtimex(&tx);
  e.synchronized = state != -1 && state != TIME_ERROR && !(tx.status & STA_UNSYNC);
  // Error in units of 2^-32 s, then the smallest scale that fits 8 bits.
  double units = (e.synchronized && tx.esterror > 0 ? double(tx.esterror) * 1e-6 : 1e-6) * 4294967296.0;
  uint8_t scale = 0;
  while (units > 255 && scale < 63) {
    units /= 2;
    ++scale;
  }
  e.scale = scale;
  e.multiplier = units < 1 ? 1 : uint8_t(units + 0.5 > 255 ? 255 : units + 0.5);
  return e;
}

}  // namespace rtt
