#pragma once
// WorkerContext: what every connection on one worker shares (its loop, buffer and pipe
// pools, its list of live sessions). Owned by the worker thread; nothing in here is touched
// by another thread. Both the L4 relay and the HTTP proxy build on it.
#include <netinet/in.h>

#include <cstddef>
#include <cstdint>

#include "core/buffer_pool.h"
#include "core/event_loop.h"
#include "core/fd.h"
#include "shared_state/worker_tables.h"
#include "upstream/cluster.h"

namespace fulcrum::upstream {

struct WorkerContext;

// A client connection being served (a TCP relay or an HTTP connection). Linked into its
// worker's list for drain and forced close; deleted on the loop turn after close().
class Session : public core::DeferredDeletable {
 public:
  // Closes both sides; reset=true sends RST instead of FIN. A no-op once closed.
  virtual void close(const char* reason, bool reset) = 0;
  // Whether it is talking to this server now (a server's drain timeout closes by it).
  virtual bool usesHost(const HostState* state) const = 0;
  // The worker stops: finish what is in flight, take nothing new (idle ones close now).
  virtual void drain() {}

  Session* prev = nullptr;
  Session* next = nullptr;

 protected:
  void link(WorkerContext& ctx);
  void unlink(WorkerContext& ctx);
};

struct WorkerContext {
  WorkerContext(core::EventLoop& l, size_t index);
  core::EventLoop& loop;
  size_t worker_index;
  core::BufferPool buffers;
  core::PipePool pipes;
  Session* sessions = nullptr;
  size_t session_count = 0;
  size_t udp_flow_count = 0;
  bool draining = false;
  bool closing_all = false;
  // Being withdrawn from the network (timeouts.withdraw): new HTTP connections are told to
  // close after their first answer, as the open ones were.
  bool closing_keepalive = false;
  uint64_t picker_generation = 0;
  // Warn about fd exhaustion at most once per second per worker.
  uint64_t last_fd_warning_ms = 0;
  // Held open so that, when accept() fails with EMFILE, closing it frees one fd to take
  // the pending connection off the queue and refuse it (else it would hang there).
  core::Fd reserve_fd;
  // Shared rate limits and client-address choices (shared_state/): read per request without a
  // lock, exchanged with the control thread once per sync interval.
  shared_state::WorkerTables shared_tables;
};

// Seeds a worker's pickers: workers differ, so they do not move in lockstep.
uint64_t pickerSeed(size_t workerIndex, uint64_t generation);
// The hash of a client's address (IP only, not the port) for ip_hash/consistent_hash/maglev.
uint64_t clientHash(const sockaddr* addr);  // of the IP alone; 0 for other families
bool needsClientHash(const Cluster& cluster);

// Out of file descriptors: gives the worker's idle pipes back (returns how many) and logs
// it at most once a second.
size_t onFdExhausted(WorkerContext& ctx, const char* where);

}  // namespace fulcrum::upstream
