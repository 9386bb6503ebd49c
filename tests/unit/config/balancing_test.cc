// Valid configs for balancing algorithms, health checks, outlier detection, panic mode, slow
// start and drain: every new field's value and default.
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "config/loader.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using namespace std::chrono_literals;
using testing::dump;
using testing::load;

const std::string kListener = "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    pool: web\n";

// A config whose pool "web" has `poolKeys` (each line indented by 4) before its servers.
LoadResult withPool(const std::string& poolKeys) {
  return load(kListener + "pools:\n  - name: web\n" + poolKeys + "    servers: [{address: 127.0.0.1:9001}]\n");
}

TEST(BalancingConfigTest, Defaults) {
  auto r = withPool("");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Pool& p = r.config->pools.at(0);
  EXPECT_EQ(p.algorithm, Algorithm::RoundRobin);
  EXPECT_EQ(p.hash_key.source, HashKeySource::ClientAddress);
  EXPECT_EQ(p.hash_key.name, "");
  EXPECT_EQ(p.vnodes, 160u);
  EXPECT_EQ(p.slow_start, 0ms);
  EXPECT_EQ(p.panic_threshold, 50u);

  const HealthCheck& h = p.health_check;
  EXPECT_EQ(h.type, CheckType::None);
  EXPECT_EQ(h.interval, 2s);
  EXPECT_EQ(h.jitter, 200ms);  // interval / 10
  EXPECT_EQ(h.timeout, 1s);
  EXPECT_EQ(h.rise, 2u);
  EXPECT_EQ(h.fall, 3u);
  EXPECT_EQ(h.port, 0);
  EXPECT_EQ(h.method, "GET");
  EXPECT_EQ(h.path, "/");
  EXPECT_EQ(h.host, "");
  EXPECT_EQ(h.expect_status, (std::vector<std::pair<int, int>>{{200, 399}}));
  EXPECT_EQ(h.body_contains, "");

  const OutlierDetection& o = p.outlier_detection;
  EXPECT_TRUE(o.enabled);  // on by default since #12 (a stalled server must be taken out)
  EXPECT_EQ(o.max_fails, 5u);
  EXPECT_EQ(o.fail_timeout, 10s);
  EXPECT_EQ(o.ejection_time, 30s);
  EXPECT_EQ(o.max_ejection_time, 300s);
  EXPECT_EQ(o.max_ejection_percent, 50u);
  EXPECT_EQ(o.error_rate_percent, 0u);
  EXPECT_EQ(o.error_rate_window, 30s);
  EXPECT_EQ(o.error_rate_min_requests, 20u);

  const Server& s = p.servers.at(0);
  EXPECT_EQ(s.weight, 1u);
  EXPECT_FALSE(s.drain);
  EXPECT_EQ(s.agent.port, 0);
  EXPECT_EQ(s.agent.interval, 5s);
  EXPECT_EQ(s.agent.timeout, 1s);

  // The in-class defaults match what the loader fills in (jitter aside: the loader derives it).
  const Pool blank;
  EXPECT_EQ(blank.algorithm, p.algorithm);
  EXPECT_EQ(blank.vnodes, p.vnodes);
  EXPECT_EQ(blank.panic_threshold, p.panic_threshold);
  EXPECT_EQ(blank.health_check.jitter, 0ms);
  EXPECT_EQ(blank.health_check.interval, h.interval);
  EXPECT_EQ(blank.outlier_detection.max_ejection_time, o.max_ejection_time);
}

const char* const kFull = R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    pool: web
  - name: dns
    bind: 127.0.0.1:8053
    protocol: udp
    pool: dns
pools:
  - name: web
    algorithm: consistent_hash
    hash_key: client_address
    vnodes: 10000
    slow_start: 1h
    panic_threshold: 0
    health_check:
      type: http
      interval: 1h
      jitter: 1h
      timeout: 1h
      rise: 100
      fall: 1
      port: 65535
      http:
        method: POST
        path: /healthz?full=1&x=%20
        host: "[::1]:8080"
        expect_status: ["200-204", 302, "100-100", 599]
        body_contains: "status: ok"
    outlier_detection:
      max_fails: 1000
      fail_timeout: 1h
      ejection_time: 1m
      max_ejection_time: 1m
      max_ejection_percent: 100
      error_rate: 100
      error_rate_window: 1ms
      error_rate_min_requests: 1000000
    servers:
      - address: 127.0.0.1:9001
        weight: 256
        drain: true
        agent: {port: 9999, interval: 100ms, timeout: 100ms}
      - address: 127.0.0.1:9002
        weight: 1
        drain: false
        agent:
          port: 1
  - name: dns
    algorithm: ip_hash
    hash_key: client_address
    slow_start: 0ms
    panic_threshold: 100
    health_check:
      type: tcp
      interval: 100ms
      jitter: 0ms
      timeout: 1ms
      rise: 1
      fall: 100
      port: 0
    outlier_detection:
      max_fails: 1
      fail_timeout: 1ms
      ejection_time: 1ms
      max_ejection_time: 24h
      max_ejection_percent: 0
      error_rate: 1
      error_rate_window: 1h
      error_rate_min_requests: 1
    servers:
      - address: 127.0.0.1:9053
  - name: unused
    algorithm: maglev
    hash_key: header:X-User
    servers: [{address: 127.0.0.1:9100}]
)";

TEST(BalancingConfigTest, FullRoundTrip) {
  auto r = loadString(kFull, "full.yaml");
  ASSERT_TRUE(r.ok()) << dump(r);
  const Config& c = *r.config;
  ASSERT_EQ(c.pools.size(), 3u);

  const Pool& web = c.pools[0];
  EXPECT_EQ(web.algorithm, Algorithm::ConsistentHash);
  EXPECT_EQ(web.hash_key.source, HashKeySource::ClientAddress);
  EXPECT_EQ(web.vnodes, 10000u);
  EXPECT_EQ(web.slow_start, 1h);
  EXPECT_EQ(web.panic_threshold, 0u);
  const HealthCheck& h = web.health_check;
  EXPECT_EQ(h.type, CheckType::Http);
  EXPECT_EQ(h.interval, 1h);
  EXPECT_EQ(h.jitter, 1h);
  EXPECT_EQ(h.timeout, 1h);
  EXPECT_EQ(h.rise, 100u);
  EXPECT_EQ(h.fall, 1u);
  EXPECT_EQ(h.port, 65535);
  EXPECT_EQ(h.method, "POST");
  EXPECT_EQ(h.path, "/healthz?full=1&x=%20");
  EXPECT_EQ(h.host, "[::1]:8080");
  EXPECT_EQ(h.expect_status, (std::vector<std::pair<int, int>>{{200, 204}, {302, 302}, {100, 100}, {599, 599}}));
  EXPECT_EQ(h.body_contains, "status: ok");
  const OutlierDetection& o = web.outlier_detection;
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.max_fails, 1000u);
  EXPECT_EQ(o.fail_timeout, 1h);
  EXPECT_EQ(o.ejection_time, 1min);
  EXPECT_EQ(o.max_ejection_time, 1min);
  EXPECT_EQ(o.max_ejection_percent, 100u);
  EXPECT_EQ(o.error_rate_percent, 100u);
  EXPECT_EQ(o.error_rate_window, 1ms);
  EXPECT_EQ(o.error_rate_min_requests, 1000000u);
  ASSERT_EQ(web.servers.size(), 2u);
  EXPECT_EQ(web.servers[0].weight, 256u);
  EXPECT_TRUE(web.servers[0].drain);
  EXPECT_EQ(web.servers[0].agent.port, 9999);
  EXPECT_EQ(web.servers[0].agent.interval, 100ms);
  EXPECT_EQ(web.servers[0].agent.timeout, 100ms);
  EXPECT_EQ(web.servers[1].weight, 1u);
  EXPECT_FALSE(web.servers[1].drain);
  EXPECT_EQ(web.servers[1].agent.port, 1);
  EXPECT_EQ(web.servers[1].agent.interval, 5s);
  EXPECT_EQ(web.servers[1].agent.timeout, 1s);

  const Pool& dns = c.pools[1];
  EXPECT_EQ(dns.algorithm, Algorithm::IpHash);
  EXPECT_EQ(dns.hash_key.source, HashKeySource::ClientAddress);
  EXPECT_EQ(dns.vnodes, 160u);
  EXPECT_EQ(dns.slow_start, 0ms);
  EXPECT_EQ(dns.panic_threshold, 100u);
  EXPECT_EQ(dns.health_check.type, CheckType::Tcp);
  EXPECT_EQ(dns.health_check.interval, 100ms);
  EXPECT_EQ(dns.health_check.jitter, 0ms);
  EXPECT_EQ(dns.health_check.timeout, 1ms);
  EXPECT_EQ(dns.health_check.rise, 1u);
  EXPECT_EQ(dns.health_check.fall, 100u);
  EXPECT_EQ(dns.health_check.port, 0);
  EXPECT_EQ(dns.health_check.path, "/");  // http settings keep their defaults
  EXPECT_TRUE(dns.outlier_detection.enabled);
  EXPECT_EQ(dns.outlier_detection.max_fails, 1u);
  EXPECT_EQ(dns.outlier_detection.fail_timeout, 1ms);
  EXPECT_EQ(dns.outlier_detection.ejection_time, 1ms);
  EXPECT_EQ(dns.outlier_detection.max_ejection_time, 24h);
  EXPECT_EQ(dns.outlier_detection.max_ejection_percent, 0u);
  EXPECT_EQ(dns.outlier_detection.error_rate_percent, 1u);
  EXPECT_EQ(dns.outlier_detection.error_rate_window, 1h);
  EXPECT_EQ(dns.outlier_detection.error_rate_min_requests, 1u);

  // Header keys are fine on a pool that no (L4) listener uses.
  const Pool& unused = c.pools[2];
  EXPECT_EQ(unused.algorithm, Algorithm::Maglev);
  EXPECT_EQ(unused.hash_key.source, HashKeySource::Header);
  EXPECT_EQ(unused.hash_key.name, "X-User");
}

TEST(BalancingConfigTest, EveryAlgorithmName) {
  const std::pair<const char*, Algorithm> names[] = {
      {"round_robin", Algorithm::RoundRobin},
      {"weighted_round_robin", Algorithm::WeightedRoundRobin},
      {"least_connections", Algorithm::LeastConnections},
      {"least_response_time", Algorithm::LeastResponseTime},
      {"random", Algorithm::Random},
      {"random_two_choices", Algorithm::RandomTwoChoices},
      {"ip_hash", Algorithm::IpHash},
      {"consistent_hash", Algorithm::ConsistentHash},
      {"maglev", Algorithm::Maglev},
  };
  for (const auto& [name, algorithm] : names) {
    auto r = withPool(std::string("    algorithm: ") + name + "\n");
    ASSERT_TRUE(r.ok()) << name << "\n" << dump(r);
    EXPECT_EQ(r.config->pools[0].algorithm, algorithm) << name;
  }
}

TEST(BalancingConfigTest, HashKeyForms) {
  auto keyOf = [](const std::string& algorithm, const std::string& key) {
    // Pool "p" is used by no listener, so L7 keys are accepted.
    auto r = load(kListener + "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n"
                              "  - name: p\n    algorithm: " + algorithm + "\n    hash_key: " + key +
                  "\n    servers: [{address: 127.0.0.1:9002}]\n");
    EXPECT_TRUE(r.ok()) << key << "\n" << dump(r);
    return r.ok() ? r.config->pools[1].hash_key : HashKey{};
  };
  HashKey header = keyOf("consistent_hash", "header:X-User");
  EXPECT_EQ(header.source, HashKeySource::Header);
  EXPECT_EQ(header.name, "X-User");
  HashKey cookie = keyOf("maglev", "cookie:session_id");
  EXPECT_EQ(cookie.source, HashKeySource::Cookie);
  EXPECT_EQ(cookie.name, "session_id");
  HashKey path = keyOf("consistent_hash", "path");
  EXPECT_EQ(path.source, HashKeySource::Path);
  EXPECT_EQ(path.name, "");
  HashKey client = keyOf("ip_hash", "client_address");
  EXPECT_EQ(client.source, HashKeySource::ClientAddress);
  // client_address is fine on pools that L4 listeners use.
  auto r = withPool("    algorithm: maglev\n    hash_key: client_address\n");
  EXPECT_TRUE(r.ok()) << dump(r);
}

TEST(BalancingConfigTest, HealthCheckTypeIsInferred) {
  auto tcp = withPool("    health_check:\n      interval: 5s\n");
  ASSERT_TRUE(tcp.ok()) << dump(tcp);
  EXPECT_EQ(tcp.config->pools[0].health_check.type, CheckType::Tcp);
  EXPECT_EQ(tcp.config->pools[0].health_check.jitter, 500ms);  // interval / 10

  auto empty = withPool("    health_check:\n");
  ASSERT_TRUE(empty.ok()) << dump(empty);
  EXPECT_EQ(empty.config->pools[0].health_check.type, CheckType::Tcp);

  auto http = withPool("    health_check:\n      http:\n        path: /ping\n");
  ASSERT_TRUE(http.ok()) << dump(http);
  EXPECT_EQ(http.config->pools[0].health_check.type, CheckType::Http);
  EXPECT_EQ(http.config->pools[0].health_check.path, "/ping");
  EXPECT_EQ(http.config->pools[0].health_check.method, "GET");

  // An empty http section means an http check with the defaults.
  auto defaults = withPool("    health_check:\n      type: http\n      http:\n");
  ASSERT_TRUE(defaults.ok()) << dump(defaults);
  const HealthCheck& h = defaults.config->pools[0].health_check;
  EXPECT_EQ(h.type, CheckType::Http);
  EXPECT_EQ(h.path, "/");
  EXPECT_EQ(h.expect_status, (std::vector<std::pair<int, int>>{{200, 399}}));

  // type: none switches the check off but keeps (and still validates) its settings.
  auto off = withPool("    health_check:\n      type: none\n      interval: 10s\n      http: {path: /x}\n");
  ASSERT_TRUE(off.ok()) << dump(off);
  EXPECT_EQ(off.config->pools[0].health_check.type, CheckType::None);
  EXPECT_EQ(off.config->pools[0].health_check.interval, 10s);
}

TEST(BalancingConfigTest, ExpectStatusForms) {
  auto statusOf = [](const std::string& value) {
    auto r = withPool("    health_check:\n      type: http\n      http:\n        expect_status: " + value + "\n");
    EXPECT_TRUE(r.ok()) << value << "\n" << dump(r);
    return r.ok() ? r.config->pools[0].health_check.expect_status : std::vector<std::pair<int, int>>{};
  };
  using Ranges = std::vector<std::pair<int, int>>;
  EXPECT_EQ(statusOf("200-299"), (Ranges{{200, 299}}));
  EXPECT_EQ(statusOf("\"200-299\""), (Ranges{{200, 299}}));
  EXPECT_EQ(statusOf("204"), (Ranges{{204, 204}}));
  EXPECT_EQ(statusOf("[\"200-399\", 204]"), (Ranges{{200, 399}, {204, 204}}));
}

TEST(BalancingConfigTest, EmptyOutlierSectionEnablesDefaults) {
  auto r = withPool("    outlier_detection:\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  const OutlierDetection& o = r.config->pools[0].outlier_detection;
  EXPECT_TRUE(o.enabled);
  EXPECT_EQ(o.max_fails, 5u);
  EXPECT_EQ(o.ejection_time, 30s);
}

TEST(BalancingConfigTest, LongerEjectionWithLargerCap) {
  auto r = withPool("    outlier_detection:\n      ejection_time: 10m\n      max_ejection_time: 1h\n");
  ASSERT_TRUE(r.ok()) << dump(r);
  EXPECT_EQ(r.config->pools[0].outlier_detection.ejection_time, 10min);
  EXPECT_EQ(r.config->pools[0].outlier_detection.max_ejection_time, 1h);
}

}  // namespace
}  // namespace fulcrum::config
