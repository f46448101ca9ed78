/*
 * The TCP floor: the least a user-space TCP request/response can cost on a
 * path, as netperf TCP_RR measures it. One pinned thread per end, non-blocking
 * sockets with TCP_NODELAY, a clock read on each side of the round trip,
 * nothing else. rtt-probe --proto tcp is compared against this.
 *
 * The server echoes what it reads on every connection it accepts (any number
 * at once), so it serves both client modes and any TCP ping-pong client.
 *
 * With `crr`, the client is netperf TCP_CRR's floor: each transaction
 * connects, writes the request, reads the reply and closes, and its time runs
 * from the connect to the reply read. It closes with an RST (SO_LINGER 0), so
 * no TIME_WAIT is left on the client and a long run does not use up the
 * ephemeral ports.
 *
 *   tcp_pingpong server ADDR PORT [CPU|-]
 *   tcp_pingpong client ADDR PORT COUNT WARMUP [CPU|-] [blocking] [crr]
 *
 * The client writes 44-byte requests (a STAMP test packet's size) and prints
 * one JSON object (nanoseconds): count, min, p50, p90, p99, p999, max, mean
 * and round trips per second.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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

#define REQUEST 44
/* Connections the server holds at once; more wait in the listen backlog. */
#define MAX_CONNECTIONS 256

/* Without TCP_NODELAY, Nagle holds a small write until the previous one is acknowledged. */
static void nodelay(int fd) {
  int on = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

static int server(const char *host, int port, const char *cpu) {
  /* The server spins until killed: it goes with the benchmark or test that started it. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  pin(cpu);
  struct sockaddr_storage local;
  socklen_t len = address(host, port, &local);
  int listener = socket(local.ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  int on = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (listener < 0 || bind(listener, (struct sockaddr *)&local, len) != 0 || listen(listener, 1024) != 0) {
    perror("bind");
    return 1;
  }
  printf("listening\n");
  fflush(stdout);
  int conns[MAX_CONNECTIONS];
  int open = 0;
  char buf[65536];
  for (;;) {
    if (open < MAX_CONNECTIONS) {
      int fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK);
      if (fd >= 0) {
        nodelay(fd);
        conns[open++] = fd;
      }
    }
    for (int i = 0; i < open; i++) {
      ssize_t n = recv(conns[i], buf, sizeof buf, 0);
      if (n > 0) {
        /* A reply the send buffer cannot take at once is finished by spinning: the client waits for it anyway. */
        for (ssize_t sent = 0; sent < n;) {
          ssize_t w = send(conns[i], buf + sent, n - sent, MSG_NOSIGNAL);
          if (w > 0) sent += w;
          else if (errno != EAGAIN) break;
        }
      } else if (n == 0 || errno != EAGAIN) {
        close(conns[i]);
        conns[i--] = conns[--open];
      }
    }
  }
}

/* A TCP socket with TCP_NODELAY; with linger_zero, its close sends an RST and leaves no TIME_WAIT. */
static int open_socket(int family, int blocking, int linger_zero) {
  int fd = socket(family, SOCK_STREAM | (blocking ? 0 : SOCK_NONBLOCK), 0);
  if (fd < 0) {
    perror("socket");
    exit(1);
  }
  nodelay(fd);
  if (linger_zero) {
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  }
  return fd;
}

/* Busy-polled, the connect does not wait: the first send spins on EAGAIN until the handshake is done,
   with no sleep and wake-up in between. */
static void start_connect(int fd, const struct sockaddr_storage *remote, socklen_t len) {
  if (connect(fd, (const struct sockaddr *)remote, len) != 0 && errno != EINPROGRESS) {
    perror("connect");
    exit(1);
  }
}

/* One request written whole and its echo read whole; 0, or 1 with the reason printed. */
static int transact(int fd, const char *request, char *buf, long i) {
  int64_t started = now_ns();
  for (ssize_t sent = 0; sent < REQUEST;) {
    ssize_t w = send(fd, request + sent, REQUEST - sent, MSG_NOSIGNAL);
    if (w > 0) sent += w;
    else if (errno != EAGAIN) {
      perror("send");
      return 1;
    }
  }
  /* TCP loses no reply, but a stalled server would hang a floor measurement: give up after 5 s,
     well past a retransmission or a stall of a busy host. */
  for (ssize_t got = 0; got < REQUEST;) {
    ssize_t n = recv(fd, buf + got, REQUEST - got, 0);
    if (n > 0) got += n;
    else if (n == 0) {
      fprintf(stderr, "the server closed the connection at transaction %ld\n", i);
      return 1;
    } else if (errno != EAGAIN || now_ns() - started > 5000000000) {
      fprintf(stderr, "no reply to transaction %ld\n", i);
      return 1;
    }
  }
  return 0;
}

static int client(const char *host, int port, long count, long warmup, const char *cpu, int blocking, int crr) {
  pin(cpu);
  struct sockaddr_storage remote;
  socklen_t len = address(host, port, &remote);
  int fd = -1;
  if (!crr) {
    fd = open_socket(remote.ss_family, blocking, 0);
    start_connect(fd, &remote, len);
  }
  int64_t *rtt = malloc(sizeof(int64_t) * count);
  char request[REQUEST] = {0}, buf[REQUEST];
  int64_t started = 0;
  for (long i = 0; i < warmup + count; i++) {
    if (i == warmup) started = now_ns();
    /* In crr, a transaction runs from the connect to the reply read, as rtt-probe's `transaction`. */
    if (crr) fd = open_socket(remote.ss_family, blocking, 1);
    int64_t t0 = now_ns();
    if (crr) start_connect(fd, &remote, len);
    if (transact(fd, request, buf, i) != 0) return 1;
    int64_t t1 = now_ns();
    if (crr) close(fd);
    if (i >= warmup) rtt[i - warmup] = t1 - t0;
  }
  print_rtts(rtt, count, now_ns() - started);
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 4 && strcmp(argv[1], "server") == 0) {
    return server(argv[2], atoi(argv[3]), argc > 4 && strcmp(argv[4], "-") ? argv[4] : NULL);
  }
  if (argc >= 6 && strcmp(argv[1], "client") == 0 && atol(argv[4]) > 0) {
    return client(argv[2], atoi(argv[3]), atol(argv[4]), atol(argv[5]), argc > 6 && strcmp(argv[6], "-") ? argv[6] : NULL,
                  has_flag(argc, argv, 7, "blocking"), has_flag(argc, argv, 7, "crr"));
  }
  fprintf(stderr, "usage: tcp_pingpong server ADDR PORT [CPU|-]\n"
                  "       tcp_pingpong client ADDR PORT COUNT WARMUP [CPU|-] [blocking] [crr]\n");
  return 2;
}
