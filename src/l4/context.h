#pragma once
// WorkerContext: what every L4 object on one worker shares. Owned by the worker thread;
// nothing in here is touched by another thread.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "config/model.h"
#include "core/buffer_pool.h"
#include "core/event_loop.h"
#include "upstream/cluster.h"

namespace fulcrum::l4 {

class TcpSession;

// What a connection was accepted under: the config and cluster of one snapshot. A
// connection keeps it to the end, so a reload never changes a connection in flight.
struct ListenerRuntime {
  std::shared_ptr<const config::Config> config;
  const config::Listener* listener = nullptr;  // points into *config
  std::shared_ptr<const upstream::Cluster> cluster;
};

struct WorkerContext {
  WorkerContext(core::EventLoop& l, size_t index);
  core::EventLoop& loop;
  size_t worker_index;
  core::BufferPool buffers;
  core::PipePool pipes;
  // Intrusive list of live TCP sessions, for drain and forced close.
  TcpSession* sessions = nullptr;
  size_t session_count = 0;
  size_t udp_flow_count = 0;
  bool draining = false;
  bool closing_all = false;
  uint64_t picker_generation = 0;  // drain deadline or forced stop: no queue wake-ups
  // Warn about fd exhaustion at most once per second per worker.
  uint64_t last_fd_warning_ms = 0;
  // Held open so that, when accept() fails with EMFILE, closing it frees one fd to take
  // the pending connection off the queue and refuse it (else it would hang there).
  core::Fd reserve_fd;
};

// Seeds a worker's pickers: workers differ, so they do not move in lockstep.
uint64_t pickerSeed(size_t workerIndex, uint64_t generation);
// The hash of a client's address (IP only, not the port) for ip_hash/consistent_hash/maglev.
uint64_t clientHash(const sockaddr_storage& addr);
bool needsClientHash(const upstream::Cluster& cluster);

// Out of file descriptors: gives the worker's idle pipes back (returns how many) and logs
// it at most once a second.
size_t onFdExhausted(WorkerContext& ctx, const char* where);

}  // namespace fulcrum::l4
