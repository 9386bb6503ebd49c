#pragma once
// Helpers for the HTTP proxy's integration tests: configs, curl, raw requests, counters.
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include "harness.h"

namespace itest {

// An http listener on port with `listenerExtra` (indented under the listener) and pools.
inline std::string httpConfig(uint16_t port, const std::string& pools, const std::string& listenerExtra,
                              const std::string& defaultPool = "web", const std::string& top = "") {
  std::string y = top;
  y += "listeners:\n  - name: front\n    bind: 127.0.0.1:" + std::to_string(port) + "\n    protocol: http\n";
  if (!defaultPool.empty()) {
    y += "    pool: " + defaultPool + "\n";
  }
  y += listenerExtra;
  y += "pools:\n" + pools;
  return y;
}

inline std::string httpPool(const std::string& name, const std::vector<uint16_t>& ports, const std::string& extra = "") {
  std::string y = "  - name: " + name + "\n";
  y += extra;
  y += "    servers:\n";
  for (uint16_t p : ports) {
    y += "      - address: 127.0.0.1:" + std::to_string(p) + "\n";
  }
  return y;
}

// Runs /usr/bin/curl -sS with args; output is stdout+stderr.
inline RunResult curl(std::vector<std::string> args, std::chrono::milliseconds timeout = 30s) {
  args.insert(args.begin(), {"/usr/bin/curl", "-sS", "--max-time", "20"});
  return runCommand(std::move(args), timeout);
}

inline RunResult shell(const std::string& script, std::chrono::milliseconds timeout = 120s) {
  return runCommand({"/bin/sh", "-c", script}, timeout);
}

inline std::string url(uint16_t port, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(port) + path;
}

// The value of a header in a raw response text (first match, case-insensitive name).
inline std::string headerOf(const std::string& response, const std::string& name) {
  std::string lower = response;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string key = "\n";
  for (char c : name) key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  key += ":";
  size_t at = lower.find(key);
  if (at == std::string::npos) {
    return "";
  }
  size_t start = at + key.size();
  while (start < response.size() && response[start] == ' ') ++start;
  size_t end = response.find("\r\n", start);
  return response.substr(start, end - start);
}

// Counts "<status> <backend> <n>" lines from clients/http_count.py.
inline std::map<std::string, int> countRequests(uint16_t port, const std::string& path, int n,
                                                const std::vector<std::string>& extra = {}) {
  std::vector<std::string> argv{"/usr/bin/python3", SOURCE_DIR "/tests/integration/clients/http_count.py",
                                "127.0.0.1", std::to_string(port), path, std::to_string(n)};
  argv.insert(argv.end(), extra.begin(), extra.end());
  auto r = runCommand(argv, 300s);
  std::map<std::string, int> counts;
  size_t pos = 0;
  while (pos < r.output.size()) {
    size_t end = r.output.find('\n', pos);
    std::string line = r.output.substr(pos, end - pos);
    size_t sp = line.rfind(' ');
    if (sp != std::string::npos) {
      counts[line.substr(0, sp)] = std::atoi(line.c_str() + sp + 1);
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return counts;
}

// Sends raw bytes and reads until the peer closes or `timeout` passes.
inline std::string rawExchange(uint16_t port, const std::string& bytes, int timeoutSec = 5) {
  int fd = connectTcp(port, "127.0.0.1", timeoutSec);
  if (fd < 0) return "<connect failed>";
  sendStr(fd, bytes);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

}  // namespace itest
