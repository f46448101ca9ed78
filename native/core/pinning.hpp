// CPU affinity, real-time priority and memory locking for a session thread.
#pragma once

#include <pthread.h>

namespace rtt {

struct PinningRequest {
  int cpu = -1;          // -1: leave affinity alone
  int rt_priority = 0;   // 0: leave the scheduler alone; 1..99: SCHED_FIFO
  bool mlock = false;    // mlockall(MCL_CURRENT | MCL_FUTURE)
};

struct PinningGrant {
  int cpu = -1;          // the single CPU the thread is bound to, -1 when not pinned
  int rt_priority = 0;   // SCHED_FIFO priority read back, 0 when not real-time
  bool mlock = false;
};

// Applies the request to the calling thread and reads back what took effect.
// Throws SystemError (EINVAL for a CPU this process may not use, EPERM without
// CAP_SYS_NICE / CAP_IPC_LOCK) with a message saying what to change.
PinningGrant apply_pinning(const PinningRequest& request);

}  // namespace rtt
