// L4 TCP proxy behaviour, end to end: real fulcrum, real backends, real sockets.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>
#include <xxhash.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <poll.h>
#include <signal.h>

#include <cstring>
#include <map>
#include <string_view>
#include <thread>

#include "configs.h"
#include "harness.h"

using namespace itest;

namespace {

std::string hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

constexpr uint64_t kGiB = 1ull << 30;

// Pipe ends the process holds open at one instant.
int pipeFdsNow(pid_t pid) {
  std::string dirPath = "/proc/" + std::to_string(pid) + "/fd";
  int count = 0;
  DIR* d = ::opendir(dirPath.c_str());
  if (!d) {
    return -1;
  }
  while (dirent* e = ::readdir(d)) {
    char target[64];
    std::string link = dirPath + "/" + e->d_name;
    ssize_t n = ::readlink(link.c_str(), target, sizeof target - 1);
    if (n > 0 && std::string_view(target, static_cast<size_t>(n)).starts_with("pipe:")) {
      ++count;
    }
  }
  ::closedir(d);
  return count;
}

// Pipe ends the process keeps (a worker's splice pipes stay pooled once used): two reads
// 20 ms apart that agree. One read once caught a pipe end that was gone a moment later (under
// ASan, at start); such an instant pipe is not one the relay keeps.
int pipeFds(pid_t pid) {
  int last = pipeFdsNow(pid);
  for (int i = 0; i < 50; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    int now = pipeFdsNow(pid);
    if (now == last) {
      return now;
    }
    last = now;
  }
  return last;
}

// Exactly n bytes, or fewer if the peer closed or the socket's receive timeout passed.
std::string recvExact(int fd, size_t n) {
  std::string out(n, '\0');
  size_t got = 0;
  while (got < n) {
    ssize_t k = ::recv(fd, out.data() + got, n - got, 0);
    if (k <= 0) {
      break;
    }
    got += static_cast<size_t>(k);
  }
  out.resize(got);
  return out;
}

}  // namespace

TEST(TcpProxy, RoundRobinAcrossBackends) {
  TempDir dir;
  auto a = startBackend(dir, "a"), b = startBackend(dir, "b"), c = startBackend(dir, "c");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}, {b.tcp_port}, {c.tcp_port}}), port, 1);
  std::map<std::string, int> seen;
  for (int i = 0; i < 30; ++i) {
    seen[who(port)]++;
  }
  EXPECT_EQ(seen["a"], 10);
  EXPECT_EQ(seen["b"], 10);
  EXPECT_EQ(seen["c"], 10);
}

TEST(TcpProxy, UploadOneGiBByteExact) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}), port);
  int fd = connectTcp(port, "127.0.0.1", 60);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendStr(fd, "SINK " + std::to_string(kGiB) + "\n"));
  StreamGen gen(42);
  XXH3_state_t* st = XXH3_createState();
  XXH3_64bits_reset(st);
  std::vector<uint8_t> chunk(1 << 20);
  for (uint64_t sent = 0; sent < kGiB; sent += chunk.size()) {
    gen.fill(chunk.data(), chunk.size());
    XXH3_64bits_update(st, chunk.data(), chunk.size());
    ASSERT_TRUE(sendAll(fd, chunk.data(), chunk.size())) << "at byte " << sent;
  }
  std::string expected = hex64(XXH3_64bits_digest(st)) + " " + std::to_string(kGiB);
  XXH3_freeState(st);
  auto line = recvLine(fd);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, expected);
  ::close(fd);
}

TEST(TcpProxy, DownloadOneGiBByteExact) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}), port);
  int fd = connectTcp(port, "127.0.0.1", 60);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendStr(fd, "SOURCE " + std::to_string(kGiB) + " 7\n"));
  StreamGen gen(7);
  XXH3_state_t* want = XXH3_createState();
  XXH3_state_t* got = XXH3_createState();
  XXH3_64bits_reset(want);
  XXH3_64bits_reset(got);
  std::vector<uint8_t> buf(1 << 20), expect(1 << 20);
  uint64_t total = 0;
  for (;;) {
    ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
    if (n <= 0) {
      break;
    }
    XXH3_64bits_update(got, buf.data(), static_cast<size_t>(n));
    total += static_cast<uint64_t>(n);
  }
  for (uint64_t done = 0; done < kGiB; done += expect.size()) {
    gen.fill(expect.data(), expect.size());
    XXH3_64bits_update(want, expect.data(), expect.size());
  }
  EXPECT_EQ(total, kGiB);
  EXPECT_EQ(XXH3_64bits_digest(got), XXH3_64bits_digest(want));
  XXH3_freeState(want);
  XXH3_freeState(got);
  ::close(fd);
}

TEST(TcpProxy, HalfCloseKeepsOtherDirectionOpen) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}), port);
  int fd = connectTcp(port);
  ASSERT_GE(fd, 0);
  std::string payload(100000, 'x');
  ASSERT_TRUE(sendStr(fd, "HALFCLOSE\n" + payload));
  ASSERT_EQ(::shutdown(fd, SHUT_WR), 0);
  // The server saw our FIN (it counts to EOF) and can still answer afterwards.
  auto line = recvLine(fd);
  ASSERT_TRUE(line.has_value());
  EXPECT_EQ(*line, "GOT 100000");
  EXPECT_EQ(drainToEof(fd), 0);
  ::close(fd);
}

TEST(TcpProxy, FiveThousandConcurrentConnections) {
  TempDir dir;
  auto a = startBackend(dir, "a"), b = startBackend(dir, "b");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}, {b.tcp_port}}), port);
  constexpr int kConns = 5000;
  std::vector<int> fds;
  fds.reserve(kConns);
  for (int i = 0; i < kConns; ++i) {
    int fd = connectTcp(port, "127.0.0.1", 30);
    ASSERT_GE(fd, 0) << "connection " << i;
    fds.push_back(fd);
  }
  for (int fd : fds) {
    ASSERT_TRUE(sendStr(fd, "WHO\n"));
  }
  std::map<std::string, int> seen;
  for (int fd : fds) {
    auto line = recvLine(fd);
    ASSERT_TRUE(line.has_value());
    seen[*line]++;
  }
  EXPECT_EQ(seen["a"] + seen["b"], kConns);
  EXPECT_GT(seen["a"], kConns / 4);
  EXPECT_GT(seen["b"], kConns / 4);
  for (int fd : fds) {
    ::close(fd);
  }
  EXPECT_TRUE(f->running());
}

TEST(TcpProxy, DeadServerIsSkipped) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{deadPort()}, {a.tcp_port}, {deadPort()}}), port);
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(who(port), "a") << "connection " << i;
  }
}

TEST(TcpProxy, AllServersDeadClosesClientPromptly) {
  TempDir dir;
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{deadPort()}, {deadPort()}}), port);
  for (int i = 0; i < 5; ++i) {
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0);
    auto start = std::chrono::steady_clock::now();
    EXPECT_TRUE(closedWithin(fd, 2s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
    ::close(fd);
  }
  EXPECT_NE(f->log().find("connect failed"), std::string::npos);
}

TEST(TcpProxy, ConnectTimeoutMovesToNextServer) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  // A listener whose accept queue is full drops SYNs, so connecting to it hangs: a
  // realistic unreachable host, on loopback.
  int hung = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(hung, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(hung, 0), 0);
  socklen_t len = sizeof addr;
  getsockname(hung, reinterpret_cast<sockaddr*>(&addr), &len);
  std::vector<int> fillers;
  for (int i = 0; i < 3; ++i) {
    int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    ::connect(c, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    fillers.push_back(c);
  }
  std::this_thread::sleep_for(100ms);
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{ntohs(addr.sin_port)}, {a.tcp_port}}, "  connect: 300ms\n"), port, 1);
  for (int i = 0; i < 3; ++i) {
    auto start = std::chrono::steady_clock::now();
    EXPECT_EQ(who(port), "a");
    EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
  }
  EXPECT_NE(f->log().find("connect timeout"), std::string::npos);
  for (int c : fillers) {
    ::close(c);
  }
  ::close(hung);
}

TEST(TcpProxy, BackupServerOnlyWhenPrimariesFail) {
  TempDir dir;
  auto a = startBackend(dir, "a"), bk = startBackend(dir, "backup");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}, {bk.tcp_port, "backup: true"}}), port);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(who(port), "a");
  }
  a.proc->signal(SIGTERM);
  a.proc->wait(5s);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(who(port), "backup");
  }
}

TEST(TcpProxy, MaxConnectionsQueuesThenServes) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port, "max_connections: 1"}}, "  queue: 5s\n"), port, 1);
  int first = connectTcp(port);
  ASSERT_GE(first, 0);
  sendStr(first, "WHO\n");
  ASSERT_EQ(recvLine(first).value_or(""), "a");
  int second = connectTcp(port);
  ASSERT_GE(second, 0);
  sendStr(second, "WHO\n");
  // Still waiting: the only server is at max_connections.
  pollfd p{second, POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 300), 0);
  ::close(first);
  EXPECT_EQ(recvLine(second).value_or(""), "a");
  ::close(second);
}

TEST(TcpProxy, QueueTimeoutRefuses) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port, "max_connections: 1"}}, "  queue: 300ms\n"), port, 1);
  int first = connectTcp(port);
  sendStr(first, "WHO\n");
  ASSERT_EQ(recvLine(first).value_or(""), "a");
  int second = connectTcp(port);
  ASSERT_GE(second, 0);
  EXPECT_TRUE(closedWithin(second, 3s));
  EXPECT_NE(f->log().find("queue timeout"), std::string::npos);
  ::close(first);
  ::close(second);
}

TEST(TcpProxy, IdleTimeoutClosesQuietConnections) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}, "  idle: 400ms\n"), port);
  int fd = connectTcp(port);
  sendStr(fd, "WHO\n");
  ASSERT_EQ(recvLine(fd).value_or(""), "a");
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(closedWithin(fd, 3s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 300ms);
  ::close(fd);
}

TEST(TcpProxy, SendsProxyProtocolV1AndV2) {
  for (std::string version : {"v1", "v2"}) {
    TempDir dir;
    auto a = startBackend(dir, "a", true, false, "cmd", true);
    uint16_t port = freePort();
    auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}, "", "send_proxy_protocol: " + version), port);
    int fd = connectTcp(port);
    ASSERT_GE(fd, 0);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len);
    sendStr(fd, "PROXYINFO\n");
    EXPECT_EQ(recvLine(fd).value_or(""),
              "PROXY 127.0.0.1 " + std::to_string(ntohs(local.sin_port)) + " 127.0.0.1 " + std::to_string(port))
        << version;
    ::close(fd);
  }
}

TEST(TcpProxy, AcceptsProxyProtocolFromTrustedFront) {
  TempDir dir;
  auto a = startBackend(dir, "a", true, false, "cmd", true);
  uint16_t port = freePort();
  auto f = startFulcrum(
      dir, simpleTcp(port, {{a.tcp_port}}, "", "send_proxy_protocol: v2", "proxy_protocol: true\n    trusted_proxies: [127.0.0.0/8]"),
      port);
  int fd = connectTcp(port);
  ASSERT_GE(fd, 0);
  sendStr(fd, "PROXY TCP4 203.0.113.7 198.51.100.1 5555 443\r\nPROXYINFO\n");
  EXPECT_EQ(recvLine(fd).value_or(""), "PROXY 203.0.113.7 5555 198.51.100.1 443");
  ::close(fd);
  // Without a header the connection is refused.
  fd = connectTcp(port);
  sendStr(fd, "WHO\n");
  EXPECT_TRUE(closedWithin(fd, 3s));
  ::close(fd);
}

TEST(TcpProxy, RefusesProxyHeaderFromUntrustedPeer) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(
      dir, simpleTcp(port, {{a.tcp_port}}, "", "", "proxy_protocol: true\n    trusted_proxies: [10.0.0.0/8]"), port);
  int fd = connectTcp(port);
  sendStr(fd, "PROXY TCP4 203.0.113.7 198.51.100.1 5555 443\r\nWHO\n");
  EXPECT_TRUE(closedWithin(fd, 3s));
  ::close(fd);
  EXPECT_NE(f->log().find("untrusted"), std::string::npos);
}

TEST(TcpProxy, Ipv6ListenerAndServer) {
  TempDir dir;
  auto a = startBackend(dir, "v6", true, false, "cmd", false, "::1");
  uint16_t port = freePort();
  std::string cfg = "listeners:\n  - name: six\n    bind: \"[::1]:" + std::to_string(port) +
                    "\"\n    pool: p\npools:\n  - name: p\n    servers:\n      - address: \"[::1]:" +
                    std::to_string(a.tcp_port) + "\"\n";
  auto f = startFulcrum(dir, cfg, 0);
  ASSERT_TRUE(waitFor([&] { int fd = connectTcp(port, "::1", 1); if (fd >= 0) { ::close(fd); return true; } return false; }, 5s));
  int fd = connectTcp(port, "::1");
  ASSERT_GE(fd, 0);
  sendStr(fd, "WHO\n");
  EXPECT_EQ(recvLine(fd).value_or(""), "v6");
  ::close(fd);
}

// A client that half-closes and then resets must free its server connection at once,
// even though the direction the reset arrives on was already finished.
TEST(TcpProxy, ResetAfterHalfCloseReachesTheServer) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port, "max_connections: 1"}}, "  queue: 10s\n"), port, 1);
  int first = connectTcp(port);
  ASSERT_GE(first, 0);
  ASSERT_TRUE(sendStr(first, "SLEEP 4000\n"));
  ::shutdown(first, SHUT_WR);
  std::this_thread::sleep_for(100ms);
  linger l{1, 0};
  setsockopt(first, SOL_SOCKET, SO_LINGER, &l, sizeof l);
  ::close(first);  // RST
  auto start = std::chrono::steady_clock::now();
  int second = connectTcp(port);
  ASSERT_GE(second, 0);
  sendStr(second, "WHO\n");
  EXPECT_EQ(recvLine(second).value_or(""), "a");
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  ::close(second);
}

// Redis-style traffic (16 pipelined commands, small replies) is relayed byte-exact through a
// buffer, with no pipe ever taken; a large value in the middle is spliced, and the small
// exchanges after it are still exact.
TEST(TcpProxy, RedisLikePipelinedExchangeIsCopiedAndBulkSpliced) {
  TempDir dir;
  auto a = startBackend(dir, "a");
  uint16_t port = freePort();
  auto f = startFulcrum(dir, simpleTcp(port, {{a.tcp_port}}), port, 1);
  const int pipesAtStart = pipeFds(f->pid());
  ASSERT_GE(pipesAtStart, 0);
  int fd = connectTcp(port, "127.0.0.1", 20);
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(sendStr(fd, "ECHO\n"));  // the backend echoes every byte after this line
  auto exchange = [&](int rounds, int tag) {
    for (int round = 0; round < rounds; ++round) {
      std::string batch;
      for (int i = 0; i < 16; ++i) {
        char cmd[96];
        std::snprintf(cmd, sizeof cmd, "*3\r\n$3\r\nSET\r\n$10\r\nkey:%06d\r\n$3\r\nv%02d\r\n",
                      tag * 10000 + round, i);
        batch += cmd;
      }
      if (!sendStr(fd, batch)) {
        return ::testing::AssertionFailure() << "send failed in round " << round;
      }
      std::string reply = recvExact(fd, batch.size());
      if (reply != batch) {
        return ::testing::AssertionFailure() << "round " << round << ": got " << reply.size() << " bytes";
      }
    }
    return ::testing::AssertionSuccess();
  };
  ASSERT_TRUE(exchange(300, 1));
  EXPECT_EQ(pipeFds(f->pid()), pipesAtStart) << "small messages were spliced";

  // A 4 MiB value, echoed back while it is sent.
  std::string big(4 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('A' + (i * 7) % 26);
  std::string echoed;
  std::thread reader([&] { echoed = recvExact(fd, big.size()); });
  bool sent = sendStr(fd, big);
  reader.join();
  ASSERT_TRUE(sent);
  EXPECT_TRUE(echoed == big) << "large value: got " << echoed.size() << " bytes";
  EXPECT_GT(pipeFds(f->pid()), pipesAtStart) << "bulk was not spliced";

  ASSERT_TRUE(exchange(100, 2));
  ::close(fd);
}
