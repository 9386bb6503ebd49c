#pragma once
// Helpers for the admin integration tests: a fulcrum with its admin listener, the API
// through curl, fulcrum ctl, and metrics.
#include <cstdlib>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http_support.h"

namespace itest {

struct AdminEnv {
  TempDir dir;
  std::vector<HttpBackend> backends;
  uint16_t port = freePort();
  uint16_t admin = freePort();
  std::unique_ptr<Process> fulcrum;
  std::string config;

  void startBackends(int n) {
    for (int i = 0; i < n; ++i) {
      std::string id = "b";
      id += std::to_string(i + 1);
      backends.push_back(startHttpBackend(dir, id));
      ASSERT_NE(backends.back().port, 0);
    }
  }
  std::vector<uint16_t> ports() const {
    std::vector<uint16_t> p;
    for (const auto& b : backends) p.push_back(b.port);
    return p;
  }
  std::string server(size_t i) const { return "127.0.0.1:" + std::to_string(backends[i].port); }
  // The first server of the config (backends or not).
  std::string server0() const {
    size_t at = config.find("- address: ");
    return at == std::string::npos ? "" : config.substr(at + 11, config.find('\n', at) - at - 11);
  }
  // adminExtra: more keys under admin: (indented two spaces).
  void start(const std::string& cfg, const std::string& adminExtra = "", int workers = 2) {
    config = cfg + "admin:\n  bind: 127.0.0.1:" + std::to_string(admin) + "\n" + adminExtra;
    fulcrum = startFulcrum(dir, config, port, workers);
    ASSERT_TRUE(fulcrum->running()) << fulcrum->log();
  }
  void restart() {
    fulcrum->signal(SIGTERM);
    ASSERT_TRUE(fulcrum->wait(10s).has_value());
    fulcrum = startFulcrum(dir, config, port, 2);
    ASSERT_TRUE(fulcrum->running()) << fulcrum->log();
  }
  std::string adminUrl(const std::string& path) const { return url(admin, path); }
  std::string metrics() const { return curl({adminUrl("/metrics")}).output; }
  // method path body -> "<status>\n<body>"
  std::pair<int, std::string> api(const std::string& method, const std::string& path, const std::string& body = "",
                                  const std::string& token = "") const {
    std::vector<std::string> args{"-X", method, "-w", "\n%{http_code}", adminUrl(path)};
    if (!body.empty()) {
      args.insert(args.end(), {"-H", "Content-Type: application/json", "--data-binary", body});
    }
    if (!token.empty()) args.insert(args.end(), {"-H", "Authorization: Bearer " + token});
    auto r = curl(args);
    size_t nl = r.output.rfind('\n');
    return {std::atoi(r.output.c_str() + nl + 1), r.output.substr(0, nl)};
  }
  // Like api() with exactly these request headers ("Name: value"; "Name:" removes curl's).
  std::pair<int, std::string> apiWith(const std::string& method, const std::string& path,
                                      const std::vector<std::string>& headers, const std::string& body = "") const {
    std::vector<std::string> args{"-X", method, "-w", "\n%{http_code}", adminUrl(path)};
    for (const auto& h : headers) args.insert(args.end(), {"-H", h});
    if (!body.empty()) args.insert(args.end(), {"--data-binary", body});
    auto r = curl(args);
    size_t nl = r.output.rfind('\n');
    return {std::atoi(r.output.c_str() + nl + 1), r.output.substr(0, nl)};
  }
  RunResult ctl(std::vector<std::string> args) const {
    args.insert(args.begin(), {FULCRUM_BIN, "ctl", "--admin", "127.0.0.1:" + std::to_string(admin)});
    return runCommand(args, 30s);
  }
};

// The value of the sample `series` (name{labels} exactly as rendered), or -1.
inline double metric(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::atof(text.c_str() + at + series.size() + 2);
}

}  // namespace itest
