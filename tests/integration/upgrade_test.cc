// `fulcrum upgrade`: a new fulcrum takes the listening sockets of the running one, which
// stops accepting once the new one serves and drains. Real processes, real clients: under
// 500 new connections/s with 200 idle keep-alive connections held, not one request fails and
// every idle connection is closed cleanly between requests; a new binary that fails leaves
// the old one serving.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <thread>

#include "configs.h"
#include "harness.h"
#include "http_support.h"

using namespace itest;

namespace {

// The new fulcrum is the upgrade command's child, not ours: ended by pid when the test ends.
struct KillOnExit {
  pid_t pid = 0;
  ~KillOnExit() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
    }
  }
};

// "pid N" after `marker` in text, or 0.
pid_t pidAfter(const std::string& text, const std::string& marker) {
  size_t at = text.find(marker);
  return at == std::string::npos ? 0 : static_cast<pid_t>(std::atoi(text.c_str() + at + marker.size()));
}

// One complete response (head and Content-Length body) from a keep-alive connection, or "".
std::string readResponse(int fd) {
  std::string in;
  char buf[4096];
  for (;;) {
    size_t head = in.find("\r\n\r\n");
    if (head != std::string::npos) {
      std::string cl = headerOf(in.substr(0, head + 2), "Content-Length");
      size_t want = head + 4 + static_cast<size_t>(std::atoi(cl.c_str()));
      if (!cl.empty() && in.size() >= want) {
        return in;
      }
    }
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);  // bounded by the socket's receive timeout
    if (n <= 0) {
      return "";
    }
    in.append(buf, static_cast<size_t>(n));
  }
}

enum class Ending { CleanClose, Reset, Data, StillOpen };

// How an idle connection ends within timeout: a FIN (recv 0), a reset, or unexpected bytes.
Ending endingOf(int fd, std::chrono::milliseconds timeout) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
    return Ending::StillOpen;
  }
  char buf[256];
  ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  if (n == 0) {
    return Ending::CleanClose;
  }
  return n < 0 ? Ending::Reset : Ending::Data;
}

std::unique_ptr<Process> startUpgrade(const TempDir& dir, const std::vector<std::string>& extra,
                                      const std::string& log = "upgrade.log") {
  std::vector<std::string> argv{FULCRUM_BIN, "upgrade", "-c", dir.file("fulcrum.yaml")};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return std::make_unique<Process>(argv, dir.file(log));
}

std::unique_ptr<Process> startLoad(const TempDir& dir, uint16_t port, int rate, int seconds) {
  return std::make_unique<Process>(
      std::vector<std::string>{"/usr/bin/python3", SOURCE_DIR "/tests/integration/clients/paced_load.py", "127.0.0.1",
                               std::to_string(port), "/", std::to_string(rate), std::to_string(seconds)},
      dir.file("load.log"));
}

}  // namespace

TEST(Upgrade, UnderLoadWithIdleKeepAliveConnectionsNothingFails) {
  TempDir dir;
  auto backend = startHttpBackend(dir, "a");
  ASSERT_NE(backend.port, 0);
  uint16_t port = freePort();
  auto old = startFulcrum(dir, httpConfig(port, httpPool("web", {backend.port}), "", "web", "timeouts: {drain: 5s}\n"),
                          port, 2);
  ASSERT_TRUE(old->running()) << old->log();

  // 200 idle keep-alive connections, each after one complete request; 20 more that will have a
  // slow request in flight when the old one stops accepting.
  constexpr int kIdle = 200, kBusy = 20;
  std::vector<int> idle, busy;
  for (int i = 0; i < kIdle + kBusy; ++i) {
    int fd = connectTcp(port, "127.0.0.1", 10);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(sendStr(fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n"));
    ASSERT_NE(readResponse(fd).find("hello from a"), std::string::npos);
    (i < kIdle ? idle : busy).push_back(fd);
  }

  auto load = startLoad(dir, port, 500, 4);
  std::this_thread::sleep_for(1500ms);
  for (int fd : busy) {
    ASSERT_TRUE(sendStr(fd, "GET /sleep/800 HTTP/1.1\r\nHost: t\r\n\r\n"));
  }
  auto started = std::chrono::steady_clock::now();
  auto upgrade = startUpgrade(dir, {"--workers", "2"});
  auto code = upgrade->wait(20s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  std::string out = upgrade->log();
  KillOnExit successor{pidAfter(out, "the new fulcrum (pid ")};
  ASSERT_EQ(code, 0) << out << old->log();
  ASSERT_GT(successor.pid, 0) << out;

  // In flight at the handover: answered completely by the old one, then closed (not reset).
  int busyOk = 0, busyClean = 0;
  for (int fd : busy) {
    std::string r = readResponse(fd);
    busyOk += r.find("slept 800") != std::string::npos && r.find("Connection: close") != std::string::npos;
    busyClean += endingOf(fd, 5s) == Ending::CleanClose;
    ::close(fd);
  }
  int clean = 0, reset = 0, data = 0, open = 0;
  for (int fd : idle) {
    switch (endingOf(fd, 5s)) {
      case Ending::CleanClose: ++clean; break;
      case Ending::Reset: ++reset; break;
      case Ending::Data: ++data; break;
      case Ending::StillOpen: ++open; break;
    }
    ::close(fd);
  }
  ASSERT_TRUE(load->wait(40s).has_value());
  std::string result = readFile(dir.file("load.log"));
  auto oldExit = old->wait(10s);
  std::cout << "upgrade under 500 requests/s: " << result << "command took " << took.count() << " ms; " << out;

  EXPECT_NE(result.find("sent 2000 ok 2000 failed 0"), std::string::npos) << result << old->log();
  EXPECT_EQ(busyOk, kBusy) << "a request in flight at the handover must be answered";
  EXPECT_EQ(busyClean, kBusy);
  EXPECT_EQ(clean, kIdle) << "reset " << reset << ", bytes " << data << ", still open " << open;
  EXPECT_EQ(oldExit, 0) << old->log();
  EXPECT_NE(old->log().find("upgrade: the new fulcrum serves; this one stops accepting and drains"), std::string::npos);
  // The new one serves on the same address (and its admin API answers on the old one's port).
  EXPECT_EQ(curl({url(port, "/")}).output, "hello from a\n");
  EXPECT_NE(out.find("\"listening sockets adopted\" adopted=2 shared=0 bound=0"), std::string::npos) << out;
}

// Keep-alive clients that send their next request the moment the last answer arrives, through
// upgrades: each old process drains while requests keep crossing its connections. An idle
// connection closed in the instant a request arrives would lose that request (the client sees
// a reset or an end with no answer); the drain must close only between requests, where the
// client can tell (Connection: close on an answer), so not one request fails.
TEST(Upgrade, BackToBackKeepAliveClientsLoseNothing) {
  TempDir dir;
  uint16_t port = freePort();
  auto first = startFulcrum(dir,
                            "timeouts: {drain: 5s}\nlisteners:\n  - name: web\n    bind: 127.0.0.1:" +
                                std::to_string(port) +
                                "\n    protocol: http\n    http:\n      routes:\n"
                                "        - respond: {status: 200, body: \"ok\\n\"}\n"
                                "pools:\n  - name: p\n    servers:\n      - address: 127.0.0.1:" +
                                std::to_string(deadPort()) + "\n",
                            port, 2);
  ASSERT_TRUE(first->running()) << first->log();
  constexpr int kClients = 20, kUpgrades = 3;
  std::atomic<bool> done{false};
  std::atomic<int> ok{0}, failed{0}, reconnects{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      // The lowest priority: twenty threads sending back to back must not starve the
      // processes of the upgrade on a small machine (what they race is the drain, not the CPU).
      ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), 19);
      int fd = -1;
      while (!done.load()) {
        if (fd < 0) {
          fd = connectTcp(port, "127.0.0.1", 5);
          if (fd < 0) {
            ++failed;
            std::this_thread::sleep_for(10ms);
            continue;
          }
          ++reconnects;
        }
        std::string r;
        if (sendStr(fd, "GET / HTTP/1.1\r\nHost: t\r\n\r\n")) {
          r = readResponse(fd);
        }
        if (r.find("\r\n\r\nok\n") == std::string::npos) {
          ++failed;  // a reset, or an end with no answer: the request is lost
          ::close(fd);
          fd = -1;
          continue;
        }
        ++ok;
        if (r.find("Connection: close") != std::string::npos) {
          ::close(fd);  // told between requests: a new connection for the next one
          fd = -1;
        }
      }
      if (fd >= 0) {
        ::close(fd);
      }
    });
  }
  std::vector<KillOnExit> successors(kUpgrades);
  std::string outs;
  for (int i = 0; i < kUpgrades; ++i) {
    std::this_thread::sleep_for(300ms);
    auto upgrade = startUpgrade(dir, {"--workers", "2"}, "upgrade" + std::to_string(i) + ".log");
    auto code = upgrade->wait(20s);
    outs += upgrade->log();
    successors[i].pid = pidAfter(upgrade->log(), "the new fulcrum (pid ");
    EXPECT_EQ(code, 0) << upgrade->log();
  }
  std::this_thread::sleep_for(300ms);
  done = true;
  for (auto& t : clients) {
    t.join();
  }
  std::cout << "back-to-back keep-alive through " << kUpgrades << " upgrades: " << ok.load() << " ok, "
            << failed.load() << " failed, " << reconnects.load() << " connections\n";
  EXPECT_EQ(failed.load(), 0) << outs;
  EXPECT_GT(ok.load(), 1000);
  EXPECT_GE(reconnects.load(), kClients * (kUpgrades + 1)) << "every upgrade moves every client";
  EXPECT_EQ(first->wait(10s), 0) << first->log();
}

TEST(Upgrade, ANewBinaryThatFailsLeavesTheOldOneServing) {
  TempDir dir;
  auto backend = startHttpBackend(dir, "a");
  ASSERT_NE(backend.port, 0);
  uint16_t port = freePort();
  std::string good = httpConfig(port, httpPool("web", {backend.port}), "", "web", "timeouts: {drain: 5s}\n");
  auto old = startFulcrum(dir, good, port, 2);
  ASSERT_TRUE(old->running()) << old->log();
  std::string cfg = dir.file("fulcrum.yaml");
  std::string goodText = readFile(cfg);
  auto load = startLoad(dir, port, 500, 3);

  // A config with an error: nothing is started.
  writeFile(cfg, goodText + "bogus_key: 1\n");
  auto bad = startUpgrade(dir, {}, "bad.log");
  EXPECT_EQ(bad->wait(20s), 1);
  EXPECT_NE(bad->log().find("fulcrum.yaml:"), std::string::npos) << bad->log();
  EXPECT_NE(bad->log().find("no new fulcrum was started; the running one serves on"), std::string::npos) << bad->log();

  // A valid config the new binary cannot serve: a listener on a port another process holds.
  // It takes the sockets, fails to bind, exits; the old one was never told to drain.
  int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  uint16_t held = freePort();
  a.sin_port = htons(held);
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(holder, 1), 0);
  std::string withHeld = goodText;
  withHeld.replace(withHeld.find("pools:"), 6,
                   "  - name: taken\n    bind: 127.0.0.1:" + std::to_string(held) +
                       "\n    protocol: http\n    pool: web\npools:");
  writeFile(cfg, withHeld);
  auto failing = startUpgrade(dir, {"--workers", "2"}, "failing.log");
  EXPECT_EQ(failing->wait(20s), 1);
  std::string f = failing->log();
  EXPECT_NE(f.find("received the listening sockets of the running fulcrum"), std::string::npos) << f;
  EXPECT_NE(f.find("Address already in use"), std::string::npos) << f;
  EXPECT_NE(f.find("exited with code 1 before it served; its log is above; the running fulcrum (pid " +
                   std::to_string(old->pid()) + ") serves on"),
            std::string::npos)
      << f;

  // A binary that is not fulcrum at all.
  writeFile(cfg, goodText);
  auto notFulcrum = startUpgrade(dir, {"--binary", "/bin/false"}, "false.log");
  EXPECT_EQ(notFulcrum->wait(20s), 1);
  EXPECT_NE(notFulcrum->log().find("exited with code 1 before it served"), std::string::npos) << notFulcrum->log();

  ASSERT_TRUE(load->wait(40s).has_value());
  std::string result = readFile(dir.file("load.log"));
  EXPECT_NE(result.find("sent 1500 ok 1500 failed 0"), std::string::npos) << result;
  EXPECT_TRUE(old->running());
  EXPECT_NE(old->log().find("upgrade abandoned: the new fulcrum went away before it was serving"), std::string::npos)
      << old->log();
  // And it can still be upgraded afterwards.
  auto again = startUpgrade(dir, {"--workers", "2"}, "again.log");
  ASSERT_EQ(again->wait(20s), 0) << again->log();
  KillOnExit successor{pidAfter(again->log(), "the new fulcrum (pid ")};
  EXPECT_EQ(curl({url(port, "/")}).output, "hello from a\n");
  EXPECT_EQ(old->wait(10s), 0);
  ::close(holder);
}

TEST(Upgrade, ANewBinaryTooSlowToServeIsStoppedAndTheOldOneServesOn) {
  TempDir dir;
  auto backend = startHttpBackend(dir, "a");
  ASSERT_NE(backend.port, 0);
  uint16_t port = freePort();
  auto old = startFulcrum(dir, httpConfig(port, httpPool("web", {backend.port}), "", "web"), port, 1);
  ASSERT_TRUE(old->running()) << old->log();
  std::string hang = dir.file("hang.sh");
  writeFile(hang, "#!/bin/sh\nexec sleep 30\n");
  ::chmod(hang.c_str(), 0755);
  auto slow = startUpgrade(dir, {"--binary", hang, "--timeout", "200"}, "slow.log");
  EXPECT_EQ(slow->wait(20s), 1);
  EXPECT_NE(slow->log().find("did not serve within 200 ms and was stopped; the running fulcrum (pid " +
                             std::to_string(old->pid()) + ") serves on"),
            std::string::npos)
      << slow->log();
  EXPECT_EQ(curl({url(port, "/")}).output, "hello from a\n");
}

TEST(Upgrade, NoRunningFulcrumAStaleSocketAndBadUsageSaySo) {
  TempDir dir;
  auto backend = startHttpBackend(dir, "a");
  ASSERT_NE(backend.port, 0);
  uint16_t port = freePort();
  std::string config = httpConfig(port, httpPool("web", {backend.port}), "", "web");
  writeFile(dir.file("fulcrum.yaml"), config + "admin:\n  bind: 127.0.0.1:" + std::to_string(freePort()) + "\n");
  auto none = runCommand({FULCRUM_BIN, "upgrade", "-c", dir.file("fulcrum.yaml")});
  EXPECT_EQ(none.code, 1);
  EXPECT_NE(none.output.find("no control socket at " + dir.file("fulcrum.yaml.sock") +
                             ": is fulcrum running with this config?"),
            std::string::npos)
      << none.output;

  // kill -9 leaves the socket file behind: the command says it is stale; a new `run` replaces it.
  auto f = startFulcrum(dir, readFile(dir.file("fulcrum.yaml")), port, 1);
  ASSERT_TRUE(f->running()) << f->log();
  // (its listener accepts before its control socket exists: wait for the whole start)
  ASSERT_TRUE(waitFor([&] { return f->log().find("fulcrum started") != std::string::npos; }, 10s)) << f->log();
  f->signal(SIGKILL);
  f->wait(5s);
  auto stale = runCommand({FULCRUM_BIN, "upgrade", "-c", dir.file("fulcrum.yaml")});
  EXPECT_EQ(stale.code, 1);
  EXPECT_NE(stale.output.find("stale control socket " + dir.file("fulcrum.yaml.sock") + ": nothing listens on it"),
            std::string::npos)
      << stale.output;
  auto again = startFulcrum(dir, readFile(dir.file("fulcrum.yaml")), port, 1);
  ASSERT_TRUE(again->running()) << again->log();
  // That it took the stale socket's place is proven below: a second fulcrum on that path is
  // told this one (by pid) serves with it. (Not its log line: under the sanitizers the log was
  // read, in one CI run, before the line was there.)
  EXPECT_EQ(curl({url(port, "/")}).output, "hello from a\n");

  // A second fulcrum whose control socket is the one a live fulcrum serves on refuses to start
  // (it names that one's pid), though its listeners are free.
  uint16_t other = freePort();
  writeFile(dir.file("other.yaml"), httpConfig(other, httpPool("web", {backend.port}), "", "web") +
                                         "admin:\n  bind: 127.0.0.1:" + std::to_string(freePort()) +
                                         "\n  control_socket: " + dir.file("fulcrum.yaml.sock") + "\n");
  auto second = runCommand({FULCRUM_BIN, "run", "-c", dir.file("other.yaml")});
  EXPECT_EQ(second.code, 1);
  EXPECT_NE(second.output.find("another fulcrum (pid " + std::to_string(again->pid()) + ") serves with it"),
            std::string::npos)
      << second.output;
  EXPECT_EQ(curl({url(port, "/")}).output, "hello from a\n");

  auto usage = runCommand({FULCRUM_BIN, "upgrade"});
  EXPECT_EQ(usage.code, 2) << usage.output;
  auto badTimeout = runCommand({FULCRUM_BIN, "upgrade", "-c", dir.file("fulcrum.yaml"), "--timeout", "soon"});
  EXPECT_EQ(badTimeout.code, 2) << badTimeout.output;
}

TEST(Upgrade, TheNewConfigKeepsAddsAndDropsListenersAndWorkers) {
  TempDir dir;
  auto a = startBackend(dir, "a", true, true);
  auto httpBackend = startHttpBackend(dir, "h");
  ASSERT_NE(httpBackend.port, 0);
  uint16_t keep = freePort(), dropped = freePort(), added = freePort(), udp = freePort(true);
  auto config = [&](bool second) {
    std::string y = "timeouts: {drain: 2s}\nlisteners:\n";
    y += "  - {name: keep, bind: 127.0.0.1:" + std::to_string(keep) + ", protocol: tcp, pool: tcp}\n";
    y += "  - {name: dns, bind: 127.0.0.1:" + std::to_string(udp) + ", protocol: udp, pool: udp}\n";
    y += second ? "  - {name: added, bind: 127.0.0.1:" + std::to_string(added) + ", protocol: http, pool: web}\n"
                : "  - {name: dropped, bind: 127.0.0.1:" + std::to_string(dropped) + ", protocol: http, pool: web}\n";
    y += "pools:\n";
    y += "  - {name: tcp, servers: [{address: 127.0.0.1:" + std::to_string(a.tcp_port) + "}]}\n";
    y += "  - {name: udp, servers: [{address: 127.0.0.1:" + std::to_string(a.udp_port) + "}]}\n";
    y += "  - {name: web, servers: [{address: 127.0.0.1:" + std::to_string(httpBackend.port) + "}]}\n";
    return y;
  };
  auto old = startFulcrum(dir, config(false), keep, 2);
  ASSERT_TRUE(old->running()) << old->log();
  std::string adminLine = readFile(dir.file("fulcrum.yaml")).substr(readFile(dir.file("fulcrum.yaml")).find("admin:"));
  writeFile(dir.file("fulcrum.yaml"), config(true) + adminLine);
  auto up = startUpgrade(dir, {"--workers", "3"});
  ASSERT_EQ(up->wait(20s), 0) << up->log() << old->log();
  KillOnExit successor{pidAfter(up->log(), "the new fulcrum (pid ")};
  std::string log = up->log();
  // keep and dns: 2 sockets each adopted and a third worker's bound; added: 3 bound; dropped: closed.
  EXPECT_NE(log.find("\"listening sockets adopted\" adopted=4 shared=0 bound=5"), std::string::npos) << log;
  EXPECT_NE(log.find("inherited socket closed: no listener of this config has its address"), std::string::npos)
      << log;
  EXPECT_NE(log.find("tcp 127.0.0.1:" + std::to_string(dropped) + " (listener dropped, worker 0"),
            std::string::npos)
      << log;
  EXPECT_EQ(old->wait(10s), 0) << old->log();
  EXPECT_EQ(who(keep), "a");
  EXPECT_EQ(curl({url(added, "/")}).output, "hello from h\n");
  EXPECT_LT(connectTcp(dropped, "127.0.0.1", 1), 0) << "a listener gone from the config is closed";
}

// systemd socket activation: the sockets a launcher passed (LISTEN_FDS) are adopted by the
// listeners with their address; a request queued before fulcrum ran is answered, which only
// that very socket can do. Without SO_REUSEPORT (systemd's default) both workers share it;
// a passed socket no listener has is closed.
TEST(SystemdActivation, AListenerAdoptsThePassedSocket) {
  TempDir dir;
  auto backend = startHttpBackend(dir, "a");
  ASSERT_NE(backend.port, 0);
  uint16_t port = freePort(), unused = freePort();
  std::string cfg = dir.file("fulcrum.yaml");
  writeFile(cfg, httpConfig(port, httpPool("web", {backend.port}), "", "web") + "admin:\n  bind: 127.0.0.1:" +
                     std::to_string(freePort()) + "\n");
  Process f({"/usr/bin/python3", SOURCE_DIR "/tests/integration/clients/sd_launch.py", dir.file("answer"),
             "web=tcp:" + std::to_string(port), "spare=tcp:" + std::to_string(unused), "--", FULCRUM_BIN, "run", "-c",
             cfg, "--workers", "2"},
            dir.file("fulcrum.log"));
  ASSERT_TRUE(waitFor([&] { return readFile(dir.file("answer")).size() > 0; }, 10s)) << f.log();
  EXPECT_NE(readFile(dir.file("answer")).find("hello from a"), std::string::npos)
      << readFile(dir.file("answer")) << f.log();
  std::string log = f.log();
  EXPECT_NE(log.find("\"systemd passed listening sockets\" sockets=2"), std::string::npos) << log;
  EXPECT_NE(log.find("\"listening sockets adopted\" adopted=1 shared=1 bound=0"), std::string::npos) << log;
  EXPECT_NE(log.find("tcp 127.0.0.1:" + std::to_string(unused) + " (listener spare, worker 0, from systemd)"),
            std::string::npos)
      << log;
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(curl({url(port, "/")}).output, "hello from a\n");
  }
  EXPECT_LT(connectTcp(unused, "127.0.0.1", 1), 0) << "a passed socket no listener has is closed";
}
