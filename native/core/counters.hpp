// The counters of senders and reflectors. Each list is written once, as
// X(member, "jsonName"): it declares the struct's members, its name list (the
// addon's `counterNames`) and its visitor (the glue's one conversion), in this
// order, which is the JSON's. Adding a counter is one line in a list here and
// one in src/counters.ts.
#pragma once

#include <cstdint>

namespace rtt {

#define RTT_SENDER_COUNTERS(X)                                                                              \
  X(sent, "sent")                      /* measured probes sent */                                           \
  X(received, "received")              /* measured probes answered in time: the samples */                  \
  X(lost, "lost")                      /* no reply before the timeout */                                    \
  X(duplicates, "duplicates")          /* another reply to an answered probe */                             \
  X(reordered, "reordered")            /* reply older than one already received */                          \
  X(late, "late")                      /* reply after its probe timed out (not a sample) */                 \
  X(malformed, "malformed")            /* too short for the reply layout (36 bytes; 112 authenticated) */   \
  X(auth_failures, "authFailures")     /* authenticated mode: HMAC did not verify */                        \
  X(corrupted, "corrupted")            /* echoed T1 differs from the probe's, or T2/T3 impossible */        \
  X(unexpected, "unexpected")          /* sequence number this session never sent */                        \
  X(in_flight, "inFlight")             /* awaiting reply when the session was stopped */                    \
  X(send_errors, "sendErrors")                                                                              \
  X(icmp_errors, "icmpErrors")         /* ECONNREFUSED and friends reported on the socket */                \
  X(tx_stamps_missing, "txStampsMissing")                                                                  \
  X(capture_dropped, "captureDropped") /* per-probe capture rows not written: the writer fell behind */   \
  X(connect_errors, "connectErrors")   /* TCP: a connection was refused, reset or timed out while opening */ \
  X(disconnects, "disconnects")        /* TCP: the peer closed or reset the connection mid-run */           \
  X(echoes, "echoes")                  /* replies equal to their request: an echo service, no T2/T3 */

#define RTT_REFLECTOR_COUNTERS(X)                                                                           \
  X(received, "received")                     /* datagrams read */                                          \
  X(reflected, "reflected")                   /* replies sent */                                            \
  X(malformed, "malformed")                   /* too short (or not a test packet) for the mode */           \
  X(loops, "loops")                           /* a reflector's reply, not a request: never answered */      \
  X(auth_failures, "authFailures")            /* HMAC did not verify */                                     \
  X(denied, "denied")                         /* source not on the allow-list */                            \
  X(rate_limited, "rateLimited")              /* over the per-source reply rate */                          \
  X(global_rate_limited, "globalRateLimited") /* over the global reply rate */                              \
  X(replayed, "replayed")                     /* stateful: sender sequence number already answered */       \
  X(out_of_window, "outOfWindow")             /* stateful: too far behind to tell, or an unconfirmed jump */ \
  X(sessions_refused, "sessionsRefused")      /* stateful: max_sessions were live, each proven */            \
  X(sessions_evicted, "sessionsEvicted")      /* stateful: unproven sessions dropped to make room */         \
  X(send_errors, "sendErrors")                                                                              \
  X(rx_stamps_missing, "rxStampsMissing")     /* T2 fell back to the user-space clock */                    \
  X(active_sessions, "activeSessions")        /* stateful: live sessions (a level, not a count) */           \
  X(connections, "connections")               /* TCP: connections accepted */                               \
  X(connections_refused, "connectionsRefused") /* TCP: reset at once, max connections were open */          \
  X(request_timeouts, "requestTimeouts")      /* TCP: closed with a partial request older than the deadline */

#define RTT_COUNTER_MEMBER(member, name) uint64_t member = 0;
#define RTT_COUNTER_NAME(member, name) name,
#define RTT_COUNTER_VISIT(member, name) visit(name, member);
// A counter struct's body from its list: the members, kNames, and
// for_each(visit), which calls visit("jsonName", value) for each in list order.
#define RTT_COUNTER_FIELDS(LIST)                                  \
  LIST(RTT_COUNTER_MEMBER)                                        \
  static constexpr const char* kNames[] = {LIST(RTT_COUNTER_NAME)}; \
  template <class Visit>                                          \
  void for_each(Visit&& visit) const {                            \
    LIST(RTT_COUNTER_VISIT)                                       \
  }

struct SenderCounters {
  RTT_COUNTER_FIELDS(RTT_SENDER_COUNTERS)
};

struct ReflectorCounters {
  RTT_COUNTER_FIELDS(RTT_REFLECTOR_COUNTERS)
};

}  // namespace rtt
