#pragma once
// takeHost: the one way a connection (L4 TCP, UDP) or a request (HTTP) gets a server. Ask the
// picker; take the server's slot (max_connections); a server that filled up between the pick
// and the take (another worker) is skipped for this call; when every usable server was tried
// once by this request (`tried`), go round again.
#include <cstddef>
#include <vector>

#include "balance/balancer.h"
#include "upstream/cluster.h"

namespace fulcrum::upstream {

struct TakenHost {
  int host = -1;      // index into cluster.hosts, its slot taken (release it); -1 = none
  bool full = false;  // none, but one would be usable but for max_connections: a caller may
                      // wait for a slot (WaitQueue) instead of failing
};

// `req` carries the hash and `now`; its load and exclude are set here. `tried` marks the
// servers this request already failed on (empty: none, and no allocation); it is cleared when
// everything usable was tried, so a retry may go round again.
TakenHost takeHost(const Cluster& cluster, balance::Picker& picker, const ClusterLoad& load, balance::PickRequest req,
                   std::vector<bool>& tried);

}  // namespace fulcrum::upstream
