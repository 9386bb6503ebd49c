// The ClientHello reader on ClientHellos captured from real clients (python's ssl, openssl
// s_client, curl: fuzz/client_hello/corpus/done_*) and on hand-made edge cases.
#include "codec/client_hello.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fulcrum::codec {
namespace {

using Bytes = std::vector<uint8_t>;

Bytes corpus(const std::string& name) {
  std::ifstream in(std::filesystem::path(__FILE__).parent_path() / "../../../fuzz/client_hello/corpus" / name,
                   std::ios::binary);
  Bytes b(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>{});
  EXPECT_FALSE(b.empty()) << name;
  return b;
}

// The handshake message inside a capture made of one record.
Bytes message(const Bytes& capture) { return Bytes(capture.begin() + 5, capture.end()); }

// `payload` cut into handshake records of `size` bytes each.
Bytes records(const Bytes& payload, size_t size) {
  Bytes out;
  for (size_t i = 0; i < payload.size(); i += size) {
    size_t n = std::min(size, payload.size() - i);
    for (size_t b : {size_t{22}, size_t{3}, size_t{1}, n >> 8, n & 0xff}) {
      out.push_back(static_cast<uint8_t>(b));
    }
    out.insert(out.end(), payload.begin() + static_cast<std::ptrdiff_t>(i),
               payload.begin() + static_cast<std::ptrdiff_t>(i + n));
  }
  return out;
}

HelloResult parse(const Bytes& b) { return parseClientHello(b); }

TEST(ClientHello, OpensslWithAlpn) {
  HelloResult r = parse(corpus("done_openssl_alpn_b_test.bin"));
  ASSERT_EQ(r.status, HelloStatus::Done) << r.error;
  EXPECT_EQ(r.hello.server_name, "b.test");
  EXPECT_EQ(r.hello.alpn, (std::vector<std::string>{"h2", "http/1.1"}));
  EXPECT_EQ(r.hello.versions.front(), 0x0304);  // TLS 1.3 offered first
}

TEST(ClientHello, CurlAndPython) {
  HelloResult curl = parse(corpus("done_curl_c_test.bin"));
  ASSERT_EQ(curl.status, HelloStatus::Done) << curl.error;
  EXPECT_EQ(curl.hello.server_name, "c.test");
  HelloResult py = parse(corpus("done_python_tls13_a_test.bin"));
  ASSERT_EQ(py.status, HelloStatus::Done) << py.error;
  EXPECT_EQ(py.hello.server_name, "a.test");
}

TEST(ClientHello, Tls12OnlyReportsTheLegacyVersion) {
  HelloResult r = parse(corpus("done_openssl_tls12_only.bin"));
  ASSERT_EQ(r.status, HelloStatus::Done) << r.error;
  EXPECT_EQ(r.hello.server_name, "x.wild.test");
  EXPECT_EQ(r.hello.versions, (std::vector<uint16_t>{0x0303}));
}

TEST(ClientHello, NameIsLowerCased) {
  HelloResult r = parse(corpus("done_python_tls12_upper_case.bin"));
  ASSERT_EQ(r.status, HelloStatus::Done) << r.error;
  EXPECT_EQ(r.hello.server_name, "www.example.com");
}

TEST(ClientHello, NoSniIsDoneWithAnEmptyName) {
  HelloResult r = parse(corpus("done_python_no_sni.bin"));
  ASSERT_EQ(r.status, HelloStatus::Done) << r.error;
  EXPECT_EQ(r.hello.server_name, "");
}

// Every prefix of a hello is NeedMore, as when it arrives in 1-byte reads; the whole is Done.
TEST(ClientHello, EveryPrefixNeedsMore) {
  Bytes hello = corpus("done_openssl_alpn_b_test.bin");
  for (size_t n = 0; n < hello.size(); ++n) {
    ASSERT_EQ(parseClientHello(std::span<const uint8_t>(hello).first(n)).status, HelloStatus::NeedMore) << n;
  }
  EXPECT_EQ(parse(hello).status, HelloStatus::Done);
}

TEST(ClientHello, SplitAcrossRecords) {
  Bytes m = message(corpus("done_openssl_alpn_b_test.bin"));
  for (size_t size : {1u, 2u, 3u, 4u, 7u, 100u}) {
    Bytes split = records(m, size);
    HelloResult r = parse(split);
    ASSERT_EQ(r.status, HelloStatus::Done) << size << ": " << r.error;
    EXPECT_EQ(r.hello.server_name, "b.test");
    EXPECT_EQ(parseClientHello(std::span<const uint8_t>(split).first(split.size() - 1)).status,
              HelloStatus::NeedMore);
  }
}

TEST(ClientHello, BytesAfterTheHelloAreIgnored) {
  Bytes hello = corpus("done_curl_c_test.bin");
  for (uint8_t b : {23, 3, 3, 0, 1, 0xff}) {
    hello.push_back(b);
  }
  EXPECT_EQ(parse(hello).status, HelloStatus::Done);
}

TEST(ClientHello, NotTls) {
  for (std::string text : {"GET / HTTP/1.1\r\n\r\n", "G", "SSH-2.0-OpenSSH_9.2\r\n"}) {
    HelloResult r = parse(Bytes(text.begin(), text.end()));
    EXPECT_EQ(r.status, HelloStatus::Invalid) << text;
    EXPECT_EQ(r.error, "not a TLS handshake record");
  }
  EXPECT_EQ(parse(corpus("invalid_sslv2_hello.bin")).error, "SSLv2-style ClientHello (not supported)");
  EXPECT_EQ(parse({22, 2}).error, "record version is not TLS");
  EXPECT_EQ(parse({22, 3, 1, 0, 0}).status, HelloStatus::Invalid);
  EXPECT_EQ(parse({22, 3, 1, 0x40, 1}).status, HelloStatus::Invalid);  // record over 16 KiB
}

TEST(ClientHello, OtherHandshakeMessageOrRecord) {
  EXPECT_EQ(parse({22, 3, 1, 0, 4, 2, 0, 0, 0}).error, "first handshake message is not a ClientHello");
  EXPECT_EQ(parse(corpus("invalid_alert_inside.bin")).error, "ClientHello interrupted by another record type");
}

TEST(ClientHello, TooLong) {
  EXPECT_EQ(parse({22, 3, 1, 0, 4, 1, 0, 0x40, 1}).error, "ClientHello longer than 16 KiB");
  // A hello of the largest size in 1-byte records needs more input than is ever buffered.
  Bytes big = {1, 0, 0x40, 0};
  big.resize(4 + 16384, 0);
  Bytes split = records(big, 1);
  HelloResult r = parseClientHello(std::span<const uint8_t>(split).first(kMaxClientHelloInput));
  EXPECT_EQ(r.status, HelloStatus::Invalid);
  EXPECT_EQ(r.error, "ClientHello spread over too many records");
  EXPECT_EQ(parseClientHello(std::span<const uint8_t>(split).first(kMaxClientHelloInput - 1)).status,
            HelloStatus::NeedMore);
}

// A hello made by hand around one extension block (built as text: gcc's -Warray-bounds misreads
// vector inserts of short initializer lists).
Bytes withExtensions(const Bytes& exts) {
  std::string body = "\x03\x03" + std::string(32, '\x07') + std::string("\x00\x00\x02\x13\x01\x01\x00", 7);
  body.push_back(static_cast<char>(exts.size() >> 8));
  body.push_back(static_cast<char>(exts.size()));
  body.append(exts.begin(), exts.end());
  std::string m = {'\x01', '\x00', static_cast<char>(body.size() >> 8), static_cast<char>(body.size())};
  m += body;
  return records(Bytes(m.begin(), m.end()), 16384);
}

Bytes sni(const std::string& name) {
  char n = static_cast<char>(name.size());
  std::string e = {'\x00', '\x00', '\x00', static_cast<char>(n + 5), '\x00', static_cast<char>(n + 3), '\x00', '\x00', n};
  e += name;
  return Bytes(e.begin(), e.end());
}

TEST(ClientHello, HandMadeExtensions) {
  HelloResult r = parse(withExtensions(sni("A.Test.")));
  ASSERT_EQ(r.status, HelloStatus::Done) << r.error;
  EXPECT_EQ(r.hello.server_name, "a.test");  // trailing dot dropped
  EXPECT_EQ(r.hello.versions, (std::vector<uint16_t>{0x0303}));

  Bytes twice = sni("a.test");
  Bytes second = sni("b.test");
  twice.insert(twice.end(), second.begin(), second.end());
  EXPECT_EQ(parse(withExtensions(twice)).error, "extension 0 sent twice");
  EXPECT_EQ(parse(withExtensions(sni("a\x01test"))).error, "server name is not printable ASCII");
  EXPECT_EQ(parse(withExtensions({0, 0, 0, 2, 0, 9})).error, "malformed server_name extension");
  EXPECT_EQ(parse(withExtensions({0, 16, 0, 3, 0, 1, 0})).error, "malformed ALPN extension");
  EXPECT_EQ(parse(withExtensions({0, 43, 0, 2, 1, 3})).error, "malformed supported_versions extension");
  EXPECT_EQ(parse(withExtensions({0, 99, 0, 9})).error, "malformed extension");
  EXPECT_EQ(parse(withExtensions({})).status, HelloStatus::Done);
}

}  // namespace
}  // namespace fulcrum::codec
