// The shared_state section and `shared: true` on rate limits and client-address stickiness:
// values, defaults, and each error at its position.
#include <gtest/gtest.h>

#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using testing::hasError;
using testing::load;
using testing::onlyError;

// Line 1..8: an http listener with a shared limit, a pool with shared stickiness.
const std::string kShared =
    "listeners:\n  - name: l\n    bind: 127.0.0.1:8080\n    protocol: http\n    pool: web\n"
    "    http:\n      rate_limit: {rate: 10/s, shared: true}\n"
    "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n"
    "    http:\n      sticky: {mode: client_address, shared: true, ttl: 10m}\n";

TEST(SharedStateConfig, RedisAndDefaults) {
  auto r = load(kShared + "shared_state:\n  redis: 127.0.0.1:6379\n");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const auto& s = r.config->shared_state;
  EXPECT_TRUE(s.enabled);
  EXPECT_EQ(s.redis.text, "127.0.0.1:6379");
  EXPECT_EQ(s.key_prefix, "fulcrum:");
  EXPECT_EQ(s.timeout.count(), 200);
  EXPECT_EQ(s.sync_interval.count(), 100);
  EXPECT_TRUE(r.config->listeners[0].http.rate_limit.shared);
  EXPECT_TRUE(r.config->pools[0].http.sticky.shared);
  EXPECT_EQ(r.config->pools[0].http.sticky.ttl.count(), 600000);
}

TEST(SharedStateConfig, Sentinels) {
  auto r = load(kShared +
                "shared_state:\n  sentinels: [127.0.0.1:26379, \"[::1]:26380\"]\n  master_name: mymaster\n"
                "  key_prefix: \"svc:\"\n  timeout: 50ms\n  sync_interval: 20ms\n");
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const auto& s = r.config->shared_state;
  ASSERT_EQ(s.sentinels.size(), 2u);
  EXPECT_EQ(s.sentinels[1].text, "[::1]:26380");
  EXPECT_EQ(s.master_name, "mymaster");
  EXPECT_EQ(s.key_prefix, "svc:");
  EXPECT_EQ(s.timeout.count(), 50);
  EXPECT_EQ(s.sync_interval.count(), 20);
}

TEST(SharedStateConfig, SharedWithoutTheSectionIsAnErrorAtEachUse) {
  auto r = load(kShared);
  EXPECT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 7, 32, "shared: true needs a top-level shared_state section"));
  EXPECT_TRUE(hasError(r, 12, 38, "shared: true needs a top-level shared_state section"));
}

TEST(SharedStateConfig, BadSections) {
  const std::string base =
      "listeners:\n  - name: l\n    bind: 127.0.0.1:8080\n    pool: web\n"
      "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n";
  EXPECT_TRUE(onlyError(load(base + "shared_state:\n  key_prefix: p\n"), 9, 3, "expected redis: HOST:PORT"));
  EXPECT_TRUE(onlyError(load(base + "shared_state:\n  redis: 127.0.0.1:6379\n  sentinels: [127.0.0.1:1]\n"), 10, 3,
                        "give redis or sentinels, not both"));
  EXPECT_TRUE(onlyError(load(base + "shared_state:\n  sentinels: [127.0.0.1:1]\n"), 9, 3, "need master_name"));
  EXPECT_TRUE(onlyError(load(base + "shared_state:\n  redis: 127.0.0.1:6379\n  master_name: m\n"), 10, 3,
                        "only meaningful with sentinels"));
  EXPECT_TRUE(onlyError(load(base + "shared_state:\n  redis: redis.local\n"), 9, 10, "shared_state.redis"));
  EXPECT_TRUE(onlyError(load(base + "shared_state:\n  redis: 127.0.0.1:6379\n  key_prefix: \"a b\"\n"), 10, 15,
                        "without spaces"));
  EXPECT_TRUE(onlyError(load(base + "shared_state:\n  redis: 127.0.0.1:6379\n  sync_interval: 5s\n"), 10, 18,
                        "sync_interval"));
  EXPECT_TRUE(onlyError(load(base + "shared_state:\n  redis: 127.0.0.1:6379\n  timeout: 0ms\n"), 10, 12, "timeout"));
  EXPECT_TRUE(onlyError(load(base + "shared_state:\n  redis: 127.0.0.1:6379\n  tmeout: 1s\n"), 10, 3, "timeout"));
}

TEST(SharedStateConfig, StickySharingIsForClientAddressMode) {
  auto r = load(
      "listeners:\n  - name: l\n    bind: 127.0.0.1:8080\n    protocol: http\n    pool: web\n"
      "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n"
      "    http:\n      sticky: {mode: cookie, ttl: 1m}\n"
      "shared_state:\n  redis: 127.0.0.1:6379\n");
  EXPECT_TRUE(onlyError(r, 10, 30, "only meaningful with mode: client_address"));
}

}  // namespace
}  // namespace fulcrum::config
