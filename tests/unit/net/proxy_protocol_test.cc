#include "net/proxy_protocol.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace fulcrum::net {
namespace {

std::span<const uint8_t> bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

ParseResult parse(std::string_view s) { return parseProxyHeader(bytes(s)); }

sockaddr_storage makeAddr(const char* ip, uint16_t port) {
  sockaddr_storage ss{};
  sockaddr_in in{};
  sockaddr_in6 in6{};
  if (inet_pton(AF_INET, ip, &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    in.sin_port = htons(port);
    std::memcpy(&ss, &in, sizeof(in));
  } else if (inet_pton(AF_INET6, ip, &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(port);
    std::memcpy(&ss, &in6, sizeof(in6));
  } else {
    ADD_FAILURE() << "bad test address " << ip;
  }
  return ss;
}

const sockaddr* sa(const sockaddr_storage& ss) { return reinterpret_cast<const sockaddr*>(&ss); }

// "ip port" with the family spelled out, e.g. "inet 1.2.3.4 80".
std::string show(const sockaddr_storage& ss) {
  char text[INET6_ADDRSTRLEN] = "";
  if (ss.ss_family == AF_INET) {
    sockaddr_in in;
    std::memcpy(&in, &ss, sizeof(in));
    inet_ntop(AF_INET, &in.sin_addr, text, sizeof(text));
    return std::string("inet ") + text + " " + std::to_string(ntohs(in.sin_port));
  }
  if (ss.ss_family == AF_INET6) {
    sockaddr_in6 in6;
    std::memcpy(&in6, &ss, sizeof(in6));
    inet_ntop(AF_INET6, &in6.sin6_addr, text, sizeof(text));
    return std::string("inet6 ") + text + " " + std::to_string(ntohs(in6.sin6_port));
  }
  return "family " + std::to_string(ss.ss_family);
}

std::string v2Signature() { return std::string("\r\n\r\n\0\r\nQUIT\n", 12); }

std::string v2(uint8_t verCmd, uint8_t fam, std::string_view block) {
  std::string s = v2Signature();
  s += static_cast<char>(verCmd);
  s += static_cast<char>(fam);
  s += static_cast<char>(block.size() >> 8);
  s += static_cast<char>(block.size() & 0xff);
  s += block;
  return s;
}

std::string tcp4Block(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  std::string b(12, '\0');
  inet_pton(AF_INET, src, b.data());
  inet_pton(AF_INET, dst, b.data() + 4);
  b[8] = static_cast<char>(sport >> 8);
  b[9] = static_cast<char>(sport & 0xff);
  b[10] = static_cast<char>(dport >> 8);
  b[11] = static_cast<char>(dport & 0xff);
  return b;
}

std::string tcp6Block(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  std::string b(36, '\0');
  inet_pton(AF_INET6, src, b.data());
  inet_pton(AF_INET6, dst, b.data() + 16);
  b[32] = static_cast<char>(sport >> 8);
  b[33] = static_cast<char>(sport & 0xff);
  b[34] = static_cast<char>(dport >> 8);
  b[35] = static_cast<char>(dport & 0xff);
  return b;
}

std::string tlv(uint8_t type, std::string_view value) {
  std::string s;
  s += static_cast<char>(type);
  s += static_cast<char>(value.size() >> 8);
  s += static_cast<char>(value.size() & 0xff);
  s += value;
  return s;
}

void expectDone(std::string_view input, size_t headerLength, const std::string& src,
                const std::string& dst) {
  ParseResult r = parse(input);
  ASSERT_EQ(r.status, ParseStatus::Done) << r.error;
  EXPECT_EQ(r.consumed, headerLength);
  EXPECT_FALSE(r.header.local);
  EXPECT_EQ(show(r.header.source), src);
  EXPECT_EQ(show(r.header.destination), dst);
}

void expectLocal(std::string_view input, size_t headerLength) {
  ParseResult r = parse(input);
  ASSERT_EQ(r.status, ParseStatus::Done) << r.error;
  EXPECT_EQ(r.consumed, headerLength);
  EXPECT_TRUE(r.header.local);
}

void expectInvalid(std::string_view input) {
  ParseResult r = parse(input);
  EXPECT_EQ(r.status, ParseStatus::Invalid) << "input: " << testing::PrintToString(std::string(input));
  if (r.status == ParseStatus::Invalid) {
    EXPECT_FALSE(r.error.empty());
  }
}

// Every proper prefix is NeedMore; the whole header is Done with consumed == its length.
void expectNeedMoreOnEveryPrefix(std::string_view header) {
  for (size_t n = 0; n < header.size(); ++n) {
    ParseResult r = parse(header.substr(0, n));
    ASSERT_EQ(r.status, ParseStatus::NeedMore)
        << "prefix of " << n << " bytes: " << r.error << " in " << testing::PrintToString(std::string(header));
  }
  ParseResult r = parse(header);
  ASSERT_EQ(r.status, ParseStatus::Done) << r.error;
  EXPECT_EQ(r.consumed, header.size());
}

// ---- v1 ----

TEST(ProxyV1, SpecExampleTcp4WithPayload) {
  const std::string header = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
  expectDone(header + "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n", header.size(),
             "inet 192.168.0.1 56324", "inet 192.168.0.11 443");
}

TEST(ProxyV1, Tcp6) {
  const std::string header = "PROXY TCP6 2001:db8::1 2001:DB8:0:0:0:0:0:2 0 65535\r\n";
  expectDone(header + "x", header.size(), "inet6 2001:db8::1 0", "inet6 2001:db8::2 65535");
  expectDone("PROXY TCP6 ::ffff:1.2.3.4 :: 1 2\r\n", 34, "inet6 ::ffff:1.2.3.4 1", "inet6 :: 2");
}

TEST(ProxyV1, Unknown) {
  expectLocal("PROXY UNKNOWN\r\n", 15);
  expectLocal("PROXY UNKNOWN\r\nSSH-2.0", 15);
  expectLocal("PROXY UNKNOWN 1.2.3.4 whatever, ignored\r\npayload", 41);
  const std::string longest =
      "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  ASSERT_EQ(longest.size(), kProxyV1MaxLength);
  expectLocal(longest + "payload", kProxyV1MaxLength);
}

TEST(ProxyV1, LongestTcp6Line) {
  const std::string line =
      "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
      "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n";
  ASSERT_EQ(line.size(), 104u);
  expectNeedMoreOnEveryPrefix(line);
}

TEST(ProxyV1, NeedMoreOnEveryPrefix) {
  for (const char* h : {"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", "PROXY TCP4 0.0.0.0 255.255.255.255 0 0\r\n",
                        "PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 1 65535\r\n", "PROXY UNKNOWN\r\n",
                        "PROXY UNKNOWN some junk\r\n"}) {
    expectNeedMoreOnEveryPrefix(h);
  }
}

TEST(ProxyV1, InvalidAsSoonAsItCannotMatch) {
  expectInvalid("G");
  expectInvalid("GET / HTTP/1.1\r\n");
  expectInvalid("proxy");
  expectInvalid("PROXY  ");
  expectInvalid("PROXY TCP5");
  expectInvalid("PROXY UDP4 ");
  expectInvalid("PROXY TCP4 1.2.3.4x");
  expectInvalid("PROXY TCP4 01");       // leading zero in an octet
  expectInvalid("PROXY TCP4 256");      // octet out of range
  expectInvalid("PROXY TCP4 1.2.3.4.");  // fifth octet
  expectInvalid("PROXY TCP4 1.2.3.4 5.6.7.8 65536");
  expectInvalid("PROXY TCP4 1.2.3.4 5.6.7.8 01");
  expectInvalid("PROXY TCP6 fe80::1%eth0");
  expectInvalid("PROXY UNKNOWN\n");
  expectInvalid("PROXY UNKNOWNX");
}

TEST(ProxyV1, InvalidLines) {
  const char* cases[] = {
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",          // LF only
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",         // CR only
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",       // trailing space
      "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",       // double space
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",          // missing port
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",      // extra field
      "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",          // three octets
      "PROXY TCP4 1.2..3 5.6.7.8 1 2\r\n",         // empty octet
      "PROXY TCP4 .1.2.3 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n",       // leading zero
      "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",    // port out of range
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
      "PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n",      // leading zero in a port
      "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
      "PROXY TCP4 ::1 ::1 1 2\r\n",                // family mismatch
      "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n",
      "PROXY TCP4 1.2.3.4 ::1 1 2\r\n",
      "PROXY TCP6 ::1 1.2.3.4 1 2\r\n",
      "PROXY TCP6 :::1 ::1 1 2\r\n",               // not an IPv6 address
      "PROXY TCP6 1::2::3 ::1 1 2\r\n",
      "PROXY TCP6 12345::1 ::1 1 2\r\n",
      "PROXY TCP6 ::1 ::1 1 2\r\r\n",
      "PROXY UNKNOWN 1\r2\r\n",                    // lone CR inside the ignored part
      "PROXY TCP4\r\n",
      "PROXY\r\n",
  };
  for (const char* c : cases) {
    expectInvalid(c);
  }
}

TEST(ProxyV1, TooLongWithoutCrlf) {
  std::string line = "PROXY UNKNOWN ";
  line.resize(kProxyV1MaxLength - 1, 'a');
  EXPECT_EQ(parse(line).status, ParseStatus::NeedMore);
  line += 'a';  // 107 bytes and still no CRLF
  expectInvalid(line);
  expectInvalid(line + "\r\n");
  // The CRLF as bytes 106-107 is still fine.
  line.resize(kProxyV1MaxLength - 2);
  line += "\r\n";
  expectLocal(line, kProxyV1MaxLength);
}

TEST(ProxyV1, EncodeIpv4) {
  auto src = makeAddr("192.168.0.1", 56324);
  auto dst = makeAddr("192.168.0.11", 443);
  EXPECT_EQ(encodeProxyV1(sa(src), sa(dst)), "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n");
}

TEST(ProxyV1, EncodeIpv6) {
  auto src = makeAddr("2001:db8::1", 1);
  auto dst = makeAddr("2001:db8:0:0:1::2", 65535);
  EXPECT_EQ(encodeProxyV1(sa(src), sa(dst)), "PROXY TCP6 2001:db8::1 2001:db8::1:0:0:2 1 65535\r\n");
}

TEST(ProxyV1, EncodeMappedAndMixedFamilies) {
  auto mappedSrc = makeAddr("::ffff:10.0.0.1", 1000);
  auto mappedDst = makeAddr("::ffff:10.0.0.2", 80);
  auto v4 = makeAddr("10.0.0.3", 81);
  auto v6 = makeAddr("2001:db8::9", 82);
  EXPECT_EQ(encodeProxyV1(sa(mappedSrc), sa(mappedDst)), "PROXY TCP4 10.0.0.1 10.0.0.2 1000 80\r\n");
  EXPECT_EQ(encodeProxyV1(sa(mappedSrc), sa(v4)), "PROXY TCP4 10.0.0.1 10.0.0.3 1000 81\r\n");
  EXPECT_EQ(encodeProxyV1(sa(v4), sa(v6)), "PROXY TCP6 ::ffff:10.0.0.3 2001:db8::9 81 82\r\n");
  EXPECT_EQ(encodeProxyV1(sa(v6), sa(mappedDst)), "PROXY TCP6 2001:db8::9 ::ffff:10.0.0.2 82 80\r\n");
}

TEST(ProxyV1, EncodeUnknown) {
  auto v4 = makeAddr("10.0.0.3", 81);
  sockaddr_storage unix{};
  unix.ss_family = AF_UNIX;
  EXPECT_EQ(encodeProxyV1(nullptr, nullptr), "PROXY UNKNOWN\r\n");
  EXPECT_EQ(encodeProxyV1(sa(v4), nullptr), "PROXY UNKNOWN\r\n");
  EXPECT_EQ(encodeProxyV1(sa(unix), sa(v4)), "PROXY UNKNOWN\r\n");
  expectLocal(encodeProxyV1(nullptr, nullptr), 15);
}

// ---- v2 ----

TEST(ProxyV2, Tcp4WithTlvsAndPayload) {
  std::string header = v2(0x21, 0x11, tcp4Block("203.0.113.7", "10.0.0.2", 40000, 443) + tlv(0x01, "h2") +
                                          tlv(0x02, "example.com") + tlv(0x04, ""));
  expectDone(header + "GET / HTTP/1.1\r\n", header.size(), "inet 203.0.113.7 40000", "inet 10.0.0.2 443");
  expectNeedMoreOnEveryPrefix(header);
}

TEST(ProxyV2, Tcp6) {
  std::string header = v2(0x21, 0x21, tcp6Block("2001:db8::7", "2001:db8::2", 1, 8443) + tlv(0x05, "id"));
  expectDone(header + "payload", header.size(), "inet6 2001:db8::7 1", "inet6 2001:db8::2 8443");
  expectNeedMoreOnEveryPrefix(header);
}

TEST(ProxyV2, UdpIsAccepted) {
  std::string h4 = v2(0x21, 0x12, tcp4Block("1.1.1.1", "2.2.2.2", 53, 5353));
  expectDone(h4, h4.size(), "inet 1.1.1.1 53", "inet 2.2.2.2 5353");
  std::string h6 = v2(0x21, 0x22, tcp6Block("::1", "::2", 53, 5353));
  expectDone(h6, h6.size(), "inet6 ::1 53", "inet6 ::2 5353");
}

TEST(ProxyV2, LocalUnspecAndUnix) {
  expectLocal(v2(0x20, 0x00, "") + "payload", 16);
  // LOCAL ignores the family and skips whatever block it has.
  expectLocal(v2(0x20, 0x11, tcp4Block("1.1.1.1", "2.2.2.2", 1, 2)), 28);
  expectLocal(v2(0x20, 0xff, "abc"), 19);
  expectLocal(v2(0x21, 0x00, ""), 16);
  expectLocal(v2(0x21, 0x00, tlv(0x04, "pad")), 22);
  expectLocal(v2(0x21, 0x31, std::string(216, 'u')), 232);
  expectLocal(v2(0x21, 0x32, std::string(220, 'u')), 236);
  expectNeedMoreOnEveryPrefix(v2(0x20, 0x00, ""));
}

TEST(ProxyV2, InvalidAsSoonAsItCannotMatch) {
  std::string sig = v2Signature();
  expectInvalid(std::string("\r\n\r\n\x01", 5));             // bad signature
  expectInvalid(sig.substr(0, 11) + "X");
  expectInvalid(sig + "\x11");                               // version 1
  expectInvalid(sig + "\x31");                               // version 3
  expectInvalid(sig + "\x22");                               // command 2
  expectInvalid(sig + "\x2f");
  expectInvalid(sig + "\x21\x13");                           // transport 3
  expectInvalid(sig + "\x21\x41");                           // family 4
  expectInvalid(sig + "\x21\x10");                           // INET with UNSPEC transport
  expectInvalid(sig + "\x21\x01");                           // UNSPEC family with STREAM
  expectInvalid(sig + "\x21\x11" + std::string("\x00\x0b", 2));  // too short for IPv4
  expectInvalid(sig + "\x21\x21" + std::string("\x00\x23", 2));  // too short for IPv6
  expectInvalid(sig + "\x21\x31" + std::string("\x00\xd7", 2));  // too short for UNIX
  expectInvalid(sig + std::string("\x20\x00\x10\x01", 4));  // 4097 > our cap
  expectInvalid(sig + "\x21\x11" + std::string("\xff\xff", 2));
}

TEST(ProxyV2, LengthCap) {
  std::string header = v2(0x21, 0x11, tcp4Block("1.1.1.1", "2.2.2.2", 1, 2) + tlv(0x04, std::string(4096 - 15, 'p')));
  ASSERT_EQ(header.size(), kProxyV2MaxLength);
  EXPECT_EQ(parse(std::string_view(header).substr(0, header.size() - 1)).status, ParseStatus::NeedMore);
  expectDone(header, header.size(), "inet 1.1.1.1 1", "inet 2.2.2.2 2");
}

TEST(ProxyV2, EncodeIpv4) {
  auto src = makeAddr("203.0.113.7", 40000);
  auto dst = makeAddr("10.0.0.2", 443);
  std::vector<uint8_t> out = encodeProxyV2(sa(src), sa(dst));
  std::string expected = v2(0x21, 0x11, tcp4Block("203.0.113.7", "10.0.0.2", 40000, 443));
  EXPECT_EQ(std::string(out.begin(), out.end()), expected);
}

TEST(ProxyV2, EncodeIpv6AndMixed) {
  auto src = makeAddr("2001:db8::7", 1);
  auto dst = makeAddr("2001:db8::2", 8443);
  std::vector<uint8_t> out = encodeProxyV2(sa(src), sa(dst));
  EXPECT_EQ(std::string(out.begin(), out.end()), v2(0x21, 0x21, tcp6Block("2001:db8::7", "2001:db8::2", 1, 8443)));
  auto v4 = makeAddr("10.0.0.3", 81);
  out = encodeProxyV2(sa(v4), sa(dst));
  EXPECT_EQ(std::string(out.begin(), out.end()), v2(0x21, 0x21, tcp6Block("::ffff:10.0.0.3", "2001:db8::2", 81, 8443)));
  auto mapped = makeAddr("::ffff:10.0.0.4", 82);
  out = encodeProxyV2(sa(mapped), sa(v4));
  EXPECT_EQ(std::string(out.begin(), out.end()), v2(0x21, 0x11, tcp4Block("10.0.0.4", "10.0.0.3", 82, 81)));
}

TEST(ProxyV2, EncodeUnknownIsProxyUnspec) {
  std::vector<uint8_t> out = encodeProxyV2(nullptr, nullptr);
  EXPECT_EQ(std::string(out.begin(), out.end()), v2(0x21, 0x00, ""));
  expectLocal(std::string(out.begin(), out.end()), 16);
}

// ---- round trips ----

TEST(ProxyProtocol, RoundTrips) {
  struct Case {
    const char* src;
    uint16_t sport;
    const char* dst;
    uint16_t dport;
  };
  const Case cases[] = {
      {"0.0.0.0", 0, "255.255.255.255", 65535},
      {"192.168.0.1", 56324, "192.168.0.11", 443},
      {"::", 0, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 65535},
      {"2001:db8::1", 1234, "fe80::1", 80},
      {"::1", 1, "::2", 2},
  };
  for (const Case& c : cases) {
    auto src = makeAddr(c.src, c.sport);
    auto dst = makeAddr(c.dst, c.dport);
    const char kPayload[] = "\r\n\r\n\0PROXY payload";  // looks like the start of another header
    const std::string payload(kPayload, sizeof(kPayload) - 1);

    std::string line = encodeProxyV1(sa(src), sa(dst));
    expectDone(line + payload, line.size(), show(src), show(dst));
    expectNeedMoreOnEveryPrefix(line);

    std::vector<uint8_t> bin = encodeProxyV2(sa(src), sa(dst));
    std::string binary(bin.begin(), bin.end());
    expectDone(binary + payload, binary.size(), show(src), show(dst));
    expectNeedMoreOnEveryPrefix(binary);
  }
}

TEST(ProxyProtocol, EmptyInputNeedsMore) {
  EXPECT_EQ(parseProxyHeader({}).status, ParseStatus::NeedMore);
}

TEST(ProxyProtocol, GarbageIsInvalid) {
  for (std::string_view g : {std::string_view("\x16\x03\x01\x02\x00", 5), std::string_view("SSH-2.0-OpenSSH\r\n"),
                             std::string_view("\0", 1), std::string_view("\r\r"), std::string_view("PROXZ")}) {
    expectInvalid(g);
  }
}

}  // namespace
}  // namespace fulcrum::net
