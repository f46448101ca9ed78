/*
 * A UDP flooder for tests: sends 44-byte STAMP requests (unauthenticated
 * Session-Sender packets, RFC 8762 4.2.1) to ADDR:PORT in batches of 64 with
 * sendmmsg, as fast as it can, so that a reflector's socket queue stays full.
 * It stops by itself after SECONDS or COUNT datagrams, whichever comes first,
 * prints {"sent":N,"seconds":S} and exits; it dies with the process that
 * started it, so a killed test leaves nothing spinning.
 *
 *   flood ADDR PORT SECONDS COUNT
 *
 * IPv4 only: tests flood loopback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { kBatch = 64, kSize = 44 };

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int main(int argc, char **argv) {
  /* Before anything else: a parent that dies after this takes the flood with it. */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() == 1) return 1; /* the parent died before prctl */
  if (argc != 5) {
    fprintf(stderr, "usage: flood ADDR PORT SECONDS COUNT\n");
    return 2;
  }
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  double seconds = atof(argv[3]);
  long long count = atoll(argv[4]);
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1 || to.sin_port == 0 || seconds <= 0 || seconds > 60 || count <= 0) {
    fprintf(stderr, "flood: need an IPv4 address, a port, 0 < SECONDS <= 60 and COUNT > 0\n");
    return 2;
  }
  int fd = socket(AF_INET, SOCK_DGRAM, 0);
  if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof to) != 0) {
    perror("flood: socket");
    return 1;
  }

  static unsigned char packets[kBatch][kSize];
  struct iovec iov[kBatch];
  struct mmsghdr msgs[kBatch];
  memset(msgs, 0, sizeof msgs);
  for (int i = 0; i < kBatch; i++) {
    iov[i].iov_base = packets[i];
    iov[i].iov_len = kSize;
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
  }

  int64_t start = now_ns();
  int64_t until = start + (int64_t)(seconds * 1e9);
  long long sent = 0;
  uint32_t seq = 0;
  while (sent < count && now_ns() < until) {
    unsigned batch = count - sent < kBatch ? (unsigned)(count - sent) : kBatch;
    for (unsigned i = 0; i < batch; i++) {
      uint32_t s = htonl(seq++);
      memcpy(packets[i], &s, 4); /* the rest stays zero: T1 0, MBZ 0 */
    }
    /* Loopback drops what a full receive queue cannot take; the send still counts. */
    int n = sendmmsg(fd, msgs, batch, 0);
    if (n > 0) sent += n;
  }
  printf("{\"sent\":%lld,\"seconds\":%.3f}\n", sent, (double)(now_ns() - start) / 1e9);
  return 0;
}
