// listeners[].sni_routes: what is read, and each mistake at its file:line:column.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using testing::hasError;
using testing::load;
using testing::onlyError;

const std::string kPools = R"(pools:
  - name: a
    servers: [{address: 127.0.0.1:9001}]
  - name: b
    servers: [{address: 127.0.0.1:9002}]
)";

TEST(SniRoutesConfig, ReadsRoutesAndOptionalDefault) {
  auto r = load(R"(listeners:
  - name: pass
    bind: 127.0.0.1:8443
    sni_routes:
      - {names: [A.Example, "*.example"], pool: a}
      - {names: b.example, pool: b}
  - name: pass2
    bind: 127.0.0.1:8444
    pool: b
    sni_routes: [{names: [x.test], pool: a}]
)" + kPools);
  ASSERT_TRUE(r.ok()) << testing::dump(r);
  const Listener& l = r.config->listeners[0];
  EXPECT_EQ(l.pool, "");
  ASSERT_EQ(l.sni_routes.size(), 2u);
  EXPECT_EQ(l.sni_routes[0].names, (std::vector<std::string>{"a.example", "*.example"}));
  EXPECT_EQ(l.sni_routes[0].pool, "a");
  EXPECT_EQ(l.sni_routes[1].names, (std::vector<std::string>{"b.example"}));
  EXPECT_EQ(r.config->listeners[1].pool, "b");
}

TEST(SniRoutesConfig, UnknownPool) {
  auto r = load(R"(listeners:
  - name: pass
    bind: 127.0.0.1:8443
    sni_routes: [{names: [a.example], pool: c}]
)" + kPools);
  EXPECT_TRUE(onlyError(r, 4, 45, "pool \"c\" is not defined"));
}

TEST(SniRoutesConfig, BadNames) {
  auto r = load(R"(listeners:
  - name: pass
    bind: 127.0.0.1:8443
    sni_routes:
      - names: ["a.*.example", "bad name", "127.0.0.1:443", a.example]
        pool: a
      - names: [A.EXAMPLE]
        pool: b
)" + kPools);
  EXPECT_TRUE(hasError(r, 5, 17, "invalid wildcard in \"a.*.example\""));
  EXPECT_TRUE(hasError(r, 5, 32, "invalid server name \"bad name\""));
  EXPECT_TRUE(hasError(r, 5, 44, "invalid server name \"127.0.0.1:443\""));
  EXPECT_TRUE(hasError(r, 7, 17, "server name \"a.example\" already routed at line 5"));
  EXPECT_EQ(r.errors.size(), 4u) << testing::dump(r);
}

TEST(SniRoutesConfig, MissingKeys) {
  auto r = load(R"(listeners:
  - name: pass
    bind: 127.0.0.1:8443
    sni_routes: [{names: [a.example]}, {pool: a}, {names: [b.example], pool: a, port: 1}]
)" + kPools);
  EXPECT_TRUE(hasError(r, 4, 18, "missing required key \"pool\""));
  EXPECT_TRUE(hasError(r, 4, 40, "missing required key \"names\""));
  EXPECT_TRUE(hasError(r, 4, 81, "unknown key \"port\""));
  EXPECT_EQ(r.errors.size(), 3u) << testing::dump(r);
}

TEST(SniRoutesConfig, NotOnHttpOrWithTls) {
  auto r = load(R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    protocol: http
    pool: a
    sni_routes: [{names: [a.example], pool: a}]
  - name: both
    bind: 127.0.0.1:8443
    pool: a
    tls: {certificates: [{cert: c.pem, key: k.pem}]}
    sni_routes: [{names: [a.example], pool: a}]
)" + kPools);
  EXPECT_TRUE(hasError(r, 6, 5, "SNI passthrough routes are for tcp listeners"));
  EXPECT_TRUE(hasError(r, 11, 5, "either terminates TLS (tls) or passes it through by SNI"));
  EXPECT_EQ(r.errors.size(), 2u) << testing::dump(r);
}

TEST(SniRoutesConfig, TcpWithoutEitherNeedsAPool) {
  auto r = load(R"(listeners:
  - name: pass
    bind: 127.0.0.1:8443
)" + kPools);
  EXPECT_TRUE(onlyError(r, 2, 5, "missing required key \"pool\""));
}

}  // namespace
}  // namespace fulcrum::config
