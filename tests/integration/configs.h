#pragma once
// Small builders for the YAML configs integration tests start fulcrum with.
#include <cstdint>
#include <string>
#include <vector>

namespace itest {

struct ServerSpec {
  ServerSpec(uint16_t p, std::string e = "") : port(p), extra(std::move(e)) {}  // NOLINT: implicit
  uint16_t port;
  std::string extra;  // e.g. "max_connections: 1" or "backup: true"
};

inline std::string poolYaml(const std::string& name, const std::vector<ServerSpec>& servers,
                            const std::string& extra = "") {
  std::string y = "  - name: " + name + "\n";
  if (!extra.empty()) {
    y += "    " + extra + "\n";
  }
  y += "    servers:\n";
  for (const auto& s : servers) {
    y += "      - address: 127.0.0.1:" + std::to_string(s.port) + "\n";
    if (!s.extra.empty()) {
      y += "        " + s.extra + "\n";
    }
  }
  return y;
}

inline std::string listenerYaml(const std::string& name, uint16_t port, const std::string& pool,
                                const std::string& protocol = "tcp", const std::string& extra = "") {
  std::string y = "  - name: " + name + "\n    bind: 127.0.0.1:" + std::to_string(port) + "\n    protocol: " +
                  protocol + "\n    pool: " + pool + "\n";
  if (!extra.empty()) {
    y += "    " + extra + "\n";
  }
  return y;
}

// One TCP listener on port to one pool.
inline std::string simpleTcp(uint16_t port, const std::vector<ServerSpec>& servers,
                             const std::string& timeouts = "", const std::string& poolExtra = "",
                             const std::string& listenerExtra = "") {
  std::string y;
  if (!timeouts.empty()) {
    y += "timeouts:\n" + timeouts;
  }
  y += "listeners:\n" + listenerYaml("front", port, "back", "tcp", listenerExtra);
  y += "pools:\n" + poolYaml("back", servers, poolExtra);
  return y;
}

}  // namespace itest
