// What every transport does with its sockets: the system calls a spinning
// loop makes (directly, see below), buffer sizes, SO_BUSY_POLL, IP header
// fields, and draining TX stamps from the error queue.
#pragma once

#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "transport.hpp"
#include "user_clock.hpp"

namespace rtt {

// libc's recvmsg, recvfrom, sendto and sendmsg are pthread cancellation points: in a
// process with more than one thread (every Node process) each call brackets
// the system call with two atomic read-modify-writes, 6 % of a spinning loop's
// time. Session threads are never cancelled, so they make the system calls
// directly.
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

// One recvmsg into data: the user clock read as it returns (into d.user_ns,
// where clock is given), then the control messages parsed into d.stamps,
// and the sender's address into d.peer when with_peer (length 0 otherwise).
ssize_t receive_stamped(int fd, void* data, size_t capacity, bool with_peer, uint8_t* control, size_t control_size,
                        UserClock* clock, Datagram& d) noexcept;
// Room for bursts while the loop's thread is descheduled.
void enlarge_buffers(int fd) noexcept;
// SO_BUSY_POLL and SO_PREFER_BUSY_POLL; us 0 leaves the socket default.
BusyPollGrant request_busy_poll(int fd, int us) noexcept;
// The DSCP (IP_TOS / IPV6_TCLASS) and TTL (IP_TTL / IPV6_UNICAST_HOPS) of
// what fd sends; ttl 0 keeps the system default. An IPv6 socket gets the
// IPv4 fields too, for its v4-mapped peers.
void set_ip_header_fields(int fd, int family, int dscp, int ttl) noexcept;
// Drains the error queue up to one TX stamp (ICMP errors are skipped); false at EAGAIN.
bool read_tx_stamp(int fd, uint8_t* control, size_t control_size, TxStamp& out) noexcept;

}  // namespace rtt
