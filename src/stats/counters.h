#pragma once
// Single-writer counters: exactly one thread (a worker) writes a given counter, any thread
// may read it. A write is a relaxed load and store, never a locked read-modify-write, and
// each worker's counters sit on their own cache lines (TrafficSet), so counting costs a
// request almost nothing and no two workers ever write the same line. The scraper sums
// the workers' values; a read may be a moment stale, never torn.
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace fulcrum::stats {

class Counter {
 public:
  void add(uint64_t n = 1) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

// Goes up and down (open connections, waiters); per worker, so a worker's share may be
// negative when a connection counted on one worker is released on another (never today).
class Gauge {
 public:
  void add(int64_t n) { v_.store(v_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
  int64_t get() const { return v_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> v_{0};
};

// Latency histogram with fixed bounds in seconds (1-2.5-5 per decade from 100 µs to 60 s),
// fine enough for p50/p95/p99 with histogram_quantile().
class Histogram {
 public:
  static constexpr size_t kBounds = 18;
  static constexpr double kBoundSeconds[kBounds] = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                                    0.01,   0.025,   0.05,   0.1,   0.25,   0.5,
                                                    1,      2.5,     5,      10,    30,     60};
  void observe(uint64_t micros);
  // Observations in bucket i (not cumulative); i == kBounds is +Inf.
  uint64_t bucket(size_t i) const { return buckets_[i].get(); }
  uint64_t sumMicros() const { return sum_us_.get(); }

 private:
  Counter buckets_[kBounds + 1];
  Counter sum_us_;
};

// Responses by status code: a small open-addressed table (a listener sees a handful of
// codes); codes beyond its 16 slots are counted under 0 ("other").
class StatusCounts {
 public:
  static constexpr size_t kSlots = 16;
  void add(uint16_t code);
  // Adds this table's counts into out (code -> count).
  void sumInto(std::map<uint16_t, uint64_t>& out) const;

 private:
  std::atomic<uint16_t> codes_[kSlots] = {};
  Counter counts_[kSlots];
  Counter other_;
};

// Completed TLS handshakes by negotiated cipher, full or resumed: a few slots (a listener
// negotiates a handful of suites; more are counted under a null name, "other"), so the
// label's cardinality stays bounded whatever the config allows. Names must have static
// storage (OpenSSL's cipher table): they are compared and kept by address.
class CipherCounts {
 public:
  static constexpr size_t kSlots = 8;
  void add(const char* name, bool resumed);
  struct Totals {
    uint64_t full = 0, resumed = 0;
  };
  // Adds this table's counts into out (name -> counts; "other" for the overflow).
  void sumInto(std::map<std::string, Totals>& out) const;

 private:
  std::atomic<const char*> names_[kSlots] = {};
  Counter full_[kSlots], resumed_[kSlots];
  Counter other_full_, other_resumed_;
};

// One worker's figures for one listener, route, pool or server. Each kind uses the fields
// that mean something for it (docs/design/observability.md).
struct Traffic {
  Counter connections;     // accepted (listener) or opened (server)
  Gauge active;            // open now
  StatusCounts statuses;   // requests by status code
  Counter bytes_in;        // listener: from clients; server: from the server
  Counter bytes_out;       // listener: to clients; server: to the server
  Counter connect_errors;
  Counter retries;
  Counter timeouts;
  Counter rate_limited;
  Counter sni_refused;     // SNI passthrough: closed for a bad ClientHello or an SNI no route takes
  Counter queue_timeouts;
  // TLS listeners: handshakes completed by version (full or resumed), failed (a bad or
  // refused hello, an alert), and abandoned before the end (a timeout, a client gone).
  Counter tls12_full, tls12_resumed, tls13_full, tls13_resumed, tls_failed, tls_abandoned;
  // Pools with TLS to servers: the handshakes above, and of the failed ones those where the
  // server's certificate was refused (expired, another CA, another name).
  Counter tls_certificate_rejected;
  // Client certificates refused (mTLS), by reason (counted among tls_failed as well).
  Counter client_cert_missing, client_cert_untrusted, client_cert_revoked, client_cert_expired, client_cert_invalid;
  CipherCounts tls_ciphers;     // completed handshakes by cipher
  Histogram tls_handshake_time;  // the accept to the handshake's end (completed ones)
  Gauge queued;
  Histogram request_time;   // whole request, as the client saw it
  Histogram response_time;  // request sent to the server -> its response head
};

// Sums of a TrafficSet, for rendering.
struct TrafficTotals {
  uint64_t connections = 0;
  int64_t active = 0;
  std::map<uint16_t, uint64_t> statuses;
  uint64_t requests = 0;
  uint64_t bytes_in = 0, bytes_out = 0, connect_errors = 0, retries = 0, timeouts = 0, rate_limited = 0,
           sni_refused = 0,
           queue_timeouts = 0;
  uint64_t tls12_full = 0, tls12_resumed = 0, tls13_full = 0, tls13_resumed = 0, tls_failed = 0, tls_abandoned = 0;
  uint64_t tls_certificate_rejected = 0;
  uint64_t client_cert_missing = 0, client_cert_untrusted = 0, client_cert_revoked = 0, client_cert_expired = 0,
           client_cert_invalid = 0;
  std::map<std::string, CipherCounts::Totals> tls_ciphers;
  int64_t queued = 0;
  struct Hist {
    uint64_t buckets[Histogram::kBounds + 1] = {};
    uint64_t sum_us = 0;
    uint64_t count() const;
  };
  Hist request_time, response_time, tls_handshake_time;
};

// One Traffic per worker, each on its own cache lines. Shared (shared_ptr) by every
// snapshot naming the same entity, so figures survive reloads.
class TrafficSet {
 public:
  explicit TrafficSet(size_t workers);
  Traffic& worker(size_t index) { return slots_[index < count_ ? index : count_ - 1].t; }
  TrafficTotals sum() const;
  size_t workers() const { return count_; }

 private:
  struct alignas(64) Slot {
    Traffic t;
  };
  std::unique_ptr<Slot[]> slots_;
  size_t count_;
};

// "2xx" for 204; "other" for 0.
const char* statusClass(uint16_t code);

}  // namespace fulcrum::stats
