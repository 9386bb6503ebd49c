// /livez and /readyz answer however many idle connections are held on the admin port:
// idle connections get a short head timeout and a per-client cap, and a newcomer takes
// the place of the oldest idle one (docs/admin.md, "Connections").
#include <gtest/gtest.h>
#include <unistd.h>

#include "admin_support.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {

constexpr int kIdle = 200;

// A pool whose only server is never contacted (no health check, no traffic in these tests).
std::string quietConfig(const AdminEnv& env) {
  return httpConfig(env.port, httpPool("web", {deadPort()}), "");
}

// Opens n connections to the admin port from 127.0.0.1; every other one sends half a
// request head (a slow client), the rest nothing.
std::vector<int> holdIdle(uint16_t port, int n) {
  std::vector<int> fds;
  for (int i = 0; i < n; ++i) {
    int fd = connectTcp(port);
    if (fd < 0) break;
    if (i % 2 == 1) sendStr(fd, "GET /api/v1/status HTTP/1.1\r\nHost: x\r\n");
    fds.push_back(fd);
  }
  return fds;
}

// The status of a probe with a 1 s client timeout ("000" if it got no answer in time).
std::string probe(const AdminEnv& env, const std::string& path, const std::string& from = "127.0.0.1") {
  return curl({"--max-time", "1", "--interface", from, "-o", "/dev/null", "-w", "%{http_code}", env.adminUrl(path)})
      .output;
}

}  // namespace

TEST(AdminProbes, AnswerWhile200IdleConnectionsAreHeldAndTheHeadTimeoutClosesThem) {
  AdminEnv env;
  // A cap above the crowd: every idle connection stays open until its head timeout.
  env.start(quietConfig(env), "  head_timeout: 1s\n  max_connections_per_client: 1024\n");
  auto idle = holdIdle(env.admin, kIdle);
  ASSERT_EQ(idle.size(), static_cast<size_t>(kIdle));
  EXPECT_EQ(probe(env, "/livez"), "200");
  EXPECT_EQ(probe(env, "/readyz"), "200");
  // Closed by the head timeout (1 s); a slow client is told why with a 408.
  int closed = 0;
  int told = 0;
  for (size_t i = 0; i < idle.size(); ++i) {
    if (i % 2 == 1) {
      char buf[512];
      ssize_t n = ::recv(idle[i], buf, sizeof buf, 0);  // SO_RCVTIMEO 10 s: bounded
      told += n > 12 && std::string(buf, 12) == "HTTP/1.1 408";
    }
    closed += closedWithin(idle[i], 5s);
    ::close(idle[i]);
  }
  EXPECT_EQ(closed, kIdle);
  EXPECT_EQ(told, kIdle / 2);
  EXPECT_NE(env.fulcrum->log().find("admin connections closed before their request head"), std::string::npos);
  EXPECT_EQ(probe(env, "/livez"), "200");
}

TEST(AdminProbes, OneClientCannotCrowdOutProbesWithTheDefaults) {
  AdminEnv env;
  env.start(quietConfig(env));
  auto idle = holdIdle(env.admin, kIdle);
  ASSERT_EQ(idle.size(), static_cast<size_t>(kIdle));
  // From the same address as the crowd (a newcomer replaces that client's oldest idle
  // connection), and from another one.
  EXPECT_EQ(probe(env, "/livez"), "200");
  EXPECT_EQ(probe(env, "/readyz"), "200");
  EXPECT_EQ(probe(env, "/livez", "127.0.0.2"), "200");
  // At most 16 (the default cap) of the crowd are still open, and the 2 s head timeout
  // closes those.
  int closed = 0;
  for (int fd : idle) {
    closed += closedWithin(fd, 6s);
    ::close(fd);
  }
  EXPECT_EQ(closed, kIdle);
  // Still open to requests that come whole.
  auto status = env.api("GET", "/api/v1/status");
  EXPECT_EQ(status.first, 200) << status.second;
}
