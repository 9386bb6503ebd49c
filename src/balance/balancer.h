#pragma once
// Balancer and Picker: the public face of the balancing algorithms.
//
// A Balancer is an immutable snapshot built once on the control thread from a host list; it
// holds the heavy tables (WRR schedule, hash ring, maglev table, alias tables). Each worker
// makes its own Picker from it: a Picker has private mutable state (cursor, PRNG, latency
// estimates) and is never shared between threads, so picks need no locks. A Picker refers to
// its Balancer's tables: keep the Balancer alive for as long as any of its Pickers.
//
// Pure: no I/O, no clock reads, no locks. Time reaches the module only through the `now`
// values callers pass in.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "balance/algorithm.h"

namespace fulcrum::balance {

// One server as the control thread sees it when building a snapshot.
struct HostSpec {
  std::string id;       // stable identity for hashing, e.g. "10.0.0.1:80"
  uint32_t weight = 1;  // EFFECTIVE weight (slow start/agent already applied); 0 = never picked
  bool backup = false;  // takes traffic only when no primary is eligible

  bool operator==(const HostSpec&) const = default;
};

struct BalancerOptions {
  Algorithm algorithm = Algorithm::RoundRobin;
  uint32_t vnodes_per_weight = 160;   // consistent_hash ring points per unit of weight (0 = 160)
  uint32_t maglev_table_size = 0;     // 0 = 65537 or the next prime >= 100 x hosts
  double latency_decay_seconds = 10;  // least_response_time: time constant of the EWMA decay

  bool operator==(const BalancerOptions&) const = default;
};

// Live per-host numbers a pick may read. The caller owns them (shared relaxed atomics in
// practice); a pick only reads them.
class HostLoad {
 public:
  virtual ~HostLoad() = default;
  virtual bool usable(size_t host) const = 0;         // healthy, not ejected, not draining
  virtual uint32_t active(size_t host) const = 0;     // outstanding connections/requests
  virtual double latencyEwma(size_t host) const = 0;  // seconds (any unit), 0 = unknown
};

struct PickRequest {
  uint64_t hash = 0;                           // key for ip_hash/consistent_hash/maglev (hashKey())
  const HostLoad* load = nullptr;              // null: every host usable, no load
  const std::vector<bool>* exclude = nullptr;  // hosts already tried for this request
  double now = 0;                              // caller's monotonic time, seconds (LRT decay)
};

// XXH3-64 with a fixed seed: what callers use to turn keys (client address, header) into
// PickRequest::hash. Identical across processes and machines.
uint64_t hashKey(std::string_view bytes);

class Picker;

class Balancer {
 public:
  // Hosts keep their positions: a pick returns an index into `hosts`. Never null.
  static std::unique_ptr<const Balancer> create(const BalancerOptions& options, std::vector<HostSpec> hosts);

  virtual ~Balancer() = default;
  // A per-worker picker. `seed` feeds its PRNG and its start offset in rotations, so workers
  // given different seeds do not move in lockstep; the same seed replays the same picks.
  virtual std::unique_ptr<Picker> makePicker(uint64_t seed) const = 0;

  size_t size() const { return hosts_.size(); }
  const std::vector<HostSpec>& hosts() const { return hosts_; }

 protected:
  explicit Balancer(std::vector<HostSpec> hosts) : hosts_(std::move(hosts)) {}

 private:
  std::vector<HostSpec> hosts_;
};

class Picker {
 public:
  virtual ~Picker() = default;
  // Index of the chosen host, or nullopt when no host is eligible. A host is eligible when it
  // has non-zero weight, is usable and is not excluded. Primaries are tried before backups:
  // a backup is chosen only when no primary is eligible. Hash algorithms move to the key's
  // next candidate (ring successor, maglev/ip_hash rehash) deterministically.
  virtual std::optional<size_t> pick(const PickRequest& request) = 0;
  // Feedback for latency-aware algorithms: a request to `host` completed after `latency`,
  // observed at `now` (same clock as PickRequest::now). Others ignore it.
  virtual void observe(size_t host, double latency, double now) {}
  // Moves this picker onto `next`, a balancer of the same pool rebuilt with other weights or
  // hosts, keeping what it has learnt: latency estimates of the hosts in both (matched by
  // HostSpec::id, so indices may move), its place in the rotation, its PRNG. After true,
  // picks and observe() use indices into next.hosts() and `next` must outlive the picker
  // (the previous balancer may go). False, unchanged, when `next` runs another algorithm:
  // make a new picker then. Not on the per-request path (it may allocate).
  virtual bool rebase(const Balancer& next) { return false; }
};

// For each host of `from`, its index in `to` (same HostSpec::id), or -1 when `to` lacks it.
std::vector<int32_t> mapHosts(const Balancer& from, const Balancer& to);

}  // namespace fulcrum::balance
