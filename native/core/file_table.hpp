// A session thread's own file table. While other threads share the process's
// file table (every Node process), each system call on a socket takes and
// drops a reference to the file: two atomic read-modify-writes per call, about
// 30 ns of a spinning reflector's round trip here. A thread with a private
// table skips them.
#pragma once

#include <cstddef>

namespace rtt {

// Gives the calling thread a file table of its own that holds only stdio (where
// sanitizers report) and the descriptors in `keep`, so a file the rest of the
// process closes meanwhile is not kept open by it. The thread must then use no
// other descriptor: a progress sink it calls must not write to a pipe or an
// eventfd. Returns 0, or the errno of a kernel without close_range (before
// Linux 5.9), in which case the table stays shared and nothing changed.
int make_file_table_private(const int* keep, size_t count) noexcept;

// Closes the calling thread's own copies of every descriptor above stdio, as
// its loop ends: a thread's table is released only after a join on it has
// returned, and a socket it still held would keep its port bound meanwhile.
// Only for a thread whose make_file_table_private() returned 0.
void close_private_file_table() noexcept;

}  // namespace rtt
