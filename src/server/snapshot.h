#pragma once
// Snapshot: everything a worker needs to serve, built whole by the control thread and
// never changed after publication. Workers swap to a new one at the top of a loop turn;
// connections keep the ListenerRuntime they began under, so a reload changes only new
// connections. Later issues add stats views here.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/model.h"
#include "http/runtime.h"
#include "l4/context.h"
#include "server/listener_registry.h"
#include "upstream/cluster.h"

namespace fulcrum::server {

struct Snapshot {
  struct ListenerEntry {
    std::shared_ptr<ListenSocketGroup> sockets;
    std::shared_ptr<const l4::ListenerRuntime> runtime;     // tcp and udp listeners
    std::shared_ptr<const http::ListenerRuntime> http;      // http listeners
  };
  uint64_t version = 0;
  std::shared_ptr<const config::Config> config;
  std::vector<ListenerEntry> listeners;
  std::unordered_map<std::string, std::shared_ptr<const upstream::Cluster>> clusters;
  std::shared_ptr<upstream::AccessLog> access_log;  // null when off; workers flush it
};

}  // namespace fulcrum::server
