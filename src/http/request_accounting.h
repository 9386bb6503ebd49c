#pragma once
// What is measured of one HTTP request for its metrics and access log line, from its head (or
// its local answer) to its end. Borrowed from the worker per request (see Recycler).
#include <cstdint>
#include <string>

#include "upstream/cluster.h"

namespace fulcrum::http {

struct RequestAccounting {
  bool active = false;
  uint64_t start_us = 0;
  uint64_t wait_us = 0;  // when it began to wait in the pool's queue (0: not waiting)
  int64_t queue_us = -1, connect_us = -1, response_us = -1;
  uint32_t retries = 0;
  int route = -1;  // index into the runtime's routes
  // Raw: the session's exchange holds the cluster for as long as the request is accounted (no
  // refcount per request).
  const upstream::Cluster* cluster = nullptr;
  const upstream::Host* host = nullptr;  // the server that answered (or failed last)
  const char* termination = nullptr;     // set by a failure before its local response
  const char* protocol = nullptr;        // the access log's protocol: null = "http" (HTTP/1)
  std::string method, path;              // kept only when there is an access log
};

}  // namespace fulcrum::http
