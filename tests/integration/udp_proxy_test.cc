// L4 UDP balancing by flow, end to end.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>

#include "configs.h"
#include "harness.h"

using namespace itest;

namespace {

int udpClient() {
  int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  timeval tv{3, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Sends payload to 127.0.0.1:port and returns the reply and where it came from.
std::optional<std::string> ask(int fd, uint16_t port, const std::string& payload, sockaddr_in* from = nullptr) {
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::sendto(fd, payload.data(), payload.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
  char buf[65536];
  sockaddr_in src{};
  socklen_t len = sizeof src;
  ssize_t n = ::recvfrom(fd, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&src), &len);
  if (n < 0) {
    return std::nullopt;
  }
  if (from) {
    *from = src;
  }
  return std::string(buf, static_cast<size_t>(n));
}

std::string udpConfig(uint16_t port, const std::vector<uint16_t>& servers, const std::string& bind = "127.0.0.1",
                      const std::string& udpExtra = "") {
  std::string y = "listeners:\n  - name: dns\n    bind: " + bind + ":" + std::to_string(port) +
                  "\n    protocol: udp\n    pool: dns\n";
  if (!udpExtra.empty()) {
    y += "    udp:\n" + udpExtra;
  }
  y += "pools:\n  - name: dns\n    servers:\n";
  for (auto p : servers) {
    y += "      - address: 127.0.0.1:" + std::to_string(p) + "\n";
  }
  return y;
}

}  // namespace

TEST(UdpProxy, ManyClientsEachStickToOneServer) {
  TempDir dir;
  auto a = startBackend(dir, "a", false, true), b = startBackend(dir, "b", false, true);
  uint16_t port = freePort(true);
  auto f = startFulcrum(dir, udpConfig(port, {a.udp_port, b.udp_port}), 0);
  ASSERT_TRUE(f->running()) << f->log();
  constexpr int kClients = 60, kRequests = 10;
  std::map<std::string, int> perServer;
  int answered = 0;
  for (int c = 0; c < kClients; ++c) {
    int fd = udpClient();
    std::set<std::string> servers;
    for (int r = 0; r < kRequests; ++r) {
      std::string q = "query-" + std::to_string(c) + "-" + std::to_string(r);
      sockaddr_in from{};
      auto reply = ask(fd, port, q, &from);
      ASSERT_TRUE(reply.has_value()) << "client " << c << " request " << r;
      auto space = reply->find(' ');
      ASSERT_NE(space, std::string::npos);
      EXPECT_EQ(reply->substr(space + 1), q);
      // The reply comes from the address the client sent to.
      EXPECT_EQ(ntohs(from.sin_port), port);
      servers.insert(reply->substr(0, space));
      ++answered;
    }
    EXPECT_EQ(servers.size(), 1u) << "client " << c << " was moved between servers";
    perServer[*servers.begin()]++;
    ::close(fd);
  }
  EXPECT_EQ(answered, kClients * kRequests);
  EXPECT_GT(perServer["a"], kClients / 4);
  EXPECT_GT(perServer["b"], kClients / 4);
}

TEST(UdpProxy, WildcardBindAnswersFromTheAddressUsed) {
  TempDir dir;
  auto a = startBackend(dir, "a", false, true);
  uint16_t port = freePort(true);
  auto f = startFulcrum(dir, udpConfig(port, {a.udp_port}, "0.0.0.0"), 0);
  for (const char* addr : {"127.0.0.1", "127.0.0.2"}) {
    int fd = udpClient();
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port);
    inet_pton(AF_INET, addr, &to.sin_addr);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    ASSERT_EQ(::send(fd, "hi", 2, 0), 2);
    char buf[100];
    // A connected UDP socket only accepts a reply from exactly that address.
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0) << addr;
    EXPECT_EQ(std::string(buf, static_cast<size_t>(n)), "a hi");
    ::close(fd);
  }
}

TEST(UdpProxy, IdleFlowExpiresAndDeadServerIsLeft) {
  TempDir dir;
  auto a = startBackend(dir, "a", false, true);
  uint16_t dead = freePort(true);
  uint16_t port = freePort(true);
  auto f = startFulcrum(dir, udpConfig(port, {dead, a.udp_port}, "127.0.0.1", "      flow_idle: 200ms\n"), 0, 1);
  int fd = udpClient();
  timeval tv{0, 300000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  // The first flow may land on the dead server: its port-unreachable error drops the flow
  // and the client's retry (as a DNS client does) goes to the next server.
  int answered = 0;
  for (int i = 0; i < 6 && answered < 3; ++i) {
    if (auto r = ask(fd, port, "x")) {
      EXPECT_EQ(*r, "a x");
      ++answered;
    }
  }
  EXPECT_EQ(answered, 3);
  ::close(fd);
}

// A flow is one "connection" in the metrics and one access log line, written when it ends.
TEST(UdpProxy, FlowsAreCountedAndLogged) {
  TempDir dir;
  auto a = startBackend(dir, "a", false, true);
  uint16_t port = freePort(true);
  uint16_t admin = freePort();
  std::string log = dir.file("access.log");
  auto f = startFulcrum(dir,
                        udpConfig(port, {a.udp_port}, "127.0.0.1", "      flow_idle: 300ms\n") + "admin:\n  bind: 127.0.0.1:" +
                            std::to_string(admin) + "\naccess_log:\n  path: " + log + "\n",
                        0);
  ASSERT_TRUE(f->running()) << f->log();
  int fd = udpClient();
  size_t replies = 0;
  for (int i = 0; i < 3; ++i) {
    auto r = ask(fd, port, "hello");  // 5 bytes each way and the server's id in the reply
    ASSERT_TRUE(r.has_value());
    replies += r->size();
  }
  ::close(fd);
  ASSERT_TRUE(waitFor([&] { return readFile(log).find("\"protocol\":\"udp\"") != std::string::npos; }, 5s))
      << readFile(log);
  std::string line = readFile(log);
  EXPECT_NE(line.find("\"bytes_in\":15,"), std::string::npos) << line;
  EXPECT_NE(line.find("\"bytes_out\":" + std::to_string(replies) + ","), std::string::npos) << line;
  EXPECT_NE(line.find("\"termination\":\"idle\""), std::string::npos) << line;
  auto m = runCommand({"/usr/bin/curl", "-sS", "http://127.0.0.1:" + std::to_string(admin) + "/metrics"}).output;
  EXPECT_NE(m.find("fulcrum_listener_connections_total{listener=\"dns\",protocol=\"udp\"} 1\n"), std::string::npos) << m;
  EXPECT_NE(m.find("fulcrum_listener_connections_active{listener=\"dns\",protocol=\"udp\"} 0\n"), std::string::npos);
  EXPECT_NE(m.find("fulcrum_listener_bytes_received_total{listener=\"dns\"} 15\n"), std::string::npos);
}
