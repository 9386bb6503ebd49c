// One test per kind of error in the balancing, health check, outlier detection, slow start,
// panic and drain settings, each pinning the exact position and the message's gist.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using testing::hasError;
using testing::load;
using testing::onlyError;

const std::string kListener = "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    pool: web\n";

// Pool "web" with `poolKeys` starting at line 7, column 5 (before its servers).
LoadResult withPool(const std::string& poolKeys) {
  return load(kListener + "pools:\n  - name: web\n" + poolKeys + "    servers: [{address: 127.0.0.1:9001}]\n");
}

// Server keys start at line 9, column 9.
LoadResult withServer(const std::string& serverKeys) {
  return load(kListener + "pools:\n  - name: web\n    servers:\n      - address: 127.0.0.1:9001\n" + serverKeys);
}

TEST(BalancingConfigErrorTest, UnknownAlgorithm) {
  EXPECT_TRUE(onlyError(withPool("    algorithm: least_conection\n"), 7, 16,
                        "pools[0].algorithm: unknown value \"least_conection\" (did you mean "
                        "\"least_connections\"?); expected one of: round_robin, weighted_round_robin, "
                        "least_connections, least_response_time, random, random_two_choices, ip_hash, "
                        "consistent_hash, maglev"));
  EXPECT_TRUE(onlyError(withPool("    algorithm: [maglev]\n"), 7, 16,
                        "pools[0].algorithm: expected one of: round_robin, weighted_round_robin"));
}

TEST(BalancingConfigErrorTest, UnknownPoolKeyListsTheNewKeys) {
  EXPECT_TRUE(onlyError(withPool("    panic: 10\n"), 7, 5,
                        "pools[0]: unknown key \"panic\"; expected one of: name, algorithm, retries, queue_size, "
                        "send_proxy_protocol, servers, hash_key, vnodes, slow_start, panic_threshold, "
                        "health_check, outlier_detection"));
}

TEST(BalancingConfigErrorTest, HashKeyNeedsAHashingAlgorithm) {
  EXPECT_TRUE(onlyError(withPool("    hash_key: client_address\n"), 7, 5,
                        "pools[0].hash_key: only meaningful with algorithm ip_hash, consistent_hash or maglev; "
                        "expected no hash_key with algorithm round_robin"));
  EXPECT_TRUE(onlyError(withPool("    algorithm: least_connections\n    hash_key: path\n"), 8, 5,
                        "expected no hash_key with algorithm least_connections"));
  // An algorithm that could not be read is not blamed twice.
  EXPECT_TRUE(onlyError(withPool("    algorithm: nope\n    hash_key: path\n"), 7, 16, "unknown value \"nope\""));
}

TEST(BalancingConfigErrorTest, IpHashOnlyHashesTheClientAddress) {
  EXPECT_TRUE(onlyError(withPool("    algorithm: ip_hash\n    hash_key: cookie:sid\n"), 8, 15,
                        "pools[0].hash_key: ip_hash hashes the client address only; expected client_address, "
                        "got cookie:sid"));
}

TEST(BalancingConfigErrorTest, BadHashKey) {
  auto key = [](const std::string& value) { return withPool("    algorithm: maglev\n    hash_key: " + value + "\n"); };
  EXPECT_TRUE(onlyError(key("ip"), 8, 15,
                        "pools[0].hash_key: unknown hash key \"ip\"; expected client_address, path, header:NAME "
                        "or cookie:NAME"));
  EXPECT_TRUE(onlyError(key("\"header:\""), 8, 15, "pools[0].hash_key: invalid header name \"\" in \"header:\""));
  EXPECT_TRUE(onlyError(key("{header: X-User}"), 8, 15,
                        "pools[0].hash_key: expected header:NAME without a space after the colon, e.g. "
                        "header:X-User, got a map"));
  EXPECT_TRUE(onlyError(key("\"cookie:a b\""), 8, 15, "invalid cookie name \"a b\""));
  EXPECT_TRUE(onlyError(key("[a]"), 8, 15, "expected client_address, path, header:NAME or cookie:NAME, got a list"));
}

TEST(BalancingConfigErrorTest, L4ListenerCannotProvideAnHttpHashKey) {
  EXPECT_TRUE(onlyError(withPool("    algorithm: consistent_hash\n    hash_key: header:X-User\n"), 8, 15,
                        "pools[0].hash_key: listener web (tcp) cannot provide header:X-User; L4 listeners hash "
                        "on client_address"));
  // One error per listener that uses the pool, none for listeners of other pools.
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    pool: web
  - name: dns
    bind: 127.0.0.1:8053
    protocol: udp
    pool: web
  - name: other
    bind: 127.0.0.1:8081
    pool: other
pools:
  - name: web
    algorithm: maglev
    hash_key: path
    servers: [{address: 127.0.0.1:9001}]
  - name: other
    servers: [{address: 127.0.0.1:9002}]
)");
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 15, 15, "listener web (tcp) cannot provide path"));
  EXPECT_TRUE(hasError(r, 15, 15, "listener dns (udp) cannot provide path"));
}

TEST(BalancingConfigErrorTest, VnodesOnlyWithConsistentHash) {
  EXPECT_TRUE(onlyError(withPool("    algorithm: maglev\n    vnodes: 100\n"), 8, 5,
                        "pools[0].vnodes: only meaningful with algorithm consistent_hash; expected no vnodes "
                        "with algorithm maglev"));
  EXPECT_TRUE(onlyError(withPool("    algorithm: consistent_hash\n    vnodes: 0\n"), 8, 13,
                        "pools[0].vnodes: must be between 1 and 10000, got 0"));
  EXPECT_TRUE(onlyError(withPool("    algorithm: consistent_hash\n    vnodes: 10001\n"), 8, 13,
                        "must be between 1 and 10000, got 10001"));
}

TEST(BalancingConfigErrorTest, SlowStartAndPanicThreshold) {
  auto r = withPool("    slow_start: 2h\n    panic_threshold: 101\n");
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 7, 17, "pools[0].slow_start: must be between 0ms and 1h, got 2h"));
  EXPECT_TRUE(hasError(r, 8, 22, "pools[0].panic_threshold: must be between 0 and 100, got 101"));
  EXPECT_TRUE(onlyError(withPool("    slow_start: 30\n"), 7, 17, "pools[0].slow_start: a unit is required"));
}

TEST(BalancingConfigErrorTest, HealthCheckType) {
  EXPECT_TRUE(onlyError(withPool("    health_check:\n      type: udp\n"), 8, 13,
                        "pools[0].health_check.type: unknown value \"udp\"; expected one of: none, tcp, http"));
  EXPECT_TRUE(onlyError(withPool("    health_check: tcp\n"), 7, 19,
                        "pools[0].health_check: expected a map, got \"tcp\""));
}

TEST(BalancingConfigErrorTest, UnknownHealthCheckKey) {
  EXPECT_TRUE(onlyError(withPool("    health_check:\n      intervall: 5s\n"), 8, 7,
                        "pools[0].health_check: unknown key \"intervall\" (did you mean \"interval\"?); expected "
                        "one of: type, interval, jitter, timeout, rise, fall, port, http"));
}

TEST(BalancingConfigErrorTest, HealthCheckRanges) {
  auto r = withPool(R"(    health_check:
      type: tcp
      interval: 50ms
      rise: 0
      fall: 101
      port: 65536
)");
  ASSERT_EQ(r.errors.size(), 4u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 9, 17, "pools[0].health_check.interval: must be between 100ms and 1h, got 50ms"));
  EXPECT_TRUE(hasError(r, 10, 13, "pools[0].health_check.rise: must be between 1 and 100, got 0"));
  EXPECT_TRUE(hasError(r, 11, 13, "pools[0].health_check.fall: must be between 1 and 100, got 101"));
  EXPECT_TRUE(hasError(r, 12, 13, "pools[0].health_check.port: must be between 0 and 65535, got 65536"));
  EXPECT_TRUE(onlyError(withPool("    health_check:\n      timeout: 0ms\n"), 8, 16,
                        "pools[0].health_check.timeout: must be between 1ms and 1h, got 0ms"));
}

TEST(BalancingConfigErrorTest, HealthCheckTimeoutLongerThanInterval) {
  EXPECT_TRUE(onlyError(withPool("    health_check:\n      interval: 1s\n      timeout: 2s\n"), 9, 16,
                        "pools[0].health_check.timeout: 2s is longer than interval 1s; expected a timeout <= "
                        "interval"));
  // With the default timeout (1s) the interval is the offending value.
  EXPECT_TRUE(onlyError(withPool("    health_check:\n      interval: 500ms\n"), 8, 17,
                        "pools[0].health_check.interval: 500ms is shorter than the default timeout 1s"));
}

TEST(BalancingConfigErrorTest, JitterLongerThanInterval) {
  EXPECT_TRUE(onlyError(withPool("    health_check:\n      interval: 1s\n      jitter: 1500ms\n"), 9, 15,
                        "pools[0].health_check.jitter: 1500ms is longer than interval 1s; expected a jitter "
                        "between 0ms and the interval"));
}

TEST(BalancingConfigErrorTest, HttpSectionWithTcpType) {
  EXPECT_TRUE(onlyError(withPool("    health_check:\n      type: tcp\n      http:\n        path: /x\n"), 9, 7,
                        "pools[0].health_check.http: only valid with type: http; expected no http section with "
                        "type tcp"));
}

TEST(BalancingConfigErrorTest, HttpCheckValues) {
  auto r = withPool(R"(    health_check:
      http:
        method: get
        path: healthz
        host: "a b"
        body_contains: )" + std::string(1025, 'x') + "\n");
  ASSERT_EQ(r.errors.size(), 4u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 9, 17,
                       "pools[0].health_check.http.method: unknown value \"get\" (did you mean \"GET\"?); "
                       "expected one of: GET, HEAD, OPTIONS, POST"));
  EXPECT_TRUE(hasError(r, 10, 15,
                       "pools[0].health_check.http.path: expected a path starting with '/', such as /healthz, "
                       "got \"healthz\""));
  EXPECT_TRUE(hasError(r, 11, 15, "pools[0].health_check.http.host: invalid Host header \"a b\""));
  EXPECT_TRUE(hasError(r, 12, 24,
                       "pools[0].health_check.http.body_contains: 1025 bytes is too long; expected at most 1024 "
                       "bytes"));
}

TEST(BalancingConfigErrorTest, HttpPathCharacters) {
  auto path = [](const std::string& value) {
    return withPool("    health_check:\n      http:\n        path: " + value + "\n");
  };
  EXPECT_TRUE(onlyError(path("\"/a b\""), 9, 15,
                        "pools[0].health_check.http.path: invalid character in \"/a b\"; expected printable ASCII "
                        "without spaces"));
  EXPECT_TRUE(onlyError(path("\"/a\\tb\""), 9, 15, "invalid character"));
  EXPECT_TRUE(onlyError(path("\"/caf\xc3\xa9\""), 9, 15, "invalid character"));
  EXPECT_TRUE(onlyError(path("\"\""), 9, 15, "expected a path starting with '/'"));
}

TEST(BalancingConfigErrorTest, BadExpectStatus) {
  auto status = [](const std::string& value) {
    return withPool("    health_check:\n      http:\n        expect_status: " + value + "\n");
  };
  auto r = status("[\"200-399\", 600, \"399-200\", abc, [1]]");
  ASSERT_EQ(r.errors.size(), 4u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 9, 36,
                       "pools[0].health_check.http.expect_status[1]: status codes must be between 100 and 599, "
                       "got \"600\""));
  EXPECT_TRUE(hasError(r, 9, 41,
                       "expect_status[2]: empty status range \"399-200\"; expected low-high with low <= high"));
  EXPECT_TRUE(hasError(r, 9, 52,
                       "expect_status[3]: expected a status code or range within 100..599, such as 200 or "
                       "\"200-399\", got \"abc\""));
  EXPECT_TRUE(hasError(r, 9, 57, "expect_status[4]: expected a status code or range"));
  EXPECT_TRUE(onlyError(status("99"), 9, 24,
                        "pools[0].health_check.http.expect_status: status codes must be between 100 and 599, got "
                        "\"99\""));
  EXPECT_TRUE(onlyError(status("200-"), 9, 24, "expected a status code or range"));
  EXPECT_TRUE(onlyError(status("[]"), 9, 24,
                        "expect_status: expected at least one entry in the list of status codes or ranges"));
}

TEST(BalancingConfigErrorTest, MaxEjectionTimeShorterThanEjectionTime) {
  EXPECT_TRUE(onlyError(withPool("    outlier_detection:\n      ejection_time: 1m\n      max_ejection_time: 30s\n"),
                        9, 26,
                        "pools[0].outlier_detection.max_ejection_time: 30s is shorter than ejection_time 1m; "
                        "expected max_ejection_time >= ejection_time"));
  // Against the default cap (5m) the ejection time is the offending value.
  EXPECT_TRUE(onlyError(withPool("    outlier_detection:\n      ejection_time: 10m\n"), 8, 22,
                        "pools[0].outlier_detection.ejection_time: 10m is longer than max_ejection_time (5m by "
                        "default)"));
}

TEST(BalancingConfigErrorTest, OutlierRanges) {
  auto r = withPool(R"(    outlier_detection:
      max_fails: 0
      fail_timeout: 2h
      max_ejection_percent: 101
      error_rate: 101
      error_rate_window: 0s
      error_rate_min_requests: 0
      max_fail: 3
)");
  ASSERT_EQ(r.errors.size(), 7u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 8, 18, "pools[0].outlier_detection.max_fails: must be between 1 and 1000, got 0"));
  EXPECT_TRUE(hasError(r, 9, 21, "pools[0].outlier_detection.fail_timeout: must be between 1ms and 1h, got 2h"));
  EXPECT_TRUE(hasError(r, 10, 29, "max_ejection_percent: must be between 0 and 100, got 101"));
  EXPECT_TRUE(hasError(r, 11, 19, "pools[0].outlier_detection.error_rate: must be between 0 and 100, got 101"));
  EXPECT_TRUE(hasError(r, 12, 26, "error_rate_window: must be between 1ms and 1h, got 0s"));
  EXPECT_TRUE(hasError(r, 13, 32, "error_rate_min_requests: must be between 1 and 1000000, got 0"));
  EXPECT_TRUE(hasError(r, 14, 7,
                       "pools[0].outlier_detection: unknown key \"max_fail\" (did you mean \"max_fails\"?)"));
}

TEST(BalancingConfigErrorTest, WeightZeroPointsToDrain) {
  EXPECT_TRUE(onlyError(withServer("        weight: 0\n"), 9, 17,
                        "pools[0].servers[0].weight: expected a weight between 1 and 256; use drain: true to stop "
                        "new connections"));
  EXPECT_TRUE(onlyError(withServer("        weight: -1\n"), 9, 17,
                        "expected a weight between 1 and 256; use drain: true to stop new connections"));
  EXPECT_TRUE(onlyError(withServer("        weight: 257\n"), 9, 17,
                        "pools[0].servers[0].weight: must be between 1 and 256, got 257"));
  EXPECT_TRUE(onlyError(withServer("        weight: heavy\n"), 9, 17,
                        "pools[0].servers[0].weight: expected an integer in 1..256, got \"heavy\""));
}

TEST(BalancingConfigErrorTest, DrainIsABoolean) {
  EXPECT_TRUE(onlyError(withServer("        drain: yes\n"), 9, 16,
                        "pools[0].servers[0].drain: expected a boolean (true/false), got \"yes\""));
}

TEST(BalancingConfigErrorTest, AgentCheck) {
  auto r = withServer(R"(        agent:
          interval: 10ms
          timeout: 2h
          prot: 1
)");
  ASSERT_EQ(r.errors.size(), 4u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 10, 11, "pools[0].servers[0].agent: missing required key \"port\""));
  EXPECT_TRUE(hasError(r, 10, 21, "pools[0].servers[0].agent.interval: must be between 100ms and 1h, got 10ms"));
  EXPECT_TRUE(hasError(r, 11, 20, "pools[0].servers[0].agent.timeout: must be between 1ms and 1h, got 2h"));
  EXPECT_TRUE(hasError(r, 12, 11, "pools[0].servers[0].agent: unknown key \"prot\" (did you mean \"port\"?)"));
  EXPECT_TRUE(onlyError(withServer("        agent: {port: 0}\n"), 9, 23,
                        "pools[0].servers[0].agent.port: must be between 1 and 65535, got 0"));
  EXPECT_TRUE(onlyError(withServer("        agent: {port: 9999, interval: 1s, timeout: 2s}\n"), 9, 52,
                        "pools[0].servers[0].agent.timeout: 2s is longer than interval 1s"));
  EXPECT_TRUE(onlyError(withServer("        agent: 9999\n"), 9, 16,
                        "pools[0].servers[0].agent: expected a map, got \"9999\""));
}

}  // namespace
}  // namespace fulcrum::config
