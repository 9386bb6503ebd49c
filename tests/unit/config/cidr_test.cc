#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "config/loader.h"
#include "config/model.h"
#include "config_test_util.h"

namespace fulcrum::config {
namespace {

sockaddr_storage peer(const char* ip) {
  sockaddr_storage ss{};
  if (std::strchr(ip, ':') != nullptr) {
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
    sin6->sin6_family = AF_INET6;
    EXPECT_EQ(inet_pton(AF_INET6, ip, &sin6->sin6_addr), 1) << ip;
  } else {
    auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
    sin->sin_family = AF_INET;
    EXPECT_EQ(inet_pton(AF_INET, ip, &sin->sin_addr), 1) << ip;
  }
  return ss;
}

bool contains(const Cidr& cidr, const char* ip) {
  sockaddr_storage ss = peer(ip);
  return cidr.contains(reinterpret_cast<const sockaddr*>(&ss));
}

// Builds Cidrs through the loader, so parsing is covered too.
std::vector<Cidr> load(const std::string& list) {
  auto r = testing::load(
      "listeners:\n  - name: web\n    bind: 127.0.0.1:8080\n    pool: web\n"
      "    proxy_protocol: true\n    trusted_proxies: " +
      list + "\npools:\n  - name: web\n    servers: [{address: 127.0.0.1:9001}]\n");
  EXPECT_TRUE(r.ok()) << testing::dump(r);
  return r.ok() ? r.config->listeners[0].trusted_proxies : std::vector<Cidr>{};
}

TEST(CidrTest, Ipv4Prefixes) {
  auto cidrs = load("[10.0.0.0/8, 192.168.1.7, 172.16.0.0/12, 0.0.0.0/0, 10.20.30.0/23]");
  ASSERT_EQ(cidrs.size(), 5u);
  EXPECT_EQ(cidrs[0].family, AF_INET);
  EXPECT_EQ(cidrs[0].prefix, 8);
  EXPECT_EQ(cidrs[0].text, "10.0.0.0/8");
  EXPECT_TRUE(contains(cidrs[0], "10.255.1.2"));
  EXPECT_FALSE(contains(cidrs[0], "11.0.0.1"));

  EXPECT_EQ(cidrs[1].prefix, 32);  // a plain address is a single host
  EXPECT_TRUE(contains(cidrs[1], "192.168.1.7"));
  EXPECT_FALSE(contains(cidrs[1], "192.168.1.8"));

  EXPECT_TRUE(contains(cidrs[2], "172.31.255.255"));
  EXPECT_FALSE(contains(cidrs[2], "172.32.0.0"));

  EXPECT_TRUE(contains(cidrs[3], "8.8.8.8"));
  EXPECT_FALSE(contains(cidrs[3], "::1"));  // an IPv4 range never matches a native IPv6 peer

  EXPECT_TRUE(contains(cidrs[4], "10.20.31.9"));  // prefix ending inside a byte
  EXPECT_FALSE(contains(cidrs[4], "10.20.32.0"));
}

TEST(CidrTest, Ipv6Prefixes) {
  auto cidrs = load("[\"2001:db8::/32\", \"::1\", \"fe80::/10\", \"::/0\"]");
  ASSERT_EQ(cidrs.size(), 4u);
  EXPECT_EQ(cidrs[0].family, AF_INET6);
  EXPECT_TRUE(contains(cidrs[0], "2001:db8:ffff::1"));
  EXPECT_FALSE(contains(cidrs[0], "2001:db9::1"));
  EXPECT_FALSE(contains(cidrs[0], "10.0.0.1"));

  EXPECT_EQ(cidrs[1].prefix, 128);
  EXPECT_TRUE(contains(cidrs[1], "::1"));
  EXPECT_FALSE(contains(cidrs[1], "::2"));

  EXPECT_TRUE(contains(cidrs[2], "febf::1"));
  EXPECT_FALSE(contains(cidrs[2], "fec0::1"));

  EXPECT_TRUE(contains(cidrs[3], "2a00::5"));
}

TEST(CidrTest, MappedIpv4PeerMatchesIpv4Range) {
  auto cidrs = load("[10.0.0.0/8, 127.0.0.1]");
  ASSERT_EQ(cidrs.size(), 2u);
  EXPECT_TRUE(contains(cidrs[0], "::ffff:10.1.2.3"));
  EXPECT_FALSE(contains(cidrs[0], "::ffff:11.1.2.3"));
  EXPECT_TRUE(contains(cidrs[1], "::ffff:127.0.0.1"));
  EXPECT_FALSE(contains(cidrs[1], "::127.0.0.1"));  // deprecated compatible form is not mapped
  EXPECT_FALSE(contains(cidrs[1], "::1"));
}

TEST(CidrTest, Ipv4PeerMatchesMappedIpv6Range) {
  auto cidrs = load("[\"::ffff:10.0.0.0/104\"]");
  ASSERT_EQ(cidrs.size(), 1u);
  EXPECT_TRUE(contains(cidrs[0], "10.9.9.9"));
  EXPECT_TRUE(contains(cidrs[0], "::ffff:10.9.9.9"));
  EXPECT_FALSE(contains(cidrs[0], "11.0.0.1"));
}

TEST(CidrTest, NullAndUnknownFamilies) {
  Cidr any;
  any.family = AF_INET;
  any.prefix = 0;
  EXPECT_FALSE(any.contains(nullptr));
  sockaddr_storage local{};
  local.ss_family = AF_UNIX;
  EXPECT_FALSE(any.contains(reinterpret_cast<const sockaddr*>(&local)));
}

}  // namespace
}  // namespace fulcrum::config
