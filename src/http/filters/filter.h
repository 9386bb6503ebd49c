#pragma once
// Request filters: the steps of the decision taken on each request head, in order, built per
// listener at snapshot time (ListenerRuntime::filters). A filter reads the head and what the
// filters before it decided (RequestState), and lets the request go on, answers it locally,
// or delays it. Filters do no I/O and read no clock (now_ms comes in), so each one is
// unit-tested alone; a new feature (auth, CORS, compression) is a new filter, not a new branch
// in the session. docs/design/http_core.md has the whole shape.
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "http/filters/observer.h"
#include "http/stream/field_edits.h"
#include "http/stream/request.h"
#include "upstream/cluster.h"

struct sockaddr;

namespace fulcrum::shared_state {
struct WorkerTables;
}

namespace fulcrum::http {

struct RouteTarget;
class TerminalHandler;

// A response Fulcrum gives itself instead of forwarding.
struct LocalAnswer {
  uint16_t status = 0;
  std::string_view body;                   // lives in the config or is static ...
  bool standard_body = false;              // ... or the standard small body for the status
  std::string extra;                       // whole field lines ("Location: /x\r\n")
  const config::HeaderEdits* edits = nullptr;
  std::string_view content_type;           // empty = text/plain
  const char* termination = nullptr;       // access-log termination; null = "local"
};

struct RequestState {
  explicit RequestState(const Request& r) : request(r) {}
  // What the filters read.
  const Request& request;
  std::string_view client_ip;
  const sockaddr* peer = nullptr;  // the client's address (after PROXY protocol)
  bool peer_trusted = false;       // the connection's peer is a trusted front (forwarded.trusted)
  uint64_t now_ms = 0;
  std::mt19937_64* rng = nullptr;  // the worker's
  shared_state::WorkerTables* shared = nullptr;  // the worker's shared-state tables (null in some tests)

  // What they decide, in chain order.
  uint64_t delay_ms = 0;               // rate limit: serve this much later
  int route_index = -1;                // the matched route, -1 = none
  const config::Route* route = nullptr;
  const RouteTarget* target = nullptr;  // the route's pools (or the listener's)
  const upstream::Cluster* cluster = nullptr;  // the pool chosen from target (valid as target is)
  size_t cluster_index = 0;                    // its index in target->clusters
  uint64_t hash = 0;                   // the pool's balancing key, when its algorithm hashes
  std::string_view sticky_id;          // the server the sticky cookie names (a view of the head)
  FieldEdits edits;                    // what the request to the server gets besides its fields
  const config::HeaderEdits* response_edits = nullptr;  // applied to the server's response
  LocalAnswer answer;                  // when a filter answered
  TerminalHandler* terminal = nullptr;  // when a terminal filter takes the request (terminal_filter.h)
};

enum class FilterStatus : uint8_t {
  Continue,  // the next filter
  Answer,    // answer locally with state.answer; no later filter runs
  Terminal,  // state.terminal answers the whole request (its body read first); no later filter runs
};

class RequestFilter {
 public:
  virtual ~RequestFilter() = default;
  virtual FilterStatus onRequestHead(RequestState& state) const = 0;
};

// The listener's filters in order, and the observers every finished request is shown.
// Immutable once built: shared by every worker.
class FilterChain {
 public:
  void add(std::unique_ptr<const RequestFilter> filter) { filters_.push_back(std::move(filter)); }
  void observe(std::unique_ptr<const StreamObserver> observer) { observers_.push_back(std::move(observer)); }
  void onStreamEnd(const StreamEnd& end) const {
    for (const auto& o : observers_) {
      o->onStreamEnd(end);
    }
  }
  FilterStatus onRequestHead(RequestState& state) const {
    for (const auto& f : filters_) {
      if (FilterStatus s = f->onRequestHead(state); s != FilterStatus::Continue) {
        return s;
      }
    }
    return FilterStatus::Continue;
  }
  size_t size() const { return filters_.size(); }

 private:
  std::vector<std::unique_ptr<const RequestFilter>> filters_;
  std::vector<std::unique_ptr<const StreamObserver>> observers_;
};

}  // namespace fulcrum::http
