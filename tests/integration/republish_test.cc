// What survives a republish end to end: a worker's picker keeps its state when an API weight
// change publishes a new snapshot (least_response_time keeps avoiding a slow server, round
// robin goes on in order). One worker, so one picker sees every request.
#include <gtest/gtest.h>

#include <thread>

#include "http_support.h"

using namespace itest;
using namespace std::chrono_literals;

namespace {

struct RepublishEnv {
  TempDir dir;
  uint16_t port = freePort();
  uint16_t admin = freePort();
  std::unique_ptr<Process> fulcrum;

  void start(const std::string& pools) {
    std::string cfg = httpConfig(port, pools, "") + "admin:\n  bind: 127.0.0.1:" + std::to_string(admin) + "\n";
    fulcrum = startFulcrum(dir, cfg, port, 1);
    ASSERT_TRUE(fulcrum->running()) << fulcrum->log();
  }
  // PUT .../weight; returns the HTTP status (the snapshot is published when it answers).
  int setWeight(uint16_t serverPort, int weight) const {
    auto r = curl({"-X", "PUT", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json",
                   "--data-binary", "{\"weight\": " + std::to_string(weight) + "}",
                   url(admin, "/api/v1/pools/web/servers/127.0.0.1:" + std::to_string(serverPort) + "/weight")});
    return std::atoi(r.output.c_str());
  }
  // The id of the backend that answered one request on a new connection ("" on failure).
  std::string who() const {
    auto r = curl({url(port, "/")});
    const std::string prefix = "hello from ";
    if (r.output.rfind(prefix, 0) != 0) return "";
    return r.output.substr(prefix.size(), r.output.find('\n') - prefix.size());
  }
};

}  // namespace

// Before: every republish gave the worker a fresh picker that knew no latencies, so the
// first requests after each weight change went to the slow server about half the time.
TEST(Republish, LeastResponseTimeKeepsAvoidingASlowServerAcrossWeightChanges) {
  RepublishEnv env;
  HttpBackend fast = startHttpBackend(env.dir, "fast");
  HttpBackend slow = startHttpBackend(env.dir, "slow", {"--delay", "40"});
  ASSERT_NE(fast.port, 0);
  ASSERT_NE(slow.port, 0);
  env.start(httpPool("web", {fast.port, slow.port}, "    algorithm: least_response_time\n"));
  // Warm up until the slow server has been measured (a fresh picker tries it).
  auto warm = countRequests(env.port, "/", 12);
  ASSERT_EQ(warm["200 fast"] + warm["200 slow"], 12);
  int slowAfter = 0;
  for (int round = 0; round < 12; ++round) {
    ASSERT_EQ(env.setWeight(fast.port, round % 2 == 0 ? 2 : 1), 200);
    auto counts = countRequests(env.port, "/", 2);
    ASSERT_EQ(counts["200 fast"] + counts["200 slow"], 2);
    slowAfter += counts["200 slow"];
  }
  // 24 requests after 12 republishes; a fresh picker each time would send ~8 to the slow one.
  EXPECT_LE(slowAfter, 1);
}

// The same across the republishes of a slow start (every slow_start/10 while a server added
// by the API ramps up; a backup here, so that it takes no requests itself).
TEST(Republish, LeastResponseTimeKeepsAvoidingASlowServerWhileAServerRampsUp) {
  RepublishEnv env;
  HttpBackend fast = startHttpBackend(env.dir, "fast");
  HttpBackend slow = startHttpBackend(env.dir, "slow", {"--delay", "40"});
  HttpBackend spare = startHttpBackend(env.dir, "spare");
  ASSERT_NE(fast.port, 0);
  ASSERT_NE(slow.port, 0);
  ASSERT_NE(spare.port, 0);
  env.start(httpPool("web", {fast.port, slow.port}, "    algorithm: least_response_time\n    slow_start: 2s\n"));
  auto warm = countRequests(env.port, "/", 12);
  ASSERT_EQ(warm["200 fast"] + warm["200 slow"], 12);
  auto add = curl({"-X", "POST", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Content-Type: application/json",
                   "--data-binary", "{\"address\": \"127.0.0.1:" + std::to_string(spare.port) + "\", \"backup\": true}",
                   url(env.admin, "/api/v1/pools/web/servers")});
  ASSERT_EQ(add.output, "201");
  // ~1.8 s of the 2 s ramp: about 9 republishes, each with new weights for the pool.
  int slowAfter = 0;
  for (int round = 0; round < 12; ++round) {
    auto counts = countRequests(env.port, "/", 2);
    ASSERT_EQ(counts["200 fast"] + counts["200 slow"], 2);
    slowAfter += counts["200 slow"];
    std::this_thread::sleep_for(150ms);
  }
  EXPECT_LE(slowAfter, 1);
}

// Before: each weight change restarted the rotation at a seed-dependent place.
TEST(Republish, RoundRobinOrderGoesOnAcrossWeightChanges) {
  RepublishEnv env;
  std::vector<HttpBackend> b;
  for (const char* id : {"b1", "b2", "b3"}) {
    b.push_back(startHttpBackend(env.dir, id));
    ASSERT_NE(b.back().port, 0);
  }
  env.start(httpPool("web", {b[0].port, b[1].port, b[2].port}, "    algorithm: round_robin\n"));
  auto next = [](const std::string& id) { return id == "b1" ? "b2" : id == "b2" ? "b3" : "b1"; };
  int inOrder = 0;
  for (int round = 0; round < 10; ++round) {
    const std::string before = env.who();
    ASSERT_FALSE(before.empty());
    ASSERT_EQ(env.setWeight(b[2].port, round % 2 == 0 ? 2 : 1), 200);
    const std::string after = env.who();
    ASSERT_FALSE(after.empty());
    inOrder += after == next(before) ? 1 : 0;
  }
  EXPECT_EQ(inOrder, 10);
}
