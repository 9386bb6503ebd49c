// UdpFrontend on an EventLoop driven by a ManualClock: the listener, the clients and the servers
// are real UDP sockets on loopback; a flow's idle timeout fires when the test moves the clock.
#include "l4/udp_frontend.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <functional>
#include <optional>
#include <string>

#include "../loopback.h"

using namespace fulcrum;
using namespace fulcrum::l4;

namespace {

// A UDP socket on 127.0.0.1 with an ephemeral port (non-blocking).
core::Fd udpSocket() { return test::listenLoopback(0, SOCK_DGRAM); }

struct Datagram {
  std::string data;
  uint16_t from_port = 0;
};

class UdpFrontendTest : public ::testing::Test {
 protected:
  UdpFrontendTest() : loop(clock), ctx(loop, 0) {
    config = std::make_shared<config::Config>();
    config::Listener l;
    l.name = "dns";
    l.protocol = config::Protocol::Udp;
    l.pool = "p";
    l.udp_flow_idle = std::chrono::milliseconds(1000);
    config->listeners.push_back(l);
    pool.name = "p";
    listener = udpSocket();
  }

  ~UdpFrontendTest() override {
    frontend.reset();  // stop(): forgets every flow
    loop.runOnce(0);   // deferred deletes
  }

  void addServer(uint16_t port, uint32_t maxConnections = 0) {
    config::Server s;
    s.address = test::loopbackAddress(port);
    s.max_connections = maxConnections;
    pool.servers.push_back(s);
  }

  // Builds the cluster and runtime from `pool` and starts the frontend on `listener`.
  void startFrontend() {
    config->pools.push_back(pool);
    cluster = registry.build(pool, loop.nowMs(), true);
    auto r = std::make_shared<ListenerRuntime>();
    r->config = config;
    r->listener = &config->listeners[0];
    r->cluster = cluster;
    r->stats = std::make_shared<stats::TrafficSet>(1);
    rt = r;
    frontend = std::make_unique<UdpFrontend>(ctx, listener.get(), nullptr);
    frontend->update(rt);
    ASSERT_TRUE(frontend->start());
  }

  // Sends `data` from `from` to the frontend's port.
  void send(int from, const std::string& data) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(test::localPort(listener.get()));
    ASSERT_EQ(::sendto(from, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(data.size()));
  }
  // Replies from a server socket to the flow socket the datagram came from.
  void reply(int server, uint16_t toPort, const std::string& data) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    to.sin_port = htons(toPort);
    ASSERT_EQ(::sendto(server, data.data(), data.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
              static_cast<ssize_t>(data.size()));
  }

  // Loop turns until pred() holds (test::spinUntil; bounded).
  bool spinUntil(const std::function<bool()>& pred) { return test::spinUntil(loop, pred); }
  // The next datagram on fd, running the loop meanwhile (bounded); nullopt if none came.
  std::optional<Datagram> receive(int fd) {
    Datagram d;
    bool got = spinUntil([&] {
      char buf[2048];
      sockaddr_in from{};
      socklen_t len = sizeof from;
      ssize_t n = ::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &len);
      if (n < 0) {
        return false;
      }
      d.data.assign(buf, static_cast<size_t>(n));
      d.from_port = ntohs(from.sin_port);
      return true;
    });
    return got ? std::optional<Datagram>(d) : std::nullopt;
  }
  // How many datagrams are waiting on fd now (read off, without waiting).
  static int countNow(int fd) {
    int n = 0;
    char buf[2048];
    while (n < 100 && ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) >= 0) {
      ++n;
    }
    return n;
  }
  // True when nothing is waiting on fd after a few loop turns.
  bool nothingOn(int fd) {
    for (int i = 0; i < 5; ++i) {
      loop.runOnce(1);
    }
    char buf[16];
    return ::recv(fd, buf, sizeof buf, MSG_DONTWAIT) < 0;
  }
  // Moves the clock and lets the timers that are due fire.
  void pass(uint64_t ms) {
    clock.advanceMs(ms);
    loop.runOnce(0);
    loop.runOnce(0);
  }
  upstream::HostState& host(size_t i) { return *cluster->hosts[i].state; }

  core::ManualClock clock;
  core::EventLoop loop;
  upstream::WorkerContext ctx;
  upstream::HostRegistry registry;
  std::shared_ptr<config::Config> config;
  config::Pool pool;
  core::Fd listener;
  std::shared_ptr<const upstream::Cluster> cluster;
  std::shared_ptr<const ListenerRuntime> rt;
  std::unique_ptr<UdpFrontend> frontend;
};

}  // namespace

TEST_F(UdpFrontendTest, EachClientsDatagramsGoToAServerAndItsRepliesBackToThatClient) {
  core::Fd server = udpSocket();
  addServer(test::localPort(server.get()));
  startFrontend();
  core::Fd a = udpSocket();
  core::Fd b = udpSocket();

  send(a.get(), "from a");
  auto atServer = receive(server.get());
  ASSERT_TRUE(atServer);
  EXPECT_EQ(atServer->data, "from a");
  send(b.get(), "from b");
  auto atServerB = receive(server.get());
  ASSERT_TRUE(atServerB);
  EXPECT_EQ(atServerB->data, "from b");
  EXPECT_NE(atServer->from_port, atServerB->from_port) << "a flow (and socket) per client";
  EXPECT_EQ(frontend->flowCount(), 2u);
  EXPECT_EQ(host(0).active.load(), 2u) << "each flow holds a slot on its server";

  // Replies, in the other order: each reaches the client whose flow it came back on, from the
  // listener's address.
  reply(server.get(), atServerB->from_port, "to b");
  reply(server.get(), atServer->from_port, "to a");
  auto atA = receive(a.get());
  auto atB = receive(b.get());
  ASSERT_TRUE(atA && atB);
  EXPECT_EQ(atA->data, "to a");
  EXPECT_EQ(atB->data, "to b");
  EXPECT_EQ(atA->from_port, test::localPort(listener.get()));

  // A client's next datagram follows its flow.
  send(a.get(), "again");
  auto next = receive(server.get());
  ASSERT_TRUE(next);
  EXPECT_EQ(next->data, "again");
  EXPECT_EQ(next->from_port, atServer->from_port);
  EXPECT_EQ(frontend->flowCount(), 2u);
}

TEST_F(UdpFrontendTest, AQuietFlowEndsAtItsIdleTimeoutAndFreesItsSlot) {
  core::Fd server = udpSocket();
  addServer(test::localPort(server.get()));
  startFrontend();
  core::Fd a = udpSocket();
  send(a.get(), "1");
  auto first = receive(server.get());
  ASSERT_TRUE(first);

  pass(600);
  send(a.get(), "2");  // activity: the idle count starts again
  ASSERT_TRUE(receive(server.get()));
  pass(999);
  EXPECT_EQ(frontend->flowCount(), 1u) << "1.6 s old but quiet for 999 ms (udp_flow_idle 1 s)";
  pass(1);
  EXPECT_EQ(frontend->flowCount(), 0u) << "quiet for 1 s";
  EXPECT_EQ(ctx.udp_flow_count, 0u);
  EXPECT_EQ(host(0).active.load(), 0u);
  EXPECT_EQ(rt->stats->sum().bytes_in, 2u);

  // The client's next datagram starts a new flow (a new socket toward the server).
  send(a.get(), "3");
  auto later = receive(server.get());
  ASSERT_TRUE(later);
  EXPECT_EQ(later->data, "3");
  EXPECT_NE(later->from_port, first->from_port);
  EXPECT_EQ(frontend->flowCount(), 1u);
}

TEST_F(UdpFrontendTest, AServerAtItsConnectionLimitIsSkipped) {
  core::Fd limited = udpSocket();
  core::Fd open = udpSocket();
  addServer(test::localPort(limited.get()), /*maxConnections=*/1);
  addServer(test::localPort(open.get()));
  startFrontend();
  std::vector<core::Fd> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(udpSocket());
    send(clients.back().get(), "c" + std::to_string(i));
    ASSERT_TRUE(spinUntil([&] { return frontend->flowCount() == static_cast<size_t>(i + 1); })) << i;
  }
  // Round robin would give each server two flows; the limited one holds one at most.
  EXPECT_EQ(host(0).active.load(), 1u);
  EXPECT_EQ(host(1).active.load(), 3u);
  // (Each flow forwarded its datagram as it was created: they are all at the servers.)
  int atLimited = countNow(limited.get());
  int atOpen = countNow(open.get());
  EXPECT_EQ(atLimited, 1);
  EXPECT_EQ(atOpen, 3) << "every client's datagram was delivered";
}

TEST_F(UdpFrontendTest, BeyondMaxFlowsNewClientsAreDroppedAndOthersGoOn) {
  config->listeners[0].udp_max_flows = 1;
  core::Fd server = udpSocket();
  addServer(test::localPort(server.get()));
  startFrontend();
  core::Fd a = udpSocket();
  core::Fd b = udpSocket();
  send(a.get(), "a");
  ASSERT_TRUE(receive(server.get()));
  send(b.get(), "b");
  EXPECT_TRUE(nothingOn(server.get())) << "a second flow would exceed udp_max_flows";
  EXPECT_EQ(frontend->flowCount(), 1u);
  send(a.get(), "a2");
  auto got = receive(server.get());
  ASSERT_TRUE(got);
  EXPECT_EQ(got->data, "a2");
}

TEST_F(UdpFrontendTest, ARefusingServerEndsTheFlowSoTheNextDatagramPicksAnother) {
  core::Fd good = udpSocket();
  uint16_t closedPort = 0;
  {
    core::Fd gone = udpSocket();
    closedPort = test::localPort(gone.get());
  }
  addServer(closedPort);
  addServer(test::localPort(good.get()));
  startFrontend();
  core::Fd a = udpSocket();
  // Whichever server the first flow lands on, within a few datagrams one goes to the closed
  // port; the ICMP answer ends that flow and counts a failure against the server.
  bool refused = false;
  for (int i = 0; i < 4 && !refused; ++i) {
    send(a.get(), "q" + std::to_string(i));
    bool atGood = false;
    ASSERT_TRUE(spinUntil([&] {
      char c;
      refused = host(0).connect_failures.load() > 0;
      atGood = ::recv(good.get(), &c, 1, MSG_PEEK | MSG_DONTWAIT) >= 0;
      return refused || atGood;
    }));
    if (!refused) {
      countNow(good.get());
      pass(1000);  // end the flow to the good server: the next datagram picks again
    }
  }
  ASSERT_TRUE(refused);
  loop.runOnce(0);  // (a flow is deleted on the loop turn after it ends)
  EXPECT_EQ(frontend->flowCount(), 0u);
  EXPECT_EQ(host(0).active.load(), 0u);
  send(a.get(), "after");
  // The closed server may be picked again (it is not yet ejected); keep asking, bounded.
  bool delivered = false;
  for (int i = 0; i < 4 && !delivered; ++i) {
    if (i > 0) {
      send(a.get(), "after");
    }
    auto got = receive(good.get());
    delivered = got && got->data == "after";
  }
  EXPECT_TRUE(delivered);
}

TEST_F(UdpFrontendTest, StopAndRemoveFlowsToForgetFlowsAndGiveTheirSlotsBack) {
  core::Fd s0 = udpSocket();
  core::Fd s1 = udpSocket();
  addServer(test::localPort(s0.get()));
  addServer(test::localPort(s1.get()));
  startFrontend();
  std::vector<core::Fd> clients;
  for (int i = 0; i < 4; ++i) {
    clients.push_back(udpSocket());
    send(clients.back().get(), "x");
  }
  ASSERT_TRUE(spinUntil([&] { return frontend->flowCount() == 4; }));
  ASSERT_EQ(host(0).active.load() + host(1).active.load(), 4u);
  size_t toFirst = host(0).active.load();

  EXPECT_EQ(frontend->removeFlowsTo(&host(0)), toFirst) << "a drained server's flows";
  loop.runOnce(0);  // (a flow is deleted on the loop turn after it ends)
  EXPECT_EQ(host(0).active.load(), 0u);
  EXPECT_EQ(frontend->flowCount(), 4 - toFirst);

  EXPECT_EQ(countNow(s0.get()) + countNow(s1.get()), 4);
  frontend->stop();
  loop.runOnce(0);
  EXPECT_EQ(frontend->flowCount(), 0u);
  EXPECT_EQ(host(1).active.load(), 0u);
  EXPECT_EQ(ctx.udp_flow_count, 0u);
  send(clients[0].get(), "ignored");
  EXPECT_TRUE(nothingOn(s0.get()) && nothingOn(s1.get())) << "a stopped frontend reads no datagram";
}
