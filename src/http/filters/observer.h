#pragma once
// Observers: what every finished request is shown once, whatever ended it (a response, a local
// answer, a failure, the client leaving): metrics and the access log. Built per listener with
// the filter chain; they read the listener runtime that owns them when called (its figures and
// log are attached after the chain is built). No I/O of their own beyond the access log's
// per-worker buffer, no lock.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "http/request_accounting.h"

namespace fulcrum::http {

struct ListenerRuntime;

// One finished request.
struct StreamEnd {
  explicit StreamEnd(const RequestAccounting& a) : acct(a) {}
  const RequestAccounting& acct;
  uint16_t status = 0;
  const char* termination = "";
  uint64_t total_us = 0;
  uint64_t bytes_in = 0;   // from the client, this request's share
  uint64_t bytes_out = 0;  // to the client, this request's share
  std::string_view client_ip;
  size_t worker = 0;
};

class StreamObserver {
 public:
  virtual ~StreamObserver() = default;
  virtual void onStreamEnd(const StreamEnd& end) const = 0;
};

// Status counts and request-time histograms of the listener, the route and the pool.
class MetricsObserver final : public StreamObserver {
 public:
  explicit MetricsObserver(const ListenerRuntime& rt) : rt_(rt) {}
  void onStreamEnd(const StreamEnd& end) const override;

 private:
  const ListenerRuntime& rt_;
};

// One access log line, when the listener has a log.
class AccessLogObserver final : public StreamObserver {
 public:
  explicit AccessLogObserver(const ListenerRuntime& rt) : rt_(rt) {}
  void onStreamEnd(const StreamEnd& end) const override;

 private:
  const ListenerRuntime& rt_;
};

}  // namespace fulcrum::http
