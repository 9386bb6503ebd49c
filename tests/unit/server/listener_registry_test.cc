// ListenerRegistry: which sockets a reload keeps, binds or lets go, on real loopback sockets.
#include "server/listener_registry.h"

#include <gtest/gtest.h>

#include "../loopback.h"

using namespace fulcrum;
using namespace fulcrum::server;

namespace {

// A loopback port free right now (bound and closed again).
uint16_t freePort(int type = SOCK_STREAM) {
  core::Fd fd = test::listenLoopback(1, type);
  return test::localPort(fd.get());
}

config::Listener listener(const std::string& name, uint16_t port, config::Protocol protocol = config::Protocol::Tcp) {
  config::Listener l;
  l.name = name;
  l.protocol = protocol;
  l.bind = test::loopbackAddress(port);
  l.backlog = 16;
  return l;
}

// Whether a TCP connect to 127.0.0.1:port is accepted by a listener (refused otherwise).
bool accepting(uint16_t port) {
  core::Fd c(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto a = test::loopbackAddress(port);
  return ::connect(c.get(), a.sa(), a.length) == 0;
}

}  // namespace

TEST(ListenerRegistry, BindsOneSocketPerWorkerAndKeepsThemAcrossAReload) {
  uint16_t port = freePort();
  config::Config cfg;
  cfg.listeners.push_back(listener("web", port));
  ListenerRegistry reg;
  auto first = reg.prepare(cfg, 2);
  ASSERT_TRUE(first) << first.error().message;
  const auto& group = (*first)["web"];
  ASSERT_EQ(group->fds.size(), 2u);
  EXPECT_EQ(group->key, "tcp 127.0.0.1:" + std::to_string(port));
  EXPECT_EQ(test::localPort(group->fds[0].get()), port);
  EXPECT_EQ(test::localPort(group->fds[1].get()), port) << "SO_REUSEPORT: every worker its own socket";
  reg.commit(*first);

  // The same listener, renamed and with another listener beside it: its sockets are kept
  // (keyed by protocol and address), so connections queued on them are not lost.
  uint16_t other = freePort();
  cfg.listeners[0].name = "www";
  cfg.listeners.push_back(listener("api", other));
  auto second = reg.prepare(cfg, 2);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ((*second)["www"], group);
  EXPECT_NE((*second)["api"], group);
  EXPECT_EQ(test::localPort((*second)["api"]->fds[0].get()), other);
}

TEST(ListenerRegistry, AnotherWorkerCountRebindsBesideOurOwnSockets) {
  uint16_t port = freePort();
  config::Config cfg;
  cfg.listeners.push_back(listener("web", port));
  ListenerRegistry reg;
  auto first = reg.prepare(cfg, 1);
  ASSERT_TRUE(first);
  reg.commit(*first);
  auto second = reg.prepare(cfg, 3);
  ASSERT_TRUE(second) << "our own bind of the address does not count as taken: "
                      << second.error().message;
  EXPECT_NE((*second)["web"], (*first)["web"]);
  EXPECT_EQ((*second)["web"]->fds.size(), 3u);
}

TEST(ListenerRegistry, AnAddressHeldElsewhereIsRefusedByNameAndNothingChanges) {
  uint16_t kept = freePort();
  core::Fd foreign = test::listenLoopback(1);  // another process's socket, say (no SO_REUSEPORT)
  uint16_t taken = test::localPort(foreign.get());
  config::Config cfg;
  cfg.listeners.push_back(listener("web", kept));
  ListenerRegistry reg;
  auto first = reg.prepare(cfg, 1);
  ASSERT_TRUE(first);
  reg.commit(*first);

  cfg.listeners.push_back(listener("clash", taken));
  auto bad = reg.prepare(cfg, 1);
  ASSERT_FALSE(bad);
  const std::string& msg = bad.error().message;
  EXPECT_NE(msg.find("listener clash"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(taken)), std::string::npos) << msg;
  EXPECT_NE(msg.find("in use"), std::string::npos) << msg;

  // The committed set is untouched: the old config prepares to the very same sockets.
  cfg.listeners.pop_back();
  auto again = reg.prepare(cfg, 1);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)["web"], (*first)["web"]);
}

TEST(ListenerRegistry, TcpAndUdpOnOnePortAreSeparateSockets) {
  uint16_t port = freePort();
  config::Config cfg;
  cfg.listeners.push_back(listener("dns-tcp", port));
  cfg.listeners.push_back(listener("dns-udp", port, config::Protocol::Udp));
  ListenerRegistry reg;
  auto prepared = reg.prepare(cfg, 1);
  ASSERT_TRUE(prepared) << prepared.error().message;
  EXPECT_EQ((*prepared)["dns-udp"]->key, "udp 127.0.0.1:" + std::to_string(port));
  EXPECT_NE((*prepared)["dns-udp"], (*prepared)["dns-tcp"]);
  int type = 0;
  socklen_t len = sizeof type;
  ::getsockopt((*prepared)["dns-udp"]->fds[0].get(), SOL_SOCKET, SO_TYPE, &type, &len);
  EXPECT_EQ(type, SOCK_DGRAM);
}

TEST(ListenerRegistry, ARemovedListenersSocketsCloseOnceNoWorkerHoldsThem) {
  uint16_t port = freePort();
  uint16_t stays = freePort();
  config::Config cfg;
  cfg.listeners.push_back(listener("old", port));
  cfg.listeners.push_back(listener("stays", stays));
  ListenerRegistry reg;
  auto first = reg.prepare(cfg, 1);
  ASSERT_TRUE(first);
  reg.commit(*first);
  EXPECT_TRUE(accepting(port));

  cfg.listeners.erase(cfg.listeners.begin());
  auto second = reg.prepare(cfg, 1);
  ASSERT_TRUE(second);
  reg.commit(*second);
  std::weak_ptr<ListenSocketGroup> old = (*first)["old"];
  EXPECT_TRUE(accepting(port)) << "a worker on the previous snapshot still holds it";
  first->clear();  // the last worker moves on
  EXPECT_TRUE(old.expired());
  EXPECT_FALSE(accepting(port)) << "closed: connects are refused, not left hanging";
  EXPECT_TRUE(accepting(stays));
}

// Start-up after an upgrade or socket activation: a listener takes the inherited sockets of
// its kind and address instead of binding (a connection queued in one is still there), binds
// what workers lack, and leaves the rest for the caller to close.
TEST(ListenerRegistry, AdoptsInheritedSocketsByKindAndAddress) {
  // The "old process": two SO_REUSEPORT sockets of a group, as the registry binds them.
  uint16_t port = freePort(), gone = freePort();
  config::Config old;
  old.listeners.push_back(listener("web", port));
  old.listeners.push_back(listener("gone", gone));
  ListenerRegistry before;
  auto oldSockets = before.prepare(old, 2);
  ASSERT_TRUE(oldSockets) << oldSockets.error().message;
  handover::InheritedSockets inherited;
  for (const auto& [name, group] : *oldSockets) {
    for (size_t i = 0; i < group->fds.size(); ++i) {
      auto d = handover::describeSocket(group->fds[i].get());
      ASSERT_TRUE(d.ok());
      d->worker = static_cast<uint32_t>(i);
      d->listener = name;
      inherited.add(*d, core::Fd(::dup(group->fds[i].get())), "test");
    }
  }
  core::Fd queued(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto a = test::loopbackAddress(port);
  ASSERT_EQ(::connect(queued.get(), a.sa(), a.length), 0);
  oldSockets->clear();  // the old process is gone: only the inherited descriptors hold them

  config::Config cfg;
  cfg.listeners.push_back(listener("web", port));
  ListenerRegistry reg;
  auto got = reg.prepare(cfg, 3, &inherited);
  ASSERT_TRUE(got) << got.error().message << " (the probe must not refuse our own inherited address)";
  EXPECT_EQ(reg.adopted(), 2u);
  EXPECT_EQ(reg.bound(), 1u) << "a third worker binds its own, joining the SO_REUSEPORT group";
  EXPECT_EQ(reg.shared(), 0u);
  // The queued connection is in one of the adopted sockets' queues.
  int accepted = 0;
  for (const auto& fd : (*got)["web"]->fds) {
    int c = ::accept4(fd.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (c >= 0) {
      ++accepted;
      ::close(c);
    }
  }
  EXPECT_EQ(accepted, 1);
  auto rest = inherited.closeRest();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_NE(rest[0].find("tcp 127.0.0.1:" + std::to_string(gone) + " (listener gone"), std::string::npos) << rest[0];
  EXPECT_FALSE(accepting(gone)) << "a socket no listener took is closed";
}

TEST(ListenerRegistry, WorkersShareAnInheritedSocketWithoutReusePort) {
  core::Fd plain = test::listenLoopback(16);  // as systemd binds by default: no SO_REUSEPORT
  uint16_t port = test::localPort(plain.get());
  handover::InheritedSockets inherited;
  auto d = handover::describeSocket(plain.get());
  ASSERT_TRUE(d.ok());
  inherited.add(*d, std::move(plain), "systemd");
  config::Config cfg;
  cfg.listeners.push_back(listener("web", port));
  ListenerRegistry reg;
  auto got = reg.prepare(cfg, 2, &inherited);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(reg.adopted(), 1u);
  EXPECT_EQ(reg.shared(), 1u) << "a second bind could not share the address";
  EXPECT_EQ(reg.bound(), 0u);
  EXPECT_TRUE(accepting(port));
}
