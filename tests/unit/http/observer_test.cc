// The observers every finished request is shown: metrics of the listener, route and pool, and
// the access log line. On a runtime built as the server builds it, no sockets.
#include "http/filters/observer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "http/runtime.h"

using namespace fulcrum;
using namespace fulcrum::http;

namespace {

struct Fixture {
  Fixture() {
    auto c = std::make_shared<config::Config>();
    config::Listener l;
    l.name = "front";
    l.protocol = config::Protocol::Http;
    config::Route r;
    r.name = "api";
    r.pools = {{"web", 1}};
    l.http.routes.push_back(r);
    c->listeners.push_back(l);
    config::Pool p;
    p.name = "web";
    config::Server s;
    s.address.text = "10.0.0.1:80";
    p.servers.push_back(s);
    cluster = reg.build(p, 1000, true);
    rt = buildRuntime(c, c->listeners[0], {{"web", cluster}}, std::make_shared<SharedListenerState>());
    rt->stats = std::make_shared<stats::TrafficSet>(1);
    rt->route_stats.push_back(std::make_shared<stats::TrafficSet>(1));
  }
  upstream::HostRegistry reg;
  std::shared_ptr<const upstream::Cluster> cluster;
  std::shared_ptr<ListenerRuntime> rt;
};

}  // namespace

TEST(MetricsObserver, CountsTheStatusAndTimeForTheListenerRouteAndPool) {
  Fixture f;
  RequestAccounting a;
  a.route = 0;
  a.cluster = f.cluster.get();
  StreamEnd end{a};
  end.status = 503;
  end.total_us = 1500;
  f.rt->filters.onStreamEnd(end);
  end.status = 200;
  f.rt->filters.onStreamEnd(end);
  auto listener = f.rt->stats->sum();
  EXPECT_EQ(listener.statuses[503], 1u);
  EXPECT_EQ(listener.statuses[200], 1u);
  EXPECT_EQ(listener.request_time.count(), 2u);
  EXPECT_EQ(f.rt->route_stats[0]->sum().statuses[200], 1u);
  EXPECT_EQ(f.cluster->pool_state->traffic->sum().statuses[503], 1u);
  RequestAccounting local;  // a local answer: no route, no pool
  StreamEnd answered{local};
  answered.status = 404;
  f.rt->filters.onStreamEnd(answered);
  EXPECT_EQ(f.rt->stats->sum().statuses[404], 1u);
  EXPECT_EQ(f.rt->route_stats[0]->sum().statuses[404], 0u);
}

TEST(AccessLogObserver, WritesOneLinePerRequestWhenTheListenerHasALog) {
  Fixture f;
  char dir[] = "/tmp/fulcrum-observer-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/access.log";
  config::AccessLog cfg;
  cfg.enabled = true;
  cfg.path = path;
  auto log = upstream::AccessLog::open(cfg, 1);
  ASSERT_TRUE(log.ok());
  f.rt->access_log = log.value();
  RequestAccounting a;
  a.route = 0;
  a.cluster = f.cluster.get();
  a.host = &f.cluster->hosts[0];
  a.method = "GET";
  a.path = "/x";
  StreamEnd end{a};
  end.status = 200;
  end.termination = "ok";
  end.client_ip = "192.0.2.7";
  end.bytes_out = 42;
  f.rt->filters.onStreamEnd(end);
  f.rt->access_log.reset();
  log.value().reset();  // the last reference: the log writes what it buffered, then stops
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  std::string line = text.str();
  EXPECT_NE(line.find("\"client\":\"192.0.2.7\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"route\":\"api\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"server\":\"10.0.0.1:80\""), std::string::npos) << line;
  EXPECT_NE(line.find("\"bytes_out\":42"), std::string::npos) << line;
  EXPECT_EQ(std::count(line.begin(), line.end(), '\n'), 1);
  ::unlink(path.c_str());
  ::rmdir(dir);
}
