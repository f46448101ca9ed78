#include "file_table.hpp"

#include <linux/close_range.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <vector>

namespace rtt {
namespace {

int close_range_call(unsigned first, unsigned last, unsigned flags) noexcept {
  return int(syscall(SYS_close_range, first, last, flags));
}

}  // namespace

int make_file_table_private(const int* keep, size_t count) noexcept {
  std::vector<unsigned> kept = {0, 1, 2};
  for (size_t i = 0; i < count; ++i) {
    if (keep[i] >= 0) kept.push_back(unsigned(keep[i]));
  }
  std::sort(kept.begin(), kept.end());
  kept.erase(std::unique(kept.begin(), kept.end()), kept.end());
  // One call copies the table up to the highest kept descriptor and drops the
  // rest uncopied; closing the copies of the gaps below only drops this
  // thread's references (the rest of the process keeps its own).
  if (close_range_call(kept.back() + 1, UINT_MAX, CLOSE_RANGE_UNSHARE) != 0) return errno;
  for (size_t i = 1; i < kept.size(); ++i) {
    if (kept[i] > kept[i - 1] + 1) close_range_call(kept[i - 1] + 1, kept[i] - 1, 0);
  }
  return 0;
}

void close_private_file_table() noexcept { close_range_call(3, UINT_MAX, 0); }

}  // namespace rtt
