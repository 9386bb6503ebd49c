#pragma once
// Connection filters (Envoy's network filters): run once when a connection is accepted, before
// any byte of it is read, and let it go on or refuse it with a local answer; what a filter holds
// for an accepted connection (a count) is given back when it closes. Built per listener at
// snapshot time beside the request filters (ListenerRuntime::connection_filters); they do no
// I/O and read no clock, so each one is unit-tested alone.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "http/filters/filter.h"

struct sockaddr;

namespace fulcrum::http {

struct ConnectionState {
  ConnectionState(const sockaddr* p, std::string_view ip) : peer(p), client_ip(ip) {}
  // What the filters read.
  const sockaddr* peer = nullptr;  // the client's address
  std::string_view client_ip;
  // What they decide.
  bool held = false;     // Continue: this filter holds something for the connection (see onClose)
  bool limited = false;  // Refuse by a limit: counted in the listener's rate_limited figure
  LocalAnswer answer;    // Refuse: sent to the client before the connection is closed
};

enum class ConnectionStatus : uint8_t {
  Continue,  // the next filter
  Refuse,    // answer with state.answer and close; no later filter runs
};

class ConnectionFilter {
 public:
  virtual ~ConnectionFilter() = default;
  virtual ConnectionStatus onAccept(ConnectionState& state) const = 0;
  // The connection closes, and this filter's onAccept set `held` for it. What a filter holds
  // lives in the listener's shared state, not in the filter: the call may come through the
  // chain of a later snapshot (a reload while the connection was open).
  virtual void onClose(const ConnectionState& state) const = 0;
};

// The listener's connection filters in order. Every chain buildRuntime makes has the same filters
// in the same order (a filter configured off lets every connection through holding nothing),
// so the bit a filter sets in `held` means the same filter in any snapshot of the listener:
// a connection accepted under one config is released under the one it closes under.
class ConnectionFilterChain {
 public:
  static constexpr size_t kMaxFilters = 8;  // one bit each in `held`
  // At most kMaxFilters.
  void add(std::unique_ptr<const ConnectionFilter> filter) { filters_.push_back(std::move(filter)); }

  // Runs the filters in order. Continue: `held` has bit i set for each filter i holding
  // something. Refuse: state.answer is set and nothing is held (what the filters before the
  // refusing one held is given back at once).
  ConnectionStatus onAccept(ConnectionState& state, uint8_t& held) const {
    held = 0;
    for (size_t i = 0; i < filters_.size(); ++i) {
      state.held = false;
      if (filters_[i]->onAccept(state) != ConnectionStatus::Continue) {
        onClose(state, held);
        held = 0;
        return ConnectionStatus::Refuse;
      }
      if (state.held) {
        held = static_cast<uint8_t>(held | (1u << i));
      }
    }
    return ConnectionStatus::Continue;
  }
  // Gives back what onAccept held (`held` as it returned), latest filter first.
  void onClose(const ConnectionState& state, uint8_t held) const {
    for (size_t i = filters_.size(); i-- > 0;) {
      if (held & (1u << i)) {
        filters_[i]->onClose(state);
      }
    }
  }
  size_t size() const { return filters_.size(); }

 private:
  std::vector<std::unique_ptr<const ConnectionFilter>> filters_;
};

}  // namespace fulcrum::http
