#include "pinning.hpp"

#include <sched.h>
#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "errors.hpp"

namespace rtt {
namespace {

std::string allowed_cpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) != 0) return "unknown";
  std::string out;
  for (int i = 0; i < CPU_SETSIZE; ++i) {
    if (!CPU_ISSET(i, &set)) continue;
    if (!out.empty()) out += ",";
    out += std::to_string(i);
  }
  return out;
}

}  // namespace

PinningGrant apply_pinning(const PinningRequest& r) {
  PinningGrant g;
  pthread_t self = pthread_self();
  if (r.cpu >= 0) {
    if (r.cpu >= CPU_SETSIZE) {
      throw SystemError(EINVAL, "CPU " + std::to_string(r.cpu) + " does not exist (this process may use CPUs " +
                                    allowed_cpus() + ")");
    }
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(r.cpu, &set);
    if (int err = pthread_setaffinity_np(self, sizeof set, &set)) {
      throw SystemError(err, "cannot pin to CPU " + std::to_string(r.cpu) +
                                 " (this process may use CPUs " + allowed_cpus() + ")");
    }
  }
  if (r.rt_priority > 0) {
    sched_param p{};
    p.sched_priority = r.rt_priority;
    if (int err = pthread_setschedparam(self, SCHED_FIFO, &p)) {
      throw SystemError(err, "cannot run SCHED_FIFO at priority " + std::to_string(r.rt_priority) +
                                 (err == EPERM ? " (needs root or CAP_SYS_NICE)" : ""));
    }
  }
  if (r.mlock && mlockall(MCL_CURRENT | MCL_FUTURE) != 0) {
    int err = errno;
    throw SystemError(err, std::string("cannot lock memory with mlockall") +
                               (err == EPERM || err == ENOMEM ? " (needs root, CAP_IPC_LOCK or a higher RLIMIT_MEMLOCK)" : ""));
  }

  cpu_set_t set;
  CPU_ZERO(&set);
  if (pthread_getaffinity_np(self, sizeof set, &set) == 0 && CPU_COUNT(&set) == 1) {
    for (int i = 0; i < CPU_SETSIZE; ++i) {
      if (CPU_ISSET(i, &set)) g.cpu = i;
    }
  }
  int policy = 0;
  sched_param p{};
  if (pthread_getschedparam(self, &policy, &p) == 0 && policy == SCHED_FIFO) g.rt_priority = p.sched_priority;
  g.mlock = r.mlock;
  return g;
}

}  // namespace rtt
