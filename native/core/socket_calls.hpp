// libc's recvmsg, recvfrom, sendto and sendmsg are pthread cancellation
// points: in a process with more than one thread (every Node process) each
// call brackets the system call with two atomic read-modify-writes, 6 % of a
// spinning loop's time. Session threads are never cancelled, so they make
// the system calls directly.
#pragma once

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "transport.hpp"

#ifndef SO_PREFER_BUSY_POLL
#define SO_PREFER_BUSY_POLL 69
#endif

namespace rtt {

inline ssize_t receive_message(int fd, msghdr* msg, int flags) noexcept { return syscall(SYS_recvmsg, fd, msg, flags); }
inline ssize_t receive_payload(int fd, void* data, size_t capacity) noexcept {
  return syscall(SYS_recvfrom, fd, data, capacity, MSG_DONTWAIT, nullptr, nullptr);
}
inline ssize_t send_to(int fd, const void* data, size_t length, const sockaddr* to, socklen_t to_length) noexcept {
  return syscall(SYS_sendto, fd, data, length, 0, to, to_length);
}
inline ssize_t send_message(int fd, const msghdr* msg, int flags) noexcept { return syscall(SYS_sendmsg, fd, msg, flags); }

// A message over one buffer, with room for control messages (stamps, TTL).
inline msghdr message_into(iovec& iov, void* control, size_t control_size) noexcept {
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = control_size;
  return msg;
}

// SO_BUSY_POLL (and SO_PREFER_BUSY_POLL) for us microseconds; 0 leaves the socket's default.
inline BusyPollGrant set_busy_poll(int fd, int us) noexcept {
  BusyPollGrant g;
  g.requested_us = us;
  if (us <= 0) return g;
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_BUSY_POLL, &us, sizeof us) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_PREFER_BUSY_POLL, &on, sizeof on) != 0) {
    g.refused_errno = errno;
  } else {
    g.granted = true;
  }
  return g;
}

}  // namespace rtt
