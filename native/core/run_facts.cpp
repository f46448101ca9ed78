#include "run_facts.hpp"

#include "clock.hpp"
#include "file_table.hpp"

namespace rtt {

void RunFacts::setup(const PinningRequest& request, bool private_table, const int* fds, size_t n) {
  pinning = apply_pinning(request);
  if (private_table) private_file_table = make_file_table_private(fds, n) == 0;
}

void RunFacts::begin(UserClock& clock) noexcept {
  started_ns = clock.now();
  cpu_start_ = thread_cpu_ns();
}

void RunFacts::end(UserClock& clock) noexcept {
  ended_ns = clock.now();
  cpu_ns = thread_cpu_ns() - cpu_start_;
  this->clock = clock.granted();
  if (private_file_table) close_private_file_table();
}

}  // namespace rtt
