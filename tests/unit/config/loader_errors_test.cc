// One test per kind of config error, each pinning the exact position and the message's gist.
#include <gtest/gtest.h>

#include <string>

#include "config/loader.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

using testing::hasError;
using testing::load;
using testing::onlyError;

// Valid sections to append after the part under test, so line numbers above them are stable.
const std::string kListeners = R"(listeners:
  - name: web
    bind: 127.0.0.1:8080
    pool: web
)";
const std::string kPools = R"(pools:
  - name: web
    servers:
      - address: 127.0.0.1:9001
)";

TEST(DiagnosticTest, StrFormat) {
  Diagnostic d{"conf/a.yaml", 3, 5, "expected a map"};
  EXPECT_EQ(d.str(), "conf/a.yaml:3:5: error: expected a map");
}

TEST(LoaderErrorTest, MissingFile) {
  auto r = loadFile("/nonexistent-dir/fulcrum.yaml");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.config, nullptr);
  EXPECT_EQ(r.errors[0].str(),
            "/nonexistent-dir/fulcrum.yaml:0:0: error: cannot read config file: No such file or directory");
}

TEST(LoaderErrorTest, DirectoryIsUnreadable) {
  auto r = loadFile("/");
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].str(), "/:0:0: error: cannot read config file: Is a directory");
}

TEST(LoaderErrorTest, SyntaxError) {
  auto r = load("workers: 1\nlisteners: [a, b\npools: []\n");
  EXPECT_TRUE(onlyError(r, 3, 6, "invalid YAML: end of sequence flow not found; expected ']'"));
}

TEST(LoaderErrorTest, BadIndentation) {
  auto r = load("listeners:\n  - name: web\n   bind: x\n");
  EXPECT_TRUE(onlyError(r, 3, 4, "invalid YAML: end of sequence not found; expected consistent indentation"));
}

TEST(LoaderErrorTest, TabIndentation) {
  auto r = load("listeners:\n  - name: web\n\tbind: x\n");
  EXPECT_TRUE(onlyError(r, 3, 1, "tab character in indentation; expected spaces"));
}

TEST(LoaderErrorTest, UndefinedAlias) {
  auto r = load("workers: *nope\n");
  EXPECT_TRUE(onlyError(r, 1, 10, "the referenced anchor is not defined; expected an anchor"));
}

TEST(LoaderErrorTest, UnquotedWildcardAddress) {
  auto r = load("listeners:\n  - name: web\n    bind: *:8080\n    pool: web\n" + kPools);
  EXPECT_TRUE(onlyError(r, 3, 11, "an address starting with * must be quoted, e.g. \"*:8080\""));
}

TEST(LoaderErrorTest, UnquotedIpv6Address) {
  auto r = load("listeners:\n  - name: web\n    bind: [::1]:8080\n    pool: web\n" + kPools);
  EXPECT_TRUE(onlyError(r, 3, 11, "an IPv6 address must be quoted, e.g. \"[::1]:8080\""));
  auto r2 = load(kListeners + "pools:\n  - name: web\n    servers: [{address: [::1]:9001}]\n");
  EXPECT_TRUE(onlyError(r2, 7, 25, "an IPv6 address must be quoted"));
}

TEST(LoaderErrorTest, EmptyFile) {
  EXPECT_TRUE(onlyError(load(""), 1, 1, "the config is empty; expected a map with at least 'listeners'"));
  EXPECT_TRUE(onlyError(load("# just a comment\n\n"), 1, 1, "the config is empty"));
}

TEST(LoaderErrorTest, TopLevelNotAMap) {
  EXPECT_TRUE(onlyError(load("- a\n- b\n"), 1, 1, "expected a map at the top level"));
  EXPECT_TRUE(onlyError(load("hello\n"), 1, 1,
                        "expected a map at the top level (with keys such as listeners "
                        "and pools), got \"hello\""));
}

TEST(LoaderErrorTest, MultipleDocuments) {
  auto r = load(kListeners + kPools + "---\nworkers: 1\n");
  EXPECT_TRUE(onlyError(r, 9, 1, "expected a single YAML document"));
}

TEST(LoaderErrorTest, UnknownTopLevelKey) {
  auto r = load("workerz: 2\n" + kListeners + kPools);
  EXPECT_TRUE(
      onlyError(r, 1, 1,
                "unknown key \"workerz\" (did you mean \"workers\"?); expected one of: workers, log_level, "
                "timeouts, listeners, pools"));
}

TEST(LoaderErrorTest, UnknownListenerKey) {
  auto r = load(kListeners + "    bnd: 127.0.0.1:80\n" + kPools);
  EXPECT_TRUE(
      onlyError(r, 5, 5,
                "listeners[0]: unknown key \"bnd\" (did you mean \"bind\"?); expected one of: name, bind, "
                "protocol, pool, proxy_protocol, trusted_proxies, backlog, freebind, udp"));
}

TEST(LoaderErrorTest, UnknownKeyWithoutSuggestion) {
  auto r = load(kListeners + "    colour: blue\n" + kPools);
  ASSERT_TRUE(onlyError(r, 5, 5, "unknown key \"colour\"; expected one of: name"));
}

TEST(LoaderErrorTest, UnknownTimeoutKey) {
  auto r = load("timeouts:\n  conect: 1s\n" + kListeners + kPools);
  EXPECT_TRUE(onlyError(r, 2, 3, "timeouts: unknown key \"conect\" (did you mean \"connect\"?)"));
}

TEST(LoaderErrorTest, UnknownPoolAndServerKeys) {
  auto r = load(kListeners + R"(pools:
  - name: web
    algo: round_robin
    servers:
      - address: 127.0.0.1:9001
        wieght: 2
)");
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 7, 5, "pools[0]: unknown key \"algo\"; expected one of: name, algorithm, retries"));
  EXPECT_TRUE(hasError(r, 10, 9, "pools[0].servers[0]: unknown key \"wieght\" (did you mean \"weight\"?)"));
}

TEST(LoaderErrorTest, UnknownUdpKey) {
  auto r = load(R"(listeners:
  - name: dns
    bind: 127.0.0.1:8053
    protocol: udp
    pool: web
    udp:
      flows: 10
)" + kPools);
  EXPECT_TRUE(
      onlyError(r, 7, 7, "listeners[0].udp: unknown key \"flows\"; expected one of: flow_idle, max_flows"));
}

TEST(LoaderErrorTest, DuplicateYamlKey) {
  auto r = load("workers: 1\nworkers: 2\n" + kListeners + kPools);
  EXPECT_TRUE(
      onlyError(r, 2, 1, "duplicate key \"workers\" (first given at line 1); expected each key once"));
}

TEST(LoaderErrorTest, DuplicateKeyInListener) {
  auto r = load(kListeners + "    pool: other\n" + kPools);
  EXPECT_TRUE(onlyError(r, 5, 5, "listeners[0]: duplicate key \"pool\" (first given at line 4)"));
}

TEST(LoaderErrorTest, NonScalarKey) {
  auto r = load("? [a, b]\n: 1\n" + kListeners + kPools);
  EXPECT_TRUE(onlyError(r, 1, 3, "expected a plain string as a key, got a list"));
}

TEST(LoaderErrorTest, ExpectedInteger) {
  EXPECT_TRUE(onlyError(load("workers: abc\n" + kListeners + kPools), 1, 10,
                        "workers: expected an integer in 0..1024, got \"abc\""));
  EXPECT_TRUE(onlyError(load("workers: 1.5\n" + kListeners + kPools), 1, 10, "expected an integer"));
  EXPECT_TRUE(onlyError(load("workers: [1]\n" + kListeners + kPools), 1, 10,
                        "expected an integer in 0..1024, got a list"));
}

TEST(LoaderErrorTest, EmptyValueIsReportedAtTheKey) {
  auto r = load("workers:\n" + kListeners + kPools);
  EXPECT_TRUE(onlyError(r, 1, 1, "workers: expected an integer in 0..1024, got an empty value"));
}

TEST(LoaderErrorTest, ExpectedBoolean) {
  auto r = load(kListeners + "    proxy_protocol: yes\n" + kPools);
  EXPECT_TRUE(
      onlyError(r, 5, 21, "listeners[0].proxy_protocol: expected a boolean (true/false), got \"yes\""));
}

TEST(LoaderErrorTest, ExpectedList) {
  auto r = load("listeners: {name: web}\n" + kPools);
  EXPECT_TRUE(onlyError(r, 1, 12, "listeners: expected a list of listeners, got a map"));
}

TEST(LoaderErrorTest, ExpectedMapForListener) {
  auto r = load("listeners:\n  - web\n" + kPools);
  EXPECT_TRUE(onlyError(r, 2, 5, "listeners[0]: expected a map, got \"web\""));
}

TEST(LoaderErrorTest, ExpectedMapForTimeouts) {
  auto r = load("timeouts: 5s\n" + kListeners + kPools);
  EXPECT_TRUE(onlyError(r, 1, 11, "timeouts: expected a map, got \"5s\""));
}

TEST(LoaderErrorTest, ExpectedStringForName) {
  auto r = load("listeners:\n  - name: [a]\n    bind: 127.0.0.1:8080\n    pool: web\n" + kPools);
  EXPECT_TRUE(onlyError(r, 2, 11, "listeners[0].name: expected a name, got a list"));
}

TEST(LoaderErrorTest, EmptyListItem) {
  auto r = load("listeners:\n  -   # nothing here\n  - name: web\n    bind: 127.0.0.1:8080\n    pool: web\n" +
                kPools);
  EXPECT_TRUE(onlyError(r, 2, 3, "listeners[0]: expected a map, got an empty value"));
}

TEST(LoaderErrorTest, ServersWithoutValue) {
  auto r = load(kListeners + "pools:\n  - name: web\n    servers:\n");
  EXPECT_TRUE(onlyError(r, 7, 5, "pools[0].servers: expected a list of servers, got an empty value"));
}

TEST(LoaderErrorTest, OutOfRangeIntegers) {
  EXPECT_TRUE(onlyError(load("workers: 2000\n" + kListeners + kPools), 1, 10,
                        "workers: must be between 0 and 1024, got 2000"));
  EXPECT_TRUE(
      onlyError(load("workers: -1\n" + kListeners + kPools), 1, 10, "must be between 0 and 1024, got -1"));
  EXPECT_TRUE(onlyError(load("workers: 99999999999999999999999\n" + kListeners + kPools), 1, 10,
                        "must be between 0 and 1024, got 99999999999999999999999"));
  EXPECT_TRUE(onlyError(load(kListeners + "    backlog: 0\n" + kPools), 5, 14,
                        "listeners[0].backlog: must be between 1 and 65535, got 0"));
}

TEST(LoaderErrorTest, OutOfRangePoolValues) {
  auto r = load(kListeners + R"(pools:
  - name: web
    retries: 11
    queue_size: 100001
    servers:
      - address: 127.0.0.1:9001
        weight: 257
        max_connections: 1000001
)");
  ASSERT_EQ(r.errors.size(), 4u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 7, 14, "pools[0].retries: must be between 0 and 10, got 11"));
  EXPECT_TRUE(hasError(r, 8, 17, "pools[0].queue_size: must be between 0 and 100000, got 100001"));
  EXPECT_TRUE(hasError(r, 11, 17, "pools[0].servers[0].weight: must be between 1 and 256, got 257"));
  EXPECT_TRUE(hasError(r, 12, 26, "must be between 0 and 1000000, got 1000001"));
}

TEST(LoaderErrorTest, OutOfRangeUdp) {
  auto r = load(R"(listeners:
  - name: dns
    bind: 127.0.0.1:8053
    protocol: udp
    pool: web
    udp:
      flow_idle: 0ms
      max_flows: 0
)" + kPools);
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 7, 18, "listeners[0].udp.flow_idle: must be between 1ms and 24h, got 0ms"));
  EXPECT_TRUE(hasError(r, 8, 18, "listeners[0].udp.max_flows: must be between 1 and 1000000, got 0"));
}

TEST(LoaderErrorTest, OutOfRangeTimeouts) {
  auto r = load("timeouts:\n  connect: 0s\n  idle: 25h\n" + kListeners + kPools);
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 2, 12, "timeouts.connect: must be between 1ms and 24h, got 0s"));
  EXPECT_TRUE(hasError(r, 3, 9, "timeouts.idle: must be between 1ms and 24h, got 25h"));
}

TEST(LoaderErrorTest, DurationWithoutUnit) {
  auto r = load("timeouts:\n  drain: 30\n" + kListeners + kPools);
  EXPECT_TRUE(onlyError(r, 2, 10, "timeouts.drain: a unit is required (ms, s, m, h or d), e.g. \"30s\""));
}

TEST(LoaderErrorTest, DurationUnknownUnit) {
  auto r = load("timeouts:\n  drain: 30sec\n" + kListeners + kPools);
  EXPECT_TRUE(onlyError(r, 2, 10, "unknown duration unit \"sec\" in \"30sec\"; expected ms, s, m, h or d"));
}

TEST(LoaderErrorTest, LogLevel) {
  auto r = load("log_level: verbose\n" + kListeners + kPools);
  EXPECT_TRUE(
      onlyError(r, 1, 12, "log_level: unknown value \"verbose\"; expected one of: debug, info, warn, error"));
}

TEST(LoaderErrorTest, Algorithm) {
  auto r = load(kListeners +
                "pools:\n  - name: web\n    algorithm: least_conn\n    servers: [{address: "
                "127.0.0.1:9001}]\n");
  EXPECT_TRUE(onlyError(r, 7, 16,
                        "pools[0].algorithm: unknown value \"least_conn\"; expected one of: round_robin, "
                        "weighted_round_robin, least_connections, least_response_time, random, "
                        "random_two_choices, ip_hash, consistent_hash, maglev"));
}

TEST(LoaderErrorTest, SendProxyProtocol) {
  auto r = load(kListeners +
                "pools:\n  - name: web\n    send_proxy_protocol: v3\n    servers: [{address: "
                "127.0.0.1:9001}]\n");
  EXPECT_TRUE(onlyError(r, 7, 26, "unknown value \"v3\"; expected one of: none, v1, v2"));
}

TEST(LoaderErrorTest, ProtocolIsCaseSensitive) {
  auto r = load(kListeners + "    protocol: HTTP\n" + kPools);
  EXPECT_TRUE(onlyError(r, 5, 15, "listeners[0].protocol: unknown protocol \"HTTP\"; expected tcp, udp or http"));
}

TEST(LoaderErrorTest, UnknownProtocol) {
  auto r = load(kListeners + "    protocol: sctp\n    udp: {max_flows: 5}\n" + kPools);
  // The udp section is not blamed on a protocol that could not be read.
  EXPECT_TRUE(onlyError(r, 5, 15, "unknown protocol \"sctp\"; expected tcp, udp or http"));
}

TEST(LoaderErrorTest, InvalidNames) {
  auto r = load("listeners:\n  - name: my web\n    bind: 127.0.0.1:8080\n    pool: web\n" + kPools);
  EXPECT_TRUE(onlyError(r, 2, 11, "listeners[0].name: invalid name \"my web\"; expected 1 to 64 characters"));
  std::string longName(65, 'a');
  auto r2 =
      load(kListeners + "pools:\n  - name: " + longName + "\n    servers: [{address: 127.0.0.1:9001}]\n");
  EXPECT_TRUE(hasError(r2, 6, 11, "pools[0].name: invalid name"));
}

TEST(LoaderErrorTest, DuplicateListenerName) {
  auto r = load(kListeners + "  - name: web\n    bind: 127.0.0.1:8081\n    pool: web\n" + kPools);
  EXPECT_TRUE(
      onlyError(r, 5, 11, "listeners[1].name: duplicate listener name \"web\" (first used at line 2)"));
}

TEST(LoaderErrorTest, DuplicatePoolName) {
  auto r = load(kListeners + kPools + "  - name: web\n    servers: [{address: 127.0.0.1:9002}]\n");
  EXPECT_TRUE(onlyError(r, 9, 11, "pools[1].name: duplicate pool name \"web\" (first used at line 6)"));
}

TEST(LoaderErrorTest, DanglingPoolReference) {
  auto r = load("listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    pool: wbe\n" + kPools);
  EXPECT_TRUE(
      onlyError(r, 4, 11,
                "listeners[0].pool: pool \"wbe\" is not defined (did you mean \"web\"?); expected one of the "
                "pools: web"));
}

TEST(LoaderErrorTest, DuplicateBind) {
  auto r = load(kListeners + "  - name: other\n    bind: 127.0.0.1:8080\n    pool: web\n" + kPools);
  EXPECT_TRUE(
      onlyError(r, 6, 11,
                "listeners[1].bind: duplicate bind 127.0.0.1:8080/tcp, already used by listener \"web\" at "
                "line 3"));
}

TEST(LoaderErrorTest, DuplicateBindWrittenDifferently) {
  auto r = load(
      "listeners:\n  - name: a\n    bind: 0.0.0.0:80\n    pool: web\n"
      "  - name: b\n    bind: \"*:80\"\n    pool: web\n" +
      kPools);
  EXPECT_TRUE(onlyError(r, 6, 11, "duplicate bind *:80/tcp"));
}

TEST(LoaderErrorTest, DuplicateServerAddress) {
  auto r = load(kListeners + R"(pools:
  - name: web
    servers:
      - address: 127.0.0.1:9001
      - address: 127.0.0.1:9002
      - address: 127.0.0.1:9001
)");
  EXPECT_TRUE(onlyError(
      r, 10, 18,
      "pools[0].servers[2].address: duplicate server 127.0.0.1:9001 in this pool (first at line 8)"));
}

TEST(LoaderErrorTest, MissingListenersAndPools) {
  auto r = load("workers: 1\n");
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 1, 1, "missing required key \"listeners\" (at least one listener)"));
  EXPECT_TRUE(hasError(r, 1, 1, "missing required key \"pools\" (at least one pool of servers)"));
}

TEST(LoaderErrorTest, MissingListenerKeys) {
  auto r = load("listeners:\n  - protocol: tcp\n" + kPools);
  ASSERT_EQ(r.errors.size(), 3u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 2, 5, "listeners[0]: missing required key \"name\""));
  EXPECT_TRUE(hasError(r, 2, 5, "listeners[0]: missing required key \"bind\""));
  EXPECT_TRUE(hasError(r, 2, 5, "listeners[0]: missing required key \"pool\""));
}

TEST(LoaderErrorTest, MissingPoolAndServerKeys) {
  auto r = load(kListeners +
                "pools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n  - servers:\n"
                "      - weight: 1\n");
  ASSERT_EQ(r.errors.size(), 2u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 8, 5, "pools[1]: missing required key \"name\""));
  EXPECT_TRUE(hasError(r, 9, 9, "pools[1].servers[0]: missing required key \"address\""));
  auto r2 = load(kListeners + "pools:\n  - name: web\n");
  EXPECT_TRUE(onlyError(r2, 6, 5, "pools[0]: missing required key \"servers\""));
}

TEST(LoaderErrorTest, EmptyLists) {
  EXPECT_TRUE(
      onlyError(load("listeners: []\n" + kPools), 1, 12,
                "listeners: expected at least one entry in the list of listeners, got an empty list"));
  EXPECT_TRUE(onlyError(load(kListeners + "pools: []\n"), 5, 8, "pools: expected at least one entry"));
  EXPECT_TRUE(onlyError(load(kListeners + "pools:\n  - name: web\n    servers: []\n"), 7, 14,
                        "pools[0].servers: expected at least one entry in the list of servers"));
}

TEST(LoaderErrorTest, ProxyProtocolOnUdp) {
  auto r = load(R"(listeners:
  - name: dns
    bind: 127.0.0.1:8053
    protocol: udp
    pool: web
    proxy_protocol: true
)" + kPools);
  EXPECT_TRUE(
      onlyError(r, 6, 21, "listeners[0].proxy_protocol: PROXY protocol is only supported on tcp listeners"));
}

TEST(LoaderErrorTest, UdpSectionOnTcp) {
  auto r = load(kListeners + "    udp:\n      max_flows: 5\n" + kPools);
  EXPECT_TRUE(onlyError(r, 5, 5, "listeners[0].udp: only valid with protocol: udp"));
}

TEST(LoaderErrorTest, TrustedProxiesWithoutProxyProtocol) {
  auto r = load(kListeners + "    trusted_proxies: [10.0.0.0/8]\n" + kPools);
  EXPECT_TRUE(onlyError(r, 5, 5, "listeners[0].trusted_proxies: only meaningful with proxy_protocol: true"));
}

TEST(LoaderErrorTest, BadCidrs) {
  auto r = load(kListeners + R"(    proxy_protocol: true
    trusted_proxies:
      - 10.0.0.300/8
      - 10.1.2.3/8
      - 10.0.0.0/33
      - {a: 1}
      - fe80::1/10
)" + kPools);
  ASSERT_EQ(r.errors.size(), 5u) << testing::dump(r);
  EXPECT_TRUE(hasError(r, 7, 9,
                       "listeners[0].trusted_proxies[0]: expected an address or CIDR range such as "
                       "10.0.0.0/8, 127.0.0.1 or ::1/128, got \"10.0.0.300/8\""));
  EXPECT_TRUE(
      hasError(r, 8, 9, "has bits set beyond its /8 prefix; expected the network address, e.g. 10.0.0.0/8"));
  EXPECT_TRUE(hasError(r, 9, 9, "expected a prefix length between 0 and 32 in \"10.0.0.0/33\""));
  EXPECT_TRUE(hasError(
      r, 10, 9, "trusted_proxies[3]: expected an address or CIDR range such as 10.0.0.0/8, got a map"));
  EXPECT_TRUE(hasError(r, 11, 9, "expected the network address, e.g. fe80::/10"));
}

TEST(LoaderErrorTest, BadAddresses) {
  auto bindLine = [](const std::string& bind) {
    return load("listeners:\n  - name: web\n    bind: " + bind + "\n    pool: web\n" + kPools);
  };
  EXPECT_TRUE(onlyError(bindLine("127.0.0.1"), 3, 11,
                        "listeners[0].bind: expected host:port such as 127.0.0.1:8080"));
  EXPECT_TRUE(onlyError(bindLine("127.0.0.1"), 3, 11, "(the port is missing)"));
  EXPECT_TRUE(onlyError(bindLine("\"::1:8080\""), 3, 11, "IPv6 addresses must be written in brackets"));
  EXPECT_TRUE(onlyError(bindLine("127.0.0.1:0"), 3, 11, "expected a port between 1 and 65535"));
  EXPECT_TRUE(onlyError(bindLine("127.0.0.1:70000"), 3, 11, "expected a port between 1 and 65535"));
  EXPECT_TRUE(onlyError(bindLine("127.0.0.1:http"), 3, 11, "expected a port between 1 and 65535"));
  EXPECT_TRUE(onlyError(bindLine("10.1:80"), 3, 11, "invalid IPv4 address \"10.1\""));
  EXPECT_TRUE(onlyError(bindLine("\"[zz::1]:80\""), 3, 11, "invalid IPv6 address \"zz::1\""));
  EXPECT_TRUE(onlyError(bindLine("\"[::1]\""), 3, 11, "expected host:port"));
  EXPECT_TRUE(onlyError(bindLine(":80"), 3, 11, "the host is missing"));
  EXPECT_TRUE(onlyError(bindLine("bad_host!:80"), 3, 11, "invalid host \"bad_host!\""));
  // An unresolvable host is tested in tests/integration/cli_test.cc, inside a network
  // namespace, so that no test ever sends a DNS query off this machine.
}

TEST(LoaderErrorTest, BadServerAddress) {
  auto r = load(kListeners + "pools:\n  - name: web\n    servers:\n      - address: 127.0.0.1\n");
  EXPECT_TRUE(onlyError(r, 8, 18, "pools[0].servers[0].address: expected host:port"));
}

TEST(LoaderErrorTest, NoDanglingReportWhenAPoolIsBroken) {
  // The second pool's name cannot be read, so "dns" might be it: only the real error is reported.
  auto r = load("listeners:\n  - name: dns\n    bind: 127.0.0.1:53\n    pool: dns\n" + kPools +
                "  - name: [dns]\n    servers: [{address: 127.0.0.1:9053}]\n");
  EXPECT_TRUE(onlyError(r, 9, 11, "pools[1].name: expected a name, got a list"));
}

TEST(LoaderErrorTest, CollectsAllErrorsSorted) {
  auto r = load(R"(workers: many
log_level: loud
timeouts:
  connect: 5
listeners:
  - name: web
    bind: 127.0.0.1:99999
    protocol: htp
    pool: nowhere
  - name: web
    bind: 127.0.0.1:8081
    pool: web
pools:
  - name: web
    retries: -3
    servers:
      - address: 127.0.0.1:9001
        backup: maybe
)");
  std::vector<std::pair<int, int>> positions;
  for (const auto& d : r.errors) {
    positions.emplace_back(d.line, d.column);
  }
  std::vector<std::pair<int, int>> expected = {{1, 10}, {2, 12},  {4, 12},  {7, 11}, {8, 15},
                                               {9, 11}, {10, 11}, {15, 14}, {18, 17}};
  EXPECT_EQ(positions, expected) << testing::dump(r);
  EXPECT_EQ(r.config, nullptr);
  EXPECT_FALSE(r.ok());
}

TEST(LoaderErrorTest, NoExceptionOnDeepNesting) {
  std::string deep(5000, '[');
  auto r = load("workers: " + deep + "\n");
  EXPECT_FALSE(r.ok());
  ASSERT_FALSE(r.errors.empty());
  EXPECT_NE(r.errors[0].message.find("invalid YAML"), std::string::npos) << testing::dump(r);
}

// yaml-cpp 0.7 loops forever on this input (found by fuzz/config): refused before parsing.
TEST(LoaderErrorTest, InvalidUtf8IsRefusedBeforeParsing) {
  auto r = load(std::string("listeners: []\n,\xff\xff\xffops\n"));
  EXPECT_TRUE(onlyError(r, 2, 2, "invalid UTF-8 byte sequence; expected a UTF-8 text file"));
  auto c = load(std::string("listeners: []\nx\x01y\n"));
  EXPECT_TRUE(onlyError(c, 2, 2, "control character 1 in the file"));
}

// yaml-cpp 0.7's LoadAll() yields endless documents for a stray ',' (found by fuzz/config).
TEST(LoaderErrorTest, StrayCommaAtTopLevelEnds) {
  auto r = load(",n");
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(r.errors.empty());
}

}  // namespace
}  // namespace fulcrum::config

