/*
 * What the floor programs share: the clock, pinning, numeric addresses,
 * flags, and the client's summary line. Header-only, so each floor still
 * builds from its one source file (cc -O2 -o X X.c).
 */
#ifndef FLOOR_H
#define FLOOR_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void pin(const char *cpu) {
  if (!cpu) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(atoi(cpu), &set);
  if (sched_setaffinity(0, sizeof set, &set) != 0) perror("sched_setaffinity");
}

static socklen_t address(const char *host, int port, struct sockaddr_storage *ss) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    return sizeof *v4;
  }
  if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    return sizeof *v6;
  }
  fprintf(stderr, "not a numeric address: %s\n", host);
  exit(2);
}

static int has_flag(int argc, char **argv, int from, const char *flag) {
  for (int i = from; i < argc; i++)
    if (strcmp(argv[i], flag) == 0) return 1;
  return 0;
}

static int compare(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

static int64_t rank(const int64_t *sorted, long n, double p) {
  long r = (long)(p / 100.0 * n + 0.999999999);
  if (r < 1) r = 1;
  return sorted[r - 1];
}

/* The client's one JSON line (nanoseconds); sorts rtt in place. */
static void print_rtts(int64_t *rtt, long count, int64_t elapsed) {
  double sum = 0;
  for (long i = 0; i < count; i++) sum += rtt[i];
  qsort(rtt, count, sizeof(int64_t), compare);
  printf("{\"count\":%ld,\"min\":%lld,\"p50\":%lld,\"p90\":%lld,\"p99\":%lld,\"p999\":%lld,\"max\":%lld,"
         "\"mean\":%.0f,\"roundTripsPerSecond\":%.1f}\n",
         count, (long long)rtt[0], (long long)rank(rtt, count, 50), (long long)rank(rtt, count, 90),
         (long long)rank(rtt, count, 99), (long long)rank(rtt, count, 99.9), (long long)rtt[count - 1], sum / count,
         count / (elapsed / 1e9));
}

#endif
