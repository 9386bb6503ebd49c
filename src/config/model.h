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
enum class Algorithm { RoundRobin };

struct Timeouts {
  Millis connect{5000};   // server connect
  Millis idle{300000};    // no byte in either direction (TCP); flow expiry uses udp.flow_idle
  Millis queue{10000};    // wait for a free slot when every server is at max_connections
  Millis drain{30000};    // graceful stop: how long open connections may finish
  Millis handshake{5000}; // a PROXY protocol header from a trusted front must arrive within this
};

struct Server {
  SocketAddress address;
  uint32_t weight = 1;           // 0..256; 0 means "never picked" (kept for later drain semantics)
  uint32_t max_connections = 0;  // 0 = unlimited
  bool backup = false;
};

struct Pool {
  std::string name;
  Algorithm algorithm = Algorithm::RoundRobin;
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
