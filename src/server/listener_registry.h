#pragma once
// ListenerRegistry: the control thread's set of bound sockets, one per worker for each
// listener (SO_REUSEPORT). A reload keeps the sockets of listeners whose protocol and
// address stay the same — so not one queued connection is lost — binds only what is
// new, and lets the sockets of removed listeners close once no worker uses them.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "config/model.h"
#include "core/fd.h"
#include "handover/inherited.h"
#include "handover/wire.h"

namespace fulcrum::server {

struct ListenSocketGroup {
  std::string key;  // "tcp 127.0.0.1:8080"
  config::Protocol protocol;
  config::SocketAddress bind;
  std::vector<core::Fd> fds;  // index = worker
};

using ListenerSockets = std::unordered_map<std::string /*listener name*/, std::shared_ptr<ListenSocketGroup>>;

class ListenerRegistry {
 public:
  // Binds every socket the config needs that is not bound yet. An address that another
  // process holds is refused even when it would let us share it through SO_REUSEPORT (two
  // load balancers would split the traffic). On any failure the error names the listener
  // and address, and nothing changes.
  // inherited (start-up only): sockets a predecessor or systemd passed on; a listener whose
  // kind and address match takes them, one per worker, instead of binding (workers beyond
  // those share the one socket when it lacks SO_REUSEPORT, else bind their own). A failure
  // may leave some taken: start-up then fails as a whole.
  Result<ListenerSockets> prepare(const config::Config& config, size_t workers,
                                  handover::InheritedSockets* inherited = nullptr);
  // Makes the prepared set current; sockets of listeners gone close when workers let go.
  void commit(const ListenerSockets& sockets);
  void clear() { current_.clear(); }
  // The current sockets for a successor: every worker's socket of every listener, with its
  // record. The descriptors stay owned here.
  std::vector<std::pair<handover::SocketRecord, int>> handoverList(const config::Config& config) const;
  // Of the last prepare(): sockets adopted from `inherited`, further workers' descriptors of
  // an adopted socket without SO_REUSEPORT, and sockets bound anew.
  size_t adopted() const { return adopted_; }
  size_t shared() const { return shared_; }
  size_t bound() const { return bound_; }

 private:
  // Ok when l.bind is free, or overlaps a bind of our own (current or just prepared).
  Status probe(const config::Listener& l, const ListenerSockets& prepared) const;

  std::unordered_map<std::string /*key*/, std::shared_ptr<ListenSocketGroup>> current_;
  size_t adopted_ = 0;
  size_t shared_ = 0;
  size_t bound_ = 0;
};

std::string listenKey(const config::Listener& l);

}  // namespace fulcrum::server
