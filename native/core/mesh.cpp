#include "mesh.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <numeric>

#include "errors.hpp"
#include "transport.hpp"

namespace rtt {
namespace {

constexpr size_t kCommandCapacity = 2 * Mesh::kMaxTargets;
constexpr int kEventBatch = 256;
constexpr uint64_t kWakeTag = 0;  // epoll data of the eventfd; a member's is its address

}  // namespace

Mesh::Mesh(const MeshConfig& config)
    : config_(config), clock_(config.clock), commands_(kCommandCapacity), retired_(kCommandCapacity) {
  if (!std::is_sorted(config_.bucket_bounds_ns.begin(), config_.bucket_bounds_ns.end())) {
    throw ConfigError("bucket bounds must be in ascending order");
  }
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw SystemError(errno, "epoll_create1");
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeTag;
  if (wake_fd_ < 0 || epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev) < 0) {
    int err = errno;
    if (wake_fd_ >= 0) ::close(wake_fd_);
    ::close(epoll_fd_);
    throw SystemError(err, "eventfd");
  }
  active_.reserve(kMaxTargets);
}

Mesh::~Mesh() {
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void Mesh::reap() noexcept {
  Member* m;
  while (retired_.pop(m)) members_.erase(m->id);
}

void Mesh::send(Command c) {
  // Never fails while kMaxTargets holds: a ring holds every member twice over.
  commands_.push(c);
  uint64_t one = 1;
  if (write(wake_fd_, &one, sizeof one) < 0) {
    // EAGAIN: the counter is saturated, so the loop is being woken anyway.
  }
}

uint64_t Mesh::add(StreamConfig config) {
  reap();
  if (members_.size() >= kMaxTargets) {
    throw ConfigError("a mesh probes at most " + std::to_string(kMaxTargets) + " targets; remove some first");
  }
  config.mode = SenderMode::Rate;
  config.bucket_bounds_ns = config_.bucket_bounds_ns;
  config.keep_histograms = false;
  // Replies are never larger than the probes they answer; the rest leaves room for reflectors that pad.
  config.receive_capacity = std::max<size_t>(config.size, 2048);
  auto m = std::make_unique<Member>();
  m->id = next_id_++;
  config.seed = m->id;
  m->stream = std::make_unique<ProbeStream>(config, clock_, nullptr);
  epoll_event ev{};
  ev.events = EPOLLIN;  // EPOLLERR (a TX stamp on the error queue) is always reported
  ev.data.ptr = m.get();
  if (!config_.busy_poll && epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, m->stream->fd(), &ev) < 0) {
    throw SystemError(errno, "epoll_ctl");
  }
  Member* raw = m.get();
  members_.emplace(raw->id, std::move(m));
  send({Op::Add, raw});
  return raw->id;
}

bool Mesh::remove(uint64_t id) {
  reap();
  auto it = members_.find(id);
  if (it == members_.end() || it->second->removing) return false;
  it->second->removing = true;
  send({Op::Remove, it->second.get()});
  return true;
}

void Mesh::request_snapshot() {
  reap();
  send({Op::Snapshot, nullptr});
}

void Mesh::setup() { run_facts_.setup(config_.pinning, false, nullptr, 0); }

void Mesh::step(Member& m, int64_t now) noexcept {
  m.stream->step(now, !config_.busy_poll);
  m.due = m.stream->next_event(now);
}

void Mesh::take_commands(int64_t now, ProgressSink<MeshProgress>* sink) {
  Command c;
  while (commands_.pop(c)) {
    switch (c.op) {
      case Op::Add:
        c.member->stream->start(now);
        c.member->due = now;
        c.member->slot = active_.size();
        active_.push_back(c.member);  // within the reserved capacity
        break;
      case Op::Remove: {
        Member* m = c.member;
        if (!config_.busy_poll) epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, m->stream->fd(), nullptr);
        active_[m->slot] = active_.back();
        active_[m->slot]->slot = m->slot;
        active_.pop_back();
        m->slot = SIZE_MAX;
        retired_.push(m);
        break;
      }
      case Op::Snapshot:
        if (sink) publish(now, sink);
        break;
    }
  }
}

void Mesh::publish(int64_t now, ProgressSink<MeshProgress>* sink) noexcept {
  const size_t slots = config_.bucket_bounds_ns.size() + 1;
  progress_.now_ns = now;
  // Sized to the targets now: grows only when targets were added since the last snapshot.
  progress_.targets.resize(active_.size());
  progress_.buckets.resize(active_.size() * kMetricCount * slots);
  for (size_t i = 0; i < active_.size(); ++i) {
    const ProbeStream& s = *active_[i]->stream;
    MeshTargetProgress& t = progress_.targets[i];
    t.id = active_[i]->id;
    t.counters = s.counters();
    t.last_reply_ns = s.last_reply_ns();
    for (size_t m = 0; m < kMetricCount; ++m) {
      const uint64_t* counts = s.bucket_counts(Metric(m));
      t.count[m] = std::accumulate(counts, counts + slots, uint64_t(0));
      t.sum[m] = s.bucket_sum(Metric(m));
      std::copy_n(counts, slots, progress_.buckets.begin() + (i * kMetricCount + m) * slots);
    }
  }
  sink->publish(progress_);
}

void Mesh::run(const std::atomic<bool>& stop, ProgressSink<MeshProgress>* sink) {
  run_facts_.begin(clock_);
  epoll_event events[kEventBatch];
  while (!stop.load(std::memory_order_relaxed)) {
    int64_t now = clock_.now();
    take_commands(now, sink);
    if (config_.busy_poll) {
      for (Member* m : active_) step(*m, now);
      continue;
    }
    int64_t until = now + kMaxBlockNs;
    for (Member* m : active_) {
      if (m->due <= now) step(*m, now);
      until = std::min(until, m->due);
    }
    // epoll_wait counts milliseconds: round up, so a wake-up is never early.
    int64_t wait_ns = until - clock_.now();
    int n = epoll_wait(epoll_fd_, events, kEventBatch, wait_ns <= 0 ? 0 : int((wait_ns + 999999) / 1000000));
    now = clock_.now();
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeTag) {
        uint64_t count;
        if (read(wake_fd_, &count, sizeof count) < 0) {
          // EAGAIN: another wake-up already drained it.
        }
        continue;
      }
      Member* m = static_cast<Member*>(events[i].data.ptr);
      // Watched from add(), run from the Add command at the top of the next turn.
      if (m->slot != SIZE_MAX) step(*m, now);
    }
  }
  run_facts_.end(clock_);
}

void Mesh::close() noexcept {
  for (Member* m : active_) m->stream->close();
}

}  // namespace rtt
