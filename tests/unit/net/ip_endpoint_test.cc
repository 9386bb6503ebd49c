#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>

#include "net/address.h"

namespace fulcrum::net {
namespace {

sockaddr_storage address(int family, const char* ip, uint16_t port) {
  sockaddr_storage ss{};
  if (family == AF_INET) {
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    inet_pton(AF_INET, ip, &v4->sin_addr);
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    inet_pton(AF_INET6, ip, &v6->sin6_addr);
  }
  return ss;
}

TEST(IpEndpoint, KeepsIpv4AndIpv6InTwentyEightBytes) {
  static_assert(sizeof(IpEndpoint) <= sizeof(sockaddr_in6));
  IpEndpoint a(address(AF_INET, "10.1.2.3", 8080));
  EXPECT_EQ(formatAddress(a.get()), "10.1.2.3:8080");
  IpEndpoint b(address(AF_INET6, "2001:db8::7", 443));
  EXPECT_EQ(formatAddress(b.get()), "[2001:db8::7]:443");
  EXPECT_EQ(formatIp(b.get()), "2001:db8::7");
}

TEST(IpEndpoint, OtherFamiliesAreUnspecified) {
  sockaddr_storage ss{};
  ss.ss_family = AF_UNIX;
  IpEndpoint e(ss);
  EXPECT_EQ(e.get()->sa_family, AF_UNSPEC);
  EXPECT_EQ(formatIp(e.get()), "");
  EXPECT_EQ(IpEndpoint().get()->sa_family, AF_UNSPEC);
}

}  // namespace
}  // namespace fulcrum::net
