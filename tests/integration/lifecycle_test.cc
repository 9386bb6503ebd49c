// Reload, graceful stop and bad input at start: the process lifecycle, end to end.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "configs.h"
#include "harness.h"

using namespace itest;

TEST(Lifecycle, ReloadUnderTrafficDropsNothing) {
  TempDir dir;
  auto a = startBackend(dir, "a"), b = startBackend(dir, "b");
  uint16_t port = freePort();
  std::string cfgA = simpleTcp(port, {{a.tcp_port}});
  std::string cfgB = simpleTcp(port, {{b.tcp_port}});
  auto f = startFulcrum(dir, cfgA, port);
  std::string path = dir.file("fulcrum.yaml");

  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      auto deadline = std::chrono::steady_clock::now() + 20s;
      while (!stop && std::chrono::steady_clock::now() < deadline) {
        auto r = who(port);
        (r == "a" || r == "b" ? ok : failed)++;
      }
    });
  }
  for (int i = 0; i < 8; ++i) {
    writeFile(path, i % 2 == 0 ? cfgB : cfgA);
    f->signal(SIGHUP);
    std::this_thread::sleep_for(250ms);
  }
  // A bad config is rejected and the running one keeps serving.
  writeFile(path, "listeners: [oops\n");
  f->signal(SIGHUP);
  std::this_thread::sleep_for(250ms);
  stop = true;
  for (auto& t : clients) {
    t.join();
  }
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 100);
  std::string log = f->log();
  EXPECT_NE(log.find("reload rejected"), std::string::npos);
  EXPECT_EQ(who(port), "a");  // the last good config (cfgA) still serves
  EXPECT_TRUE(f->running());
}

TEST(Lifecycle, ReloadKeepsOpenConnectionsOnTheirServer) {
  TempDir dir;
  auto a = startBackend(dir, "a"), b = startBackend(dir, "b");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}), port);
  int held = connectTcp(port);
  sendStr(held, "WHO\n");
  ASSERT_EQ(recvLine(held).value_or(""), "a");
  writeFile(dir.file("fulcrum.yaml"), simpleTcp(port, {{b.tcp_port}}));
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return who(port) == "b"; }, 5s));
  sendStr(held, "WHO\n");
  EXPECT_EQ(recvLine(held).value_or(""), "a");
  ::close(held);
}

TEST(Lifecycle, ReloadAddsAndRemovesListeners) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t p1 = freePort(), p2 = freePort();
  auto f = startFulcrum(dir, simpleTcp(p1, {{a.tcp_port}}), p1);
  std::string both = "listeners:\n" + listenerYaml("one", p1, "back") + listenerYaml("two", p2, "back") +
                     "pools:\n" + poolYaml("back", {{a.tcp_port}});
  writeFile(dir.file("fulcrum.yaml"), both);
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return who(p2) == "a"; }, 5s));
  EXPECT_EQ(who(p1), "a");
  writeFile(dir.file("fulcrum.yaml"), simpleTcp(p2, {{a.tcp_port}}));
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return connectTcp(p1) < 0; }, 5s));
  EXPECT_EQ(who(p2), "a");
}

TEST(Lifecycle, GracefulStopLetsConnectionsFinish) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}, "  drain: 10s\n"), port);
  int fd = connectTcp(port);
  ASSERT_TRUE(sendStr(fd, "ECHO\n"));
  f->signal(SIGTERM);
  // New connections are refused promptly...
  ASSERT_TRUE(waitFor([&] { int c = connectTcp(port, "127.0.0.1", 1); if (c >= 0) { ::close(c); return false; } return true; }, 3s));
  // ...while the open one keeps working.
  ASSERT_TRUE(sendStr(fd, "still here\n"));
  EXPECT_EQ(recvLine(fd).value_or(""), "still here");
  EXPECT_TRUE(f->running());
  ::shutdown(fd, SHUT_WR);
  EXPECT_EQ(drainToEof(fd), 0);
  ::close(fd);
  auto code = f->wait(5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
}

TEST(Lifecycle, DrainTimeoutClosesLingeringConnections) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}, "  drain: 500ms\n"), port);
  int fd = connectTcp(port);
  sendStr(fd, "HOLD\n");
  std::this_thread::sleep_for(100ms);
  auto start = std::chrono::steady_clock::now();
  f->signal(SIGTERM);
  EXPECT_TRUE(closedWithin(fd, 5s));
  auto code = f->wait(5s);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 0);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 400ms);
  EXPECT_NE(f->log().find("drain timeout"), std::string::npos);
  ::close(fd);
}

TEST(Lifecycle, PortInUseFailsAtStart) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  // The backend's own port is taken (by a process without SO_REUSEPORT).
  auto f = startFulcrum(dir, simpleTcp(a.tcp_port, {{a.tcp_port}}), 0);
  auto code = f->wait(10s);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  EXPECT_NE(f->log().find("Address already in use"), std::string::npos) << f->log();
}

TEST(Lifecycle, ReloadWithPortInUseKeepsOldConfig) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}), port);
  std::string bad = "listeners:\n" + listenerYaml("one", port, "back") + listenerYaml("two", a.tcp_port, "back") +
                    "pools:\n" + poolYaml("back", {{a.tcp_port}});
  writeFile(dir.file("fulcrum.yaml"), bad);
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return f->log().find("reload rejected") != std::string::npos; }, 5s));
  EXPECT_EQ(who(port), "a");
}

TEST(Lifecycle, MissingOrBrokenConfigFailsAtStart) {
  TempDir dir;
  auto missing = runCommand({FULCRUM_BIN, "run", "-c", dir.file("nope.yaml")});
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.output.find("cannot read config file"), std::string::npos) << missing.output;
  writeFile(dir.file("bad.yaml"), "listeners:\n  - name: x\n    bind: 127.0.0.1:99999\n    pool: p\n");
  auto bad = runCommand({FULCRUM_BIN, "run", "-c", dir.file("bad.yaml")});
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.output.find("bad.yaml:3:"), std::string::npos) << bad.output;
}
