#pragma once
// Per-client connection limit (http.max_connections_per_client): a client address with that
// many connections open on the listener, on any worker, has a new one answered 429 with
// Retry-After and closed. The counts live in the listener's shared state (kept across reloads),
// so a connection counted under one config is given back under the one it closes under.
#include <cstdint>

#include "http/filters/connection_filter.h"
#include "http/rate_limiter.h"

namespace fulcrum::http {

class ClientLimitFilter final : public ConnectionFilter {
 public:
  // limit 0: off (every connection goes on, none is counted). `counts` outlives the filter.
  ClientLimitFilter(uint32_t limit, ClientConnections& counts) : limit_(limit), counts_(counts) {}
  ConnectionStatus onAccept(ConnectionState& state) const override;
  void onClose(const ConnectionState& state) const override;

 private:
  uint32_t limit_;
  ClientConnections& counts_;
};

}  // namespace fulcrum::http
