// Balancing, health and failover end to end (issue #3): real fulcrum, real backends
// that are killed, restarted, told to fail their checks or to report their own load.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include "configs.h"
#include "harness.h"

using namespace itest;

namespace {

std::map<std::string, int> spread(uint16_t port, int n) {
  std::map<std::string, int> seen;
  for (int i = 0; i < n; ++i) {
    seen[who(port)]++;
  }
  return seen;
}

std::string pool(const std::string& body, const std::vector<std::pair<uint16_t, std::string>>& servers) {
  std::string y = "pools:\n  - name: back\n" + body + "    servers:\n";
  for (const auto& [port, extra] : servers) {
    y += "      - address: 127.0.0.1:" + std::to_string(port) + "\n";
    if (!extra.empty()) {
      y += "        " + extra + "\n";
    }
  }
  return y;
}

std::string front(uint16_t port) { return "listeners:\n" + listenerYaml("front", port, "back"); }

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1)) {
    ++n;
  }
  return n;
}

// Sends WHO over new connections from a thread until stopped, recording who answered
// and when (ms since start).
class Traffic {
 public:
  explicit Traffic(uint16_t port) : port_(port), start_(std::chrono::steady_clock::now()) {
    thread_ = std::thread([this] {
      auto deadline = start_ + 60s;
      while (!stop_ && std::chrono::steady_clock::now() < deadline) {
        std::string r = who(port_);
        auto t = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count();
        std::lock_guard lock(mu_);
        log_.emplace_back(t, r);
      }
    });
  }
  ~Traffic() { finish(); }
  void finish() {
    stop_ = true;
    if (thread_.joinable()) {
      thread_.join();
    }
  }
  int64_t now() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start_).count();
  }
  // Answers between two times.
  std::map<std::string, int> between(int64_t from, int64_t to) {
    std::lock_guard lock(mu_);
    std::map<std::string, int> m;
    for (auto& [t, r] : log_) {
      if (t >= from && t < to) {
        m[r]++;
      }
    }
    return m;
  }

 private:
  uint16_t port_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::pair<int64_t, std::string>> log_;
  std::thread thread_;
};

}  // namespace

class WeightedSpread : public ::testing::TestWithParam<std::string> {};

TEST_P(WeightedSpread, FollowsWeightsWithinFivePercent) {
  TempDir dir;
  auto a = startBackend(dir, "a"), b = startBackend(dir, "b"), c = startBackend(dir, "c");
  uint16_t port = freePort();
  auto f = startFulcrum(dir,
                        front(port) + pool("    algorithm: " + GetParam() + "\n",
                                           {{a.tcp_port, "weight: 1"}, {b.tcp_port, "weight: 2"}, {c.tcp_port, "weight: 3"}}),
                        port);
  constexpr int kConns = 10000;
  auto seen = spread(port, kConns);
  EXPECT_EQ(seen["a"] + seen["b"] + seen["c"], kConns);
  EXPECT_NEAR(seen["a"], kConns / 6.0, kConns / 6.0 * 0.05);
  EXPECT_NEAR(seen["b"], kConns / 3.0, kConns / 3.0 * 0.05);
  EXPECT_NEAR(seen["c"], kConns / 2.0, kConns / 2.0 * 0.05);
}

INSTANTIATE_TEST_SUITE_P(Algorithms, WeightedSpread, ::testing::Values("weighted_round_robin", "random"));

TEST(Health, KilledServerIsDetectedAndRejoinsWithSlowStart) {
  TempDir dir;
  auto a = startBackend(dir, "a"), b = startBackend(dir, "b"), c = startBackend(dir, "c");
  uint16_t port = freePort();
  std::string body =
      "    slow_start: 3s\n"
      "    health_check:\n      type: tcp\n      interval: 200ms\n      timeout: 200ms\n      rise: 2\n      fall: 2\n";
  auto f = startFulcrum(dir, front(port) + pool(body, {{a.tcp_port, ""}, {b.tcp_port, ""}, {c.tcp_port, ""}}), port);
  Traffic traffic(port);
  std::this_thread::sleep_for(500ms);
  b.proc->signal(SIGKILL);
  b.proc->wait(5s);
  int64_t killed = traffic.now();
  // interval x fall + timeout (+ jitter and scheduling slack)
  ASSERT_TRUE(waitFor([&] { return f->log().find("to=down") != std::string::npos; }, 3s)) << f->log();
  int64_t detected = traffic.now();
  EXPECT_LT(detected - killed, 200 * 2 + 200 + 20 + 500);
  std::this_thread::sleep_for(1s);
  // After detection no connection goes to b: no more connect attempts to it either.
  std::string bAddr = "127.0.0.1:" + std::to_string(b.tcp_port);
  size_t failsAtDetection = count(f->log(), "server=" + bAddr + " error");
  std::this_thread::sleep_for(1s);
  EXPECT_EQ(count(f->log(), "server=" + bAddr + " error"), failsAtDetection);
  auto during = traffic.between(detected + 100, traffic.now());
  EXPECT_EQ(during.count("b"), 0u);
  EXPECT_GT(during["a"] + during["c"], 10);
  EXPECT_EQ(during["connect failed"] + during["no answer"], 0);

  // Back on the same port: rise good checks, then a slow start.
  auto b2 = startBackendWith(dir, "b", {"--tcp", bAddr});
  ASSERT_TRUE(waitFor([&] { return f->log().find("to=up") != std::string::npos; }, 5s)) << f->log();
  int64_t up = traffic.now();
  std::this_thread::sleep_for(4s);
  traffic.finish();
  auto early = traffic.between(up, up + 900);
  auto late = traffic.between(up + 3100, up + 4000);
  auto share = [](std::map<std::string, int>& m) {
    double total = m["a"] + m["b"] + m["c"];
    return total > 0 ? m["b"] / total : 0.0;
  };
  EXPECT_GT(early["b"], 0) << "a recovering server gets some traffic at once";
  EXPECT_LT(share(early), 0.25) << "but not a full share";
  EXPECT_GT(share(late), 0.25) << "and a full share once slow start is over";
}

TEST(Health, HttpCheckAnswered500MarksServerDown) {
  TempDir dir;
  std::string status = dir.file("status-b");
  writeFile(status, "200");
  auto ha = startBackendWith(dir, "ha", {"--mode", "http", "--tcp", "127.0.0.1:0"});
  auto hb = startBackendWith(dir, "hb", {"--mode", "http", "--tcp", "127.0.0.1:0", "--status-file", status});
  uint16_t port = freePort();
  std::string body =
      "    health_check:\n      type: http\n      interval: 200ms\n      timeout: 200ms\n      rise: 2\n      fall: 2\n"
      "      http:\n        path: /healthz\n        expect_status: [\"200-299\"]\n";
  auto f = startFulcrum(dir, front(port) + pool(body, {{ha.tcp_port, ""}, {hb.tcp_port, ""}}), port);
  std::this_thread::sleep_for(500ms);  // checked and confirmed up: now it takes `fall` failures
  EXPECT_EQ(f->log().find("to=down"), std::string::npos);
  writeFile(status, "500");
  ASSERT_TRUE(waitFor([&] { return f->log().find("reason=\"status 500\"") != std::string::npos; }, 3s)) << f->log();
  EXPECT_NE(f->log().find("to=down"), std::string::npos);
  // hb is down: every request reaches ha.
  for (int i = 0; i < 10; ++i) {
    int fd = connectTcp(port);
    ASSERT_TRUE(sendStr(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    std::string resp;
    char buf[512];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
      resp.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    EXPECT_NE(resp.find("hello from ha"), std::string::npos) << resp;
  }
}

TEST(Health, FlappingServerCannotFlapFasterThanRiseAndFall) {
  TempDir dir;
  std::string status = dir.file("status");
  writeFile(status, "200");
  auto h = startBackendWith(dir, "h", {"--mode", "http", "--tcp", "127.0.0.1:0", "--status-file", status});
  auto other = startBackendWith(dir, "o", {"--mode", "http", "--tcp", "127.0.0.1:0"});
  uint16_t port = freePort();
  std::string body =
      "    health_check:\n      type: http\n      interval: 100ms\n      jitter: 0ms\n      timeout: 100ms\n"
      "      rise: 3\n      fall: 3\n";
  auto f = startFulcrum(dir, front(port) + pool(body, {{h.tcp_port, ""}, {other.tcp_port, ""}}), port);
  std::this_thread::sleep_for(400ms);  // confirmed up
  writeFile(status, "200,500");        // good, bad, good, bad...
  std::this_thread::sleep_for(2s);
  EXPECT_EQ(count(f->log(), "server health changed"), 0u) << f->log();
  writeFile(status, "500");
  ASSERT_TRUE(waitFor([&] { return count(f->log(), "to=down") == 1; }, 3s)) << f->log();
}

TEST(Health, EveryServerDownRefusesPromptlyOrPanics) {
  TempDir dir;
  std::string status = dir.file("status");
  writeFile(status, "503");
  auto h1 = startBackendWith(dir, "h1", {"--mode", "http", "--tcp", "127.0.0.1:0", "--status-file", status});
  auto h2 = startBackendWith(dir, "h2", {"--mode", "http", "--tcp", "127.0.0.1:0", "--status-file", status});
  for (int panic : {0, 50}) {
    uint16_t port = freePort();
    std::string body = "    panic_threshold: " + std::to_string(panic) +
                       "\n    health_check:\n      type: http\n      interval: 100ms\n      timeout: 100ms\n";
    TempDir run;  // a log of its own per run
    auto f = startFulcrum(run, front(port) + pool(body, {{h1.tcp_port, ""}, {h2.tcp_port, ""}}), port);
    ASSERT_TRUE(waitFor([&] { return count(f->log(), "to=down") == 2; }, 3s)) << f->log();
    if (panic != 0) {
      // The control thread's sweep (every 100 ms) declares panic.
      ASSERT_TRUE(waitFor([&] { return f->log().find("panic mode") != std::string::npos; }, 2s)) << f->log();
    }
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0);
    sendStr(fd, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    if (panic == 0) {
      auto start = std::chrono::steady_clock::now();
      EXPECT_TRUE(closedWithin(fd, 1s));
      EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
    } else {
      // Panic: spread over all servers rather than refuse everyone.
      EXPECT_EQ(recvLine(fd).value_or(""), "HTTP/1.1 503 Status\r");
    }
    ::close(fd);
    f->signal(SIGTERM);
    f->wait(5s);
  }
}

TEST(Health, HealthyBackupServesInsteadOfPanic) {
  TempDir dir;
  std::string status = dir.file("status");
  writeFile(status, "503");
  auto p1 = startBackendWith(dir, "p1", {"--mode", "http", "--tcp", "127.0.0.1:0", "--status-file", status});
  auto p2 = startBackendWith(dir, "p2", {"--mode", "http", "--tcp", "127.0.0.1:0", "--status-file", status});
  auto bk = startBackendWith(dir, "bk", {"--mode", "http", "--tcp", "127.0.0.1:0"});
  uint16_t port = freePort();
  std::string body = "    health_check:\n      type: http\n      interval: 100ms\n      timeout: 100ms\n";
  auto f = startFulcrum(dir, front(port) + pool(body, {{p1.tcp_port, ""}, {p2.tcp_port, ""}, {bk.tcp_port, "backup: true"}}),
                        port);
  ASSERT_TRUE(waitFor([&] { return count(f->log(), "to=down") == 2; }, 3s)) << f->log();
  std::this_thread::sleep_for(300ms);  // a few sweeps
  for (int i = 0; i < 5; ++i) {
    int fd = connectTcp(port);
    sendStr(fd, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    std::string resp;
    char buf[512];
    ssize_t n;
    while ((n = ::recv(fd, buf, sizeof buf, 0)) > 0) {
      resp.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    EXPECT_NE(resp.find("hello from bk"), std::string::npos) << resp;
  }
  EXPECT_EQ(f->log().find("panic mode"), std::string::npos);
}

TEST(Health, AgentReportingFiftyPercentHalvesTheShare) {
  TempDir dir;
  std::string answer = dir.file("agent");
  writeFile(answer, "up 50%");
  auto a = startBackend(dir, "a"), b = startBackend(dir, "b");
  auto agent = startBackendWith(dir, "agent", {"--mode", "agent", "--tcp", "127.0.0.1:0", "--agent-file", answer});
  uint16_t port = freePort();
  std::string agentLine = "agent: {port: " + std::to_string(agent.tcp_port) + ", interval: 200ms, timeout: 100ms}";
  auto f = startFulcrum(dir, front(port) + pool("", {{a.tcp_port, ""}, {b.tcp_port, agentLine}}), port, 1);
  ASSERT_TRUE(waitFor([&] { return f->log().find("answer=\"up 50%\"") != std::string::npos; }, 3s)) << f->log();
  std::this_thread::sleep_for(200ms);  // the new weights are published
  auto seen = spread(port, 3000);
  EXPECT_NEAR(seen["b"] / 3000.0, 1.0 / 3.0, 0.05);
  // "drain" stops new connections to it.
  writeFile(answer, "drain");
  ASSERT_TRUE(waitFor([&] { return f->log().find("answer=drain") != std::string::npos; }, 3s)) << f->log();
  auto drained = spread(port, 50);
  EXPECT_EQ(drained["a"], 50);
}

TEST(Passive, ConsecutiveFailuresEjectAServer) {
  TempDir dir;
  auto a = startBackend(dir, "a"), b = startBackend(dir, "b");
  uint16_t dead = deadPort();
  uint16_t port = freePort();
  std::string body =
      "    outlier_detection:\n      max_fails: 3\n      fail_timeout: 10s\n      ejection_time: 30s\n"
      "      max_ejection_percent: 50\n";
  auto f = startFulcrum(dir, front(port) + pool(body, {{dead, ""}, {a.tcp_port, ""}, {b.tcp_port, ""}}), port, 1);
  for (int i = 0; i < 30; ++i) {
    EXPECT_NE(who(port), "connect failed");
  }
  std::string log = f->log();
  EXPECT_NE(log.find("server ejected"), std::string::npos) << log;
  // Ejected after 3 failures: no more attempts on it.
  EXPECT_EQ(count(log, "127.0.0.1:" + std::to_string(dead) + " error"), 3u) << log;
}

TEST(Passive, ErrorRateOverTheWindowEjects) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t dead = deadPort();
  uint16_t port = freePort();
  // Consecutive failures alone would never eject here (max_fails is high): the rate does.
  std::string body =
      "    outlier_detection:\n      max_fails: 1000\n      error_rate: 50\n      error_rate_window: 2s\n"
      "      error_rate_min_requests: 5\n      max_ejection_percent: 50\n";
  auto f = startFulcrum(dir, front(port) + pool(body, {{dead, ""}, {a.tcp_port, ""}}), port, 1);
  std::string deadAddr = "127.0.0.1:" + std::to_string(dead) + " error";
  ASSERT_TRUE(waitFor(
      [&] {
        who(port);
        return f->log().find("server ejected") != std::string::npos;
      },
      5s))
      << f->log();
  size_t failures = count(f->log(), deadAddr);
  EXPECT_GE(failures, 5u);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(who(port), "a");
  }
  EXPECT_EQ(count(f->log(), deadAddr), failures);  // no attempt on it while ejected
}

TEST(Drain, DrainedServerGetsNoNewConnectionsAndKeepsOpenOnesUntilTheTimeout) {
  TempDir dir;
  auto a = startBackend(dir, "a"), b = startBackend(dir, "b");
  uint16_t port = freePort();
  auto cfg = [&](bool drain) {
    return "timeouts:\n  drain: 1s\n" + front(port) +
           pool("", {{a.tcp_port, drain ? "drain: true" : ""}, {b.tcp_port, ""}});
  };
  auto f = startFulcrum(dir, cfg(false), port, 1);
  int held = -1;
  for (int i = 0; i < 4 && held < 0; ++i) {
    int fd = connectTcp(port);
    sendStr(fd, "WHO\n");
    if (recvLine(fd).value_or("") == "a") {
      held = fd;
    } else {
      ::close(fd);
    }
  }
  ASSERT_GE(held, 0);
  writeFile(dir.file("fulcrum.yaml"), cfg(true));
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return count(f->log(), "config applied") == 2; }, 3s));
  auto seen = spread(port, 20);
  EXPECT_EQ(seen["b"], 20);
  sendStr(held, "WHO\n");
  EXPECT_EQ(recvLine(held).value_or(""), "a");  // the open one still works
  EXPECT_TRUE(closedWithin(held, 3s));          // until the drain timeout
  ::close(held);
}
