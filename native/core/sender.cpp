#include "sender.hpp"

#include <algorithm>
#include <climits>

#include "errors.hpp"

namespace rtt {
namespace {

void fill_progress(const Histogram& h, MetricProgress& out, bool with_counts) noexcept {
  static constexpr double kPs[4] = {50, 90, 99, 99.9};
  int64_t v[4];
  h.values_at_percentiles(kPs, v, 4);
  out.count = h.count();
  out.min = h.min();
  out.p50 = v[0];
  out.p90 = v[1];
  out.p99 = v[2];
  out.p999 = v[3];
  out.max = h.max();
  if (out.count == 0 || !with_counts) {
    out.counts_from = 0;
    out.counts.clear();
    return;
  }
  out.counts_from = Histogram::index_of(out.min);
  out.counts.assign(h.counts() + out.counts_from, h.counts() + Histogram::index_of(out.max) + 1);
}

}  // namespace

Sender::Sender(const SenderConfig& config) : config_(config), clock_(config.clock) {
  if (config_.streams.empty()) throw ConfigError("a sender needs at least one target");
  if (!config_.capture.path.empty()) {
    if (config_.streams.size() > 1) throw ConfigError("a per-probe capture records one target's probes");
    capture_ = std::make_unique<Capture>(config_.capture);
  }
  for (const StreamConfig& s : config_.streams) {
    // Connect mode opens sockets on the session thread, which Sender::close
    // must reach from another: TCP sessions keep the shared file table.
    if (s.protocol == Protocol::Tcp) config_.private_file_table = false;
    streams_.push_back(std::make_unique<ProbeStream>(s, clock_, capture_.get()));
    pollfds_.push_back(pollfd{streams_.back()->fd(), POLLIN, 0});  // POLLERR is always reported
  }
  progress_.streams.resize(streams_.size());
}

void Sender::publish(int64_t now, ProgressSink<SenderProgress>* sink) noexcept {
  progress_.elapsed_ns = now - run_facts_.started_ns;
  const bool with_counts = sink->counts_wanted();
  for (size_t i = 0; i < streams_.size(); ++i) {
    progress_.streams[i].counters = streams_[i]->counters();
    for (size_t m = 0; m < kMetricCount; ++m) {
      fill_progress(streams_[i]->histogram(Metric(m)), progress_.streams[i].metrics[m], with_counts);
    }
  }
  sink->publish(progress_);
}

void Sender::setup() {
  for (auto& s : streams_) s->open();
  std::vector<int> fds;
  for (auto& s : streams_) fds.push_back(s->fd());
  run_facts_.setup(config_.pinning, config_.private_file_table, fds.data(), fds.size());
}

void Sender::close() noexcept {
  for (auto& s : streams_) s->close();
  if (capture_) capture_->finish();
}

void Sender::run(const std::atomic<bool>& stop, ProgressSink<SenderProgress>* sink) {
  run_facts_.begin(clock_);
  for (auto& s : streams_) s->start(run_facts_.started_ns);
  int64_t next_progress = run_facts_.started_ns + config_.progress_interval_ns;
  const bool blocking = !config_.busy_poll;

  for (;;) {
    if (stop.load(std::memory_order_relaxed)) {
      stopped_ = true;
      break;
    }
    int64_t now = clock_.now();
    bool busy = false;
    bool all_done = true;
    for (auto& s : streams_) {
      busy |= s->step(now, blocking);
      all_done &= s->done(now);
    }
    if (all_done) break;
    if (sink && now >= next_progress) {
      if (sink->wanted()) publish(now, sink);
      next_progress = now + config_.progress_interval_ns;
    }
    if (blocking && !busy) {
      int64_t until = std::min(next_progress, now + kMaxBlockNs);
      for (size_t i = 0; i < streams_.size(); ++i) {
        until = std::min(until, streams_[i]->next_event(now));
        // A TCP stream's socket changes with each connection in connect mode.
        pollfds_[i].fd = streams_[i]->fd();
        pollfds_[i].events = streams_[i]->poll_events();
      }
      wait_readable(pollfds_.data(), pollfds_.size(), until - clock_.now());
    }
  }
  run_facts_.end(clock_);
  for (auto& s : streams_) s->flush_capture();
}

}  // namespace rtt
