// SnapshotBuilder: what a build keeps from the last one (server states, balancers, routers,
// an HTTP listener's shared state, figures) and what it rebuilds or drops. No sockets: the
// listeners' socket groups are handed in as ListenerRegistry::prepare would.
#include "server/snapshot_builder.h"

#include <gtest/gtest.h>

#include "../loopback.h"

using namespace fulcrum;
using namespace fulcrum::server;

namespace {

config::Pool pool(const std::string& name, std::initializer_list<uint16_t> ports) {
  config::Pool p;
  p.name = name;
  for (uint16_t port : ports) {
    config::Server s;
    s.address = test::loopbackAddress(port);
    p.servers.push_back(s);
  }
  return p;
}

config::Route forwardRoute(const std::string& name, const std::string& prefix, const std::string& to) {
  config::Route r;
  r.name = name;
  r.match.path_kind = config::PathMatchKind::Prefix;
  r.match.path = prefix;
  r.pools.push_back({to, 1});
  return r;
}

// Two pools; a TCP listener on "a" and an HTTP listener routing /b to "b", else to "a".
std::shared_ptr<config::Config> baseConfig() {
  auto c = std::make_shared<config::Config>();
  c->pools.push_back(pool("a", {9001, 9002}));
  c->pools.push_back(pool("b", {9003}));
  config::Listener tcp;
  tcp.name = "tcp";
  tcp.protocol = config::Protocol::Tcp;
  tcp.pool = "a";
  c->listeners.push_back(tcp);
  config::Listener web;
  web.name = "web";
  web.protocol = config::Protocol::Http;
  web.pool = "a";
  web.http.routes.push_back(forwardRoute("b", "/b", "b"));
  c->listeners.push_back(web);
  return c;
}

class SnapshotBuilderTest : public ::testing::Test {
 protected:
  SnapshotBuilderTest() { builder.setWorkers(2); }

  // Builds `config` as the successor of the last build, with a socket group per listener
  // (kept by name, as the registry keeps them by address).
  std::shared_ptr<Snapshot> build(std::shared_ptr<const config::Config> config,
                                  std::shared_ptr<upstream::AccessLog> log = nullptr) {
    ListenerSockets sockets;
    for (const auto& l : config->listeners) {
      auto& g = groups[l.name];
      if (!g) {
        g = std::make_shared<ListenSocketGroup>();
        g->key = l.name;
        g->protocol = l.protocol;
      }
      sockets[l.name] = g;
    }
    auto snap = builder.build(std::move(config), sockets, std::move(log), now_ms, last.get());
    last = snap;
    return snap;
  }
  static const Snapshot::ListenerEntry& entry(const Snapshot& s, const std::string& name) {
    for (const auto& e : s.listeners) {
      const config::Listener* l = e.http ? e.http->listener : e.runtime->listener;
      if (l->name == name) {
        return e;
      }
    }
    throw std::runtime_error("no listener " + name);
  }

  SnapshotBuilder builder;
  std::unordered_map<std::string, std::shared_ptr<ListenSocketGroup>> groups;
  std::shared_ptr<const Snapshot> last;
  uint64_t now_ms = 1'000'000;
};

}  // namespace

TEST_F(SnapshotBuilderTest, BuildsAClusterPerPoolAndARuntimePerListener) {
  auto config = baseConfig();
  auto snap = build(config);
  EXPECT_EQ(snap->version, 1u);
  EXPECT_EQ(builder.version(), 1u);
  EXPECT_EQ(snap->config, config);
  ASSERT_EQ(snap->clusters.size(), 2u);
  EXPECT_EQ(snap->clusters.at("a")->hosts.size(), 2u);
  EXPECT_EQ(snap->clusters.at("b")->hosts.size(), 1u);
  ASSERT_EQ(snap->listeners.size(), 2u);

  const auto& tcp = entry(*snap, "tcp");
  ASSERT_TRUE(tcp.runtime);
  EXPECT_FALSE(tcp.http);
  EXPECT_EQ(tcp.sockets, groups["tcp"]);
  EXPECT_EQ(tcp.runtime->cluster, snap->clusters.at("a"));
  EXPECT_EQ(tcp.runtime->listener, &snap->config->listeners[0]) << "points into the snapshot's config";
  EXPECT_EQ(tcp.runtime->stats, builder.statsFor("l:tcp"));

  const auto& web = entry(*snap, "web");
  ASSERT_TRUE(web.http);
  EXPECT_FALSE(web.runtime);
  EXPECT_EQ(web.sockets, groups["web"]);
  ASSERT_EQ(web.http->targets.size(), 1u);
  EXPECT_EQ(web.http->targets[0].clusters.at(0), snap->clusters.at("b"));
  EXPECT_EQ(web.http->default_target.clusters.at(0), snap->clusters.at("a"));
  EXPECT_EQ(web.http->stats, builder.statsFor("l:web"));
  ASSERT_EQ(web.http->route_stats.size(), 1u);
  EXPECT_EQ(web.http->route_stats[0], builder.statsFor("r:web\nb"));
  EXPECT_EQ(web.http->connection_filters.size(), 1u) << "the per-client limit, even off";
  EXPECT_EQ(builder.statsFor("l:web")->workers(), 2u) << "figures per worker";
}

TEST_F(SnapshotBuilderTest, ARepublishOfTheSameConfigKeepsEveryStateBalancerAndRouter) {
  auto config = baseConfig();
  auto first = build(config);
  uint64_t balancers = builder.hosts().balancersBuilt();
  auto second = build(config);
  EXPECT_EQ(second->version, 2u);
  EXPECT_EQ(builder.hosts().balancersBuilt(), balancers) << "nothing a balancer is built from changed";
  for (const char* name : {"a", "b"}) {
    const auto& before = *first->clusters.at(name);
    const auto& after = *second->clusters.at(name);
    EXPECT_EQ(after.balancer, before.balancer) << name;
    EXPECT_EQ(after.pool_state, before.pool_state) << name;
    for (size_t i = 0; i < after.hosts.size(); ++i) {
      EXPECT_EQ(after.hosts[i].state, before.hosts[i].state) << name << " " << i << ": counters and health go on";
    }
  }
  const auto& w1 = *entry(*first, "web").http;
  const auto& w2 = *entry(*second, "web").http;
  EXPECT_NE(&w1, &w2) << "a runtime per snapshot";
  EXPECT_EQ(w2.router, w1.router) << "the compiled routes are reused";
  EXPECT_EQ(w2.shared, w1.shared) << "rate-limit buckets and per-client counts go on";
  EXPECT_EQ(w2.stats, w1.stats);
  EXPECT_EQ(w2.route_stats[0], w1.route_stats[0]);
  EXPECT_EQ(entry(*second, "tcp").runtime->stats, entry(*first, "tcp").runtime->stats);
}

TEST_F(SnapshotBuilderTest, AChangedPoolRebuildsItsBalancerOnly) {
  auto config = baseConfig();
  auto first = build(config);
  uint64_t balancers = builder.hosts().balancersBuilt();
  auto changed = std::make_shared<config::Config>(*config);
  changed->pools[1].servers.push_back(pool("x", {9004}).servers[0]);  // a server added to "b"
  auto second = build(changed);
  EXPECT_EQ(builder.hosts().balancersBuilt(), balancers + 1);
  EXPECT_EQ(second->clusters.at("a")->balancer, first->clusters.at("a")->balancer);
  EXPECT_NE(second->clusters.at("b")->balancer, first->clusters.at("b")->balancer);
  EXPECT_EQ(second->clusters.at("b")->hosts.size(), 2u);
  EXPECT_EQ(second->clusters.at("b")->hosts[0].state, first->clusters.at("b")->hosts[0].state)
      << "the server that stayed keeps its state";
  EXPECT_EQ(second->clusters.at("b")->pool_state, first->clusters.at("b")->pool_state);
}

TEST_F(SnapshotBuilderTest, TheRouterIsRebuiltOnlyWhenAMatchChanges) {
  auto config = baseConfig();
  auto first = build(config);

  auto rerouted = std::make_shared<config::Config>(*config);
  rerouted->listeners[1].http.routes[0].pools = {{"a", 1}};  // another pool, the same match
  auto second = build(rerouted);
  const auto& w2 = *entry(*second, "web").http;
  EXPECT_EQ(w2.router, entry(*first, "web").http->router);
  EXPECT_EQ(w2.targets[0].clusters.at(0), second->clusters.at("a")) << "the targets follow the new config";

  auto rematched = std::make_shared<config::Config>(*rerouted);
  rematched->listeners[1].http.routes[0].match.path = "/c";
  auto third = build(rematched);
  EXPECT_NE(entry(*third, "web").http->router, w2.router);
}

TEST_F(SnapshotBuilderTest, AListenerGoneTakesItsFiguresAndSharedStateWithIt) {
  auto config = baseConfig();
  auto first = build(config);
  auto webStats = builder.statsFor("l:web");
  auto routeStats = builder.statsFor("r:web\nb");
  auto shared = entry(*first, "web").http->shared;

  auto without = std::make_shared<config::Config>(*config);
  without->listeners.pop_back();
  auto second = build(without);
  EXPECT_EQ(second->listeners.size(), 1u);
  EXPECT_EQ(builder.statsFor("l:tcp"), entry(*first, "tcp").runtime->stats) << "the other listener's stay";

  auto back = build(config);
  EXPECT_NE(builder.statsFor("l:web"), webStats) << "a listener of the same name starts from zero";
  EXPECT_NE(builder.statsFor("r:web\nb"), routeStats);
  EXPECT_NE(entry(*back, "web").http->shared, shared) << "no per-client counts or buckets carried over";
}

TEST_F(SnapshotBuilderTest, ARemovedRouteDropsItsFigures) {
  auto config = baseConfig();
  config->listeners[1].http.routes.push_back(forwardRoute("c", "/c", "a"));
  build(config);
  auto cStats = builder.statsFor("r:web\nc");
  auto bStats = builder.statsFor("r:web\nb");
  auto fewer = std::make_shared<config::Config>(*config);
  fewer->listeners[1].http.routes.pop_back();
  auto snap = build(fewer);
  EXPECT_EQ(entry(*snap, "web").http->route_stats.size(), 1u);
  EXPECT_EQ(builder.statsFor("r:web\nb"), bStats);
  EXPECT_NE(builder.statsFor("r:web\nc"), cStats);
}

TEST_F(SnapshotBuilderTest, TheAccessLogIsGivenToEveryListener) {
  config::AccessLog cfg;
  cfg.enabled = true;
  cfg.path = "/dev/null";
  auto log = upstream::AccessLog::open(cfg, 2);
  ASSERT_TRUE(log) << log.error().message;
  auto snap = build(baseConfig(), *log);
  EXPECT_EQ(snap->access_log, *log);
  EXPECT_EQ(entry(*snap, "tcp").runtime->access_log, *log);
  EXPECT_EQ(entry(*snap, "web").http->access_log, *log);
  auto off = build(baseConfig());
  EXPECT_EQ(off->access_log, nullptr);
  EXPECT_EQ(entry(*off, "web").http->access_log, nullptr);
}
