// Reload, graceful stop and bad input at start: the process lifecycle, end to end.
#include <gtest/gtest.h>
#include <signal.h>
#include <netinet/in.h>
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

namespace {

// A socket bound as a second load balancer would bind it: SO_REUSEADDR and SO_REUSEPORT,
// listening (TCP). Fulcrum's own SO_REUSEPORT bind would share it and split the traffic.
int holdSharedPort(uint16_t port, bool udp) {
  int fd = ::socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || (!udp && ::listen(fd, 16) != 0)) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

TEST(Lifecycle, SecondFulcrumOnTheSameAddressRefusesToStart) {
  TempDir dir1, dir2;
  auto a = startBackend(dir1, "a");
  uint16_t port = freePort();
  auto first = startFulcrum(dir1, simpleTcp(port, {{a.tcp_port}}), port);
  ASSERT_EQ(who(port), "a");
  auto second = startFulcrum(dir2, simpleTcp(port, {{a.tcp_port}}), 0);
  auto code = second->wait(10s);
  ASSERT_TRUE(code.has_value()) << "the second fulcrum shares the port:\n" << second->log();
  EXPECT_EQ(*code, 1);
  EXPECT_NE(second->log().find("listener front: bind 127.0.0.1:" + std::to_string(port) +
                               "/tcp: Address already in use by another process"),
            std::string::npos)
      << second->log();
  EXPECT_TRUE(first->running());
  EXPECT_EQ(who(port), "a");
}

TEST(Lifecycle, UdpAddressHeldByAnotherProcessRefusesToStart) {
  TempDir dir;
  uint16_t port = freePort(true);
  int held = holdSharedPort(port, true);
  ASSERT_GE(held, 0);
  std::string cfg = "listeners:\n  - name: dns\n    bind: 127.0.0.1:" + std::to_string(port) +
                    "\n    protocol: udp\n    pool: p\npools:\n" + poolYaml("p", {{deadPort()}});
  auto f = startFulcrum(dir, cfg, 0);
  auto code = f->wait(10s);
  ::close(held);
  ASSERT_TRUE(code.has_value()) << "fulcrum shares the UDP port:\n" << f->log();
  EXPECT_EQ(*code, 1);
  EXPECT_NE(f->log().find("/udp: Address already in use by another process"), std::string::npos) << f->log();
}

TEST(Lifecycle, ReloadRefusesANewListenerOnAnAddressAnotherProcessHolds) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort(), taken = freePort();
  int held = holdSharedPort(taken, false);
  ASSERT_GE(held, 0);
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}), port);
  std::string cfg = readFile(dir.file("fulcrum.yaml"));
  std::string both = "listeners:\n" + listenerYaml("one", port, "back") + listenerYaml("two", taken, "back") +
                     "pools:\n" + poolYaml("back", {{a.tcp_port}}) + cfg.substr(cfg.find("admin:"));
  writeFile(dir.file("fulcrum.yaml"), both);
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return f->log().find("reload rejected") != std::string::npos; }, 5s)) << f->log();
  EXPECT_NE(f->log().find("listener two: bind 127.0.0.1:" + std::to_string(taken) +
                          "/tcp: Address already in use by another process"),
            std::string::npos)
      << f->log();
  EXPECT_EQ(who(port), "a");
  EXPECT_TRUE(f->running());
  ::close(held);
}

// The check must not refuse Fulcrum's own sockets: a reload that moves a listener from a
// specific address to the wildcard of the same port overlaps the socket it replaces.
TEST(Lifecycle, ReloadMovesAListenerToTheWildcardOfItsOwnPort) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}), port);
  std::string cfg = readFile(dir.file("fulcrum.yaml"));
  std::string from = "bind: 127.0.0.1:" + std::to_string(port);
  cfg.replace(cfg.find(from), from.size(), "bind: \"*:" + std::to_string(port) + "\"");
  writeFile(dir.file("fulcrum.yaml"), cfg);
  f->signal(SIGHUP);
  ASSERT_TRUE(waitFor([&] { return f->log().find("version=2") != std::string::npos ||
                                   f->log().find("reload rejected") != std::string::npos; }, 5s))
      << f->log();
  EXPECT_EQ(f->log().find("reload rejected"), std::string::npos) << f->log();
  EXPECT_EQ(who(port), "a");
}
