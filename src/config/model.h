#pragma once
// The validated, immutable configuration model. Built only by config::load(); every
// value here has passed validation, so the rest of Fulcrum never re-checks it.
// Later issues extend it (http listeners, routes, health checks, admin); keep new
// sections optional with safe defaults so old files stay valid.
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace fulcrum::config {

using Millis = std::chrono::milliseconds;

// A resolved socket address (IPv4 or IPv6), kept with the text it came from.
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // as written in the config, e.g. "127.0.0.1:9000" or "[::1]:53"
  int family() const { return storage.ss_family; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// An address range such as 10.0.0.0/8 or 2001:db8::/32 (trusted PROXY senders).
struct Cidr {
  int family = AF_INET;
  uint8_t bytes[16]{};  // network address, 4 or 16 bytes used
  int prefix = 0;
  std::string text;
  bool contains(const sockaddr* addr) const;  // IPv4-mapped IPv6 peers match IPv4 ranges
};

enum class Protocol { Tcp, Udp };
enum class ProxyProtocolVersion { None, V1, V2 };
// How a pool picks a server. YAML names: round_robin, weighted_round_robin, least_connections,
// least_response_time, random, random_two_choices, ip_hash, consistent_hash, maglev.
enum class Algorithm {
  RoundRobin,
  WeightedRoundRobin,
  LeastConnections,
  LeastResponseTime,
  Random,
  RandomTwoChoices,
  IpHash,
  ConsistentHash,
  Maglev,
};

// What ip_hash / consistent_hash / maglev hash on. L4 (tcp/udp) listeners can provide only
// ClientAddress; the loader rejects the others on a pool that an L4 listener uses.
enum class HashKeySource { ClientAddress, Header, Cookie, Path };
struct HashKey {
  HashKeySource source = HashKeySource::ClientAddress;
  std::string name;  // the header or cookie name; empty for ClientAddress and Path
};

enum class CheckType { None, Tcp, Http };

// Active health check of every server in a pool.
struct HealthCheck {
  CheckType type = CheckType::None;  // no health_check section = None (servers are assumed up)
  Millis interval{2000};             // 100ms..1h
  Millis jitter{0};                  // 0..interval; each check is delayed by a random 0..jitter.
                                     // The loader sets interval/10 when the file gives none.
  Millis timeout{1000};              // 1ms..1h, <= interval
  uint32_t rise = 2;                 // consecutive successes to mark a server up, 1..100
  uint32_t fall = 3;                 // consecutive failures to mark a server down, 1..100
  uint16_t port = 0;                 // 0 = the server's own port
  // Http only:
  std::string method = "GET";        // GET, HEAD, OPTIONS or POST
  std::string path = "/";            // starts with '/'; printable ASCII without spaces
  std::string host;                  // Host header; empty = the server's address
  std::vector<std::pair<int, int>> expect_status{{200, 399}};  // inclusive ranges within 100..599
  std::string body_contains;         // empty = the body is not checked; at most 1024 bytes
};

// Per-server agent check: a TCP agent that reports "up 75%", "drain", "down" and so on.
struct AgentCheck {
  uint16_t port = 0;       // 0 = no agent check
  Millis interval{5000};   // 100ms..1h
  Millis timeout{1000};    // 1ms..1h, <= interval
};

// Passive health: servers failing live traffic are ejected for a while.
struct OutlierDetection {
  bool enabled = false;                  // true when the section is present
  uint32_t max_fails = 5;                // consecutive failures ... 1..1000
  Millis fail_timeout{10000};            // ... within this window, 1ms..1h
  Millis ejection_time{30000};           // first ejection; doubles on each repeated ejection
  Millis max_ejection_time{300000};      // cap, >= ejection_time
  uint32_t max_ejection_percent = 50;    // 0..100 of the pool's servers ejected at once
  uint32_t error_rate_percent = 0;       // 0 = off; 1..100: eject when failures/requests over
                                         // error_rate_window reach it
  Millis error_rate_window{30000};       // 1ms..1h
  uint32_t error_rate_min_requests = 20; // 1..1000000 requests in the window before the rate counts
};

struct Timeouts {
  Millis connect{5000};   // server connect
  Millis idle{300000};    // no byte in either direction (TCP); flow expiry uses udp.flow_idle
  Millis queue{10000};    // wait for a free slot when every server is at max_connections
  Millis drain{30000};    // graceful stop: how long open connections may finish
  Millis handshake{5000}; // a PROXY protocol header from a trusted front must arrive within this
};

struct Server {
  SocketAddress address;
  uint32_t weight = 1;           // 1..256 (a weight of 0 is refused: use drain)
  uint32_t max_connections = 0;  // 0 = unlimited
  bool backup = false;
  bool drain = false;            // no new connections; open ones finish
  AgentCheck agent;
};

struct Pool {
  std::string name;
  Algorithm algorithm = Algorithm::RoundRobin;
  HashKey hash_key;              // ip_hash, consistent_hash and maglev only
  uint32_t vnodes = 160;         // consistent_hash: ring points per unit of server weight, 1..10000
  Millis slow_start{0};          // 0..1h: a recovered or new server's weight ramps up over this; 0 = off
  uint32_t panic_threshold = 50; // percent 0..100: below this share of healthy servers, balance
                                 // across all of them; 0 = never panic
  HealthCheck health_check;
  OutlierDetection outlier_detection;
  std::vector<Server> servers;
  uint32_t retries = 2;          // extra connect attempts, each on another server when possible
  uint32_t queue_size = 1024;    // waiters per worker when every server is full; 0 = refuse at once
  ProxyProtocolVersion send_proxy = ProxyProtocolVersion::None;
};

struct Listener {
  std::string name;
  SocketAddress bind;
  Protocol protocol = Protocol::Tcp;
  std::string pool;              // validated: names an existing pool
  bool accept_proxy = false;     // expect a PROXY v1/v2 header from a trusted front (TCP only)
  std::vector<Cidr> trusted_proxies;  // allowed to send PROXY; empty = any peer
  uint32_t backlog = 4096;
  Millis udp_flow_idle{30000};   // UDP: a flow with no datagram for this long is forgotten
  uint32_t udp_max_flows = 10000; // UDP: flows per worker; beyond it new flows are dropped
};

struct Config {
  std::string source;            // file path it was loaded from
  uint32_t workers = 0;          // 0 = one per core; the CLI's --workers wins
  std::string log_level = "info";
  Timeouts timeouts;
  std::vector<Listener> listeners;
  std::vector<Pool> pools;

  const Pool* findPool(const std::string& name) const {
    for (const auto& p : pools) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
};

}  // namespace fulcrum::config
