#include "upstream/worker_context.h"

#include <fcntl.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>

#include "balance/balancer.h"
#include "common/log.h"

namespace fulcrum::upstream {

WorkerContext::WorkerContext(core::EventLoop& l, size_t index)
    : loop(l), worker_index(index), reserve_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC)) {}

void Session::link(WorkerContext& ctx) {
  next = ctx.sessions;
  if (next) {
    next->prev = this;
  }
  ctx.sessions = this;
  ++ctx.session_count;
}

void Session::unlink(WorkerContext& ctx) {
  if (prev) {
    prev->next = next;
  } else {
    ctx.sessions = next;
  }
  if (next) {
    next->prev = prev;
  }
  prev = next = nullptr;
  --ctx.session_count;
}

uint64_t pickerSeed(size_t workerIndex, uint64_t generation) {
  // splitmix64 of (worker, generation): a republished snapshot (slow start steps) must not
  // restart every picker at the same place.
  uint64_t z = (workerIndex + 1) * 0x9E3779B97F4A7C15ULL + generation * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

size_t onFdExhausted(WorkerContext& ctx, const char* where) {
  size_t freed = ctx.pipes.trim();
  uint64_t now = ctx.loop.nowMs();
  if (now - ctx.last_fd_warning_ms >= 1000 || ctx.last_fd_warning_ms == 0) {
    ctx.last_fd_warning_ms = now;
    log::warn("out of file descriptors: refusing", {{"where", where}, {"errno", std::strerror(errno)}});
  }
  return freed;
}

uint64_t clientHash(const sockaddr* addr) {
  if (addr->sa_family == AF_INET) {
    auto* in = reinterpret_cast<const sockaddr_in*>(addr);
    return balance::hashKey(std::string_view(reinterpret_cast<const char*>(&in->sin_addr), 4));
  }
  if (addr->sa_family == AF_INET6) {
    auto* in6 = reinterpret_cast<const sockaddr_in6*>(addr);
    const uint8_t* b = in6->sin6_addr.s6_addr;
    static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(b, kMapped, 12) == 0) {
      // An IPv4 client seen through a dual-stack socket hashes as itself.
      return balance::hashKey(std::string_view(reinterpret_cast<const char*>(b + 12), 4));
    }
    return balance::hashKey(std::string_view(reinterpret_cast<const char*>(b), 16));
  }
  return 0;
}

bool needsClientHash(const Cluster& cluster) {
  return hashesOnKey(cluster.config.algorithm);
}

}  // namespace fulcrum::upstream
