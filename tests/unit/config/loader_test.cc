// Valid configs: every field's value, the defaults, address forms and the shipped example.
#include "config/loader.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using namespace std::chrono_literals;
using testing::dump;
using testing::load;

std::string ip(const SocketAddress& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (a.family() == AF_INET) {
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a.sa())->sin_addr, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_addr, buf, sizeof(buf));
  }
  return buf;
}

int port(const SocketAddress& a) {
  if (a.family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(a.sa())->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_port);
}

const char* const kFull = R"(workers: 4
log_level: debug
timeouts:
  connect: 250ms
  idle: 1.5s
  queue: 2m
  drain: 1h
  handshake: 1m30s
listeners:
  - name: web
    bind: 127.0.0.1:8080
    protocol: tcp
    pool: web
    proxy_protocol: true
    trusted_proxies: [10.0.0.0/8, "::1"]
    backlog: 128
  - name: dns.v6
    bind: "[::1]:8053"
    protocol: udp
    pool: dns
    udp:
      flow_idle: 45s
      max_flows: 77
  - name: Same_Port-UDP
    bind: 127.0.0.1:8080
    protocol: udp
    pool: dns
pools:
  - name: web
    algorithm: round_robin
    retries: 0
    queue_size: 0
    send_proxy_protocol: v2
    servers:
      - address: 127.0.0.1:9001
        weight: 1
        max_connections: 100
        backup: false
      - address: "[::1]:9002"
        weight: 256
        max_connections: 1000000
        backup: true
  - name: dns
    retries: 10
    queue_size: 100000
    send_proxy_protocol: v1
    servers:
      - address: 127.0.0.1:9053
  - name: unused
    send_proxy_protocol: none
    servers:
      - {address: 127.0.0.1:9100, backup: true}
)";

TEST(LoaderTest, FullConfigRoundTrip) {
  auto r = loadString(kFull, "full.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = *r.config;
  EXPECT_EQ(c.source, "full.yaml");
  EXPECT_EQ(c.workers, 4u);
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_EQ(c.timeouts.connect, 250ms);
  EXPECT_EQ(c.timeouts.idle, 1500ms);
  EXPECT_EQ(c.timeouts.queue, 2min);
  EXPECT_EQ(c.timeouts.drain, 1h);
  EXPECT_EQ(c.timeouts.handshake, 90s);

  ASSERT_EQ(c.listeners.size(), 3u);
  const Listener& web = c.listeners[0];
  EXPECT_EQ(web.name, "web");
  EXPECT_EQ(web.bind.text, "127.0.0.1:8080");
  EXPECT_EQ(web.bind.family(), AF_INET);
  EXPECT_EQ(web.bind.length, sizeof(sockaddr_in));
  EXPECT_EQ(ip(web.bind), "127.0.0.1");
  EXPECT_EQ(port(web.bind), 8080);
  EXPECT_EQ(web.protocol, Protocol::Tcp);
  EXPECT_EQ(web.pool, "web");
  EXPECT_TRUE(web.accept_proxy);
  ASSERT_EQ(web.trusted_proxies.size(), 2u);
  EXPECT_EQ(web.trusted_proxies[0].text, "10.0.0.0/8");
  EXPECT_EQ(web.trusted_proxies[0].family, AF_INET);
  EXPECT_EQ(web.trusted_proxies[0].prefix, 8);
  EXPECT_EQ(web.trusted_proxies[0].bytes[0], 10);
  EXPECT_EQ(web.trusted_proxies[1].text, "::1");
  EXPECT_EQ(web.trusted_proxies[1].family, AF_INET6);
  EXPECT_EQ(web.trusted_proxies[1].prefix, 128);
  EXPECT_EQ(web.trusted_proxies[1].bytes[15], 1);
  EXPECT_EQ(web.backlog, 128u);
  EXPECT_EQ(web.udp_flow_idle, 30s);
  EXPECT_EQ(web.udp_max_flows, 10000u);

  const Listener& dns = c.listeners[1];
  EXPECT_EQ(dns.name, "dns.v6");
  EXPECT_EQ(dns.bind.text, "[::1]:8053");
  EXPECT_EQ(dns.bind.family(), AF_INET6);
  EXPECT_EQ(dns.bind.length, sizeof(sockaddr_in6));
  EXPECT_EQ(ip(dns.bind), "::1");
  EXPECT_EQ(port(dns.bind), 8053);
  EXPECT_EQ(dns.protocol, Protocol::Udp);
  EXPECT_EQ(dns.pool, "dns");
  EXPECT_FALSE(dns.accept_proxy);
  EXPECT_TRUE(dns.trusted_proxies.empty());
  EXPECT_EQ(dns.backlog, 4096u);
  EXPECT_EQ(dns.udp_flow_idle, 45s);
  EXPECT_EQ(dns.udp_max_flows, 77u);

  // Same address and port as "web" is fine on another protocol.
  EXPECT_EQ(c.listeners[2].name, "Same_Port-UDP");
  EXPECT_EQ(c.listeners[2].protocol, Protocol::Udp);
  EXPECT_EQ(port(c.listeners[2].bind), 8080);

  ASSERT_EQ(c.pools.size(), 3u);
  const Pool& pw = c.pools[0];
  EXPECT_EQ(pw.name, "web");
  EXPECT_EQ(pw.algorithm, Algorithm::RoundRobin);
  EXPECT_EQ(pw.retries, 0u);
  EXPECT_EQ(pw.queue_size, 0u);
  EXPECT_EQ(pw.send_proxy, ProxyProtocolVersion::V2);
  ASSERT_EQ(pw.servers.size(), 2u);
  EXPECT_EQ(pw.servers[0].address.text, "127.0.0.1:9001");
  EXPECT_EQ(port(pw.servers[0].address), 9001);
  EXPECT_EQ(pw.servers[0].weight, 1u);
  EXPECT_EQ(pw.servers[0].max_connections, 100u);
  EXPECT_FALSE(pw.servers[0].backup);
  EXPECT_EQ(pw.servers[1].address.text, "[::1]:9002");
  EXPECT_EQ(pw.servers[1].address.family(), AF_INET6);
  EXPECT_EQ(port(pw.servers[1].address), 9002);
  EXPECT_EQ(pw.servers[1].weight, 256u);
  EXPECT_EQ(pw.servers[1].max_connections, 1000000u);
  EXPECT_TRUE(pw.servers[1].backup);

  const Pool& pd = c.pools[1];
  EXPECT_EQ(pd.retries, 10u);
  EXPECT_EQ(pd.queue_size, 100000u);
  EXPECT_EQ(pd.send_proxy, ProxyProtocolVersion::V1);
  ASSERT_EQ(pd.servers.size(), 1u);
  EXPECT_EQ(pd.servers[0].weight, 1u);

  // A pool no listener uses, holding only a backup server, is allowed.
  const Pool& pu = c.pools[2];
  EXPECT_EQ(pu.name, "unused");
  EXPECT_EQ(pu.send_proxy, ProxyProtocolVersion::None);
  ASSERT_EQ(pu.servers.size(), 1u);
  EXPECT_TRUE(pu.servers[0].backup);

  EXPECT_EQ(c.findPool("dns"), &c.pools[1]);
  EXPECT_EQ(c.findPool("nope"), nullptr);
}

TEST(LoaderTest, Defaults) {
  auto r = load(
      "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    pool: web\n"
      "pools:\n  - name: web\n    servers:\n      - address: 127.0.0.1:9001\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = *r.config;
  const Config defaults;
  EXPECT_EQ(c.workers, 0u);
  EXPECT_EQ(c.log_level, "info");
  EXPECT_EQ(c.timeouts.connect, 5s);
  EXPECT_EQ(c.timeouts.idle, 300s);
  EXPECT_EQ(c.timeouts.queue, 10s);
  EXPECT_EQ(c.timeouts.drain, 30s);
  EXPECT_EQ(c.timeouts.handshake, 5s);
  const Listener& l = c.listeners.at(0);
  EXPECT_EQ(l.protocol, Protocol::Tcp);
  EXPECT_FALSE(l.accept_proxy);
  EXPECT_TRUE(l.trusted_proxies.empty());
  EXPECT_EQ(l.backlog, 4096u);
  EXPECT_EQ(l.udp_flow_idle, 30s);
  EXPECT_EQ(l.udp_max_flows, 10000u);
  const Pool& p = c.pools.at(0);
  EXPECT_EQ(p.algorithm, Algorithm::RoundRobin);
  EXPECT_EQ(p.retries, 2u);
  EXPECT_EQ(p.queue_size, 1024u);
  EXPECT_EQ(p.send_proxy, ProxyProtocolVersion::None);
  const Server& s = p.servers.at(0);
  EXPECT_EQ(s.weight, 1u);
  EXPECT_EQ(s.max_connections, 0u);
  EXPECT_FALSE(s.backup);
}

TEST(LoaderTest, EmptyOptionalSections) {
  auto r = load(
      "timeouts:\nlisteners:\n  - name: dns\n    bind: 127.0.0.1:8053\n    protocol: udp\n    pool: dns\n"
      "    udp:\n    trusted_proxies: []\npools:\n  - name: dns\n    servers: [{address: 127.0.0.1:9053}]\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->timeouts.connect, 5s);
  EXPECT_EQ(r.config->listeners[0].udp_max_flows, 10000u);
}

SocketAddress bindOf(const std::string& bind) {
  auto r = load("listeners:\n  - name: web\n    bind: \"" + bind +
                "\"\n    pool: web\n"
                "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n");
  EXPECT_TRUE(r.ok()) << bind << "\n" << dump(r);
  return r.ok() ? r.config->listeners[0].bind : SocketAddress{};
}

TEST(LoaderTest, Ipv6Bind) {
  SocketAddress a = bindOf("[::1]:8443");
  EXPECT_EQ(a.family(), AF_INET6);
  EXPECT_EQ(a.length, sizeof(sockaddr_in6));
  EXPECT_EQ(ip(a), "::1");
  EXPECT_EQ(port(a), 8443);
  EXPECT_EQ(a.text, "[::1]:8443");
  // Network byte order in the storage itself.
  EXPECT_EQ(reinterpret_cast<const sockaddr_in6*>(a.sa())->sin6_port, htons(8443));

  SocketAddress any6 = bindOf("[::]:8080");
  EXPECT_EQ(any6.family(), AF_INET6);
  EXPECT_EQ(std::memcmp(&reinterpret_cast<const sockaddr_in6*>(any6.sa())->sin6_addr, &in6addr_any,
                        sizeof(in6_addr)),
            0);
  EXPECT_EQ(port(any6), 8080);

  SocketAddress full = bindOf("[2001:db8::7]:65535");
  EXPECT_EQ(ip(full), "2001:db8::7");
  EXPECT_EQ(port(full), 65535);
}

TEST(LoaderTest, WildcardAndHostnameBind) {
  SocketAddress any4 = bindOf("*:8080");
  EXPECT_EQ(any4.family(), AF_INET);
  EXPECT_EQ(any4.length, sizeof(sockaddr_in));
  EXPECT_EQ(ip(any4), "0.0.0.0");
  EXPECT_EQ(port(any4), 8080);
  EXPECT_EQ(any4.text, "*:8080");

  SocketAddress zero = bindOf("0.0.0.0:1");
  EXPECT_EQ(ip(zero), "0.0.0.0");
  EXPECT_EQ(port(zero), 1);

  SocketAddress local = bindOf("localhost:8080");
  EXPECT_TRUE(ip(local) == "127.0.0.1" || ip(local) == "::1") << ip(local);
  EXPECT_EQ(port(local), 8080);
  EXPECT_EQ(local.text, "localhost:8080");
}

TEST(LoaderTest, AnchorsAndAliases) {
  auto r = load(R"(listeners:
  - name: a
    bind: 127.0.0.1:8080
    pool: a
pools:
  - name: a
    servers: &shared
      - address: 127.0.0.1:9001
      - address: 127.0.0.1:9002
  - name: b
    servers: *shared
)");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->pools[1].servers.size(), 2u);
}

TEST(LoaderTest, LoadFileSetsSource) {
  auto path = std::filesystem::path(::testing::TempDir()) / "fulcrum_loader_test.yaml";
  {
    std::ofstream out(path);
    out << "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    pool: web\n"
           "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n";
  }
  auto r = loadFile(path.string());
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->source, path.string());

  {
    std::ofstream out(path);
    out << "workers: x\n";
  }
  auto bad = loadFile(path.string());
  ASSERT_EQ(bad.errors.size(), 3u) << dump(bad);  // plus the missing listeners and pools
  EXPECT_EQ(bad.config, nullptr);
  EXPECT_EQ(bad.errors[2].file, path.string());
  EXPECT_EQ(bad.errors[2].str(),
            path.string() + ":1:10: error: workers: expected an integer in 0..1024, got \"x\"");
  std::filesystem::remove(path);
}

TEST(LoaderTest, ExampleFileLoads) {
  auto path = std::filesystem::path(__FILE__).parent_path() / "../../../examples/fulcrum.yaml";
  auto r = loadFile(path.lexically_normal().string());
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = *r.config;
  ASSERT_EQ(c.listeners.size(), 4u);
  EXPECT_EQ(c.listeners[0].name, "web");
  EXPECT_EQ(c.listeners[0].bind.text, "127.0.0.1:8080");
  EXPECT_EQ(c.listeners[0].protocol, Protocol::Http);
  EXPECT_EQ(c.listeners[0].pool, "web");
  ASSERT_EQ(c.listeners[0].http.routes.size(), 3u);
  EXPECT_EQ(c.listeners[0].http.routes[0].action, RouteAction::Respond);
  EXPECT_EQ(c.listeners[0].http.routes[1].action, RouteAction::Redirect);
  EXPECT_EQ(c.listeners[0].http.routes[2].pools[0].pool, "web");
  EXPECT_EQ(c.listeners[1].name, "web-tls");
  ASSERT_EQ(c.listeners[1].tls.certificates.size(), 1u);
  EXPECT_EQ(c.listeners[1].tls.certificates[0].cert, path.lexically_normal().parent_path().string() + "/localhost.pem")
      << "relative to the config file";
  EXPECT_EQ(c.listeners[1].tls.alpn, std::vector<std::string>{"http/1.1"});
  EXPECT_EQ(c.listeners[2].name, "web-tcp");
  EXPECT_EQ(c.listeners[2].protocol, Protocol::Tcp);
  EXPECT_FALSE(c.listeners[2].tls.enabled());
  EXPECT_EQ(c.listeners[3].name, "dns");
  EXPECT_EQ(c.listeners[3].bind.text, "127.0.0.1:8053");
  EXPECT_EQ(c.listeners[3].protocol, Protocol::Udp);
  EXPECT_EQ(c.listeners[3].pool, "dns");
  const Pool* web = c.findPool("web");
  ASSERT_NE(web, nullptr);
  ASSERT_EQ(web->servers.size(), 3u);
  EXPECT_EQ(web->servers[0].address.text, "127.0.0.1:9001");
  EXPECT_EQ(web->servers[2].address.text, "127.0.0.1:9003");
  EXPECT_EQ(web->health_check.type, CheckType::Tcp);
  EXPECT_EQ(web->health_check.interval, 2s);
  EXPECT_TRUE(web->outlier_detection.enabled);
  const Pool* dns = c.findPool("dns");
  ASSERT_NE(dns, nullptr);
  ASSERT_EQ(dns->servers.size(), 2u);
  EXPECT_EQ(dns->servers[0].address.text, "127.0.0.1:9053");
  EXPECT_EQ(dns->servers[1].address.text, "127.0.0.1:9054");
}

}  // namespace
}  // namespace fulcrum::config
