/*
 * The floor: the least a user-space UDP ping-pong can cost on a path. One
 * pinned thread, one non-blocking socket, a clock read on each side of the
 * round trip, nothing else. rtt-probe is compared against this.
 *
 * With `stamped`, both ends also do the least that kernel software stamps
 * need (SO_TIMESTAMPING on both sockets, the TTL on the server, the TX stamp
 * read from the client's error queue): the floor for a kernel-stamped tool.
 *
 * With `stamp`, both ends also do the least that STAMP (RFC 8762) asks: the
 * client writes its sequence number and T1 into each request and checks that
 * the reply echoes them; the server answers with a STAMP reply written in
 * place (T2 from the kernel's RX stamp, or the clock without `stamped`; T3
 * from the clock; the request's sequence number, T1 and error estimate; and
 * the TTL it arrived with). That is the floor for any STAMP sender and
 * reflector, with kernel stamps (`stamped stamp`) or without.
 *
 * With `pace`, the client is the floor for rate mode: it sends COUNT
 * datagrams on a fixed schedule (busy-waiting on the clock, draining replies
 * between sends) and reports how late each send was against its slot, so the
 * host's own stalls can be told apart from rtt-probe's.
 *
 *   udp_pingpong server ADDR PORT [CPU|-] [stamped] [stamp]
 *   udp_pingpong client ADDR PORT COUNT WARMUP [CPU|-] [blocking] [stamped] [stamp]
 *   udp_pingpong pace ADDR PORT RATE COUNT [CPU|-]
 *
 * The client prints one JSON object (nanoseconds): count, min, p50, p90, p99,
 * p999, max, mean and round trips per second; pace prints count, sendErrorP50,
 * sendErrorP99, sendErrorMax and achievedRate.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/errqueue.h>
#include <linux/net_tstamp.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "floor.h"

/* NTP format (RFC 8762 4.2.1): seconds since 1900 and a 32-bit fraction. */
static uint64_t ntp(int64_t unix_ns) {
  uint64_t sec = (uint64_t)(unix_ns / 1000000000) + 2208988800u;
  uint64_t frac = (((uint64_t)(unix_ns % 1000000000) << 32) + 500000000) / 1000000000;
  return sec << 32 | frac;
}

static void put64(char *at, uint64_t v) {
  v = htobe64(v);
  memcpy(at, &v, 8);
}

static void stamp(int fd, unsigned flags) {
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPING, &flags, sizeof flags) != 0) perror("SO_TIMESTAMPING");
}

/* recvmsg with room for control messages: what a stamped receive costs. With
   t2 and ttl, the kernel's RX stamp and the TTL are read from them. */
static ssize_t receive_stamp(int fd, char *buf, size_t len, struct sockaddr_storage *peer, socklen_t *plen, int flags,
                             int64_t *t2, int *ttl) {
  char control[256];
  struct iovec iov = {buf, len};
  struct msghdr msg = {0};
  msg.msg_name = peer;
  msg.msg_namelen = peer ? *plen : 0;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n = recvmsg(fd, &msg, flags);
  if (peer) *plen = msg.msg_namelen;
  if (n < 0 || !t2) return n;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_TIMESTAMPING) {
      struct scm_timestamping ts;
      memcpy(&ts, CMSG_DATA(c), sizeof ts);
      *t2 = (int64_t)ts.ts[0].tv_sec * 1000000000 + ts.ts[0].tv_nsec;
    } else if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) {
      memcpy(ttl, CMSG_DATA(c), sizeof *ttl);
    }
  }
  return n;
}

static ssize_t receive(int fd, char *buf, size_t len, struct sockaddr_storage *peer, socklen_t *plen, int flags) {
  return receive_stamp(fd, buf, len, peer, plen, flags, NULL, NULL);
}

/* A STAMP reply written over the request it answers (RFC 8762 4.3.1, stateless). */
static void stamp_reply(char *buf, int64_t t2, int ttl) {
  char request[14];
  memcpy(request, buf, sizeof request);  /* sequence number, T1, error estimate */
  memcpy(buf + 24, request, 4);
  memcpy(buf + 28, request + 4, 10);
  memset(buf + 38, 0, 6);
  buf[40] = (char)ttl;
  put64(buf + 16, ntp(t2));
  buf[12] = 0;
  buf[13] = 1;  /* error estimate: unsynchronized, NTP format, multiplier 1 */
  put64(buf + 4, ntp(now_ns()));
}

static int server(const char *host, int port, const char *cpu, int stamped, int protocol) {
  /* The server spins until killed: it goes with the benchmark or test that started it. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  pin(cpu);
  struct sockaddr_storage local, peer;
  socklen_t len = address(host, port, &local);
  int fd = socket(local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0 || bind(fd, (struct sockaddr *)&local, len) != 0) {
    perror("bind");
    return 1;
  }
  if (stamped) stamp(fd, SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
  if (stamped || protocol) {
    int on = 1;
    setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &on, sizeof on);
  }
  printf("listening\n");
  fflush(stdout);
  char buf[65536];
  for (;;) {
    socklen_t plen = sizeof peer;
    int64_t t2 = -1;
    int ttl = 0;
    ssize_t n = protocol  ? receive_stamp(fd, buf, sizeof buf, &peer, &plen, 0, &t2, &ttl)
                : stamped ? receive(fd, buf, sizeof buf, &peer, &plen, 0)
                          : recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&peer, &plen);
    if (n < 0) continue;
    if (protocol) {
      if (n < 44) continue;
      stamp_reply(buf, t2 >= 0 ? t2 : now_ns(), ttl);
    }
    sendto(fd, buf, n, 0, (struct sockaddr *)&peer, plen);
  }
}

static int client(const char *host, int port, long count, long warmup, const char *cpu, int blocking, int stamped, int protocol) {
  pin(cpu);
  struct sockaddr_storage remote;
  socklen_t len = address(host, port, &remote);
  int fd = socket(remote.ss_family, SOCK_DGRAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&remote, len) != 0) {
    perror("connect");
    return 1;
  }
  if (stamped) {
    stamp(fd, SOF_TIMESTAMPING_TX_SOFTWARE | SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE |
                  SOF_TIMESTAMPING_OPT_ID | SOF_TIMESTAMPING_OPT_TSONLY);
  }
  int64_t *rtt = malloc(sizeof(int64_t) * count);
  /* The request stays all zero (a valid STAMP test packet), so rtt-probe's
     reflector can answer the floor client too; replies land elsewhere. */
  char request[64] = {0}, buf[65536];
  int64_t started = 0;
  for (long i = 0; i < warmup + count; i++) {
    if (i == warmup) started = now_ns();
    int64_t t0 = now_ns();
    if (protocol) {
      uint32_t seq = htonl((uint32_t)i);
      memcpy(request, &seq, 4);
      put64(request + 4, ntp(t0));
    }
    if (send(fd, request, 44, 0) != 44) {
      perror("send");
      return 1;
    }
    /* The TX stamp is queued before send() returns on loopback and veth. */
    if (stamped) receive(fd, buf, sizeof buf, NULL, NULL, MSG_ERRQUEUE | MSG_DONTWAIT);
    /* A lost datagram would hang a floor measurement: give up after 1 s. */
    while ((stamped ? receive(fd, buf, sizeof buf, NULL, NULL, 0) : recv(fd, buf, sizeof buf, 0)) < 0) {
      if (errno != EAGAIN || now_ns() - t0 > 1000000000) {
        fprintf(stderr, "no reply\n");
        return 1;
      }
    }
    int64_t t1 = now_ns();
    /* A STAMP reply must echo this probe's sequence number and T1. */
    if (protocol && memcmp(buf + 24, request, 4) != 0) {
      fprintf(stderr, "reply does not echo probe %ld\n", i);
      return 1;
    }
    if (protocol && memcmp(buf + 28, request + 4, 8) != 0) {
      fprintf(stderr, "reply does not echo the T1 of probe %ld\n", i);
      return 1;
    }
    if (i >= warmup) rtt[i - warmup] = t1 - t0;
  }
  print_rtts(rtt, count, now_ns() - started);
  return 0;
}

static int pace(const char *host, int port, double rate, long count, const char *cpu) {
  pin(cpu);
  struct sockaddr_storage remote;
  socklen_t len = address(host, port, &remote);
  int fd = socket(remote.ss_family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&remote, len) != 0) {
    perror("connect");
    return 1;
  }
  int64_t *late = malloc(sizeof(int64_t) * count);
  char request[64] = {0}, buf[65536];
  int64_t interval = (int64_t)(1e9 / rate + 0.5);
  int64_t first = now_ns(), next = first, last = first;
  for (long i = 0; i < count; i++) {
    int64_t t;
    while ((t = now_ns()) < next) recv(fd, buf, sizeof buf, MSG_DONTWAIT);
    late[i] = t - next;
    last = t;
    send(fd, request, 44, 0);
    next += interval;
  }
  qsort(late, count, sizeof(int64_t), compare);
  printf("{\"count\":%ld,\"sendErrorP50\":%lld,\"sendErrorP99\":%lld,\"sendErrorMax\":%lld,\"achievedRate\":%.1f}\n", count,
         (long long)rank(late, count, 50), (long long)rank(late, count, 99), (long long)late[count - 1],
         count > 1 ? (count - 1) / ((last - first) / 1e9) : 0.0);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "server") == 0) {
    int protocol = has_flag(argc, argv, 5, "stamp");
    return server(argv[2], atoi(argv[3]), argc > 4 && strcmp(argv[4], "-") ? argv[4] : NULL,
                  has_flag(argc, argv, 5, "stamped"), protocol);
  }
  if (argc >= 6 && strcmp(argv[1], "client") == 0) {
    int protocol = has_flag(argc, argv, 7, "stamp");
    return client(argv[2], atoi(argv[3]), atol(argv[4]), atol(argv[5]), argc > 6 && strcmp(argv[6], "-") ? argv[6] : NULL,
                  has_flag(argc, argv, 7, "blocking"), has_flag(argc, argv, 7, "stamped"), protocol);
  }
  if (argc >= 6 && strcmp(argv[1], "pace") == 0 && atof(argv[4]) > 0 && atol(argv[5]) > 1) {
    return pace(argv[2], atoi(argv[3]), atof(argv[4]), atol(argv[5]), argc > 6 && strcmp(argv[6], "-") ? argv[6] : NULL);
  }
  fprintf(stderr, "usage: udp_pingpong server ADDR PORT [CPU|-] [stamped] [stamp]\n"
                  "       udp_pingpong client ADDR PORT COUNT WARMUP [CPU|-] [blocking] [stamped] [stamp]\n"
                  "       udp_pingpong pace ADDR PORT RATE COUNT [CPU|-]\n");
  return 2;
}
